"""The handshake and framing of SPEC 3 and 5, checked against the spec's own bytes."""

import socket
import unittest

from syncmanager_client import transport

from syncmanager_client.transport import (
    FrameReader,
    FramingError,
    HandshakeError,
    DIGESTS,
    answer_challenge_payload,
    client_handshake,
    decode_json,
    encode_json,
    frame,
    hmac_digest,
    request_frame,
    verify_response,
)

KEY = b"lihui"
SERVER_RANDOM = bytes(range(0x00, 0x28))
CLIENT_RANDOM = bytes(range(0x40, 0x68))


class HandshakeVectorsTest(unittest.TestCase):
    """SPEC 3.6, the worked example, byte for byte."""

    def test_modern_answer(self):
        challenge = b"#CHALLENGE#{sha256}" + SERVER_RANDOM
        self.assertEqual(
            answer_challenge_payload(KEY, challenge).hex(),
            "7b7368613235367d" + "a31375b8b4fd84d8aaed2842f840d32ebda15ef15eea51fce1e0ec59c7e1133d",
        )

    def test_verify_the_servers_answer(self):
        message = b"{sha256}" + CLIENT_RANDOM
        answer = bytes.fromhex("7b7368613235367d" + "53bbd891630a9b2930a3eef391eb11add3f98b3352ac755fb2d25f5dd3061200")
        self.assertTrue(verify_response(KEY, message, answer))
        self.assertFalse(verify_response(b"other", message, answer))
        self.assertFalse(verify_response(KEY, message, answer[:-1]))
        # A Python 3.11 server's bare HMAC-MD5 over the whole message is accepted too (SPEC 3.4).
        import hmac

        self.assertTrue(verify_response(KEY, message, hmac.new(KEY, message, "md5").digest()))

    def test_legacy_challenge(self):
        challenge = b"#CHALLENGE#" + bytes(range(20))
        self.assertEqual(answer_challenge_payload(KEY, challenge).hex(), "d4d7a94dcbeaf0e1f8276aa80ef6ad50")

    def test_malformed_challenges(self):
        for bad in (b"#CHALLENGE#short", b"#CHALLENGE#" + b"x" * 30, b"#CHALLENGE#{sha1}" + b"x" * 30, b"#WELCOME#"):
            with self.subTest(challenge=bad), self.assertRaises(HandshakeError):
                answer_challenge_payload(KEY, bad)


class HmacTest(unittest.TestCase):
    """The handshake's HMAC is computed without the ``hmac`` module (it would load OpenSSL): the
    bytes must be ``hmac``'s for every digest SPEC 3.3 allows and every length of key."""

    def test_the_same_bytes_as_hmac(self):
        import hmac

        # Key lengths around each digest's block (64 for md5 and sha256, 128 for sha384, 136 and
        # 104 for sha3), longer keys being hashed first; messages as challenges carry them.
        keys = [bytes(range(n % 256)) * (n // 256 + 1) for n in range(0, 300, 7)] + [b"x" * n for n in (63, 64, 65, 103, 104, 105, 127, 128, 129, 135, 136, 137)]
        messages = [b"", bytes(range(20)), b"{sha256}" + bytes(range(40)), b"m" * 1000]
        for digest in DIGESTS:
            for key in keys:
                for message in messages:
                    with self.subTest(digest=digest, key=len(key), message=len(message)):
                        self.assertEqual(hmac_digest(key[:len(key)], message, digest), hmac.new(key, message, digest).digest())

    def test_against_cpythons_own_key_check(self):
        """Our side of the handshake against multiprocessing.connection's deliver_challenge and
        answer_challenge: this interpreter's own (HMAC-MD5 up to 3.11, {sha256} from 3.12)."""
        import multiprocessing.connection
        import threading

        for key, theirs, verdict in ((KEY, KEY, None), (KEY, b"other", "AuthenticationError")):
            with self.subTest(key=key, theirs=theirs):
                ours_sock, their_sock = socket.socketpair()
                self.addCleanup(ours_sock.close)
                their = multiprocessing.connection.Connection(their_sock.detach())
                self.addCleanup(their.close)
                failures = []

                def serve():
                    try:
                        multiprocessing.connection.deliver_challenge(their, theirs)
                        multiprocessing.connection.answer_challenge(their, theirs)
                    except Exception as error:  # noqa: BLE001 - reported below
                        failures.append(error)

                server = threading.Thread(target=serve, daemon=True)
                server.start()
                ours_sock.settimeout(10)
                try:
                    client_handshake(ours_sock, key)
                    raised = None
                except Exception as error:  # noqa: BLE001
                    raised = type(error).__name__
                server.join(10)
                self.assertFalse(server.is_alive())
                self.assertEqual(raised, verdict)
                # CPython's side agrees: it authenticated us, or refused our key.
                self.assertEqual([type(f).__name__ for f in failures], [] if verdict is None else ["AuthenticationError"])


class FramingTest(unittest.TestCase):
    def reader_over(self, data: bytes) -> FrameReader:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        return FrameReader(b)

    def test_bodies(self):
        data = frame(b'{"a":1}') + b"content-length : 2\r\nX-Other: y\r\nContent-Type: application/json; charset=UTF8\r\n\r\n[]"
        reader = self.reader_over(data)
        self.assertEqual(reader.read_body(), b'{"a":1}')
        self.assertEqual(reader.read_body(), b"[]")
        self.assertIsNone(reader.read_body())

    def test_malformed(self):
        for bad in (
            b"Content-Length 2\r\n\r\n{}",
            b"Content-Type: x\r\n\r\n{}",
            b"Content-Length: 1x\r\n\r\n{}",
            b"Content-Length: 0000000000000002\r\n\r\n{}",
            b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
            b"Content-Length: 2\r\nContent-Type: a; charset=latin1\r\n\r\n{}",
            b"{}",
            b"X: " + b"y" * 9000 + b"\r\n\r\n",
            b"Content-Length: 5\r\n\r\n{}",
        ):
            with self.subTest(data=bad[:40]), self.assertRaises(FramingError):
                self.reader_over(bad).read_body()

    def test_bodies_across_receives(self):
        # Three frames (one with another header first), cut inside a header or a body: each body
        # comes out whole and once, whatever each receive held.
        data = frame(b'{"id":1}') + b"X-Other: y\r\nContent-Length: 2\r\n\r\n[]" + frame(b'{"id":3,"result":"\xc3\xa9"}')
        expected = [b'{"id":1}', b"[]", b'{"id":3,"result":"\xc3\xa9"}']
        for cut in (5, 12, 26, 30, len(data) - 3):
            with self.subTest(cut=cut):
                a, b = socket.socketpair()
                self.addCleanup(a.close)
                self.addCleanup(b.close)
                reader = FrameReader(b)
                a.sendall(data[:cut])
                bodies = []
                while reader.buffered < cut and reader.fill():  # the first part, in as many receives as it takes
                    pass
                body = reader.pop_body()
                while body is not None:
                    bodies.append(body)
                    body = reader.pop_body()
                self.assertLess(len(bodies), 3)
                a.sendall(data[cut:])
                a.shutdown(socket.SHUT_WR)
                body = reader.read_body()
                while body is not None:
                    bodies.append(body)
                    body = reader.read_body()
                self.assertEqual(bodies, expected)
                self.assertEqual(reader.buffered, 0)


class JsonBodiesTest(unittest.TestCase):
    """The JSON of bodies: what is sent, and what is read back (SPEC 5, 11.3)."""

    def test_a_request_frame_is_its_message_framed(self):
        for request_id, method, params in (
            (1, "object/call", {"id": "5f2a", "method": "put", "args": [1, "\u00e9\u2028", None, {"$tuple": [2.5]}]}),
            (2**40, 'a"b\\c', {}),
            (3, "initialize", None),
        ):
            message = {"jsonrpc": "2.0", "id": request_id, "method": method}
            if params is not None:
                message["params"] = params
            with self.subTest(method=method):
                self.assertEqual(request_frame(request_id, method, params), frame(encode_json(message)))

    def test_encoding_refuses_what_json_cannot_say(self):
        for bad, error in (({"x": float("nan")}, ValueError), ({"x": object()}, TypeError), ({"x": {1j: 1}}, TypeError)):
            with self.subTest(value=bad), self.assertRaises(error):
                encode_json(bad)
            with self.subTest(request=bad), self.assertRaises(error):
                request_frame(1, "m", bad)
        self.assertEqual(encode_json(["a", 1]), b'["a",1]')

    def test_whitespace_around_a_body_changes_nothing(self):
        compact = b'{"jsonrpc":"2.0","id":7,"result":[1,2.0,-0,9007199254740993,{"a":1.5}]}'
        spaced = b' \r\n{ "jsonrpc" : "2.0", "id" : 7, "result" : [1, 2.0, -0, 9007199254740993, {"a": 1.5}] }\n '
        for body in (compact, spaced):
            with self.subTest(body=body):
                message = decode_json(body)
                self.assertEqual(message, {"jsonrpc": "2.0", "id": 7, "result": [1, 2, -0.0, 9007199254740992.0, {"a": 1.5}]})
                self.assertIs(type(message["result"][1]), int)
                self.assertIs(type(message["result"][2]), float)

    def test_a_body_that_is_not_one_json_value_is_refused(self):
        for body in (b"", b" ", b'{"a":1}x', b'{"a":1} {}', b'{"a":', b"NaN", b'{"a":Infinity}'):
            with self.subTest(body=body), self.assertRaises(ValueError):
                decode_json(body)


class AnswersAsTheWholeParseReadsThemTest(unittest.TestCase):
    """decode_json runs the scanner alone on a compact body: whatever an answer's text, the outcome
    must be JSONDecoder.decode's, value, type and error alike."""

    def whole_parse(self, body: bytes) -> object:
        return transport._decode(body.decode("utf-8"))

    def test_the_same_message_as_the_whole_parse(self):
        results = [b"null", b"true", b"false", b"0", b"7", b"-5", b"-0", b"123456789012345", b"1234567890123456",
                   b"9007199254740993", b"-9007199254740991", b"2.0", b"1e3", b"-0.0", b'"x"', rb'"\u00e9\u2028"',
                   '"é"'.encode("utf-8"), b"[]", b'{"$tuple":[1,2.5]}', b'{"a":null}', b"[1,[2,[3]]]"]
        ids = [b"0", b"1", b"42", b"123456789012345", b"1234567890123456", b"9007199254740993"]
        for result in results:
            for request_id in ids:
                body = b'{"jsonrpc":"2.0","id":' + request_id + b',"result":' + result + b"}"
                with self.subTest(body=body):
                    expected = self.whole_parse(body)
                    got = decode_json(body)
                    self.assertEqual(got, expected)
                    self.assertEqual(list(got), list(expected))
                    for key in ("id", "result"):
                        self.assertIs(type(got[key]), type(expected[key]))
                    if isinstance(expected["result"], float):
                        self.assertEqual(str(got["result"]), str(expected["result"]))  # -0.0 keeps its sign

    def test_what_only_looks_like_one_is_parsed_whole_or_refused(self):
        for body in (
            b'{"jsonrpc":"2.0","id":1,"result":2,"result":3}',
            b'{"jsonrpc":"2.0","id":1,"result":{"a":1},"result":null}',
            b'{"jsonrpc":"2.0","id":1,"result":null,"error":{"code":1,"message":"m"}}',
            b'{"jsonrpc":"2.0","id":1,"result": 5}',
            b'{"jsonrpc":"2.0","id":-1,"result":5}',
            b'{"jsonrpc":"2.0","id":1.0,"result":5}',
            b'{"jsonrpc":"2.0","id":"1","result":5}',
        ):
            with self.subTest(body=body):
                self.assertEqual(decode_json(body), self.whole_parse(body))
        for bad in (
            b'{"jsonrpc":"2.0","id":01,"result":5}',
            b'{"jsonrpc":"2.0","id":1,"result":05}',
            b'{"jsonrpc":"2.0","id":1,"result":-05}',
            b'{"jsonrpc":"2.0","id":1,"result":-}',
            b'{"jsonrpc":"2.0","id":1,"result":}',
            b'{"jsonrpc":"2.0","id":1,"result":nul}',
            b'{"jsonrpc":"2.0","id":1,"result":NaN}',
            b'{"jsonrpc":"2.0","id":1,"result":[1,}',
            b'{"jsonrpc":"2.0","id":1,"result":1}}',
            b'{"jsonrpc":"2.0","id":1,"result":"\xff"}',
            b'{"jsonrpc":"2.0","id":\xd9\xa1,"result":5}',
        ):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                decode_json(bad)


class ReceiveBodyTest(unittest.TestCase):
    """FrameReader.receive_body: the body of a whole message received at once is cut from it;
    anything else goes through the buffer as fill() then pop_body() would take it."""

    def pair(self):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        return a, b

    def test_one_whole_message(self):
        a, b = self.pair()
        reader = FrameReader(b)
        a.sendall(frame(b'{"id":1}'))
        self.assertEqual(reader.receive_body(), b'{"id":1}')
        self.assertEqual(reader.buffered, 0)
        self.assertIsNone(reader.attachments)

    def test_two_messages_at_once_then_a_cut_one(self):
        a, b = self.pair()
        reader = FrameReader(b)
        a.sendall(frame(b"[1]") + frame(b"[2]"))
        bodies = []
        while len(bodies) < 2:
            body = reader.receive_body() if not reader.buffered else reader.pop_body()
            if body is not None:
                bodies.append(body)
        self.assertEqual(bodies, [b"[1]", b"[2]"])
        data = frame(b"[3]")
        a.sendall(data[:10])
        self.assertIsNone(reader.receive_body())
        a.sendall(data[10:])
        self.assertEqual(reader.receive_body(), b"[3]")
        self.assertEqual(reader.buffered, 0)

    def test_the_limits_and_the_end(self):
        a, b = self.pair()
        reader = FrameReader(b, max_body=4)
        a.sendall(frame(b"[1,2]"))
        with self.assertRaises(FramingError):
            reader.receive_body()
        a, b = self.pair()
        reader = FrameReader(b)
        a.sendall(b"Content-Length: 0000000000000002\r\n\r\n{}")
        with self.assertRaises(FramingError):
            reader.receive_body()
        a, b = self.pair()
        reader = FrameReader(b)
        a.shutdown(socket.SHUT_WR)
        with self.assertRaises(EOFError):
            reader.receive_body()
