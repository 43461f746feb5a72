"""``connect()`` and the :class:`Manager`: creation methods named after the server's typeids.

The Python-style face of a connection: after ``initialize`` it asks ``manager/describe`` once
(SPEC 8.2) and offers ``m.Queue()``, ``m.dict()``, ``m.get_task_queue()``... for every typeid
registered with ``createMethod``, as ``BaseManager.register()`` does in Python.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import collections
import functools
import itertools
import os
import sys
import threading
import time
import weakref

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Type, Union
    import ssl  # the caller makes the SSLContext: importing ssl here would slow every client down

from .connection import CLOSED_BY_CLIENT, DEFAULT_LIVENESS_TIMEOUT, PROTOCOL_VERSION, Connection, _seconds
from .errors import ConnectionClosedError, StaleProxyError
from .proxies import BaseProxy, proxy_class_for
from .reconnect import ReconnectPolicy, backoff_delay
from . import _later, transport


def log() -> Any:
    """This module's logger (logging is imported by the first message, see _later)."""
    return _later.logger(__name__)

__all__ = ["ADDRESS_ENV", "AUTHKEY_ENV", "Manager", "connect"]

#: A manager that sends what this client cannot read (Connection._framing_loss()) on this many
#: connections within FRAMING_LOSSES_WINDOW seconds is not reconnected to again: one that sends the
#: same garbage on every connection (an answer sent again at each resumption) would loop for ever.
FRAMING_LOSSES_LIMIT = 3
FRAMING_LOSSES_WINDOW = 60.0

#: The environment variables syncmanager's tools (the VS Code extension's terminals, the CLI)
#: set for worker programs (SPEC 2).
ADDRESS_ENV = "SYNCMANAGER_ADDRESS"
AUTHKEY_ENV = "SYNCMANAGER_AUTHKEY"


class Manager:
    """A connected manager: create shared objects, get proxies, close.

    ``m.<typeid>(*args, **kwargs)`` creates an object of that typeid (one with ``createMethod``)
    and returns its proxy; :meth:`create` does it for any creatable typeid. Use it as a context
    manager, or call :meth:`close`, to end the session (the server then releases every
    reference the session holds and what it acquired, SPEC 10.1).
    """

    def __init__(
        self,
        connection: Connection,
        proxytypes: Optional[Dict[str, Type[BaseProxy]]] = None,
        reopen: Optional[Callable[..., Connection]] = None,
        reconnect: Optional[ReconnectPolicy] = None,
    ) -> None:
        self._proxytypes = dict(proxytypes or {})
        self._reopen = reopen
        self._reconnect_policy = reconnect if reopen is not None else None
        #: Counts connections: a proxy of an earlier one holds no reference on the current one.
        self._epoch = 0
        self._reconnect_lock = threading.RLock()
        self._ended = None  # type: Optional[ConnectionClosedError]
        #: Called with the error once per lost connection, when the loss is noticed (see _tell()).
        self.on_connection_lost = None  # type: Optional[Callable[[BaseException], None]]
        #: Called with the number of tries once a new connection is up, after on_connection_lost.
        self.on_connection_restored = None  # type: Optional[Callable[[int], None]]
        # The callbacks due, in order, and whether a thread is running them (see _tell()).
        self._due = collections.deque()  # type: Any
        self._telling = False
        self._due_lock = threading.Lock()
        #: The lost connection on_connection_lost was told of (once per loss).
        self._told_lost = None  # type: Optional[Connection]
        #: When the last connections lost to what the manager sent and the client could not read ended (time.monotonic()).
        self._framing_losses = collections.deque(maxlen=FRAMING_LOSSES_LIMIT)  # type: Any
        #: Whether the last reconnect resumed the session (``connect(resume_within=...)``, SPEC 20.4).
        self.resumed = False
        # The current connection, in a box the finalizer below shares: it closes whichever is current.
        self._connection_box = [connection]  # type: List[Connection]
        self._install(connection)
        # When the program drops the manager and every proxy (each proxy holds the manager),
        # the connection goes too, so an unclosed manager leaks no socket.
        self._finalizer = weakref.finalize(self, _close_current, self._connection_box)
        self._finalizer.atexit = False

    @property
    def connection(self) -> Connection:
        """The current connection (a new one after a reconnect)."""
        return self._connection_box[0]

    def _install(self, connection: Connection) -> None:
        """Makes ``connection`` the current one: proxies received on it, its typeids."""
        self._connection_box[0] = connection
        if connection.resume_token is not None and self._reconnect_policy is not None:
            # A resumable session's waiting calls wait for the reconnect: it starts at once.
            manager_ref = weakref.ref(self)

            def on_lost(error: BaseException) -> None:
                manager = manager_ref()
                if manager is not None:
                    threading.Thread(target=manager._reconnect_now, name="syncmanager-resume", daemon=True).start()

            connection.on_lost = on_lost
        # Proxies received inside values (SPEC 11.5) become proxies of this manager. Through a
        # weak reference: the connection (kept alive by its reader thread) must not keep the
        # manager alive, or the finalizer below could never close an abandoned connection.
        manager_ref = weakref.ref(self)

        def make_proxy(token: Dict[str, Any]) -> BaseProxy:
            manager = manager_ref()
            if manager is None:  # pragma: no cover - a result arriving while the manager is collected
                raise ConnectionClosedError("the manager was garbage-collected")
            return manager._proxy_from_received_token(token)

        connection.make_proxy = make_proxy
        self._describe()

    # -- reconnecting -------------------------------------------------------------------------

    def _live_connection(self) -> Connection:
        """The connection to use now: the current one, or a new one if it was lost and
        reconnection is on (tries with backoff in the calling thread; other threads wait)."""
        connection = self.connection
        if not connection.closed:
            return connection
        if self._ended is not None:
            raise ConnectionClosedError(str(self._ended))
        if self._reconnect_policy is None or not connection.lost:
            raise connection._closed_error()
        # The callbacks run with no lock held (_tell()): one that calls the manager waits for the
        # reconnection as any call does, or makes it, and none is called twice for one loss. Each
        # is queued under the reconnect lock, so a loss is never queued between a reconnection and
        # its on_connection_restored.
        with self._reconnect_lock:
            lost = self.connection
            if lost.closed and self._told_lost is not lost:
                self._told_lost = lost
                self._due.append((self._call_lost, lost._closed_error()))
                self._count_framing_loss(lost)
        self._tell()
        try:
            with self._reconnect_lock:
                if self.connection.closed:
                    attempts = self._reconnect(self.connection._closed_error())
                    self._due.append((self._call_restored, attempts))
                return self.connection
        finally:
            self._tell()

    def _count_framing_loss(self, lost: Connection) -> None:
        """Ends reconnecting (``_ended``) when ``lost`` is the FRAMING_LOSSES_LIMIT-th connection
        within FRAMING_LOSSES_WINDOW seconds lost to what the manager sent and it could not read, and
        fails the calls it kept for a resumption with that."""
        reason = lost._close_reason
        cause = reason.__cause__ if reason is not None else None
        if not isinstance(cause, transport.FramingError):
            return
        now = time.monotonic()
        self._framing_losses.append(now)
        if len(self._framing_losses) < FRAMING_LOSSES_LIMIT or now - self._framing_losses[0] > FRAMING_LOSSES_WINDOW:
            return
        self._ended = ConnectionClosedError(
            "stopped reconnecting to the manager at %s: it sent what this client cannot read on %d connections within %s s, the last: %s"
            % (lost.address, FRAMING_LOSSES_LIMIT, _seconds(FRAMING_LOSSES_WINDOW), reason))
        lost.fail_orphans(str(self._ended))

    def _call_lost(self, error: BaseException) -> None:
        if self.on_connection_lost is not None:
            self.on_connection_lost(error)

    def _call_restored(self, attempts: int) -> None:
        if self.on_connection_restored is not None:
            self.on_connection_restored(attempts)

    def _tell(self) -> None:
        """Runs the callbacks due, in order, unless a thread runs them already (which then runs
        these too, once its own returns): a callback whose call to the manager reconnects sees
        on_connection_restored after it returns, and no thread waits for another's callback."""
        with self._due_lock:
            if self._telling:
                return
            self._telling = True
        try:
            while True:
                with self._due_lock:
                    if not self._due:
                        self._telling = False
                        return
                    call, argument = self._due.popleft()
                try:
                    call(argument)
                except Exception:  # a handler's bug must not fail the call that noticed the loss
                    log().exception("%s raised", "on_connection_lost" if call == self._call_lost else "on_connection_restored")
        except BaseException:
            # A Ctrl-C (or SystemExit) in a callback is the caller's: it goes on up, and the next
            # thread to notice a loss or reconnect runs what is still due, else none would ever run again.
            with self._due_lock:
                self._telling = False
            raise

    def _reconnect_now(self) -> None:
        """Reconnects in the background (a resumable session lost its connection)."""
        try:
            self._live_connection()
        except Exception as error:
            log().warning("reconnecting to the manager failed: %s", error)
            self.connection.fail_orphans()

    def _reconnect(self, lost: BaseException) -> int:
        """Opens a new connection (tries with backoff) and makes it the current one; returns the
        number of tries."""
        policy = self._reconnect_policy
        assert policy is not None
        started = time.monotonic()
        last = lost  # type: BaseException
        attempt = 0
        while policy.max_time is None or time.monotonic() - started < policy.max_time:
            if self._ended is not None:
                raise ConnectionClosedError(str(self._ended))  # closed meanwhile: no more tries
            wait = backoff_delay(policy, attempt)
            if policy.max_time is not None:
                wait = max(0.0, min(wait, policy.max_time - (time.monotonic() - started)))
            time.sleep(wait)  # the backoff itself, not a synchronisation
            attempt += 1
            lost_connection = self.connection
            try:
                connection = self._reopen(lost_connection)  # type: ignore[misc]
            except (OSError, EOFError) as error:
                if transport.key_refused(error):
                    # A key the manager refuses will not start working by trying again.
                    self._ended = ConnectionClosedError("stopped reconnecting to the manager at %s: %s" % (self.connection.address, error))
                    raise
                last = error
                continue
            try:
                self._install(connection)
            except (OSError, EOFError) as error:
                connection.close()
                self._connection_box[0] = lost_connection  # the calls in flight stay with it
                last = error
                continue
            except BaseException:
                connection.close()
                self._connection_box[0] = lost_connection
                raise
            if connection.resumed and not connection.finish_opening():
                # It failed in the read that completed its opening, before it took the calls in
                # flight over: a failed try. They stay with the lost connection, for the next one.
                self._connection_box[0] = lost_connection
                last = connection._closed_error()
                continue
            self.resumed = connection.resumed
            if connection.resumed:
                # The same session: proxies keep their references, and the calls waiting at the
                # loss are sent again under their ids, to be answered once (SPEC 20.4).
                connection.adopt(lost_connection)
            else:
                refused = " and the session could not be resumed (%s)" % connection.resume_refused if connection.resume_refused else ""
                lost_connection.fail_orphans("the connection to the manager at %s was lost%s: the effect of this call is unknown" % (connection.address, refused))
                self._epoch += 1
            if self._ended is not None:
                # close() came while this try was under way: it may have looked at the lost
                # connection before this one was installed, so this one is ended here, its session
                # with it, and the calls it took over fail (close() set _ended before it looked).
                connection.shutdown()
                raise ConnectionClosedError(str(self._ended))
            return attempt
        self._ended = ConnectionClosedError("gave up reconnecting to the manager at %s after %s s: %s" % (self.connection.address, policy.max_time, last))
        self.connection.fail_orphans()
        raise ConnectionClosedError(str(self._ended)) from last

    def _connection_for(self, proxy: BaseProxy) -> Connection:
        """The live connection, with ``proxy`` made valid on it: a shared typeid's object is
        fetched again after a reconnect; any other proxy of an earlier connection is stale."""
        connection = self._connection_box[0]
        if proxy._epoch == self._epoch and not connection._closed:
            return connection  # every call but the first after a loss
        connection = self._live_connection()
        if proxy._epoch == self._epoch:
            return connection
        with self._reconnect_lock:
            if proxy._epoch == self._epoch:
                return self.connection
            typeid = proxy._shared_typeid
            if typeid is None:
                raise StaleProxyError(
                    "cannot call %s object %s: the reference this proxy held ended when the connection to the manager at %s was lost, "
                    "so the object may be gone; make a new proxy (shared typeids such as get_task_queue() are fetched again by themselves)"
                    % (proxy._typeid, proxy._id, self.connection.address)
                )
            connection = self.connection
            proxy._rebind(connection, connection.request("object/create", {"typeid": typeid}), self._epoch)
            return connection

    # -- creating and wrapping --------------------------------------------------------------

    def create(self, typeid: str, *args: Any, **kwargs: Any) -> BaseProxy:
        """Creates an object of ``typeid`` (``object/create``, SPEC 8.3) and returns its proxy,
        which holds the one reference the server gave."""
        params = {"typeid": typeid}  # type: Dict[str, Any]
        if args:
            params["args"] = [self.connection.encode(a) for a in args]
        if kwargs:
            params["kwargs"] = {k: self.connection.encode(v) for k, v in kwargs.items()}
        token = self._live_connection().request("object/create", params)
        proxy = self._proxy_from_received_token(token)
        # A shared typeid's one object can be fetched again after a reconnect; another cannot.
        if not args and not kwargs and self.typeids.get(typeid, {}).get("shared") is True:
            object.__setattr__(proxy, "_shared_typeid", typeid)
        return proxy

    def _proxy_from_received_token(self, token: Dict[str, Any]) -> BaseProxy:
        # Every token the server sends gave the session one reference (SPEC 8.5): the proxy
        # owns it and releases it once.
        return proxy_class_for(token, self._proxytypes)(self, token)

    def proxy_from_token(self, token: Dict[str, Any]) -> BaseProxy:
        """A proxy for a token another program handed us (SPEC 8.5): takes a reference of our
        own first (``object/incref``), so the sender may then release its one."""
        self._live_connection().request("object/incref", {"id": token["id"]})
        return self._proxy_from_received_token(token)

    def __getattr__(self, name: str) -> Any:
        # Creation methods: only typeids registered with createMethod (SPEC 8.1).
        typeids = self.__dict__.get("typeids", {})
        if name not in typeids and not name.startswith("_") and "_connection_box" in self.__dict__ and not self.connection.closed:
            # A manager can register typeids while it runs (the VS Code extension does when its
            # setting changes): ask again before saying it has none.
            try:
                self._describe()
            except Exception:  # pragma: no cover - the connection failing now is reported by the next call
                pass
            typeids = self.__dict__.get("typeids", {})
        description = typeids.get(name)
        if description is not None and description.get("createMethod", True):
            method = functools.partial(self.create, name)
            method.__doc__ = "Creates a %r object and returns its proxy." % name  # type: ignore[attr-defined]
            return method
        if name.startswith("_") or "_connection_box" not in self.__dict__:
            raise AttributeError("%r has no attribute %r" % (type(self).__name__, name))
        raise AttributeError("the manager at %s serves no typeid %r; it serves %s. Register it where the manager starts "
                             "(register() in a script, --register %s=Queue for syncmanager serve, the syncmanager.register setting in VS Code)"
                             % (self.connection.address, name, ", ".join(self.creation_methods()) or "nothing", name))

    def _describe(self) -> None:
        # Not carried over a loss: in _install() it is the opening of a connection that a resumption
        # would have to complete first, and it would wait for ever (a failed try instead).
        described = self.connection.request("manager/describe", carried=False)
        #: ``typeid -> description`` from ``manager/describe`` (SPEC 8.2), in registration order.
        self.typeids = {d["typeid"]: d for d in described.get("typeids", []) if isinstance(d, dict) and isinstance(d.get("typeid"), str)}  # type: Dict[str, Dict[str, Any]]

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self.creation_methods()))

    def creation_methods(self) -> List[str]:
        """The typeids ``m.<typeid>()`` can create."""
        return [t for t, d in self.typeids.items() if d.get("createMethod", True) and t.isidentifier()]

    # -- the session --------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """This session's id on the server, as inspection tools show it."""
        return self.connection.session_id

    @property
    def address(self) -> Any:
        return self.connection.address

    def close(self) -> None:
        """Ends the session (``shutdown``, SPEC 7.2) and closes the connection. The server
        releases the session's references, gives back its locks and permits, and withdraws its
        blocked calls. Proxies cannot be used afterwards. Idempotent."""
        if self._ended is None:
            self._ended = ConnectionClosedError(CLOSED_BY_CLIENT)
        connection = self.connection
        connection.shutdown()
        # Closed while reconnecting: the calls kept for a resumption that will not come fail now
        # (the reconnect loop stops at its next look at _ended, or ends what it opened).
        connection.fail_orphans("%s while it was reconnecting: the effect of this call is unknown" % CLOSED_BY_CLIENT)

    def shutdown_server(self) -> None:
        """Stops the whole manager, if it allows remote shutdown (else ``PermissionError``)."""
        self.connection.shutdown_server()

    def __enter__(self) -> "Manager":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.connection.closed else "session %s" % self.connection.session_id
        return "<syncmanager_client.Manager %s, %s>" % (self.connection.address, state)


def connect(
    address: Union[str, tuple, None] = None,
    authkey: Union[bytes, str, None] = None,
    *,
    request_timeout: Optional[float] = None,
    connect_timeout: Optional[float] = 10.0,
    cancel_grace: float = 5.0,
    name: Optional[str] = None,
    proxytypes: Optional[Dict[str, Type[BaseProxy]]] = None,
    protocol_version: str = PROTOCOL_VERSION,
    ssl_context: "Optional[ssl.SSLContext]" = None,
    reconnect: bool = True,
    reconnect_initial_delay: float = 0.1,
    reconnect_max_delay: float = 5.0,
    reconnect_max_time: Optional[float] = 60.0,
    liveness_timeout: Optional[float] = DEFAULT_LIVENESS_TIMEOUT,
    resume_within: Optional[float] = None,
) -> Manager:
    """Connects to a syncmanager manager and returns a :class:`Manager`.

    :param address: ``"host:port"``, ``"[::1]:port"``, a Unix socket path or ``(host, port)``;
        default: the ``SYNCMANAGER_ADDRESS`` environment variable. Several managers of one group
        (a Redis store), comma-separated (``"host:50000,host:50001"``), are tried in turn when
        connecting and reconnecting, from the last one that worked, so a resumable session moves
        on to another manager when its own is gone.
    :param authkey: the shared secret (``str`` means its UTF-8 bytes); default:
        ``SYNCMANAGER_AUTHKEY``.
    :param request_timeout: a client-wide limit, in seconds, on every request; one that runs
        over is cancelled (``$/cancelRequest``) and raises ``RequestTimeoutError`` if the
        server confirms it had no effect. None (the default) waits as long as the call takes.
    :param connect_timeout: seconds for the connection, the handshake and ``initialize``.
    :param cancel_grace: seconds to wait for the server's answer to a cancellation.
    :param name: the client name inspection tools show (default: the script's name).
    :param proxytypes: ``typeid -> proxy class`` for typeids that want a proxy of their own.
    :param ssl_context: speak TLS to a manager that serves it (``syncmanager serve --tls-cert``),
        e.g. ``ssl.create_default_context(cafile="ca.pem")``; add ``load_cert_chain`` for a
        manager that asks for client certificates (``--tls-ca``).
    :param reconnect: after a lost connection, open a new one on the next call (the default):
        calls in flight at the loss raise ``ConnectionLostError``; proxies of shared typeids
        (``get_task_queue()``) work again, other proxies raise ``StaleProxyError``. Set
        ``on_connection_lost`` / ``on_connection_restored`` on the manager to hear of both.
    :param reconnect_initial_delay: seconds before the first try; the wait doubles each time,
        with jitter, up to ``reconnect_max_delay``.
    :param reconnect_max_time: seconds to keep trying (None: forever); then calls raise
        ``ConnectionClosedError``.
    :param liveness_timeout: seconds of silence after which the manager is taken as gone (a
        stopped process, a dead host): waiting calls raise ``ConnectionLostError`` instead of
        hanging (and the client reconnects). It pings every quarter of it. None or 0: off.
    :param resume_within: session resumption (off by default; SPEC 20.4): seconds the manager
        keeps this session after its connection drops (its references, the locks, permits and
        conditions it holds, its waiting calls). A reconnect within them resumes it: proxies go on
        working and calls in flight complete exactly once; ``m.resumed`` says whether it did.
        Needs ``reconnect``.
    :raises AuthenticationError: the keys differ (a ``multiprocessing.AuthenticationError``).
    :raises UnsupportedProtocolVersionError: the server speaks no 1.x protocol.
    """
    if address is None or address == "":
        address = os.environ.get(ADDRESS_ENV) or None
        if address is None:
            raise ValueError("no manager address: pass connect(address=...) or set %s (host:port or a socket path)" % ADDRESS_ENV)
    if authkey is None:
        authkey = os.environ.get(AUTHKEY_ENV) or None
        if authkey is None:
            raise ValueError("no authkey: pass connect(authkey=...) or set %s" % AUTHKEY_ENV)
    if name is None:
        script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
        name = script or "python"
    from . import __version__

    policy = ReconnectPolicy(reconnect_initial_delay, reconnect_max_delay, reconnect_max_time) if reconnect else None
    if resume_within is not None:
        if not isinstance(resume_within, (int, float)) or not resume_within > 0 or resume_within == float("inf"):
            raise ValueError("resume_within must be a number of seconds above 0, not %r" % (resume_within,))
        if not reconnect:
            raise ValueError("resume_within needs reconnect: a client that never reconnects never resumes its session")
    client_name = name
    # One counter of request ids for every connection of this client (SPEC 20.4).
    ids = itertools.count(1)

    # Several managers of one group, comma-separated: tried in turn, from the last that worked (SPEC 20.4.1).
    addresses = [part.strip() for part in address.split(",")] if isinstance(address, str) and "," in address else [address]
    if any(part == "" for part in addresses):
        raise ValueError("address list %r has an empty entry: give host:port,host:port" % (address,))
    current = [0]

    def open_connection(resume_from: Optional[Connection] = None) -> Connection:
        failure = None  # type: Optional[BaseException]
        for i in range(len(addresses)):
            at = (current[0] + i) % len(addresses)
            try:
                connection = open_one(addresses[at], resume_from)
            except (OSError, EOFError) as error:
                failure = error
                continue
            current[0] = at
            return connection
        assert failure is not None
        raise failure

    def open_one(address: Any, resume_from: Optional[Connection]) -> Connection:
        return Connection(
            address,
            authkey,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            cancel_grace=cancel_grace,
            client_name=client_name,
            client_version=__version__,
            protocol_version=protocol_version,
            ssl_context=ssl_context,
            liveness_timeout=liveness_timeout,
            resume_within=resume_within,
            resume_from=resume_from,
            ids=ids,
        )

    connection = open_connection()
    try:
        return Manager(connection, proxytypes, open_connection, policy)
    except BaseException:
        connection.close()
        raise


def _close_current(box: List[Connection]) -> None:
    box[0].close()
