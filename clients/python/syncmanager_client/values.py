"""Python values to and from the tagged JSON encoding of SPEC 11.

JSON says null, booleans, numbers, strings, arrays and objects; everything else Python has
travels as a one-member object whose name starts with ``$`` (a *tag*):

============================  ==========================================
Python                        JSON
============================  ==========================================
``None``, ``bool``, ``str``   ``null``, ``true``/``false``, a string
``int``                       a number; ``{"$int": "digits"}`` beyond ±(2**53 - 1)
``float``                     a number with a fraction; ``{"$float": 2}`` when integral,
                              ``{"$float": "nan"}``, ``"inf"``, ``"-inf"``
``bytes``, ``bytearray``      ``{"$bytes": base64}`` (a bytearray comes back as bytes)
``list``                      an array
``tuple``                     ``{"$tuple": [...]}``
``set``, ``frozenset``        ``{"$set": [...]}``, ``{"$frozenset": [...]}``
``dict`` with ``str`` keys    an object (``$dict`` when its only key starts with ``$``)
any other ``dict``            ``{"$dict": [[key, value], ...]}``
``slice``                     ``{"$slice": [start, stop, step]}``
a proxy                       ``{"$proxy": token}``: a reference, not a copy
:class:`OpaqueValue`          ``{"$opaque": {...}}``: another language's value, carried unread
============================  ==========================================

This client never sends or reads pickles: a ``$opaque`` value (a pickle, when ``lang`` is
``"python"``) stays an :class:`OpaqueValue` that can be stored and sent back unchanged.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import binascii
import math

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional

__all__ = ["CodecError", "OpaqueValue", "decode", "encode", "MAX_DEPTH", "MAX_INT_DIGITS", "MAX_SAFE_INT"]

#: Integers within ±(2**53 - 1) are bare JSON numbers; beyond, ``$int`` (SPEC 11.3).
MAX_SAFE_INT = 2 ** 53 - 1
#: Python's own limit on int <-> text conversion; a ``$int`` has at most this many digits.
MAX_INT_DIGITS = 4300
#: Arrays, objects and tagged objects each count one level; 512 at most (SPEC 11.6).
MAX_DEPTH = 512

_TAGS = ("$bytes", "$int", "$float", "$tuple", "$set", "$frozenset", "$dict", "$opaque", "$proxy", "$slice")
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


class CodecError(ValueError):
    """A value that cannot be encoded, or a received one that is malformed (an unknown tag)."""


class OpaqueValue:
    """A value only another language (or a pickle reader) can read: ``$opaque`` (SPEC 11.5).

    It is carried unread: store it in a shared object or pass it to a call and the other side
    gets exactly what was sent. ``data`` is the raw bytes (a pickle when ``lang`` is ``"python"``;
    this client never unpickles it).
    """

    __slots__ = ("lang", "type", "data")

    def __init__(self, lang: str, type: str, data: bytes) -> None:
        self.lang = lang
        self.type = type
        self.data = bytes(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpaqueValue) and (self.lang, self.type, self.data) == (other.lang, other.type, other.data)

    def __hash__(self) -> int:
        return hash((self.lang, self.type, self.data))

    def __repr__(self) -> str:
        return "<opaque %s %s, %d bytes>" % (self.lang, self.type, len(self.data))


def _b64(data: bytes) -> str:
    # base64.b64encode's own call, without importing base64 (and its re) for a cold client.
    return binascii.b2a_base64(bytes(data), newline=False).decode("ascii")


def _unb64(text: Any, where: str) -> bytes:
    if not isinstance(text, str) or len(text) % 4 or not set(text.encode("ascii", "replace")) <= _B64_ALPHABET:
        raise CodecError("%s: malformed base64 body %r" % (where, text))
    import base64  # only for a value that carries bytes (see _b64)

    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CodecError("%s: malformed base64 body %r" % (where, text)) from None


def _encode_float(x: float) -> Any:
    if math.isnan(x):
        return {"$float": "nan"}
    if math.isinf(x):
        return {"$float": "inf" if x > 0 else "-inf"}
    if x == int(x):
        # A bare whole number would read back as an int (SPEC 11.3): tag it. Small ones are
        # written without ".0" as the spec's examples do; -0.0 keeps its sign as a float.
        if abs(x) <= MAX_SAFE_INT and not (x == 0 and math.copysign(1.0, x) < 0):
            return {"$float": int(x)}
        return {"$float": x}
    return x  # json writes repr(x): the shortest digits that read back to the same double


def _is_tagged_number(value: Any) -> bool:
    """Whether a number travels tagged: an int beyond ±(2**53-1), an integral or non-finite float."""
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf")) or value.is_integer()
    return isinstance(value, int) and not -MAX_SAFE_INT <= value <= MAX_SAFE_INT


def encode(value: Any, proxy_token: Optional[Callable[[Any], Optional[dict]]] = None, _depth: int = 0) -> Any:
    """Turns a Python value into its JSON form (SPEC 11).

    ``proxy_token(obj)`` returns the token of a proxy (``None`` for anything that is not one);
    the connection passes it so that proxies travel as ``$proxy``. Raises :class:`CodecError`
    (a ``ValueError``) for nesting over 512 levels and ints over 4300 digits, and ``TypeError``
    for a value that has no JSON form: this client sends JSON only, never a pickle.
    """
    cls = type(value)
    if cls is str or cls is int and -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        return value  # the usual argument, first
    if value is None or value is True or value is False or isinstance(value, str):
        return value
    # A tagged number ($int, $float) is a level of its own (SPEC 11.6), like any other tag.
    if _depth + 1 > MAX_DEPTH and _is_tagged_number(value):
        raise CodecError("a value nested deeper than %d levels (or one that contains itself)" % MAX_DEPTH)
    if isinstance(value, int):
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return int(value)  # an IntEnum member is sent as its number
        # Python 3.11+ itself refuses str() of an int over 4300 digits: check the size first.
        too_long = CodecError("an int of more than %d digits is over the protocol's limit (SPEC 11.3)" % MAX_INT_DIGITS)
        if value.bit_length() > 14300:  # 10**4300 needs about 14284 bits
            raise too_long
        try:
            text = str(int(value))
        except ValueError:
            raise too_long from None
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            raise too_long
        return {"$int": text}
    if isinstance(value, float):
        return _encode_float(value)
    depth = _depth + 1
    if depth > MAX_DEPTH:
        raise CodecError("a value nested deeper than %d levels (or one that contains itself)" % MAX_DEPTH)
    # Plain loops, not comprehensions: before Python 3.12 a comprehension is a frame of its own,
    # and two frames per level would hit the recursion limit before 512 levels.
    if isinstance(value, dict):
        keys = list(value.keys())
        if all(isinstance(k, str) for k in keys) and not (len(keys) == 1 and keys[0].startswith("$")):
            members = {}
            for k, v in value.items():
                members[k] = encode(v, proxy_token, depth)
            return members
        # A non-str key, or one lone '$' key that would read as a tag (SPEC 11.4): pairs.
        pairs = []
        for k, v in value.items():
            pairs.append([encode(k, proxy_token, depth), encode(v, proxy_token, depth)])
        return {"$dict": pairs}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": _b64(bytes(value))}
    if isinstance(value, slice):
        value, tag = (value.start, value.stop, value.step), "$slice"
    elif isinstance(value, list):
        tag = None
    elif isinstance(value, tuple):
        tag = "$tuple"
    elif isinstance(value, frozenset):
        tag = "$frozenset"
    elif isinstance(value, set):
        tag = "$set"
    else:
        tag = ""
    if tag != "":
        items = []
        for v in value:
            items.append(encode(v, proxy_token, depth))
        return items if tag is None else {tag: items}
    if isinstance(value, OpaqueValue):
        return {"$opaque": {"lang": value.lang, "type": value.type, "data": _b64(value.data)}}
    token = proxy_token(value) if proxy_token is not None else None
    if token is not None:
        return {"$proxy": token}
    raise TypeError(
        "a %s.%s cannot be sent: syncmanager values are JSON (None, bool, int, float, str, bytes, "
        "list, tuple, dict, set, frozenset, slice, proxies); this client never pickles"
        % (type(value).__module__, type(value).__qualname__)
    )


def _hashable(value: Any, where: str) -> Any:
    try:
        hash(value)
    except TypeError:
        raise CodecError("%s: an unhashable %s cannot be a key or member in Python" % (where, type(value).__name__)) from None
    return value


def decode(value: Any, make_proxy: Optional[Callable[[dict], Any]] = None, _depth: int = 0, _where: str = "value") -> Any:
    """Turns a received JSON value into Python (SPEC 11).

    ``make_proxy(token)`` turns each ``$proxy`` into a proxy; each occurrence gave the session
    one reference, which that proxy owns (SPEC 11.5). Without it a ``$proxy`` stays its token
    dict. Raises :class:`CodecError` for an unknown tag or a malformed body.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    depth = _depth + 1
    if depth > MAX_DEPTH:
        raise CodecError("%s: nested deeper than %d levels" % (_where, MAX_DEPTH))
    if isinstance(value, list):
        items = []
        for v in value:  # a loop, not a comprehension: see encode()
            items.append(decode(v, make_proxy, depth, _where))
        return items
    if not isinstance(value, dict):
        raise CodecError("%s: %r is not JSON" % (_where, value))
    if len(value) != 1:
        members = {}
        for k, v in value.items():
            members[k] = decode(v, make_proxy, depth, _where)
        return members
    (key, body), = value.items()
    if not key.startswith("$"):
        return {key: decode(body, make_proxy, depth, _where)}
    where = "%s: %s" % (_where, key)
    if key == "$int":
        if not isinstance(body, str) or not body.lstrip("-").isdigit() or not body.isascii() or body.count("-") > int(body.startswith("-")):
            raise CodecError("%s body must be a string of decimal digits, not %r" % (where, body))
        if len(body.lstrip("-")) > MAX_INT_DIGITS:
            raise CodecError("%s has more than %d digits" % (where, MAX_INT_DIGITS))
        return int(body)
    if key == "$float":
        if isinstance(body, bool):
            raise CodecError("%s body must be a number or 'nan', 'inf', '-inf', not %r" % (where, body))
        if isinstance(body, (int, float)):
            return float(body)
        if body in ("nan", "inf", "-inf"):
            return float(body)
        raise CodecError("%s body must be a number or 'nan', 'inf', '-inf', not %r" % (where, body))
    if key == "$bytes":
        return _unb64(body, where)
    if key in ("$tuple", "$set", "$frozenset"):
        if not isinstance(body, list):
            raise CodecError("%s body must be an array" % where)
        items = []
        for v in body:
            items.append(decode(v, make_proxy, depth, where))
        if key == "$tuple":
            return tuple(items)
        for v in items:
            _hashable(v, where)
        return set(items) if key == "$set" else frozenset(items)
    if key == "$dict":
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise CodecError("%s body must be an array of [key, value] pairs" % where)
        out = {}  # type: Dict[Any, Any]
        for k, v in body:
            out[_hashable(decode(k, make_proxy, depth, where), where)] = decode(v, make_proxy, depth, where)
        return out
    if key == "$slice":
        if not isinstance(body, list) or len(body) != 3:
            raise CodecError("%s body must be [start, stop, step]" % where)
        return slice(decode(body[0], make_proxy, depth, where), decode(body[1], make_proxy, depth, where), decode(body[2], make_proxy, depth, where))
    if key == "$opaque":
        if not isinstance(body, dict) or not isinstance(body.get("lang"), str) or not isinstance(body.get("type"), str):
            raise CodecError("%s body must be {lang, type, data}" % where)
        return OpaqueValue(body["lang"], body["type"], _unb64(body.get("data"), where))
    if key == "$proxy":
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not isinstance(body.get("typeid"), str):
            raise CodecError("%s body must be a token {id, typeid, exposed}" % where)
        return make_proxy(body) if make_proxy is not None else body
    raise CodecError("%s: unknown tag (this client knows %s)" % (where, ", ".join(_TAGS)))

