"""``connect()`` and the :class:`Manager`: creation methods named after the server's typeids.

The Python-style face of a connection: after ``initialize`` it asks ``manager/describe`` once
(SPEC 8.2) and offers ``m.Queue()``, ``m.dict()``, ``m.get_task_queue()``... for every typeid
registered with ``createMethod``, as ``BaseManager.register()`` does in Python.
"""

import functools
import os
import ssl  # noqa: F401 (annotations)
import sys
import weakref
from typing import Any, Dict, List, Optional, Type, Union

from .connection import PROTOCOL_VERSION, Connection
from .errors import ConnectionClosedError
from .proxies import BaseProxy, proxy_class_for

__all__ = ["ADDRESS_ENV", "AUTHKEY_ENV", "Manager", "connect"]

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

    def __init__(self, connection: Connection, proxytypes: Optional[Dict[str, Type[BaseProxy]]] = None) -> None:
        self.connection = connection
        self._proxytypes = dict(proxytypes or {})
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
        #: ``typeid -> description`` from ``manager/describe`` (SPEC 8.2), in registration order.
        self.typeids = {}  # type: Dict[str, Dict[str, Any]]
        self._describe()
        # When the program drops the manager and every proxy (each proxy holds the manager),
        # the connection goes too, so an unclosed manager leaks no socket.
        self._finalizer = weakref.finalize(self, connection.close)
        self._finalizer.atexit = False

    # -- creating and wrapping --------------------------------------------------------------

    def create(self, typeid: str, *args: Any, **kwargs: Any) -> BaseProxy:
        """Creates an object of ``typeid`` (``object/create``, SPEC 8.3) and returns its proxy,
        which holds the one reference the server gave."""
        params = {"typeid": typeid}  # type: Dict[str, Any]
        if args:
            params["args"] = [self.connection.encode(a) for a in args]
        if kwargs:
            params["kwargs"] = {k: self.connection.encode(v) for k, v in kwargs.items()}
        token = self.connection.request("object/create", params)
        return self._proxy_from_received_token(token)

    def _proxy_from_received_token(self, token: Dict[str, Any]) -> BaseProxy:
        # Every token the server sends gave the session one reference (SPEC 8.5): the proxy
        # owns it and releases it once.
        return proxy_class_for(token, self._proxytypes)(self, token)

    def proxy_from_token(self, token: Dict[str, Any]) -> BaseProxy:
        """A proxy for a token another program handed us (SPEC 8.5): takes a reference of our
        own first (``object/incref``), so the sender may then release its one."""
        self.connection.request("object/incref", {"id": token["id"]})
        return self._proxy_from_received_token(token)

    def __getattr__(self, name: str) -> Any:
        # Creation methods: only typeids registered with createMethod (SPEC 8.1).
        typeids = self.__dict__.get("typeids", {})
        if name not in typeids and not name.startswith("_") and "connection" in self.__dict__ and not self.connection.closed:
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
        if name.startswith("_") or "connection" not in self.__dict__:
            raise AttributeError("%r has no attribute %r" % (type(self).__name__, name))
        raise AttributeError("the manager at %s serves no typeid %r; it serves %s. Register it where the manager starts "
                             "(register() in a script, --register %s=Queue for syncmanager serve, the syncmanager.register setting in VS Code)"
                             % (self.connection.address, name, ", ".join(self.creation_methods()) or "nothing", name))

    def _describe(self) -> None:
        described = self.connection.request("manager/describe")
        self.typeids = {d["typeid"]: d for d in described.get("typeids", []) if isinstance(d, dict) and isinstance(d.get("typeid"), str)}

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
        self.connection.shutdown()

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
) -> Manager:
    """Connects to a syncmanager manager and returns a :class:`Manager`.

    :param address: ``"host:port"``, ``"[::1]:port"``, a Unix socket path or ``(host, port)``;
        default: the ``SYNCMANAGER_ADDRESS`` environment variable.
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

    connection = Connection(
        address,
        authkey,
        request_timeout=request_timeout,
        connect_timeout=connect_timeout,
        cancel_grace=cancel_grace,
        client_name=name,
        client_version=__version__,
        protocol_version=protocol_version,
        ssl_context=ssl_context,
    )
    try:
        return Manager(connection, proxytypes)
    except BaseException:
        connection.close()
        raise
