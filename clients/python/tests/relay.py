"""A TCP relay between a client under test and the manager, on 127.0.0.1 port 0, that can cut
the network (every connection through it at once), stall a client's send, and add or spoil bytes
of what the manager sends: the faults a resumable session must survive, made on real sockets.
"""

import socket
import struct
import threading
from typing import List, Optional, Tuple


class Relay:
    """Relays each connection made to :attr:`address` to ``target`` (``"host:port"``)."""

    def __init__(self, target: str, receive_buffer: Optional[int] = None) -> None:
        """``receive_buffer``: the receive buffer, in bytes, of the relay's side of each client's
        connection (fixed: no autotuning), which bounds what a client gets out once the relay
        stops reading it (:meth:`hold_upstream_at`)."""
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Set on the listener: accepted sockets inherit it, from their first byte on.
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        #: Where the client connects: ``"127.0.0.1:PORT"``.
        self.address = "127.0.0.1:%d" % self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs = []  # type: List[Tuple[socket.socket, socket.socket]]
        self._appending = None  # type: Optional[Tuple[bytes, bytes]]
        self._midway = None  # type: Optional[Tuple[bytes, threading.Event]]
        self._spoiling = None  # type: Optional[List]
        self._holding = None  # type: Optional[Tuple[bytes, threading.Event]]
        #: Set by cut(): a pump holding its client's bytes lets go.
        self._held = []  # type: List[threading.Event]
        self._closed = False
        self._refusing = False
        self._refusing_by_ending = False
        #: How many connections were refused so far.
        self.refused = 0
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def cut(self, refuse: bool = False, by_ending: bool = False) -> None:
        """Breaks every connection through the relay, as a network failure would; with
        ``refuse``, new ones are dropped as soon as they are made, until :meth:`mend`: reset, or
        with ``by_ending`` accepted and ended, as a port forward whose manager is down does."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            held, self._held = self._held, []
            if refuse:
                self._refusing = True
                self._refusing_by_ending = by_ending
        for pair in pairs:
            for sock in pair:
                _shut(sock)
        for release in held:
            release.set()

    def mend(self) -> None:
        """Takes connections again, after ``cut(refuse=True)``."""
        with self._lock:
            self._refusing = False

    def cut_downstream_before(self, text: bytes) -> threading.Event:
        """The next read from the manager that holds ``text`` goes on to the client only up to the
        start of the message it is in (its ``Content-Length``), then the network is cut as
        :meth:`cut` does (with ``refuse``: until :meth:`mend`). Returns an event set once cut."""
        done = threading.Event()
        with self._lock:
            self._midway = (text, done)
        return done

    def append_downstream(self, text: bytes, extra: bytes) -> None:
        """The next read from the manager that holds ``text`` goes on to the client followed by
        ``extra``, in one write."""
        with self._lock:
            self._appending = (text, extra)

    def hold_upstream_at(self, text: bytes) -> threading.Event:
        """The next read from a client that holds ``text`` goes on to the manager, and then the
        relay reads nothing more from that client until :meth:`cut`: a message larger than the
        socket buffers between them (see ``receive_buffer``) stays part-sent, its sender blocked
        in the send, as over a network that stalls. Returns an event set once holding."""
        done = threading.Event()
        with self._lock:
            self._holding = (text, done)
        return done

    def spoil_downstream(self, text: bytes, times: Optional[int] = 1) -> None:
        """The next ``times`` reads from the manager that hold ``text`` (every one: None) go on
        with ``text`` turned into bytes of the same length that are not JSON: the framing holds,
        the message it is in cannot be read, as from a manager that sends garbage."""
        with self._lock:
            self._spoiling = [text, times]

    def close(self) -> None:
        self._closed = True
        _shut(self._listener)
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing, by_ending = self._refusing, self._refusing_by_ending
                if refusing:
                    self.refused += 1
            if refusing:
                if by_ending:
                    _shut(client)
                else:
                    # A reset, as a host with nothing listening answers.
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.close()
                continue
            try:
                server = socket.create_connection(self._target, timeout=10)
                server.settimeout(None)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, False), name="relay-up", daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), name="relay-down", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if not downstream:
                    with self._lock:
                        holding = self._holding
                        if holding is not None and holding[0] in chunk:
                            self._holding = None
                            release = threading.Event()
                            self._held.append(release)
                        else:
                            holding = None
                    if holding is not None:
                        sink.sendall(chunk)
                        holding[1].set()
                        release.wait()
                        break
                if downstream:
                    with self._lock:
                        spoiling = self._spoiling
                        if spoiling is not None and spoiling[0] in chunk:
                            chunk = chunk.replace(spoiling[0], b"!" * len(spoiling[0]))
                            if spoiling[1] is not None:
                                spoiling[1] -= 1
                                if spoiling[1] == 0:
                                    self._spoiling = None
                        appending = self._appending
                        if appending is not None and appending[0] in chunk:
                            chunk += appending[1]
                            self._appending = None
                        midway = self._midway
                        if midway is not None and midway[0] in chunk:
                            self._midway = None
                        else:
                            midway = None
                    if midway is not None:
                        # The messages before it, then an orderly end, so that they are not thrown away by a reset.
                        sink.sendall(chunk[:max(0, chunk.rfind(b"Content-Length", 0, chunk.index(midway[0])))])
                        sink.shutdown(socket.SHUT_WR)
                        self.cut(refuse=True)
                        midway[1].set()
                        break
                sink.sendall(chunk)
        except OSError:
            pass
        _shut(source)
        _shut(sink)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
