"""One JSON-RPC session over one socket, shared by every thread of the program.

Requests are pipelined: any thread sends whenever it likes (writes are serialized by a lock),
and whichever thread holds the *read role* reads every response and hands it to the thread
waiting for that id (SPEC 6: responses come in any order). A blocking call such as
``queue.get()`` therefore holds only its own request, never the connection (SPEC 10): other
threads go on using it.

The read role goes to the caller itself when it is free, so a call made one at a time is sent
and answered in its own thread, as Python's own manager client does, without waking a second
thread for every answer (that handoff cost more than everything else in a call). The reader
thread takes the role when nobody else reads: while the connection is idle (to see
notifications, ping answers and the server going away), and whenever a caller waits for an
answer while the role's holder is about to stop reading. Over TLS the reader thread always
reads (a TLS socket can hold decrypted bytes that ``select`` does not see).

References are released without blocking (``release``): the call may come from a garbage
collector finalizer, in any thread, at any moment, even while that thread is itself inside
``send``. So a release only queues the id, and whichever thread holds the write lock next
sends it; nothing in that path waits for a lock another finalizer could be holding.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

from _thread import allocate_lock as _allocate_lock
import collections
import itertools
import os
import select
import socket
import threading
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Callable, Deque, Dict, List, Optional
    import ssl  # the caller makes the SSLContext: importing ssl here would slow every client down

from . import _later, errors, values
from .errors import REQUEST_CANCELLED, ConnectionClosedError, ConnectionLostError, ErrorInfo, MessageTooLargeError, ParseError, SessionNotResumableError, error_from_response
from .transport import DEFAULT_MAX_BODY, FrameReader, FramingError, HandshakeError, client_handshake, decode_json, encode_json, frame, open_socket, request_tail

__all__ = ["Connection", "LateResult", "PROTOCOL_VERSION"]


def log() -> Any:
    """This client's logger (logging is imported by the first message, see _later)."""
    return _later.logger("syncmanager_client")

#: The protocol version this client speaks (SPEC 7.1): 1.2, for nested proxies and the 1.2 types.
PROTOCOL_VERSION = "1.3"

_DEFAULT = object()

#: The liveness timeout unless configured, in seconds (SPEC 20.1: the reference clients' default).
DEFAULT_LIVENESS_TIMEOUT = 10.0

#: Why a connection this client ended (close(), shutdown()) is closed.
CLOSED_BY_CLIENT = "the connection was closed by this client"


def _seconds(value: float) -> str:
    """``0.5``, ``10`` (no ``.0``): seconds as a person writes them."""
    return ("%f" % value).rstrip("0").rstrip(".")


class LateResult:
    """A result that arrived after its caller gave up (a timeout, Ctrl-C).

    SPEC 10: a completed call is never undone, so a ``get`` that completed after we asked to
    cancel it has removed its item; the client keeps such results in
    :attr:`Connection.late_results` (and passes each to ``on_late_result``) instead of dropping them.
    """

    __slots__ = ("method", "params", "result")

    def __init__(self, method: str, params: Any, result: Any) -> None:
        self.method = method
        self.params = params
        self.result = result

    def __repr__(self) -> str:
        return "LateResult(%s %r -> %r)" % (self.method, self.params, self.result)


#: Answers between two ``$/answersSeen`` (SPEC 20.4).
ANSWERS_SEEN_EVERY = 64

#: Seconds without a new call after which the reader thread takes the read role back from the
#: callers (to watch the idle connection); while calls keep coming their callers read.
CALLERS_IDLE_AFTER = 0.05


class _Pending:
    """One request waiting for its response, with what its caller needs of a
    ``threading.Event`` (set, is_set, wait) on one bare lock: an Event builds a Condition per
    request and takes two locks to wait and two to set.

    The lock is made by the first wait: a caller that reads its own answer (most calls) never
    waits. Only the caller waits for its request, so one wait at a time makes it.
    """

    __slots__ = ("method", "params", "frame", "sent", "response", "abandoned", "withdrawn", "lost", "carried", "_lock", "_set")

    def __init__(self, method: str, params: Any, frame: Optional[bytes] = None) -> None:
        self.method = method
        self.params = params
        #: The request's frame, sent again by a connection that resumes the session (SPEC 20.4):
        #: whether the lost one sent it whole, in part or not at all, the manager carries it out once.
        self.frame = frame
        #: Whether its caller's send put it out whole (see Connection._sendall()).
        self.sent = False
        self.response = None  # type: Optional[dict]
        self.abandoned = False
        #: Whether its caller asked the manager to cancel it: a connection that resumes the
        #: session asks again after sending it again (see adopt()).
        self.withdrawn = False
        #: Why it failed with its effect unknown, when a resumption could not carry it over.
        self.lost = None  # type: Optional[str]
        #: Whether a loss of a resumable connection keeps it for the connection that resumes the
        #: session (SPEC 20.4); else the loss fails it.
        self.carried = True
        self._lock = None  # type: Optional[Any]
        self._set = False

    def is_set(self) -> bool:
        """Whether the response (or the connection's end) came."""
        return self._set

    def set(self) -> None:
        if not self._set:
            self._set = True  # first, then the look at _lock: see wait()
            lock = self._lock
            if lock is not None:
                try:
                    lock.release()
                except RuntimeError:
                    pass  # set twice at once: the other set() released it

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self._set:
            return True
        lock = self._lock
        if lock is None:
            lock = _allocate_lock()
            lock.acquire()  # held until set(): the wait below blocks on it
            self._lock = lock
            # Stored first, then the look at _set: a set() that came before the store saw no
            # lock to release, and has set _set already.
            if self._set:
                return True
        if timeout is None:
            got = lock.acquire()
        elif timeout > 0:
            got = lock.acquire(True, timeout)
        else:
            got = lock.acquire(False)
        if got:
            try:
                lock.release()  # for any later wait
            except RuntimeError:
                pass  # a second set() at once released it already
        return self._set


class Connection:
    """An authenticated, initialized session with a manager (SPEC 3 to 10).

    Most programs use :func:`syncmanager_client.connect`, which wraps this in a
    :class:`~syncmanager_client.Manager`. Thread-safe.

    :param address: ``"host:port"``, ``"[::1]:port"``, a Unix socket path, or ``(host, port)``.
    :param authkey: the shared secret, ``bytes`` or ``str`` (its UTF-8 encoding).
    :param request_timeout: seconds any request may take before it is cancelled with
        ``$/cancelRequest`` and :class:`RequestTimeoutError` is raised; None waits forever.
        Prefer a method's own ``timeout`` argument for blocking calls (SPEC 10).
    :param connect_timeout: seconds for opening the socket, the handshake and ``initialize``.
    :param cancel_grace: seconds to wait, after cancelling, for the server to confirm the
        cancellation or deliver a result that completed first.
    :param liveness_timeout: seconds of silence from the server after which it is taken as gone
        (stopped, unreachable): the connection closes and every waiting call raises
        :class:`ConnectionLostError` (SPEC 20.1). The client sends ``$/ping`` every quarter of
        it, and asks the server (capability ``ping``) to drop this session if the pings stop.
        None or 0 turns it off.
    """

    def __init__(
        self,
        address: Any,
        authkey: Any,
        *,
        request_timeout: Optional[float] = None,
        connect_timeout: Optional[float] = 10.0,
        cancel_grace: float = 5.0,
        client_name: str = "python",
        client_version: Optional[str] = None,
        protocol_version: str = PROTOCOL_VERSION,
        capabilities: Optional[Dict[str, bool]] = None,
        max_body: int = DEFAULT_MAX_BODY,
        ssl_context: "Optional[ssl.SSLContext]" = None,
        liveness_timeout: Optional[float] = DEFAULT_LIVENESS_TIMEOUT,
        resume_within: Optional[float] = None,
        resume_from: "Optional[Connection]" = None,
        ids: "Optional[itertools.count[int]]" = None,
    ) -> None:
        if liveness_timeout is not None and not (isinstance(liveness_timeout, (int, float)) and liveness_timeout >= 0):
            raise ValueError("liveness_timeout must be a number of seconds >= 0 (0 or None turns it off), not %r" % (liveness_timeout,))
        if isinstance(authkey, str):
            authkey = authkey.encode("utf-8")
        if not isinstance(authkey, (bytes, bytearray)):
            raise TypeError("authkey must be bytes or str, not %s" % type(authkey).__name__)
        self.address = address
        self.request_timeout = request_timeout
        self.cancel_grace = cancel_grace
        #: Results of calls whose callers gave up first (see :class:`LateResult`).
        self.late_results = collections.deque(maxlen=1000)  # type: Deque[LateResult]
        #: Called with each :class:`LateResult`, from the thread reading the answer; must not block.
        self.on_late_result = None  # type: Optional[Callable[[LateResult], None]]
        #: Called with ``(method, params)`` for each notification from the server (SPEC 6).
        self.on_notification = None  # type: Optional[Callable[[str, Any], None]]

        # One counter for every connection of a client: an id is never used twice in a session
        # (SPEC 20.4). next() is atomic under the GIL: no lock needed.
        self._ids = ids if ids is not None else itertools.count(1)
        #: Answers received in the session over all its connections (SPEC 20.4).
        self.answers_seen = resume_from.answers_seen if resume_from is not None else 0
        self._answers_reported = self.answers_seen
        # Reported once the session is this connection's: on one that resumed it, once adopt()
        # took the lost connection's requests over. The manager sends the answers of calls that
        # completed while the session was detached at once, before then; it forgets an answer
        # the client reported, so a request sent again whose answer came early and was reported
        # would be carried out again (SPEC 20.4).
        self._reports_answers = False
        #: The token that resumes the session, when resumption was agreed (SPEC 20.4).
        self.resume_token = None  # type: Optional[str]
        #: Whether this connection resumed an earlier one's session.
        self.resumed = False
        self.answers_lost = False
        #: Why resuming was refused (a new session was started instead), if it was.
        self.resume_refused = None  # type: Optional[str]
        #: Called (from the thread that saw it) when a resumable connection is lost; its waiting
        #: requests are kept for the connection that resumes the session (see adopt()).
        self.on_lost = None  # type: Optional[Callable[[BaseException], None]]
        self._orphans = None  # type: Optional[Dict[int, _Pending]]
        #: On a connection resuming a session, until adopt(): the answers that came for none of
        #: its own requests, by id. They answer the lost connection's requests (calls that
        #: completed while the session was detached, sent as it is resumed) and are counted in
        #: answers_seen, so adopt() settles those requests with them and never sends them again:
        #: the manager forgets an answer the client counted (SPEC 20.4).
        self._early = None  # type: Optional[Dict[int, dict]]
        #: The connection that resumed this one's session: releases go there.
        self._successor = None  # type: Optional[Connection]
        self._pending = {}  # type: Dict[int, _Pending]
        # Reentrant: a finalizer that closes an abandoned connection may run (GC) in a thread
        # that holds it already. One for every connection of a session: a request carried over
        # to the connection that resumed it is answered there while its caller, here, may be
        # giving up on it (_abandon), and only one lock makes that either an answer or a late result.
        self._pending_lock = resume_from._pending_lock if resume_from is not None else threading.RLock()
        self._write_lock = threading.Lock()
        self._releases = collections.deque()  # type: Deque[str]
        self._closed = False
        self._close_reason = None  # type: Optional[BaseException]
        #: Set by shutdown(): the manager ends the session and closes the connection, no loss.
        self._ending = False
        #: What the server last said about the byte stream itself (an error of id null that it
        #: closes the connection after, SPEC 5, 19), told with the loss it explains.
        self._stream_fault = None  # type: Optional[str]
        self._closed_event = threading.Event()
        #: Held by the one thread reading the socket (see the module's docstring).
        self._read_role = threading.Lock()
        #: Set to have the reader thread take the read role now (a caller waits, or closing).
        self._reader_needed = threading.Event()
        #: Requests made so far: the reader thread stays aside while this moves.
        self._calls_started = 0
        #: Whether callers may read their own answers (not over TLS, see the module's docstring).
        self._callers_read = ssl_context is None
        #: Set by the reader for every message; the liveness watch clears it each tick.
        self._heard = True
        #: Turns a received token into a proxy; set by the Manager (default: the token itself).
        self.make_proxy = None  # type: Optional[Callable[[dict], Any]]

        self._sock = open_socket(address, timeout=connect_timeout, ssl_context=ssl_context)
        try:
            try:
                client_handshake(self._sock, bytes(authkey))
            except socket.timeout:
                raise HandshakeError("the server did not complete the handshake within %s s" % connect_timeout) from None
            # From here on the holder of the read role reads; recv blocks without a timeout.
            self._sock.settimeout(None)
            self._reader = FrameReader(self._sock, max_body)
            self._thread = threading.Thread(target=self._read_loop, name="syncmanager-reader", daemon=True)
            self._thread.start()
            asked = dict(capabilities) if capabilities is not None else {"cancellation": True}  # type: Dict[str, Any]
            if resume_within is not None:
                asked["resume"] = {"withinMs": resume_within * 1000}
            params = {
                "protocolVersion": protocol_version,
                "clientInfo": {"name": client_name, **({"version": client_version} if client_version else {})},
                "processId": os.getpid(),
                "capabilities": asked,
            }
            if liveness_timeout:
                params["capabilities"]["ping"] = True
            result = None
            if resume_from is not None and resume_from.resume_token is not None and resume_within is not None:
                resuming = dict(params, capabilities=dict(asked, resume={"withinMs": resume_within * 1000, "token": resume_from.resume_token, "answersSeen": resume_from.answers_seen}))
                self._early = {}
                try:
                    result = self.request("initialize", resuming, timeout=connect_timeout)
                except SessionNotResumableError as error:
                    if error.rpc_error.data.get("keptBy") is not None:
                        # Another manager of the group keeps the session still (SPEC 20.4.1): try again later, never anew yet.
                        raise ConnectionRefusedError("the manager at %s cannot resume the session yet: %s" % (self.address, error)) from error
                    # The session is gone (its window passed, the manager restarted): a new one,
                    # whose answers are counted from 0 as the manager numbers them; the old count
                    # would be more than it ever sent, and it would refuse to resume the new one.
                    self.resume_refused = str(error)
                    self.answers_seen = self._answers_reported = 0
                    self._early = None
            if result is None:
                result = self.request("initialize", params, timeout=connect_timeout)
        except BaseException:
            self._shutdown_socket(ConnectionClosedError("the connection failed while it was being set up"))
            raise
        #: The version both sides speak now (SPEC 7.1), ``"1.2"`` with a 1.2 server.
        self.protocol_version = result.get("protocolVersion")  # type: str
        #: What the server grants on this session (SPEC 7.3).
        self.capabilities = dict(result.get("capabilities") or {})  # type: Dict[str, bool]
        #: ``{"name": "syncmanager", "version": ...}``
        self.server_info = dict(result.get("serverInfo") or {})  # type: Dict[str, Any]
        #: This session's id, as inspection tools show it.
        self.session_id = result.get("sessionId")  # type: str
        if liveness_timeout:
            # Ping often enough for the server's own timeout too, when it granted ping.
            server_ms = result.get("livenessTimeoutMs") if self.capabilities.get("ping") else None
            timeout = min(liveness_timeout, server_ms / 1000.0) if isinstance(server_ms, (int, float)) and server_ms > 0 else liveness_timeout
            threading.Thread(target=self._watch_liveness, args=(timeout,), name="syncmanager-liveness", daemon=True).start()
        self.resume_token = result.get("resumeToken")
        self.resumed = result.get("resumed") is True
        self._reports_answers = not self.resumed
        #: When another manager of the group took the session over (SPEC 20.4.1): the ids of the
        #: requests whose answers were lost with the old manager, or True for all of them.
        lost = result.get("answersLost") if self.resumed else None
        self.answers_lost = True if lost is True else list(lost) if isinstance(lost, list) else []

    # -----------------------------------------------------------------------------------------
    # Sending

    def _sendall(self, data: bytes, request: Optional[_Pending] = None) -> None:
        """Sends ``data`` whole; ``request.sent`` becomes True once it has gone out, even when a
        Ctrl-C interrupts the caller right after the last byte."""
        # The byte counts are appended by C code (list.extend over map), with no Python step
        # between a send returning and its count being kept, where a Ctrl-C could lose it; and
        # socket.sendall would raise KeyboardInterrupt even after its last byte had gone out.
        counts = []  # type: List[int]
        try:
            counts.extend(map(self._sock.send, (data,)))
            if counts[0] < len(data):
                view = memoryview(data)
                while sum(counts) < len(data):
                    counts.extend(map(self._sock.send, (view[sum(counts):],)))
        except OSError:
            raise
        except BaseException:
            if sum(counts) == len(data):
                # The frame is whole: the interrupt is the caller's, the connection is fine.
                if request is not None:
                    request.sent = True
                raise
            # Interrupted part-way: the server may hold half a frame, and no later message could
            # be read right. Only a new connection can go on: a loss, so that the client reconnects
            # (and resumes a resumable session, whose other calls go on) as after a cut. The
            # interrupted request is not kept for that (its caller gave up on it): never sent whole.
            if request is not None:
                request.carried = False
            self._shutdown_socket(ConnectionLostError("the connection was closed: a message was interrupted while being sent"))
            raise
        if request is not None:
            request.sent = True

    def _send_message(self, message: Dict[str, Any]) -> None:
        """Sends one message."""
        self._send_frame(frame(encode_json(message)))

    def _send_frame(self, data: bytes, request: Optional[_Pending] = None) -> None:
        """Sends one framed message; ``request.sent`` becomes True once it has gone out whole."""
        if self._closed:
            raise self._closed_error()
        try:
            with self._write_lock:
                self._sendall(data, request)
                if self._releases:
                    self._drain_releases_locked()
            # A release queued after the drain above but before the lock was free is ours to send.
            if self._releases:
                self._flush_releases()
        except OSError as error:
            self._shutdown_socket(ConnectionLostError("the connection failed while sending: %s" % error))
            raise self._closed_error() from error

    def _drain_releases_locked(self) -> None:
        while self._releases:
            object_id = self._releases.popleft()
            # The decref's answer is ignored by id: nobody waits for it (see release()).
            message = {"jsonrpc": "2.0", "id": next(self._ids), "method": "object/decref", "params": {"id": object_id}}
            self._sendall(frame(encode_json(message)))

    def _flush_releases(self) -> None:
        if not self._write_lock.acquire(blocking=False):
            return  # the holder drains the queue before it lets go (see _send_message)
        try:
            self._drain_releases_locked()
        except OSError:
            pass  # the connection is going: the server releases everything the session held
        finally:
            self._write_lock.release()

    def release(self, object_id: str) -> None:
        """Drops one reference (``object/decref``) without waiting; safe from any thread and
        from a finalizer. Nothing happens once the connection is closed: closing released all
        (unless another connection resumed the session, or may resume it: the release goes
        there)."""
        if self._closed:
            with self._pending_lock:  # one with adopt(): it sets _successor and takes what waits here
                successor = self._successor
                if successor is None and self._orphans is not None:
                    # Lost, its session maybe resumed later: the release waits for the
                    # connection that resumes it (adopt()), or ends with the session.
                    self._releases.append(object_id)
                    return
            if successor is not None:
                successor.release(object_id)
            return
        self._releases.append(object_id)
        self._flush_releases()

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        """Sends a notification (no answer)."""
        message = {"jsonrpc": "2.0", "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        self._send_message(message)

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Any = _DEFAULT, *, settle_interrupted: bool = False, carried: bool = True) -> Any:
        """Sends a request and waits for its result, raising the mapped exception for an error.

        ``timeout`` (seconds, or None for no limit) overrides the connection's
        ``request_timeout``. When it expires the request is cancelled (SPEC 10): a result that
        still arrives is returned, a confirmed cancellation raises :class:`RequestTimeoutError`.
        Values in ``params`` must already be encoded; the result is returned as JSON.

        On Ctrl-C (``KeyboardInterrupt``) the call is withdrawn and a result that beats the
        withdrawal goes to ``late_results``. With ``settle_interrupted``, the interrupt waits
        up to ``cancel_grace`` seconds for the server's last word first, and carries it as
        ``interrupt.syncmanager_response`` (the response, or None if none came).

        Without ``carried``, a loss of a resumable connection fails the request instead of
        keeping it for the connection that resumes the session: for a request of the opening of
        a connection, which that resumption would wait for.
        """
        return self.request_text(method, params, request_tail(method, params), timeout, settle_interrupted, carried)

    def request_text(self, method: str, params: Any, after_id: str, timeout: Any = _DEFAULT, settle_interrupted: bool = False, carried: bool = True) -> Any:
        """:meth:`request` with the request's text given: everything after its id, from
        ``,"method":`` to the closing brace, as :func:`~.transport.request_tail` writes it for
        ``method`` and ``params`` (which are kept for late results and error messages). For the
        calls a proxy makes over and over, whose text it keeps."""
        if timeout is _DEFAULT:
            timeout = self.request_timeout
        request_id = next(self._ids)
        body = ('{"jsonrpc":"2.0","id":%d%s' % (request_id, after_id)).encode("utf-8")
        frame = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        pending = _Pending(method, params, frame)
        if not carried:
            pending.carried = False
        # Registered without the lock (one dict store is atomic), then the look at _closed in
        # _send_frame: _shutdown_socket sets _closed before it takes the requests, so a request it
        # missed sees _closed there (and _carry() keeps it, see there), and one it took is failed,
        # or kept for a resumption, by it.
        self._pending[request_id] = pending
        self._calls_started += 1
        try:
            try:
                self._send_frame(frame, pending)
            except ConnectionLostError:
                # Lost before or while it was sent: on a resumable session it waits for the
                # connection that resumes it, as a call waiting for its answer does.
                if not self._carry(request_id, pending):
                    raise
            if not self._await(pending, timeout):
                self._cancel(request_id, pending, "did not complete within %s s" % timeout)
        except BaseException as error:
            if not pending.sent and (self._forget(request_id) or self._successor is None):
                # Not sent whole, and no connection resuming the session has it: nothing can
                # answer it, and nothing will send it again.
                pass
            elif isinstance(error, KeyboardInterrupt):
                # The caller gave up on a call the server has: withdraw it, and keep a result
                # that beat the withdrawal (SPEC 10: a completed call is never undone).
                if self._abandon(request_id, pending):
                    self._keep_late(pending)
                elif settle_interrupted:
                    self._await(pending, self.cancel_grace)
                error.syncmanager_response = pending.response  # type: ignore[attr-defined]
            raise
        response = pending.response
        if response is not None and "error" not in response:
            return response.get("result")
        return self._outcome(pending)

    def _forget(self, request_id: int) -> bool:
        """Drops a request that was not sent whole, from the waiting ones and from those kept for
        a resumption; returns whether it was still there (else a connection that resumed the
        session may have taken it over, or a loss failed it)."""
        with self._pending_lock:
            found = self._pending.pop(request_id, None) is not None
            if self._orphans is not None:
                found = self._orphans.pop(request_id, None) is not None or found
        return found

    def _carry(self, request_id: int, pending: _Pending) -> bool:
        """Keeps a request whose send found this connection lost for the connection that resumes
        the session, as the loss kept those waiting for their answers (SPEC 20.4: sent again with
        its id, it is carried out once, whether or not any of it reached the manager); returns
        False when nothing will send it again (the session is not resumable, not resumed, or the
        request is not ``carried``)."""
        with self._pending_lock:
            # Still registered here: made after the loss took the waiting requests.
            late = self._pending.pop(request_id, None) is not None
            if not (pending.carried and self.resume_token is not None and self.lost):
                return False
            if not late:
                return True  # the loss kept it with the others (or failed it since): its outcome comes to it
            if self._orphans is not None:
                self._orphans[request_id] = pending
                return True
            successor = self._successor
        if successor is None:
            return False  # the session was not resumed: the requests kept were failed
        # Taken over already: the connection that resumed the session sends it now.
        successor._pending[request_id] = pending
        try:
            successor._send_frame(pending.frame, pending)  # type: ignore[arg-type]
        except ConnectionClosedError:
            return successor._carry(request_id, pending)
        successor._reader_needed.set()  # its caller waits on this connection: read for it
        return True

    def _outcome(self, pending: _Pending) -> Any:
        response = pending.response
        if response is None:
            if pending.lost is not None:
                raise ConnectionLostError(pending.lost)
            raise self._closed_error()
        if "error" in response:
            raise error_from_response(response["error"], self.decode)
        return response.get("result")

    def _cancel(self, request_id: int, pending: _Pending, why: str) -> None:
        """Withdraws a request whose time ran out; returns when ``pending`` has its answer,
        or raises :class:`RequestTimeoutError`."""
        self._withdraw(request_id, pending)
        if self._await(pending, self.cancel_grace):
            response = pending.response
            if response is not None and isinstance(response.get("error"), dict) and response["error"].get("code") == REQUEST_CANCELLED:
                info = ErrorInfo(REQUEST_CANCELLED, response["error"].get("message", ""), response["error"].get("data"))
                raise errors.RequestTimeoutError("%s %s and was cancelled: it had no effect" % (pending.method, why), info)
            return  # it completed (or failed) before the cancel: the normal outcome stands
        if self._abandon(request_id, pending, cancel=False):
            return  # it was answered just now after all: the normal outcome stands
        raise errors.RequestTimeoutError(
            "%s %s; the server did not confirm the cancellation within %s s (a late result goes to late_results)"
            % (pending.method, why, self.cancel_grace)
        )

    def _abandon(self, request_id: int, pending: _Pending, cancel: bool = True) -> bool:
        """Marks a request as given up, so that its answer goes to ``late_results`` when it
        comes; returns True when the answer is already here (the caller decides what to do
        with it). With ``cancel``, also withdraws the call."""
        with self._pending_lock:
            answered = pending._set
            pending.abandoned = not answered
        if not answered and cancel:
            self._withdraw(request_id, pending)
        return answered

    def _withdraw(self, request_id: int, pending: _Pending) -> None:
        """Sends ``$/cancelRequest`` on the connection that holds the request now: this one, or
        the one that resumed the session and took it over (SPEC 20.4); sent on the closed one,
        the cancel would be lost and the call would wait on, to take an item nobody gets. One
        that resumes the session later asks again once it has sent the request again (adopt())."""
        pending.withdrawn = True  # first, then the look at _successor: see adopt()
        holder = self
        while holder._closed and holder._successor is not None:
            holder = holder._successor
        try:
            holder.notify("$/cancelRequest", {"id": request_id})
        except ConnectionClosedError:
            pass

    def _keep_late(self, pending: _Pending) -> None:
        response = pending.response
        if response is None or "result" not in response:
            return  # an error or a closed connection: nothing was taken
        late = LateResult(pending.method, pending.params, response["result"])
        self.late_results.append(late)
        log().warning("a result arrived after its caller gave up; kept in late_results: %r", late)
        if self.on_late_result is not None:
            try:
                self.on_late_result(late)
            except Exception:  # a handler's bug must not break the reading thread
                log().exception("on_late_result raised")

    # -----------------------------------------------------------------------------------------
    # Liveness (SPEC 20.1)

    def _watch_liveness(self, timeout: float) -> None:
        """Cuts time into ticks of a quarter of ``timeout``, sending a ``$/ping`` each tick;
        three ticks in a row with nothing received mean the server is gone (so it is declared
        gone at most ``timeout`` after the last message it sent)."""
        silent_ticks = 0
        while not self._closed_event.wait(timeout / 4.0):
            if self._heard:
                self._heard = False
                silent_ticks = 0
            else:
                silent_ticks += 1
                if silent_ticks >= 3:
                    self._shutdown_socket(ConnectionLostError(
                        "the manager at %s did not answer for %s s (liveness timeout): it may be stopped, overloaded or unreachable" % (self._describe_address(), _seconds(timeout))))
                    return
            self._ping()

    def _ping(self) -> None:
        # Nobody waits for the answer (it only counts as something heard). A writer stuck on a
        # full socket holds the write lock: then skip this tick's ping rather than block behind
        # it, so the silence is still measured.
        if not self._write_lock.acquire(blocking=False):
            return
        try:
            self._sendall(frame(encode_json({"jsonrpc": "2.0", "id": next(self._ids), "method": "$/ping"})))
        except OSError:
            pass  # the reader sees the failure and closes the connection
        finally:
            self._write_lock.release()

    def _describe_address(self) -> str:
        address = self.address
        if isinstance(address, (tuple, list)) and len(address) == 2:
            return "%s:%s" % (address[0], address[1])
        return str(address)

    # -----------------------------------------------------------------------------------------
    # Receiving

    def _await(self, pending: _Pending, timeout: Optional[float]) -> bool:
        """Waits up to ``timeout`` seconds (None: no limit) for ``pending``'s answer, reading
        it (and any other message) in this thread when the read role is free; returns whether
        the answer (or the connection's end) came."""
        if self._callers_read and not pending._set and self._read_role.acquire(False):
            deadline = None if timeout is None else time.monotonic() + timeout
            try:
                if not pending._set and not self._closed and not self._read_until(pending, deadline) and not self._closed:
                    return pending._set  # the time ran out (a loss goes on below: not a timeout)
            finally:
                self._release_read_role()
            if pending._set:
                return True
            # Closed: a resumable session keeps the request for the connection that resumes it.
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        return pending.wait(timeout)

    def _release_read_role(self) -> None:
        self._read_role.release()
        # Released first, then looked: a caller that registered its request before this look
        # is seen here, and one that registered after finds the role free (request()).
        if self._pending:
            self._reader_needed.set()

    def _read_one(self, deadline: Optional[float] = None) -> bool:
        """Reads and handles one message, holding the read role; False when ``deadline``
        (time.monotonic()) passed first or the connection ended (closing it then)."""
        return self._read_until(None, deadline)

    def _read_until(self, pending: Optional[_Pending], deadline: Optional[float] = None) -> bool:
        """Reads and handles messages, holding the read role, until ``pending`` has its answer
        or the connection closed (one message when ``pending`` is None); False when ``deadline``
        (time.monotonic()) passed first or the connection ended (closing it then). One loop
        here rather than a call per message: a caller alone reads its answer in it."""
        reader = self._reader
        dispatch = self._dispatch
        while True:
            try:
                body = reader.pop_body() if reader._buffer else None  # (a call saved: most often empty)
                while body is None:
                    if deadline is not None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or not select.select([self._sock], [], [], remaining)[0]:
                            return False
                    try:
                        body = reader.receive_body()
                    except EOFError:
                        inside = " inside a message" if reader.buffered else ""
                        self._shutdown_socket(ConnectionLostError("the server closed the connection%s" % inside))
                        return False
                self._heard = True
                try:
                    message = decode_json(body)
                except ValueError as error:
                    raise FramingError("the server sent a body that is not JSON: %s" % error) from None
            except (OSError, ValueError) as error:
                # ValueError: select() on a socket already closed by another thread.
                if not self._closed:
                    self._shutdown_socket(self._framing_loss(error) if isinstance(error, FramingError) else ConnectionLostError("the connection failed: %s" % error))
                return False
            dispatch(message)
            if pending is None or pending._set or self._closed:
                return True

    def _framing_loss(self, error: FramingError) -> ConnectionLostError:
        """What a connection ends with when the manager sent what this client cannot read (bytes
        that break the framing of SPEC 5, or a body that is not JSON, whose answer could never
        reach its call): a loss, since a new connection starts clean (the client reconnects, and
        a resumed session has the manager send its answers again). ``__cause__`` tells it from
        other losses: the Manager stops reconnecting to a manager that does it again and again."""
        loss = ConnectionLostError("the manager at %s sent what this client cannot read (%s): the connection was closed" % (self._describe_address(), error))
        loss.__cause__ = error
        return loss

    def _read_loop(self) -> None:
        try:
            if self._callers_read:
                self._read_when_needed()
            else:
                while not self._closed:
                    self._read_one()
        except BaseException as error:  # pragma: no cover - a bug; fail every waiter instead of hanging
            log().exception("the reader thread failed")
            self._shutdown_socket(ConnectionClosedError("the reader thread failed: %r" % error))

    def _read_when_needed(self) -> None:
        """The reader thread's part when callers read their own answers: it steps aside while
        calls keep coming, reads when a waiting caller needs it or when the connection is idle,
        and lets go of the role once a new call can read for itself."""
        while not self._closed:
            started = self._calls_started
            needed = self._reader_needed.wait(CALLERS_IDLE_AFTER)
            self._reader_needed.clear()
            if self._closed:
                return
            if not needed and self._calls_started != started:
                continue  # callers are busy and read for themselves
            with self._read_role:
                started = self._calls_started
                while not self._closed:
                    if not self._read_one():
                        break
                    if self._calls_started != started and not self._pending:
                        break  # a caller is about: it reads its own answers from now on
            if self._pending and not self._closed:
                self._reader_needed.set()  # someone may have started waiting as we let go

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            log().warning("ignored a message that is not an object: %r", message)
            return
        if "method" in message:
            if "id" in message:
                # A server request we do not know: answer MethodNotFound (SPEC 6).
                try:
                    self._send_message({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "the client has no method %r" % message.get("method"), "data": {"type": "MethodNotFound", "message": ""}}})
                except ConnectionClosedError:
                    pass
                return
            handler = self.on_notification
            if handler is not None:
                try:
                    handler(message["method"], message.get("params"))
                except Exception:
                    log().exception("on_notification raised")
            return  # unknown notifications are ignored (SPEC 6)
        request_id = message.get("id")
        with self._pending_lock:
            # Our ids are ints (the decoder makes every whole JSON number within range an exact int).
            pending = self._pending.pop(request_id, None) if type(request_id) is int else None
            if pending is not None:
                pending.response = message
                pending.set()
                abandoned = pending.abandoned
            elif self._early is not None and type(request_id) is int:
                self._early[request_id] = message
        # Every answer counts but initialize's (SPEC 20.4).
        if request_id is not None and (pending is None or pending.method != "initialize"):
            self.answers_seen += 1
            if self._reports_answers and self.resume_token is not None and self.answers_seen - self._answers_reported >= ANSWERS_SEEN_EVERY:
                self._report_answers_seen()
        if pending is None:
            if request_id is None and isinstance(message.get("error"), dict):
                # id null: the server could not read something we sent (SPEC 5, 6).
                log().error("the server reported an error it could not tie to a request: %r", message["error"])
                if message["error"].get("code") in (ParseError.CODE, MessageTooLargeError.CODE):
                    self._stream_fault = str(message["error"].get("message"))
            return  # the answer to a release (object/decref), which nobody waits for
        if abandoned:
            self._keep_late(pending)

    def _report_answers_seen(self) -> None:
        """Tells the server how many answers arrived (``$/answersSeen``, SPEC 20.4), every
        :data:`ANSWERS_SEEN_EVERY` answers."""
        self._answers_reported = self.answers_seen
        try:
            self.notify("$/answersSeen", {"count": self.answers_seen})
        except ConnectionClosedError:
            pass

    # -----------------------------------------------------------------------------------------
    # Resumption (SPEC 20.4)

    def finish_opening(self) -> bool:
        """Handles what came in the read that completed the opening (bytes after its last
        answer), so that a connection that failed in it is seen failed now, before it takes a lost
        connection's requests over; returns whether it is still open. The reader thread, when it
        holds the read role, handles those bytes itself."""
        if self._read_role.acquire(False):
            try:
                while self._reader.buffered and not self._closed:
                    if not self._read_until(None, time.monotonic()):
                        break  # a message not whole yet: the next read completes it
            finally:
                self._release_read_role()
        return not self._closed

    def take_orphans(self) -> "Dict[int, _Pending]":
        """The requests left waiting when this resumable connection was lost; taken once."""
        with self._pending_lock:
            orphans = self._orphans or {}
            self._orphans = None
        return orphans

    def fail_orphans(self, why: Optional[str] = None) -> None:
        """The session was not resumed (or its answers were lost, ``why``): the requests left
        waiting fail with the loss."""
        for pending in self.take_orphans().values():
            pending.lost = why
            pending.set()  # response None: the waiter raises ConnectionLostError

    def adopt(self, lost: "Connection") -> None:
        """Goes on with the requests ``lost`` left waiting: each is sent again with its id, and
        the manager answers it once (from the answer it kept, or when the call completes). When
        another manager of the group took the session over, those whose answers went with the old
        manager (``answers_lost``) fail as on a lost connection instead, never sent twice."""
        with self._pending_lock:
            lost._successor = self  # first, then the looks at withdrawn: see _withdraw()
            released = list(lost._releases)
            lost._releases.clear()
        for object_id in released:
            self.release(object_id)  # given back while the session was detached
        why = "the manager this session was on is gone; %s took the session over, but the effect of this call is unknown (answersLost)" % (self.address,)
        if self.answers_lost is True:
            lost.fail_orphans(why)
            self._early = None
            self._report_answers_from_now()
            return
        orphans = lost.take_orphans()
        for request_id in self.answers_lost:
            pending = orphans.pop(request_id, None)
            if pending is not None:
                pending.lost = why
                pending.set()  # response None: the waiter raises ConnectionLostError
        with self._pending_lock:
            # Answered already on this connection, and counted: settled here, never sent again.
            early, self._early = self._early, None
            answered = [(i, orphans.pop(i)) for i in list(orphans) if early and i in early]
            for request_id, pending in answered:
                pending.response = early[request_id]  # type: ignore[index]
                pending.set()
            abandoned = [pending for _, pending in answered if pending.abandoned]
            closed = self._closed
            if not closed:
                self._pending.update(orphans)
            elif self._orphans is not None:
                # Lost too before it took them over: they go on to the connection that resumes
                # the session next, with the requests this one left waiting.
                self._orphans.update(orphans)
        for pending in abandoned:
            self._keep_late(pending)
        if closed and self._orphans is not None:
            return
        if closed:
            # Closed for good (not lost) before it took them over: none will be sent again.
            for pending in orphans.values():
                pending.lost = "the connection that resumed the session closed before this call could be sent again: its effect is unknown"
                pending.set()
            return
        for request_id in sorted(orphans):
            pending = orphans[request_id]
            if pending._set:
                continue
            try:
                self._send_frame(pending.frame)
                if pending.withdrawn:
                    # Its caller gave up while the session was detached: withdrawn here too.
                    self.notify("$/cancelRequest", {"id": request_id})
            except ConnectionClosedError:
                return  # lost again: kept as this connection's orphans
        self._report_answers_from_now()
        if orphans:
            self._reader_needed.set()  # their callers wait on the lost connection: read for them

    def _report_answers_from_now(self) -> None:
        """Reports answers from now on, the lost connection's requests sent again: only now. The
        reader thread may be counting the answers to those sent first meanwhile, and a report
        written between two of them, counting answers the manager sent before adopt(), must not
        reach the manager before every request whose answer it might forget (SPEC 20.4)."""
        self._reports_answers = True
        if self.answers_seen - self._answers_reported >= ANSWERS_SEEN_EVERY:
            self._report_answers_seen()

    # -----------------------------------------------------------------------------------------
    # Values

    def encode(self, value: Any) -> Any:
        """A Python value in its JSON form; proxies travel as ``$proxy`` (SPEC 11)."""
        return values.encode(value, self._token_of)

    def decode(self, value: Any) -> Any:
        """A received value in Python; each ``$proxy`` becomes a proxy that owns its reference."""
        return values.decode(value, self.make_proxy)

    def _token_of(self, value: Any) -> Optional[dict]:
        token = getattr(type(value), "_token_for_wire", None)
        if token is None:
            return None
        # A token names an object of its own server: on another, the same id is another object.
        # A connection that resumed the session of the proxy's stands for it.
        conn = getattr(value, "_conn", None)
        while conn is not None and conn is not self:
            conn = conn._successor
        if conn is not self:
            raise ValueError("a proxy of another connection cannot be sent here: its id means nothing to this manager")
        return token(value)

    # -----------------------------------------------------------------------------------------
    # Closing

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (by us, by the server, or by a failure)."""
        return self._closed

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Waits until the connection has closed; returns whether it has."""
        return self._closed_event.wait(timeout)

    def _closed_error(self) -> ConnectionClosedError:
        # A new instance per raise: one exception object raised in several threads would
        # collect their tracebacks into one.
        reason = self._close_reason
        # A lost connection stays a ConnectionLostError for every caller it fails.
        cls = type(reason) if isinstance(reason, ConnectionLostError) else ConnectionClosedError
        return cls(str(reason) if reason is not None else "the connection is closed")

    @property
    def lost(self) -> bool:
        """Whether the connection ended by a loss (the server, the network, or a send interrupted
        part-way, after which the stream cannot go on), not by :meth:`close`."""
        return self._closed and isinstance(self._close_reason, ConnectionLostError)

    def _shutdown_socket(self, reason: BaseException) -> None:
        if self._ending and isinstance(reason, ConnectionLostError):
            # The end of a session this client shut down (SPEC 7.2: the manager closes after its
            # answer, and the session is never detached): nothing to resume, no call to keep.
            reason = ConnectionClosedError(CLOSED_BY_CLIENT)
        if self._stream_fault is not None and type(reason) is ConnectionLostError:
            told = ConnectionLostError("%s after reporting: %s" % (reason, self._stream_fault))
            told.__cause__ = reason.__cause__  # a framing error stays one (see _framing_loss())
            reason = told
        with self._pending_lock:
            if self._closed:
                return
            self._closed = True
            self._close_reason = reason
            pending = list(self._pending.items())
            self._pending.clear()
            # A resumable session's requests wait for the connection that resumes it (SPEC 20.4).
            keep = self.resume_token is not None and isinstance(reason, ConnectionLostError)
            if keep:
                self._orphans = {i: p for i, p in pending if p.carried}
                pending = [(i, p) for i, p in pending if not p.carried]
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes whoever reads out of recv
        except OSError:
            pass
        self._sock.close()
        for _, p in pending:
            p.set()  # response None: each waiter raises a connection error (SPEC 6)
        self._closed_event.set()
        self._reader_needed.set()
        if keep and self.on_lost is not None:
            try:
                self.on_lost(reason)
            except Exception:  # a handler's bug must not kill the reader thread
                log().exception("on_lost raised")

    def shutdown(self, timeout: Optional[float] = 5.0) -> None:
        """Ends the session politely (``shutdown``, SPEC 7.2): the server releases every
        reference and withdraws every blocked call of the session, answers, and closes."""
        if self._closed:
            return
        self._ending = True
        try:
            self.request("shutdown", {}, timeout=timeout)
        except (ConnectionClosedError, errors.RequestTimeoutError):
            pass
        finally:
            # The server closes after its answer; wait for that briefly, then close anyway.
            self._closed_event.wait(1.0)
            self.close()

    def shutdown_server(self, timeout: Optional[float] = 10.0) -> None:
        """Stops the whole manager (``shutdown {server: true}``); it may refuse with
        ``PermissionError``."""
        self._ending = True
        try:
            self.request("shutdown", {"server": True}, timeout=timeout)
        except ConnectionClosedError:
            pass
        except BaseException:
            self._ending = False  # refused (PermissionError): the session goes on, a loss is one again
            raise
        self._closed_event.wait(1.0)
        self.close()

    def close(self) -> None:
        """Closes the socket at once. The server then releases the session's references and
        withdraws its blocked calls (SPEC 7.2), which fail here with ConnectionClosedError."""
        self._shutdown_socket(ConnectionClosedError(CLOSED_BY_CLIENT))
        thread = getattr(self, "_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def pending_count(self) -> int:
        """How many requests are waiting for their answer (for tests and diagnostics)."""
        with self._pending_lock:
            return len(self._pending)
