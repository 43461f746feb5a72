"""The handshake and framing of SPEC 3 and 5, checked against the spec's own bytes."""

import socket
import unittest

from syncmanager_client.transport import (
    FrameReader,
    FramingError,
    HandshakeError,
    answer_challenge_payload,
    frame,
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
