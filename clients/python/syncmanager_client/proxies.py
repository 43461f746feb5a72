"""Proxies: the client-side stand-ins for the manager's objects (SPEC 8, 9, 13).

A proxy turns Python operations into ``object/call`` requests with Python's method names
(``len(d)`` is ``__len__``, ``d[k]`` is ``__getitem__``: SPEC 9.2) and holds one reference to
its object, which it gives back (``object/decref``) when it is closed, when a ``with`` block
around it ends, or when it is garbage-collected.

The class of a proxy follows its token's ``builtin`` (SPEC 8.4): a ``Queue`` gets a
:class:`QueueProxy`, a ``dict`` a :class:`DictProxy`, and so on. An object of a registered type
of the server's own gets an :func:`AutoProxy` class with one method per exposed name, as
Python's ``AutoProxy`` does.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import threading
import time
import weakref

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Type

from . import errors
from .transport import _c_encoder, _join
from .values import MAX_SAFE_INT
from .errors import ConnectionClosedError, DeliverySettledError, MethodNotFoundError, UnknownDeliveryError, UnknownObjectError

__all__ = [
    "ArrayProxy",
    "AutoProxy",
    "BarrierProxy",
    "BaseProxy",
    "BoundedSemaphoreProxy",
    "ConditionProxy",
    "Delivery",
    "DictProxy",
    "EventProxy",
    "IteratorProxy",
    "ListProxy",
    "LockProxy",
    "NamespaceProxy",
    "QueueProxy",
    "RLockProxy",
    "SemaphoreProxy",
    "SetProxy",
    "ValueProxy",
    "proxy_class_for",
]

_DEFAULT = object()


class BaseProxy:
    """What every proxy has: its token, ``_callmethod``, ``_getvalue`` and reference release.

    Attributes start with ``_`` so that they never hide a method of the object.

    * ``_id``, ``_typeid``, ``_exposed``, ``_token``: the token's members (SPEC 8.4).
    * ``_callmethod(name, args=(), kwds={})``: calls any method by name, exposed or not.
    * ``_getvalue()``: a copy of the object as a value (``#GETVALUE``, SPEC 9.3).
    * ``_release()`` (and ``close()`` on most proxies): gives the reference back now.
    * ``with proxy:`` releases the reference at the end of the block, except on the lock
      proxies, whose ``with`` acquires and releases the lock as Python's does.
    """

    def __init__(self, manager: Any, token: Dict[str, Any]) -> None:
        # object.__setattr__: NamespaceProxy forwards attribute writes to the manager.
        setattr_ = object.__setattr__
        setattr_(self, "_manager", manager)
        setattr_(self, "_conn", manager.connection)
        setattr_(self, "_token", dict(token))
        setattr_(self, "_id", token["id"])
        setattr_(self, "_typeid", token["typeid"])
        setattr_(self, "_exposed", tuple(token.get("exposed") or ()))
        #: The text of a call of each method called so far, up to its arguments (see _head).
        setattr_(self, "_heads", {})  # type: Dict[str, str]
        # The connection this proxy's reference lives on (see Manager._connection_for), and the
        # shared typeid that fetches its object again after a reconnect (None: it cannot be).
        setattr_(self, "_epoch", manager._epoch)
        setattr_(self, "_shared_typeid", None)
        # The reference this proxy received is released exactly once, whichever comes first:
        # _release(), the end of a with block, or garbage collection. Not at interpreter exit:
        # the connection's end releases everything then (SPEC 8.5).
        finalizer = weakref.finalize(self, manager.connection.release, token["id"])
        finalizer.atexit = False
        setattr_(self, "_finalizer", finalizer)

    # -- calls --------------------------------------------------------------------------------

    def _callmethod(
        self,
        methodname: str,
        args: Tuple[Any, ...] = (),
        kwds: Optional[Dict[str, Any]] = None,
        *,
        request_timeout: Any = _DEFAULT,
        settle_interrupted: bool = False,
        ack: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Calls ``methodname`` on the object and returns its result (SPEC 9.1).

        Positional and keyword arguments are bound on the server with Python's rules (SPEC 9.2).
        ``request_timeout`` overrides the connection's client-wide request timeout. ``ack``
        (``object/call``'s ``ack`` members, SPEC 20.3) asks for a delivery: the result is then
        the ``DeliveryResult`` with its value decoded.
        """
        if not self._finalizer.alive:
            raise ValueError("this %s proxy of object %s was released" % (self._typeid, self._id))
        conn = self._manager._connection_for(self)
        params = {"id": self._id, "method": methodname}  # type: Dict[str, Any]
        if not kwds and ack is None and _c_encoder is not None:
            # The usual call: its text written around the encoded arguments, after the head
            # this proxy keeps per method (the bytes request() would write).
            head = self._heads.get(methodname) or self._head(methodname)
            if not args:
                text = head + "}}"
            elif len(args) == 1 and type(args[0]) is int and -MAX_SAFE_INT <= args[0] <= MAX_SAFE_INT:
                params["args"] = list(args)  # an int in that range is its own JSON (SPEC 11.3)
                text = '%s,"args":[%d]}}' % (head, args[0])
            else:
                # Each argument is a value of its own (SPEC 11.6 counts nesting per value).
                params["args"] = encoded = list(map(conn.encode, args))
                text = '%s,"args":%s}}' % (head, _join(_c_encoder(encoded, 0)))
            if request_timeout is _DEFAULT:
                result = conn.request_text("object/call", params, text, settle_interrupted=settle_interrupted)
            else:
                result = conn.request_text("object/call", params, text, request_timeout, settle_interrupted)
            return result if result is None or type(result) is int else conn.decode(result)
        if args:
            params["args"] = list(map(conn.encode, args))
        if kwds:
            for name in kwds:
                if name.startswith("$"):
                    raise TypeError("a keyword argument's name cannot begin with '$' (SPEC 8.3): %r" % name)
            params["kwargs"] = {name: conn.encode(value) for name, value in kwds.items()}
        if ack is not None:
            params.update(ack)
        if request_timeout is _DEFAULT:
            result = conn.request("object/call", params, settle_interrupted=settle_interrupted)
        else:
            result = conn.request("object/call", params, timeout=request_timeout, settle_interrupted=settle_interrupted)
        if ack is not None:
            return dict(result, value=conn.decode(result["value"]))
        return conn.decode(result)

    def _head(self, methodname: str) -> str:
        """The text of an ``object/call`` of ``methodname`` on this object, from after its id up
        to its params' ``method`` member (kept per method: see _callmethod)."""
        head = ',"method":"object/call","params":{"id":%s,"method":%s' % (_join(_c_encoder(self._id, 0)), _join(_c_encoder(methodname, 0)))
        self._heads[methodname] = head
        return head

    def _rebind(self, connection: Any, token: Dict[str, Any], epoch: int) -> None:
        """Points this proxy at its shared object fetched again on a new connection; the new
        reference is released as the old one would have been."""
        setattr_ = object.__setattr__
        self._finalizer.detach()  # the old reference ended with the old connection
        setattr_(self, "_conn", connection)
        setattr_(self, "_token", dict(token))
        setattr_(self, "_id", token["id"])
        setattr_(self, "_exposed", tuple(token.get("exposed") or ()))
        setattr_(self, "_heads", {})
        setattr_(self, "_epoch", epoch)
        finalizer = weakref.finalize(self, connection.release, token["id"])
        finalizer.atexit = False
        setattr_(self, "_finalizer", finalizer)

    def _getvalue(self) -> Any:
        """A copy of the object's contents as a value (``#GETVALUE``): a dict, a list, a set..."""
        return self._callmethod("#GETVALUE")

    # -- references ---------------------------------------------------------------------------

    def _release(self) -> None:
        """Gives this proxy's reference back now (``object/decref``). Idempotent."""
        self._finalizer()

    @property
    def _released(self) -> bool:
        """Whether the reference was given back (further calls raise ValueError)."""
        return not self._finalizer.alive

    def _token_for_wire(self) -> Dict[str, Any]:
        # How the value encoder sends this proxy: as its token, a reference (SPEC 11.5).
        if not self._finalizer.alive:
            raise ValueError("a released proxy cannot be sent")
        return self._token

    def close(self) -> None:
        """Releases the reference (see :meth:`_release`)."""
        self._release()

    def __enter__(self) -> "BaseProxy":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release()

    # -- display, and what a proxy refuses ------------------------------------------------------

    def __repr__(self) -> str:
        return "<%s object, typeid %r, id %s at %#x>" % (type(self).__name__, self._typeid, self._id, id(self))

    def __str__(self) -> str:
        # As Python's BaseProxy: the object's own repr, from the manager.
        try:
            return self._callmethod("__repr__")
        except Exception:
            return repr(self)[:-1] + "; '__str__()' failed>"

    def __reduce__(self) -> Any:
        raise TypeError(
            "syncmanager proxies are not pickled (this client speaks JSON only): pass the proxy "
            "itself as an argument or store it in a shared object, where it travels as a reference"
        )


def _forward(name: str, doc: str) -> Callable[..., Any]:
    """A method that calls ``name`` on the object with the arguments as given."""

    def method(self: BaseProxy, *args: Any, **kwds: Any) -> Any:
        return self._callmethod(name, args, kwds)

    method.__name__ = name
    method.__qualname__ = name
    method.__doc__ = doc
    return method


def _inplace(name: str, doc: str) -> Callable[..., Any]:
    """An in-place operator: the server answers null, Python wants the proxy back."""

    def method(self: BaseProxy, value: Any) -> Any:
        self._callmethod(name, (value,))
        return self

    method.__name__ = name
    method.__qualname__ = name
    method.__doc__ = doc
    return method


# ---------------------------------------------------------------------------------------------
# Queues (SPEC 13.1, 13.6)


class QueueProxy(BaseProxy):
    """A ``Queue``, ``JoinableQueue``, ``LifoQueue`` or ``PriorityQueue`` (SPEC 13.1, 13.6).

    ``get`` and ``put`` take Python's ``block`` and ``timeout``; an expired timeout raises
    ``queue.Empty`` or ``queue.Full``. A blocking ``get`` holds only its own request: other
    threads go on using the connection meanwhile (SPEC 10).

    Iterating (``for item in q``) takes items with ``get(timeout=q.iter_timeout)`` until the
    queue stays empty that long (1 second by default, as the seed's worker waits), or until the
    connection closes or the manager shuts down; see :meth:`iter`.
    """

    #: Seconds ``for item in q`` waits for the next item before it ends.
    iter_timeout = 1.0  # type: Optional[float]

    empty = _forward("empty", "empty() -> bool")
    full = _forward("full", "full() -> bool")
    put = _forward("put", "put(item, block=True, timeout=None); raises queue.Full")
    put_nowait = _forward("put_nowait", "put_nowait(item); raises queue.Full")
    qsize = _forward("qsize", "qsize() -> int")
    task_done = _forward("task_done", "task_done(); raises ValueError when called too many times")
    join = _forward("join", "join(): waits until every item put was marked task_done")

    def get(self, *args: Any, ack: bool = False, visibility_timeout: Optional[float] = None, **kwds: Any) -> Any:
        """get(block=True, timeout=None): the next item, removed; raises queue.Empty.

        With ``ack=True`` the item is delivered instead (SPEC 20.3): a :class:`Delivery`, whose
        item stays in flight until ``ack()`` and comes back to the front of the queue if this
        client dies first, after ``visibility_timeout`` seconds (if given), or on ``nack()``::

            with q.get(ack=True) as item:   # acknowledged when the block succeeds,
                handle(item.value)          # given back when it raises
        """
        if not ack and visibility_timeout is None:
            return self._callmethod("get", args, kwds)  # (the usual get, without _get's step)
        return self._get("get", args, kwds, ack, visibility_timeout)

    def get_nowait(self, *args: Any, ack: bool = False, visibility_timeout: Optional[float] = None, **kwds: Any) -> Any:
        """get_nowait(): the next item; raises queue.Empty. ``ack=True`` delivers it, as :meth:`get`."""
        return self._get("get_nowait", args, kwds, ack, visibility_timeout)

    def _get(self, method: str, args: Tuple[Any, ...], kwds: Dict[str, Any], ack: bool, visibility_timeout: Optional[float]) -> Any:
        if not ack:
            if visibility_timeout is not None:
                raise TypeError("visibility_timeout needs ack=True")
            return self._callmethod(method, args, kwds)
        conn = self._manager._connection_for(self)
        if not conn.capabilities.get("acknowledgedGets"):
            raise MethodNotFoundError(
                "the manager does not offer acknowledged gets (it agreed on protocol %s; they need 1.3): %s() with ack was not sent"
                % (conn.protocol_version, method)
            )
        members = {"ack": True}  # type: Dict[str, Any]
        if visibility_timeout is not None:
            members["visibilityTimeout"] = visibility_timeout
        return Delivery(self, self._callmethod(method, args, kwds, ack=members))

    def iter(self, timeout: Any = _DEFAULT, sentinel: Any = _DEFAULT) -> Iterator[Any]:
        """Yields items taken with ``get``.

        It ends when no item comes within ``timeout`` seconds (default :attr:`iter_timeout`;
        None waits without limit), when an item equal to ``sentinel`` is taken (if given; the
        sentinel itself is not yielded), or when the connection closes or the manager shuts
        down (``ConnectionClosedError`` ends it quietly: a worker's natural end of work).
        Every item yielded was removed from the queue.
        """
        import queue as _queue

        if timeout is _DEFAULT:
            timeout = self.iter_timeout
        while True:
            try:
                item = self.get(True, timeout)
            except _queue.Empty:
                return
            except ConnectionClosedError:
                return
            if sentinel is not _DEFAULT and item == sentinel:
                return
            yield item

    def __iter__(self) -> Iterator[Any]:
        return self.iter()


class Delivery:
    """An item delivered by ``q.get(ack=True)`` (SPEC 20.3); settle it once.

    ``value`` is the item; ``redelivered`` says whether it was delivered before and came back,
    ``delivery_count`` how many times it has been delivered (1 the first time). ``ack()`` says it
    was handled (the manager forgets it); ``nack()`` gives it back to the front of its queue. As a
    context manager it acknowledges when the block ends normally and gives the item back when
    the block raises (the exception goes on), unless the block settled it itself. Left
    unsettled, it goes back when this client's session ends or its visibility timeout passes.
    """

    def __init__(self, proxy: "QueueProxy", result: Dict[str, Any]) -> None:
        self._proxy = proxy
        self.value = result["value"]  # type: Any
        self.delivery_id = result["deliveryId"]  # type: str
        self.redelivered = bool(result["redelivered"])
        self.delivery_count = int(result["deliveryCount"])
        self._settled = None  # type: Optional[str]

    @property
    def settled(self) -> bool:
        """Whether :meth:`ack` or :meth:`nack` was called."""
        return self._settled is not None

    def ack(self) -> None:
        """The item was handled: the manager forgets it for good.

        Raises :class:`DeliverySettledError` if already settled, :class:`UnknownDeliveryError` if
        the manager gave it back already (its visibility timeout, or the session ended).
        """
        self._settle("delivery/ack", "ack()", "acknowledged")

    def nack(self) -> None:
        """Gives the item back to the front of its queue, to be delivered again (redelivered)."""
        self._settle("delivery/nack", "nack()", "given back")

    def _settle(self, method: str, verb: str, done: str) -> None:
        if self._settled is not None:
            raise DeliverySettledError(
                "%s on delivery %s of %s object %s, which was already %s: settle each delivery once"
                % (verb, self.delivery_id, self._proxy._typeid, self._proxy._id, self._settled)
            )
        self._settled = done
        proxy = self._proxy
        conn = proxy._manager._connection_for(proxy)
        try:
            conn.request(method, {"id": proxy._id, "deliveryId": self.delivery_id})
        except UnknownObjectError as exc:
            raise UnknownDeliveryError(
                "the manager no longer has the queue of delivery %s (it restarted, or the queue was released), so the delivery is gone" % self.delivery_id,
                exc.rpc_error,
            ) from exc

    def __enter__(self) -> "Delivery":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._settled is not None:
            return
        if exc_type is None:
            self.ack()
        else:
            self.nack()

    def __repr__(self) -> str:
        state = ", %s" % self._settled if self._settled else ""
        again = ", redelivered (delivery %d)" % self.delivery_count if self.redelivered else ""
        return "<Delivery %s of %s object %s: %r%s%s>" % (self.delivery_id, self._proxy._typeid, self._proxy._id, self.value, again, state)


# ---------------------------------------------------------------------------------------------
# Containers (SPEC 13.2, 13.3, 13.7, 13.8, 13.9)


class IteratorProxy(BaseProxy):
    """What iterating a shared ``dict``, ``list`` or ``set`` hands back (SPEC 13.9).

    Each ``next()`` is one ``__next__`` call. The iterator gives its reference back as soon as
    it is exhausted, when ``close()`` is called, or when it is garbage-collected (a ``for`` loop
    left early).
    """

    def __iter__(self) -> "IteratorProxy":
        return self

    def __next__(self) -> Any:
        if not self._finalizer.alive:
            raise StopIteration
        try:
            return self._callmethod("__next__")
        except StopIteration:
            self._release()
            raise

    send = _forward("send", "send(value): a container's iterator is not a generator: AttributeError")
    throw = _forward("throw", "throw(...): a container's iterator is not a generator: AttributeError")

    def close(self) -> None:
        """Releases the iterator (the remote ``close`` of a container's iterator only raises
        AttributeError, SPEC 13.9)."""
        self._release()


class DictProxy(BaseProxy):
    """A shared ``dict`` (SPEC 13.2): ``d[k]``, ``d[k] = v``, ``del d[k]``, ``k in d``, ``len(d)``,
    iteration over the keys (through an :class:`IteratorProxy`), ``d | other``, ``d |= other`` and
    the dict methods, each one call. ``keys()``, ``values()`` and ``items()`` return lists."""

    __contains__ = _forward("__contains__", "key in d")
    __delitem__ = _forward("__delitem__", "del d[key]; raises KeyError")
    __getitem__ = _forward("__getitem__", "d[key]; raises KeyError")
    __setitem__ = _forward("__setitem__", "d[key] = value")
    __len__ = _forward("__len__", "len(d)")
    __or__ = _forward("__or__", "d | mapping: a new dict")
    __ror__ = _forward("__ror__", "mapping | d: a new dict")
    __ior__ = _inplace("__ior__", "d |= mapping")
    __iter__ = _forward("__iter__", "iter(d): an IteratorProxy over the keys")
    __reversed__ = _forward("__reversed__", "reversed(d): an IteratorProxy over the keys, last first")
    clear = _forward("clear", "clear()")
    copy = _forward("copy", "copy(): the whole dict, as a dict")
    fromkeys = _forward("fromkeys", "fromkeys(iterable, value=None): a new dict; the shared one is unchanged")
    get = _forward("get", "get(key, default=None)")
    items = _forward("items", "items(): a list of (key, value) tuples")
    keys = _forward("keys", "keys(): a list of the keys")
    pop = _forward("pop", "pop(key[, default]); raises KeyError")
    popitem = _forward("popitem", "popitem(): (key, value), the last inserted; raises KeyError")
    setdefault = _forward("setdefault", "setdefault(key, default=None)")
    update = _forward("update", "update([other], **kwargs)")
    values = _forward("values", "values(): a list of the values")


class ListProxy(BaseProxy):
    """A shared ``list`` (SPEC 13.3): indexing and slicing (``l[1:3]`` sends a ``$slice``),
    ``len``, ``in``, ``+``, ``*``, ``+=``, ``*=``, iteration (through an :class:`IteratorProxy`
    that reads the live list) and the list methods, each one call."""

    __add__ = _forward("__add__", "l + list: a new list")
    __contains__ = _forward("__contains__", "value in l")
    __delitem__ = _forward("__delitem__", "del l[index or slice]")
    __getitem__ = _forward("__getitem__", "l[index]; l[start:stop:step] is a new list")
    __len__ = _forward("__len__", "len(l)")
    __mul__ = _forward("__mul__", "l * n: a new list")
    __rmul__ = _forward("__rmul__", "n * l: a new list")
    __setitem__ = _forward("__setitem__", "l[index or slice] = value")
    __iadd__ = _inplace("__iadd__", "l += iterable")
    __imul__ = _inplace("__imul__", "l *= n")
    __iter__ = _forward("__iter__", "iter(l): an IteratorProxy reading the live list")
    __reversed__ = _forward("__reversed__", "reversed(l): an IteratorProxy from the last item")
    append = _forward("append", "append(object)")
    clear = _forward("clear", "clear()")
    copy = _forward("copy", "copy(): the items, as a list")
    count = _forward("count", "count(value) -> int")
    extend = _forward("extend", "extend(iterable)")
    index = _forward("index", "index(value[, start[, stop]]); raises ValueError")
    insert = _forward("insert", "insert(index, object)")
    pop = _forward("pop", "pop(index=-1); raises IndexError")
    remove = _forward("remove", "remove(value); raises ValueError")
    reverse = _forward("reverse", "reverse()")
    sort = _forward("sort", "sort(*, key=None, reverse=False): key must be None over the protocol")


class SetProxy(BaseProxy):
    """A shared ``set`` (SPEC 13.7): the set operators (with sets, frozensets or other set
    proxies), comparisons, ``in``, ``len``, iteration and the set methods, each one call.
    Members keep their insertion order on the server. Unhashable, as a set is."""

    __and__ = _forward("__and__", "s & other: a set")
    __or__ = _forward("__or__", "s | other: a set")
    __sub__ = _forward("__sub__", "s - other: a set")
    __xor__ = _forward("__xor__", "s ^ other: a set")
    __rand__ = _forward("__rand__", "other & s")
    __ror__ = _forward("__ror__", "other | s")
    __rsub__ = _forward("__rsub__", "other - s")
    __rxor__ = _forward("__rxor__", "other ^ s")
    __iand__ = _inplace("__iand__", "s &= other")
    __ior__ = _inplace("__ior__", "s |= other")
    __isub__ = _inplace("__isub__", "s -= other")
    __ixor__ = _inplace("__ixor__", "s ^= other")
    __eq__ = _forward("__eq__", "s == other: whether other is a set with the same members")
    __le__ = _forward("__le__", "s <= other: subset")
    __lt__ = _forward("__lt__", "s < other: proper subset")
    __ge__ = _forward("__ge__", "s >= other: superset")
    __gt__ = _forward("__gt__", "s > other: proper superset")
    __contains__ = _forward("__contains__", "elem in s")
    __len__ = _forward("__len__", "len(s)")
    __iter__ = _forward("__iter__", "iter(s): an IteratorProxy over the live set")
    __hash__ = None  # type: ignore[assignment]  # a set is unhashable, and __eq__ is remote
    add = _forward("add", "add(elem)")
    clear = _forward("clear", "clear()")
    copy = _forward("copy", "copy(): the members, as a set")
    difference = _forward("difference", "difference(*others) -> set")
    difference_update = _forward("difference_update", "difference_update(*others)")
    discard = _forward("discard", "discard(elem)")
    intersection = _forward("intersection", "intersection(*others) -> set")
    intersection_update = _forward("intersection_update", "intersection_update(*others)")
    isdisjoint = _forward("isdisjoint", "isdisjoint(other) -> bool")
    issubset = _forward("issubset", "issubset(other) -> bool")
    issuperset = _forward("issuperset", "issuperset(other) -> bool")
    pop = _forward("pop", "pop(): the oldest member; raises KeyError")
    remove = _forward("remove", "remove(elem); raises KeyError")
    symmetric_difference = _forward("symmetric_difference", "symmetric_difference(other) -> set")
    symmetric_difference_update = _forward("symmetric_difference_update", "symmetric_difference_update(other)")
    union = _forward("union", "union(*others) -> set")
    update = _forward("update", "update(*others)")

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)


class ArrayProxy(BaseProxy):
    """A shared ``Array`` (SPEC 13.8): ``len(a)``, ``a[i]``, ``a[i] = v`` and slices. Iteration
    reads ``a[0]``, ``a[1]``... until ``IndexError`` (Python's sequence protocol)."""

    __len__ = _forward("__len__", "len(a)")
    __getitem__ = _forward("__getitem__", "a[index]; a[start:stop] is a list")
    __setitem__ = _forward("__setitem__", "a[index] = value, converted to the typecode")


class NamespaceProxy(BaseProxy):
    """A shared ``Namespace`` (SPEC 13.4): ``ns.x``, ``ns.x = v`` and ``del ns.x`` are calls.
    Names beginning with ``_`` are the proxy's own, as in Python's ``NamespaceProxy``."""

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the proxy's own attributes are found first.
        if name.startswith("_"):
            raise AttributeError(name)
        return self._callmethod("__getattribute__", (name,))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._callmethod("__setattr__", (name, value))

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            self._callmethod("__delattr__", (name,))


class ValueProxy(BaseProxy):
    """A shared ``Value`` (SPEC 13.5): ``get()``, ``set(v)`` and the ``value`` property."""

    get = _forward("get", "get(): the value")
    set = _forward("set", "set(value)")

    @property
    def value(self) -> Any:
        return self._callmethod("get")

    @value.setter
    def value(self, new: Any) -> None:
        self._callmethod("set", (new,))


# ---------------------------------------------------------------------------------------------
# Synchronization primitives (SPEC 13.10 to 13.16)


class _AcquirerProxy(BaseProxy):
    """``acquire``/``release``, and ``with proxy:`` acquiring and releasing, as Python's
    ``AcquirerProxy``. What a session holds is given back if it disconnects (SPEC 10.1). The
    owner of an ``RLock`` is the connection: threads sharing one connection share one owner."""

    acquire = _forward("acquire", "acquire(blocking=True, timeout=...) -> bool")
    release = _forward("release", "release()")

    def __enter__(self) -> Any:  # type: ignore[override]
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


class LockProxy(_AcquirerProxy):
    """A shared ``Lock`` (SPEC 13.10). ``acquire(blocking=True, timeout=-1)``, ``release()``,
    ``locked()``; ``with lock:``."""

    locked = _forward("locked", "locked() -> bool")


class RLockProxy(LockProxy):
    """A shared ``RLock`` (SPEC 13.11), owned by this connection's session."""


class SemaphoreProxy(_AcquirerProxy):
    """A shared ``Semaphore`` (SPEC 13.12): ``acquire(blocking=True, timeout=None)``,
    ``release(n=1)``; ``with sem:``."""


class BoundedSemaphoreProxy(SemaphoreProxy):
    """A shared ``BoundedSemaphore`` (SPEC 13.13): ``release`` beyond the initial value raises
    ``ValueError``."""


class ConditionProxy(_AcquirerProxy):
    """A shared ``Condition`` (SPEC 13.14): ``acquire``, ``release``, ``wait``, ``notify``,
    ``notify_all``, ``wait_for`` (a loop over ``wait`` here, as in Python) and ``with cond:``.

    A ``wait`` that is withdrawn (by the client-wide request timeout, or Ctrl-C) ends without
    the lock (SPEC 10.1), so the ``with`` block around it then does not release it. A wait that
    completed before its withdrawal holds the lock again, and the ``with`` block releases it.
    """

    notify = _forward("notify", "notify(n=1)")
    notify_all = _forward("notify_all", "notify_all()")

    def __init__(self, manager: Any, token: Dict[str, Any]) -> None:
        super().__init__(manager, token)
        object.__setattr__(self, "_lock_lost", threading.local())

    def wait(self, *args: Any, **kwds: Any) -> bool:
        """wait(timeout=None) -> bool: True when notified, False when the timeout passed."""
        self._lock_lost.flag = False
        try:
            return self._callmethod("wait", args, kwds, settle_interrupted=True)
        except errors.RequestCancelledError:
            # Withdrawn: the wait gave the lock up and does not take it back (SPEC 10.1); a
            # release now would free a lock that somebody else may hold. (RequestTimeoutError is
            # one too, also when the server did not confirm the withdrawal in time: the likely
            # cause is a connection that is going.)
            self._lock_lost.flag = True
            raise
        except KeyboardInterrupt as interrupt:
            # The connection waited for the server's last word on the withdrawn wait: a result
            # means it completed first and holds the lock again; anything else, that it did not.
            response = getattr(interrupt, "syncmanager_response", None)
            self._lock_lost.flag = not (isinstance(response, dict) and "result" in response)
            raise

    def wait_for(self, predicate: Callable[[], Any], timeout: Optional[float] = None) -> Any:
        """Waits until ``predicate()`` is true, or ``timeout`` seconds pass; returns its last
        value. Call it with the lock held (SPEC 13.14: a client-side loop over ``wait``)."""
        result = predicate()
        if result:
            return result
        endtime = None if timeout is None else time.monotonic() + timeout
        waittime = None
        while not result:
            if endtime is not None:
                waittime = endtime - time.monotonic()
                if waittime <= 0:
                    break
            self.wait(waittime)
            result = predicate()
        return result

    def __exit__(self, *exc: Any) -> None:
        if getattr(self._lock_lost, "flag", False):
            self._lock_lost.flag = False
            return
        self.release()


class EventProxy(BaseProxy):
    """A shared ``Event`` (SPEC 13.15): ``is_set()``, ``set()``, ``clear()``,
    ``wait(timeout=None) -> bool``."""

    is_set = _forward("is_set", "is_set() -> bool")
    set = _forward("set", "set(): wakes every waiter")
    clear = _forward("clear", "clear()")
    wait = _forward("wait", "wait(timeout=None) -> bool")


class BarrierProxy(BaseProxy):
    """A shared ``Barrier`` (SPEC 13.16): ``wait(timeout=None) -> int``, ``abort()``, ``reset()``,
    and the ``parties``, ``n_waiting`` and ``broken`` properties. A broken barrier raises
    ``threading.BrokenBarrierError``."""

    wait = _forward("wait", "wait(timeout=None) -> int, the arrival index; raises BrokenBarrierError")
    abort = _forward("abort", "abort(): breaks the barrier")
    reset = _forward("reset", "reset(): a new cycle; waiting parties get BrokenBarrierError")

    @property
    def parties(self) -> int:
        return self._callmethod("__getattribute__", ("parties",))

    @property
    def n_waiting(self) -> int:
        return self._callmethod("__getattribute__", ("n_waiting",))

    @property
    def broken(self) -> bool:
        return self._callmethod("__getattribute__", ("broken",))


# ---------------------------------------------------------------------------------------------
# Objects of the server's own registered types


#: Dunder names an AutoProxy turns into operators: the container and number protocols. Others
#: (``__getattribute__``, ``__init__``...) would break the proxy itself; call them with
#: ``_callmethod``.
_PROTOCOL_DUNDERS = frozenset(
    "__%s__" % n
    for n in (
        "len contains getitem setitem delitem iter next reversed call bool int float index "
        "add sub mul truediv floordiv mod pow and or xor lshift rshift matmul neg pos abs invert "
        "radd rsub rmul rtruediv rfloordiv rmod rpow rand ror rxor "
        "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor "
        "eq ne lt le gt ge"
    ).split()
)

_auto_classes = {}  # type: Dict[Tuple[str, Tuple[str, ...]], Type[BaseProxy]]
_auto_lock = threading.Lock()


def AutoProxy(typeid: str, exposed: Tuple[str, ...]) -> Type[BaseProxy]:
    """The proxy class for a registered type's object: one method per exposed name (as
    Python's ``AutoProxy``). Names that are not identifiers (``#GETVALUE``) or would hide the
    proxy's own attributes are left out; ``_callmethod`` reaches them."""
    key = (typeid, tuple(sorted(set(exposed))))
    with _auto_lock:
        cls = _auto_classes.get(key)
        if cls is not None:
            return cls
        namespace = {"__doc__": "A proxy of a %r object; exposed: %s." % (typeid, ", ".join(key[1]) or "nothing")}  # type: Dict[str, Any]
        for name in key[1]:
            if not name.isidentifier() or hasattr(BaseProxy, name) and name not in ("close", "__eq__", "__ne__"):
                continue
            if name.startswith("__") and name.endswith("__") and name not in _PROTOCOL_DUNDERS:
                continue
            namespace[name] = _forward(name, "%s(...) on the shared object" % name)
        if "__eq__" in namespace:
            namespace["__hash__"] = None  # a remote __eq__ leaves no local hash
        cls = type("AutoProxy[%s]" % typeid, (BaseProxy,), namespace)
        _auto_classes[key] = cls
        return cls


_BY_BUILTIN = {
    "Queue": QueueProxy,
    "LifoQueue": QueueProxy,
    "PriorityQueue": QueueProxy,
    "JoinableQueue": QueueProxy,
    "dict": DictProxy,
    "list": ListProxy,
    "set": SetProxy,
    "Namespace": NamespaceProxy,
    "Value": ValueProxy,
    "Array": ArrayProxy,
    "Lock": LockProxy,
    "RLock": RLockProxy,
    "Semaphore": SemaphoreProxy,
    "BoundedSemaphore": BoundedSemaphoreProxy,
    "Condition": ConditionProxy,
    "Event": EventProxy,
    "Barrier": BarrierProxy,
    "Iterator": IteratorProxy,
}  # type: Dict[str, Type[BaseProxy]]


def proxy_class_for(token: Dict[str, Any], overrides: Optional[Dict[str, Type[BaseProxy]]] = None) -> Type[BaseProxy]:
    """The proxy class for a token: a class given for its typeid, else the typed proxy of its
    ``builtin`` (an unknown ``builtin`` counts as absent, SPEC 8.4), else an AutoProxy."""
    if overrides:
        cls = overrides.get(token["typeid"])
        if cls is not None:
            return cls
    builtin = token.get("builtin")
    if isinstance(builtin, str) and builtin in _BY_BUILTIN:
        return _BY_BUILTIN[builtin]
    return AutoProxy(token["typeid"], tuple(n for n in token.get("exposed") or () if isinstance(n, str)))
