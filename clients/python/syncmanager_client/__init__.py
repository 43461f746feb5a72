"""A Python client for syncmanager managers, over the JSON-RPC protocol of ``protocol/SPEC.md``.

Standard library only, Python 3.8+, JSON only (it never sends or loads a pickle)::

    from syncmanager_client import connect

    with connect("127.0.0.1:5000", "lihui") as m:   # or connect(): SYNCMANAGER_ADDRESS/_AUTHKEY
        task, result = m.get_task_queue(), m.get_result_queue()
        for n in task:                                 # get(timeout=1) until the queue is empty
            result.put(n * n)

One connection serves every thread of the program: requests are pipelined and a blocked call
(``q.get()``) holds only its own request. Exceptions are Python's: ``queue.Empty``,
``KeyError``, ``threading.BrokenBarrierError``... (see :mod:`syncmanager_client.errors`).
"""

import sys

if sys.version_info < (3, 8):
    # Said at import, in words: otherwise an older Python fails later, on a missing str method.
    raise ImportError(
        "syncmanager_client needs Python 3.8 or later; this is Python %d.%d.%d" % sys.version_info[:3]
    )

from .connection import PROTOCOL_VERSION, Connection, LateResult  # noqa: E402
from .errors import (
    ConnectionClosedError,
    ConnectionLostError,
    DeliverySettledError,
    ErrorInfo,
    FramingError,
    HandshakeError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    InvalidValueError,
    MessageTooLargeError,
    MethodNotExposedError,
    MethodNotFoundError,
    NoReferenceError,
    ParseError,
    ProtocolError,
    ServerNotInitializedError,
    SessionNotResumableError,
    ShuttingDownError,
    StaleProxyError,
    SyncManagerError,
    UnknownDeliveryError,
    UnknownObjectError,
    UnknownTypeidError,
    UnsupportedProtocolVersionError,
)
from .manager import ADDRESS_ENV, AUTHKEY_ENV, Manager, connect
from .proxies import (
    ArrayProxy,
    AutoProxy,
    BarrierProxy,
    BaseProxy,
    BoundedSemaphoreProxy,
    ConditionProxy,
    Delivery,
    DictProxy,
    EventProxy,
    IteratorProxy,
    ListProxy,
    LockProxy,
    NamespaceProxy,
    QueueProxy,
    RLockProxy,
    SemaphoreProxy,
    SetProxy,
    ValueProxy,
)
from .values import CodecError, OpaqueValue
from . import _later, errors  # noqa: E402

# Exception classes made on first use (see _later), named here as well. Type comments, not
# annotations: this module must parse on any Python, to say which one it needs.
_MAKERS = {name: (lambda name=name: getattr(errors, name)) for name in ("AuthenticationError", "RemoteError", "RequestCancelledError", "RequestTimeoutError")}


def __getattr__(name):  # type: (str) -> object
    return _later.made(globals(), _MAKERS, name)


def __dir__():  # type: () -> list
    return _later.names(globals(), _MAKERS)


__version__ = "0.1.0"

__all__ = [
    "ADDRESS_ENV",
    "AUTHKEY_ENV",
    "ArrayProxy",
    "AuthenticationError",
    "AutoProxy",
    "BarrierProxy",
    "BaseProxy",
    "BoundedSemaphoreProxy",
    "CodecError",
    "ConditionProxy",
    "Connection",
    "ConnectionClosedError",
    "ConnectionLostError",
    "Delivery",
    "DeliverySettledError",
    "DictProxy",
    "ErrorInfo",
    "EventProxy",
    "FramingError",
    "HandshakeError",
    "InternalError",
    "InvalidParamsError",
    "InvalidRequestError",
    "InvalidValueError",
    "IteratorProxy",
    "LateResult",
    "ListProxy",
    "LockProxy",
    "Manager",
    "MessageTooLargeError",
    "MethodNotExposedError",
    "MethodNotFoundError",
    "NamespaceProxy",
    "NoReferenceError",
    "SessionNotResumableError",
    "OpaqueValue",
    "PROTOCOL_VERSION",
    "ParseError",
    "ProtocolError",
    "QueueProxy",
    "RLockProxy",
    "RemoteError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "SemaphoreProxy",
    "ServerNotInitializedError",
    "SetProxy",
    "ShuttingDownError",
    "StaleProxyError",
    "SyncManagerError",
    "UnknownDeliveryError",
    "UnknownObjectError",
    "UnknownTypeidError",
    "UnsupportedProtocolVersionError",
    "ValueProxy",
    "connect",
    "__version__",
]
