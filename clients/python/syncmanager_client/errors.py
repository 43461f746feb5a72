"""Error responses turned into Python exceptions, as SPEC 12.2 maps them.

A program catches what it would catch with Python's own manager: ``queue.Empty`` from a
``get`` that timed out, ``KeyError`` from a missing dict key, ``threading.BrokenBarrierError``,
``AttributeError`` for a method that is not exposed. What has no Python class of its own raises
:class:`RemoteError` (a ``multiprocessing.managers.RemoteError``), and each protocol error code
has a class of its own under :class:`ProtocolError`.

Every exception raised from an error response carries the response's error object as
``exc.rpc_error`` (an :class:`ErrorInfo`), so the remote type, message and stack are there for
diagnostics even when the exception is a plain ``KeyError``.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import builtins
import queue
import threading

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Type

from . import _later, transport
from .transport import FramingError, HandshakeError

__all__ = [
    "AuthenticationError",
    "ConnectionClosedError",
    "ConnectionLostError",
    "ErrorInfo",
    "FramingError",
    "HandshakeError",
    "InternalError",
    "InvalidParamsError",
    "InvalidRequestError",
    "InvalidValueError",
    "MessageTooLargeError",
    "MethodNotExposedError",
    "MethodNotFoundError",
    "NoReferenceError",
    "SessionNotResumableError",
    "ParseError",
    "ProtocolError",
    "RemoteError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "ServerNotInitializedError",
    "ShuttingDownError",
    "StaleProxyError",
    "SyncManagerError",
    "UnknownObjectError",
    "UnknownTypeidError",
    "UnsupportedProtocolVersionError",
    "error_from_response",
]


class ErrorInfo:
    """An error response's ``error`` object: ``code``, ``message`` and ``data`` (SPEC 12)."""

    __slots__ = ("code", "message", "data")

    def __init__(self, code: int, message: str, data: Optional[Dict[str, Any]] = None) -> None:
        self.code = code
        self.message = message
        self.data = data if isinstance(data, dict) else {}

    @property
    def type(self) -> str:
        """``data.type``: the exception's Python name, or the error code's name."""
        return str(self.data.get("type", ""))

    @property
    def remote_message(self) -> str:
        """``data.message``: the exception's message without its type name (may be empty)."""
        return str(self.data.get("message", ""))

    @property
    def stack(self) -> Optional[str]:
        """``data.stack``, the server-side stack, when the server sent one."""
        stack = self.data.get("stack")
        return stack if isinstance(stack, str) else None

    def __repr__(self) -> str:
        return "ErrorInfo(code=%d, message=%r, type=%r)" % (self.code, self.message, self.type)


class SyncManagerError(Exception):
    """The base of this client's own exception classes (not of the mapped built-in ones)."""


class ProtocolError(SyncManagerError):
    """An error response with a protocol error code, or an unknown code (SPEC 7.3: a client MUST
    treat an unknown code as a generic error). ``code``, ``message`` and ``data`` are the
    response's; ``rpc_error`` is the whole :class:`ErrorInfo`."""

    #: The code this class stands for; None for the generic class.
    CODE = None  # type: Optional[int]

    def __init__(self, message: str = "", info: Optional[ErrorInfo] = None) -> None:
        super().__init__(message)
        self.rpc_error = info if info is not None else ErrorInfo(self.CODE or 0, message)

    @property
    def code(self) -> int:
        return self.rpc_error.code

    @property
    def message(self) -> str:
        return self.rpc_error.message

    @property
    def data(self) -> Dict[str, Any]:
        return self.rpc_error.data


class ParseError(ProtocolError):
    """-32700: the server could not parse what we sent."""

    CODE = -32700


class InvalidRequestError(ProtocolError):
    """-32600: not a valid JSON-RPC request, or a second ``initialize``."""

    CODE = -32600


class MethodNotFoundError(ProtocolError):
    """-32601: no such method (or an ``inspect/*`` request without the capability)."""

    CODE = -32601


class InvalidParamsError(ProtocolError, TypeError):
    """-32602: the params lack a member, have an unknown one, or one of the wrong type."""

    CODE = -32602


class InternalError(ProtocolError):
    """-32603: a bug in the server."""

    CODE = -32603


class ServerNotInitializedError(ProtocolError):
    """-31000: a request before ``initialize`` succeeded."""

    CODE = -31000


class UnsupportedProtocolVersionError(ProtocolError):
    """-31001: the server speaks none of our major version; ``supported`` lists what it does."""

    CODE = -31001

    @property
    def supported(self) -> list:
        supported = self.data.get("supported")
        return list(supported) if isinstance(supported, list) else []


#: The code of RequestCancelledError, a class made on first use.
REQUEST_CANCELLED = -31002


def _make_request_cancelled_error() -> type:
    import concurrent.futures

    class RequestCancelledError(ProtocolError, concurrent.futures.CancelledError):
        """-31002: ``$/cancelRequest`` withdrew the call before it had any effect (SPEC 10)."""

        CODE = REQUEST_CANCELLED

    RequestCancelledError.__qualname__ = "RequestCancelledError"
    return RequestCancelledError


def _make_request_timeout_error() -> type:
    class RequestTimeoutError(__getattr__("RequestCancelledError"), TimeoutError):  # type: ignore[misc]
        """The client-wide request timeout expired; the call was cancelled and had no effect.

        Raised only when the server confirmed the cancellation (or did not answer at all within the
        grace period, see ``connect(cancel_grace=...)``). A call that completed in the meantime
        returns its result instead, so nothing it took is lost (SPEC 10).
        """

    RequestTimeoutError.__qualname__ = "RequestTimeoutError"
    return RequestTimeoutError


class ConnectionClosedError(SyncManagerError, ConnectionError, EOFError):
    """The connection closed before the request was answered (SPEC 6: a connection error).

    Both a ``ConnectionError`` and an ``EOFError``, as SPEC 12.2 suggests for Python.
    """


class ConnectionLostError(ConnectionClosedError):
    """The connection to the manager was lost while this call was on its way or waiting, so
    whether it took effect is unknown. The manager reconnects on the next call (unless
    ``connect(reconnect=False)``)."""


class StaleProxyError(SyncManagerError, ReferenceError):
    """The proxy's object is out of reach: its reference ended with a lost connection, so the
    object may be gone or be another one now. Proxies of shared typeids (``get_task_queue()``)
    are fetched again instead; any other proxy must be made anew."""


class ShuttingDownError(ConnectionClosedError):
    """-31003: the session or the manager is shutting down; the request was not carried out."""

    CODE = -31003

    def __init__(self, message: str = "", info: Optional[ErrorInfo] = None) -> None:
        super().__init__(message)
        self.rpc_error = info if info is not None else ErrorInfo(self.CODE, message)


class UnknownTypeidError(ProtocolError):
    """-31004: the typeid is not registered, or cannot be created."""

    CODE = -31004


class UnknownObjectError(ProtocolError, ReferenceError):
    """-31005: the id is not in the manager's object table (every reference was released)."""

    CODE = -31005


class MethodNotExposedError(ProtocolError, AttributeError):
    """-31006: the method is not in the object's exposed list; an ``AttributeError``."""

    CODE = -31006


def _make_remote_error() -> type:
    from multiprocessing.managers import RemoteError as _MPRemoteError

    class RemoteError(_MPRemoteError, SyncManagerError):
        """A shared object's method raised an exception that has no Python class here (SPEC 12.2):
        a user type's own error, such as a JavaScript ``CounterError``.

        ``type`` and ``remote_message`` are the remote exception's type name and message; ``args``
        is ``("Type: message",)``. A subclass of ``multiprocessing.managers.RemoteError``.
        """

        def __init__(self, info: ErrorInfo) -> None:
            super().__init__(info.message)
            self.rpc_error = info
            self.type = info.type
            self.remote_message = info.remote_message

        def __str__(self) -> str:
            stack = self.rpc_error.stack
            return self.rpc_error.message + ("\n" + stack if stack else "")

    RemoteError.__qualname__ = "RemoteError"
    return RemoteError


class InvalidValueError(ProtocolError, ValueError):
    """-31008: the server could not decode a value we sent."""

    CODE = -31008


class MessageTooLargeError(ProtocolError):
    """-31009: a request, or its result, over the server's size limit."""

    CODE = -31009


class NoReferenceError(ProtocolError):
    """-31010: ``object/decref`` by a session that holds no reference."""

    CODE = -31010


class UnknownDeliveryError(ProtocolError):
    """-31011: the manager no longer holds the delivery for this session (SPEC 20.3): its
    visibility timeout passed, or the session that took it ended, so the item went back to its
    queue; or it was settled already."""

    CODE = -31011


class SessionNotResumableError(ProtocolError):
    """-31012: the manager no longer keeps the session a reconnect asked to resume (SPEC 20.4)."""

    CODE = -31012


class DeliverySettledError(SyncManagerError, ValueError):
    """``ack()`` or ``nack()`` on a delivery this client already acknowledged or gave back:
    each delivery is settled once (SPEC 20.3)."""


_BY_CODE = {
    cls.CODE: cls
    for cls in (
        ParseError,
        InvalidRequestError,
        MethodNotFoundError,
        InvalidParamsError,
        InternalError,
        ServerNotInitializedError,
        UnsupportedProtocolVersionError,
        UnknownTypeidError,
        UnknownObjectError,
        MethodNotExposedError,
        InvalidValueError,
        MessageTooLargeError,
        NoReferenceError,
        UnknownDeliveryError,
        SessionNotResumableError,
    )
}  # type: Dict[Optional[int], Type[ProtocolError]]

REMOTE_EXCEPTION = -31007
SHUTTING_DOWN = -31003

# The classes whose standard base is slow to import, made when first named (see _later), and
# AuthenticationError, which lives in transport and is made there.
_MAKERS = {
    "RemoteError": _make_remote_error,
    "RequestCancelledError": _make_request_cancelled_error,
    "RequestTimeoutError": _make_request_timeout_error,
    "AuthenticationError": lambda: transport.AuthenticationError,
}  # type: Dict[str, Callable[[], Any]]


def __getattr__(name: str) -> Any:
    return _later.made(globals(), _MAKERS, name)


def __dir__() -> List[str]:
    return _later.names(globals(), _MAKERS)


#: Remote exception names whose Python class is not a builtin.
_NAMED = {
    "Empty": queue.Empty,
    "Full": queue.Full,
    "BrokenBarrierError": threading.BrokenBarrierError,
}  # type: Dict[str, Type[BaseException]]

#: The same, from multiprocessing, imported only when a remote exception names one of them.
_MULTIPROCESSING_NAMED = ("AuthenticationError", "ProcessError")


def _python_class(name: str) -> Optional[Type[BaseException]]:
    """The Python exception class a remote type name stands for, or None.

    Only ``Exception`` subclasses: a remote ``SystemExit`` or ``KeyboardInterrupt`` must not
    stop this program.
    """
    cls = _NAMED.get(name)
    if cls is None and name in _MULTIPROCESSING_NAMED:
        try:
            import multiprocessing

            cls = getattr(multiprocessing, name)
        except ImportError:  # pragma: no cover - multiprocessing is missing on some minimal builds
            pass
    if cls is None:
        candidate = getattr(builtins, name, None)
        if isinstance(candidate, type) and issubclass(candidate, Exception):
            cls = candidate
    return cls


def _remote_exception(info: ErrorInfo, decode_args: Callable[[Any], Any]) -> BaseException:
    cls = _python_class(info.type)
    if cls is None:
        return __getattr__("RemoteError")(info)  # type: ignore[no-any-return]
    raw_args = info.data.get("args")
    if isinstance(raw_args, list):
        try:
            args = tuple(decode_args(raw_args))
        except Exception:
            args = (info.remote_message,)
    else:
        # No args sent: the message is the one argument, and an empty message none at all
        # (queue.Empty() and BrokenBarrierError() have no arguments).
        args = (info.remote_message,) if info.remote_message else ()
    try:
        exc = cls(*args)
    except Exception:
        # A class that needs other arguments (UnicodeDecodeError takes five).
        return __getattr__("RemoteError")(info)  # type: ignore[no-any-return]
    try:
        exc.rpc_error = info  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - every exception instance has a __dict__
        pass
    return exc


def error_from_response(error: Any, decode_args: Callable[[Any], Any] = lambda v: v) -> BaseException:
    """The exception an error response's ``error`` object stands for (SPEC 12.2).

    ``decode_args`` decodes ``data.args`` (values, SPEC 11) for the mapped built-in exceptions.
    """
    if not isinstance(error, dict):
        return ProtocolError("a malformed error response: %r" % (error,))
    code = error.get("code")
    message = error.get("message")
    info = ErrorInfo(code if isinstance(code, int) else 0, message if isinstance(message, str) else "", error.get("data"))
    if info.code == REMOTE_EXCEPTION:
        return _remote_exception(info, decode_args)
    if info.code == SHUTTING_DOWN:
        return ShuttingDownError(info.message, info)
    cls = __getattr__("RequestCancelledError") if info.code == REQUEST_CANCELLED else _BY_CODE.get(info.code, ProtocolError)
    return cls(info.message, info)  # type: ignore[no-any-return]
