"""The bottom three layers of the protocol: the socket, the handshake and the framing.

SPEC sections 2 (addresses and transports), 3 (CPython's HMAC handshake, byte for byte) and
5 (``Content-Length`` framing around UTF-8 JSON bodies). Nothing here knows JSON-RPC: the
connection (``connection.py``) and the conformance runner (``conformance.py``) both build on it.
"""

from __future__ import annotations  # annotations left unevaluated: a faster import

import json
import os
import socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (about 3 ms where site has not)
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple, Union
    import ssl  # the caller makes the SSLContext: importing ssl here would slow every client down

from . import _later

try:  # hmac.compare_digest, without importing hmac (see hmac_digest)
    from _operator import _compare_digest
except ImportError:  # pragma: no cover - CPython has it
    from hmac import compare_digest as _compare_digest


__all__ = [
    "Address",
    "AuthenticationError",
    "FramingError",
    "FrameReader",
    "HandshakeError",
    "answer_server_challenge",
    "challenge_server",
    "client_handshake",
    "decode_json",
    "encode_json",
    "frame",
    "open_socket",
    "parse_address",
]

class HandshakeError(ConnectionError):
    """The handshake broke off: a malformed frame or challenge, or the server closed (SPEC 3.5)."""


def _make_authentication_error() -> type:
    try:  # Python's own class, so that `except multiprocessing.AuthenticationError` catches ours.
        from multiprocessing import AuthenticationError as _MPAuthenticationError
    except ImportError:  # pragma: no cover - multiprocessing is missing on some minimal builds
        _MPAuthenticationError = Exception  # type: ignore[misc,assignment]

    class AuthenticationError(_MPAuthenticationError, HandshakeError):  # type: ignore[misc]
        """The keys differ: the server answered ``#FAILURE#``, or its answer to our challenge was wrong.

        A subclass of ``multiprocessing.AuthenticationError`` (SPEC 12.2) and of ``ConnectionError``.
        """

    AuthenticationError.__qualname__ = "AuthenticationError"
    return AuthenticationError


# Made when first named (see _later): importing multiprocessing costs more than a successful handshake.
_MAKERS = {"AuthenticationError": _make_authentication_error, "Address": lambda: _make_address_type()}


def __getattr__(name: str) -> Any:
    return _later.made(globals(), _MAKERS, name)


def __dir__() -> List[str]:
    return _later.names(globals(), _MAKERS)


def _authentication_error(message: str, ended: bool = False) -> Exception:
    error = __getattr__("AuthenticationError")(message)
    #: Whether the connection merely ended in the handshake (see key_refused()).
    error.ended_in_handshake = ended
    return error  # type: ignore[no-any-return]


def key_refused(error: BaseException) -> bool:
    """Whether ``error`` is the manager's verdict on the key (it said the key differs), not a
    connection that ended in the handshake: that one counts as a refused key (SPEC 3.5), but a
    client that authenticated before with the same key meets it when the manager goes down, sheds
    handshakes, or is behind a port forward with nothing behind it, and may try again."""
    return isinstance(error, __getattr__("AuthenticationError")) and not getattr(error, "ended_in_handshake", False)


class FramingError(ConnectionError):
    """The byte stream broke the framing rules of SPEC 5; it cannot be trusted any more."""


# ---------------------------------------------------------------------------------------------
# Addresses (SPEC 2)

#: A parsed address: ``("tcp", (host, port))`` or ``("unix", path)`` (the type; made on first use, see _MAKERS).
if TYPE_CHECKING:
    Address = Tuple[str, Union[Tuple[str, int], str]]


def _make_address_type() -> object:
    from typing import Tuple, Union

    return Tuple[str, Union[Tuple[str, int], str]]


def parse_address(address: Union[str, Tuple[str, int]]) -> Address:
    """Reads an address the way SPEC 2 writes it.

    ``"host:port"`` and ``"[v6]:port"`` are TCP; a string containing ``/`` or ``\\`` is a Unix
    socket path. A ``(host, port)`` tuple, Python's own form, is accepted too.
    """
    if isinstance(address, tuple):
        host, port = address
        return ("tcp", (host or "127.0.0.1", int(port)))
    if not isinstance(address, str) or not address:
        raise ValueError("an address is a non-empty string 'host:port' or a socket path, not %r" % (address,))
    if "/" in address or "\\" in address:
        if address.startswith("\\\\.\\pipe\\"):
            raise ValueError("Windows named pipes are not supported by this client: %r" % address)
        return ("unix", address)
    if address.startswith("["):
        close = address.find("]")
        if close < 0 or address[close + 1:close + 2] != ":":
            raise ValueError("an IPv6 address is written '[host]:port', not %r" % address)
        host, port_text = address[1:close], address[close + 2:]
    else:
        host, sep, port_text = address.rpartition(":")
        if not sep:
            raise ValueError("an address is 'host:port' or a socket path, not %r" % address)
        if ":" in host:
            raise ValueError("an IPv6 host must be written in brackets: '[%s]:%s'" % (host, port_text))
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError("the port of %r must be a decimal number from 0 to 65535" % address)
    # An empty host means "every interface" to a server; a client connects to this machine.
    return ("tcp", (host or "127.0.0.1", int(port_text)))


def open_socket(address: Union[str, Tuple[str, int]], timeout: Optional[float] = 10.0, ssl_context: "Optional[ssl.SSLContext]" = None) -> socket.socket:
    """Opens the transport for ``address``, with ``TCP_NODELAY`` set on TCP (SPEC 2), inside TLS
    when ``ssl_context`` is given (SPEC 2.1: the handshake then runs inside TLS, unchanged)."""
    kind, target = parse_address(address)
    shown = address if isinstance(address, str) else "%s:%s" % target
    try:
        if kind == "unix":
            if ssl_context is not None:
                raise ValueError("TLS needs a TCP address, not the socket path %r" % (target,))
            if not hasattr(socket, "AF_UNIX"):
                raise OSError("Unix domain sockets are not available on this platform")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(target)
            except BaseException:
                sock.close()
                raise
            return sock
        host, port = target  # type: ignore[misc]
        # getaddrinfo() encodes a str host with the idna codec, whose first import (stringprep,
        # unicodedata) costs a cold client more than connecting does; ASCII needs no encoding.
        sock = socket.create_connection((host.encode("ascii") if host.isascii() else host, port), timeout=timeout)
    except OSError as error:
        raise _naming_address(error, shown) from error
    # Many small messages, each waited for: Nagle's algorithm would only add latency.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ssl_context is None:
        return sock
    try:
        # The certificate is checked against the host name, unless the context says otherwise.
        return ssl_context.wrap_socket(sock, server_hostname=host if ssl_context.check_hostname else None)
    except BaseException:
        sock.close()
        raise


def _naming_address(error: OSError, address: str) -> OSError:
    """The same kind of error (ConnectionRefusedError, TimeoutError...), its message naming the address."""
    reason = error.strerror or str(error) or type(error).__name__
    message = "cannot connect to the manager at %s: %s" % (address, reason)
    return type(error)(error.errno, message) if error.errno is not None else type(error)(message)


# ---------------------------------------------------------------------------------------------
# The handshake (SPEC 3)

CHALLENGE = b"#CHALLENGE#"
WELCOME = b"#WELCOME#"
FAILURE = b"#FAILURE#"
MAX_HANDSHAKE_FRAME = 256
#: The digests SPEC 3.3 allows, by their name inside the braces.
DIGESTS = ("md5", "sha256", "sha384", "sha3_256", "sha3_384")


# HMAC (RFC 2104) over CPython's built-in hash modules: ``hmac`` would load OpenSSL's
# ``_hashlib``, which costs a cold client more than all of its own modules. The bytes are
# ``hmac.new(key, message, digest).digest()``'s; where a built-in module is missing (a build
# without it), ``hmac`` itself computes them.
_BUILTIN_HASHES = {
    "md5": (("_md5",), "md5"),
    "sha256": (("_sha2", "_sha256"), "sha256"),  # _sha2 since Python 3.12
    "sha384": (("_sha2", "_sha512"), "sha384"),
    "sha3_256": (("_sha3",), "sha3_256"),
    "sha3_384": (("_sha3",), "sha3_384"),
}
_PAD_INNER = bytes(x ^ 0x36 for x in range(256))
_PAD_OUTER = bytes(x ^ 0x5C for x in range(256))


def _builtin_hash(digest: str) -> Any:
    """The constructor of ``digest`` in CPython's built-in hash modules, or None."""
    modules, name = _BUILTIN_HASHES[digest]
    for module in modules:
        try:
            return getattr(__import__(module), name)
        except (ImportError, AttributeError):
            continue
    return None


def hmac_digest(authkey: bytes, message: bytes, digest: str) -> bytes:
    """``hmac.new(authkey, message, digest).digest()``, for a digest of SPEC 3.3."""
    new = _builtin_hash(digest)
    if new is None:
        import hmac

        return hmac.new(authkey, message, digest).digest()
    inner, outer = new(), new()
    block = inner.block_size
    key = new(authkey).digest() if len(authkey) > block else authkey
    key = key.ljust(block, b"\0")
    inner.update(key.translate(_PAD_INNER))
    inner.update(message)
    outer.update(key.translate(_PAD_OUTER))
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            # SPEC 3.5 (since 1.3): end of stream in the handshake is a failed authentication; a
            # server closes without a verdict after a frame it could not read or at its time limit.
            raise _authentication_error("the server closed the connection during the handshake: the authkey is wrong, "
                                      "or the server refused the connection", ended=True)
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send_handshake_frame(sock: socket.socket, payload: bytes) -> None:
    """A handshake frame: a signed 32-bit big-endian length, then the payload (SPEC 3.1)."""
    sock.sendall(len(payload).to_bytes(4, "big", signed=True) + payload)


def recv_handshake_frame(sock: socket.socket) -> bytes:
    """Reads one handshake frame, refusing negative lengths and lengths over 256 (SPEC 3.1)."""
    length = int.from_bytes(_recv_exactly(sock, 4), "big", signed=True)
    if length < 0 or length > MAX_HANDSHAKE_FRAME:
        raise HandshakeError("a handshake frame announced %d bytes (at most %d)" % (length, MAX_HANDSHAKE_FRAME))
    return _recv_exactly(sock, length)


def _digest_prefix(message: bytes) -> Optional[str]:
    """The digest a ``{name}`` prefix names, or None when there is no valid prefix."""
    if not message.startswith(b"{"):
        return None
    end = message.find(b"}", 1, 11)  # the '}' at byte offset 10 at the latest (SPEC 3.4)
    if end < 0:
        return None
    name = message[1:end].decode("ascii", "replace")
    return name if name in DIGESTS else None


def answer_challenge_payload(authkey: bytes, challenge: bytes) -> bytes:
    """Our response to the server's challenge frame (SPEC 3.3): modern or legacy."""
    if not challenge.startswith(CHALLENGE):
        raise HandshakeError("expected a #CHALLENGE# frame, got %r" % challenge[:16])
    message = challenge[len(CHALLENGE):]
    if len(message) < 20:
        raise HandshakeError("the server's challenge is too short (%d bytes)" % len(message))
    if len(message) == 20:  # legacy: Python <= 3.11's 20 random bytes, answered with a bare HMAC-MD5
        return hmac_digest(authkey, message, "md5")
    digest = _digest_prefix(message)
    if digest is None:
        raise HandshakeError("the server's challenge names no allowed digest")
    # The MAC covers the whole message, '{sha256}' prefix included (SPEC 3.2).
    return ("{%s}" % digest).encode("ascii") + hmac_digest(authkey, message, digest)


def verify_response(authkey: bytes, message: bytes, response: bytes) -> bool:
    """Checks the server's answer to the challenge whose message we sent (SPEC 3.4)."""
    if len(response) in (16, 20):
        digest, answer = "md5", response
    else:
        digest = _digest_prefix(response)
        # A prefixed answer must name the digest our challenge named: anything else is a
        # downgrade (SPEC 3.4, since 1.3).
        if digest is None or digest != _digest_prefix(message):
            return False
        answer = response[len(digest) + 2:]
    return _compare_digest(hmac_digest(authkey, message, digest), answer)


def answer_server_challenge(sock: socket.socket, authkey: bytes) -> bytes:
    """Steps 1 to 3 of SPEC 3.2: read the server's challenge, answer it, read the verdict.

    Returns the verdict's payload (``#WELCOME#`` or ``#FAILURE#``); raises
    :class:`HandshakeError` for a malformed challenge or any other verdict.
    """
    send_handshake_frame(sock, answer_challenge_payload(authkey, recv_handshake_frame(sock)))
    verdict = recv_handshake_frame(sock)
    if verdict not in (WELCOME, FAILURE):
        raise HandshakeError("expected #WELCOME# or #FAILURE#, got %r" % verdict[:16])
    return verdict


def challenge_server(sock: socket.socket, authkey: bytes) -> None:
    """Steps 4 to 6 of SPEC 3.2: challenge the server and check its answer; we trust nothing
    until it checks out. Sends ``#WELCOME#``, or ``#FAILURE#`` and raises
    :class:`AuthenticationError`."""
    message = b"{sha256}" + os.urandom(40)
    send_handshake_frame(sock, CHALLENGE + message)
    response = recv_handshake_frame(sock)
    if not verify_response(authkey, message, response):
        try:
            send_handshake_frame(sock, FAILURE)
        except OSError:
            pass
        raise _authentication_error("the server's answer to our challenge is wrong: it does not hold the authkey")
    send_handshake_frame(sock, WELCOME)


def client_handshake(sock: socket.socket, authkey: bytes) -> None:
    """Runs the client's side of SPEC 3.2: answer the server's challenge, then challenge it.

    Raises :class:`AuthenticationError` when the keys differ and :class:`HandshakeError` for
    anything else that breaks the exchange. The caller sets the socket's timeout.
    """
    if answer_server_challenge(sock, authkey) == FAILURE:
        raise _authentication_error("the server refused the authkey (#FAILURE#)")
    challenge_server(sock, authkey)


# ---------------------------------------------------------------------------------------------
# Framing (SPEC 5)

MAX_HEADER_BLOCK = 8192
#: Most decimal digits of a whole number that a double always holds exactly (10**15 - 1 < 2**53):
#: the most a byte count in a header has, and a bare integer read without a look at its range.
_EXACT_DIGITS = 15
#: The usual header block, ``Content-Length: N``: where its digits start, and the furthest its
#: ``\r\n\r\n`` may start.
_QUICK_LENGTH = b"Content-Length: "
_QUICK_DIGITS_AT = len(_QUICK_LENGTH)
_QUICK_END_MAX = _QUICK_DIGITS_AT + _EXACT_DIGITS


def _usual_length(data: bytes, end: int) -> int:
    """The body's length when the header block of ``data``, ending at ``end``, is the usual one
    (``Content-Length:`` and 1 to _EXACT_DIGITS digits, ours included: every check of
    ``_content_length`` holds), else -1."""
    if _QUICK_DIGITS_AT < end <= _QUICK_END_MAX and data.startswith(_QUICK_LENGTH):
        digits = data[_QUICK_DIGITS_AT:end]
        if digits.isdigit():
            return int(digits)
    return -1


def _is_byte_count(text: str) -> bool:
    """Whether a header's value is a byte count: 1 to ``_EXACT_DIGITS`` ASCII digits."""
    return text.isdigit() and text.isascii() and 1 <= len(text) <= _EXACT_DIGITS


#: What this client accepts by default; SPEC 5 asks clients to apply a limit of their own.
DEFAULT_MAX_BODY = 64 * 1024 * 1024


# One encoder and one decoder for every message: json.dumps and json.loads with options build a
# new one per call, a cost as large as the encoding of a small message itself.
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_encode = _encoder.encode


def _make_c_encoder() -> Any:
    """JSONEncoder.encode without its per-call cost: it builds the C encoder anew for every
    message (a third of a small request's encoding). Built once here, with the same settings but
    no circular-reference markers: a shared markers dict is not safe across threads, and values
    reach the wire through values.encode, which builds acyclic copies and bounds their depth.
    It returns the text in pieces to join. None where the C accelerator is missing
    (JSONEncoder.encode is used then)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return None
    e = _encoder
    try:
        return make(None, e.default, json.encoder.encode_basestring, None, e.key_separator, e.item_separator, e.sort_keys, e.skipkeys, e.allow_nan)
    except TypeError:  # pragma: no cover - a signature this module does not know
        return None


_c_encoder = _make_c_encoder()
_join = "".join
_encode_str = json.encoder.encode_basestring


def encode_json(message: object) -> bytes:
    """One JSON body: compact, UTF-8, never NaN or Infinity (those travel as ``$float`` tags)."""
    if _c_encoder is not None and type(message) is dict:
        return _join(_c_encoder(message, 0)).encode("utf-8")
    return _encode(message).encode("utf-8")


def _refuse_constant(name: str) -> object:
    raise ValueError("%s is not JSON" % name)


_MAX_SAFE_INT = 2**53 - 1


def _bare_float(text: str) -> object:
    # SPEC 11.3: a bare number is read by its value, so a whole one in the safe range is an int.
    value = float(text)
    if value == 0 and text.lstrip().startswith("-"):
        return value  # -0.0: an int has no sign to keep, and {"$float": -0.0} must keep it (SPEC 11.3, since 1.3)
    return int(value) if value.is_integer() and -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else value


def _bare_int(text: str) -> object:
    # Called for every bare whole number of every message (ids included): the usual one first.
    if len(text) <= _EXACT_DIGITS and text != "-0":
        return int(text)
    # A bare whole number beyond the safe range is a float (a conforming sender tags an int there);
    # reading it as a float also avoids Python's own limit on very long digit strings.
    if text == "-0":
        return -0.0  # only a float has a sign at zero: {"$float": -0} keeps it (SPEC 11.3, since 1.3)
    digits = len(text.lstrip("-"))
    if digits <= _EXACT_DIGITS:
        return int(text)
    value = float(text)
    return int(text) if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else value


def decode_json(body: bytes) -> object:
    """Parses one body, reading bare numbers as SPEC 11.3 says: a whole value within
    ±(2**53-1) is an ``int``, any other number a ``float`` (whatever digits it was written with)."""
    text = body.decode("utf-8")
    # The scanner alone, as JSONDecoder.decode runs it but without its two whitespace matches:
    # a body without whitespace around its value (every body a sender writes compactly) ends
    # here; anything else, errors included, is decoded (and reported) by JSONDecoder.decode.
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    if end == len(text):
        return value
    return _decode(text)


_decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_bare_float, parse_int=_bare_int)
_decode = _decoder.decode
_scan = _decoder.scan_once


def frame(body: bytes) -> bytes:
    """``Content-Length: N`` CR LF CR LF, then the body (SPEC 5): the only header we send."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request_tail(method: str, params: Optional[Dict[str, Any]]) -> str:
    """The text of a request after its id: ``,"method":...,"params":...}`` (no ``params`` when
    None), compact JSON as :func:`encode_json` writes it. The encoder's cost is per member, and
    a request is sent for every call: the envelope is written around the encoded params."""
    name = _encode_str(method) if type(method) is str else _encode(method)
    if params is None:
        return ',"method":%s}' % name
    return ',"method":%s,"params":%s}' % (name, _join(_c_encoder(params, 0)) if _c_encoder is not None else _encode(params))


def request_frame(request_id: int, method: str, params: Optional[Dict[str, Any]]) -> bytes:
    """``frame(encode_json({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))``
    (without ``params`` when None), written as :func:`request_tail` writes it."""
    if type(request_id) is not int:
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        return frame(encode_json(message))
    return frame(('{"jsonrpc":"2.0","id":%d%s' % (request_id, request_tail(method, params))).encode("utf-8"))


class FrameReader:
    """Reads ``Content-Length`` framed bodies from a socket.

    Not thread-safe: one thread reads (the connection's reader thread, or the conformance
    runner's own loop). A read interrupted by a socket timeout loses nothing: bytes stay in the
    buffer until a whole message is there.
    """

    def __init__(self, sock: socket.socket, max_body: int = DEFAULT_MAX_BODY) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.max_body = max_body
        # The attachments of the frame the last body came from (SPEC 5.1), or None for a frame
        # without. This client does not ask for them; the conformance runner reads them.
        self.attachments = None  # type: Optional[List[bytes]]

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as a body."""
        return len(self._buffer)

    def fill(self) -> bool:
        """Receives once into the buffer; False at the end of the stream."""
        chunk = self._sock.recv(65536)
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def receive_body(self) -> Optional[bytes]:
        """Receives once, then returns the next body if the buffer holds a whole message (else
        None), as :meth:`fill` then :meth:`pop_body`. Raises ``EOFError`` at the end of the stream.

        What arrives is most often one whole message with the usual header, into an empty buffer:
        its body is cut from what was received, without passing through the buffer.
        """
        chunk = self._sock.recv(65536)
        if not chunk:
            raise EOFError
        if not self._buffer:
            end = chunk.find(b"\r\n\r\n", _QUICK_DIGITS_AT, _QUICK_END_MAX + 4)
            length = _usual_length(chunk, end)
            if 0 <= length <= self.max_body and len(chunk) - end - 4 == length:
                self.attachments = None
                return chunk[end + 4:]
        self._buffer += chunk
        return self.pop_body()

    def pop_body(self) -> Optional[bytes]:
        """The next body if the buffer holds a whole message, else None; reads nothing.

        Raises :class:`FramingError` for a malformed header block (SPEC 5).
        """
        buffer = self._buffer
        if not buffer:
            return None
        end = buffer.find(b"\r\n\r\n")
        length, listed = _usual_length(buffer, end), None  # type: Tuple[int, Optional[List[int]]]
        if length < 0:
            first = buffer[0]
            if not (65 <= first <= 90 or 97 <= first <= 122):
                raise FramingError("a message must start with a header line, not byte 0x%02x" % first)
            if end < 0 or end + 4 > MAX_HEADER_BLOCK:
                if end >= 0 or len(buffer) > MAX_HEADER_BLOCK:
                    raise FramingError("a header block longer than %d bytes" % MAX_HEADER_BLOCK)
                return None
            length, listed = self._content_length(bytes(buffer[:end]))
        if length > self.max_body:
            raise FramingError("a body of %d bytes is over this client's limit of %d" % (length, self.max_body))
        start = end + 4
        if len(buffer) < start + length:
            return None
        if listed is None:
            self.attachments = None
            if len(buffer) == start + length:  # the last message received: no slice to cut
                body = bytes(buffer[start:])
                buffer.clear()
                return body
            body = bytes(buffer[start:start + length])
            del buffer[:start + length]
            return body
        attached = sum(listed)
        if attached > length:
            raise FramingError("Content-Attachments list %d bytes, more than the Content-Length of %d" % (attached, length))
        body = bytes(buffer[start:start + length - attached])
        self.attachments = None
        if listed is not None:
            at = start + length - attached
            self.attachments = []
            for n in listed:
                self.attachments.append(bytes(buffer[at:at + n]))
                at += n
        del buffer[:start + length]
        return body

    def read_body(self) -> Optional[bytes]:
        """The next body, reading as needed; None at a clean end of stream (between messages).

        Raises :class:`FramingError` for a malformed header block or a stream that ends inside
        a message, and ``socket.timeout`` when the socket's timeout expires.
        """
        while True:
            body = self.pop_body()
            if body is not None:
                return body
            if not self.fill():
                if self._buffer:
                    raise FramingError("the stream ended inside a message")
                return None

    @staticmethod
    def _content_length(block: bytes) -> Tuple[int, Optional[List[int]]]:
        """The body's length, and the attachments' lengths when the frame has them (SPEC 5.1)."""
        try:
            text = block.decode("ascii")
        except UnicodeDecodeError:
            raise FramingError("a header block that is not ASCII") from None
        length = None
        listed = None  # type: Optional[List[int]]
        for line in text.split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep:
                raise FramingError("a header line without ':': %r" % line)
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                if length is not None:
                    raise FramingError("Content-Length given twice")
                if not _is_byte_count(value):
                    raise FramingError("Content-Length must be 1 to %d decimal digits, not %r" % (_EXACT_DIGITS, value))
                length = int(value)
            elif name == "content-attachments":
                counts = value.split(",")
                if listed is not None or not all(_is_byte_count(c) for c in counts):
                    raise FramingError("Content-Attachments must be given once, as byte counts separated by commas, not %r" % value)
                listed = [int(c) for c in counts]
            elif name == "content-type":
                for param in value.split(";")[1:]:
                    key, _, charset = param.partition("=")
                    if key.strip().lower() == "charset" and charset.strip().strip('"').lower() not in ("utf-8", "utf8"):
                        raise FramingError("charset must be utf-8, not %r" % charset.strip())
            # Any other header is ignored (SPEC 5).
        if length is None:
            raise FramingError("a header block without Content-Length")
        return length, listed
