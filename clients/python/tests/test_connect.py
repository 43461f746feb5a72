"""connect(): addresses, the environment variables worker terminals get, the session."""

import os
import unittest
from unittest import mock

from syncmanager_client import ADDRESS_ENV, AUTHKEY_ENV, connect
from syncmanager_client.transport import parse_address

from .support import ADDRESS, AUTHKEY, inspecting_manager, require_server, snapshot


class AddressTest(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(parse_address("127.0.0.1:5000"), ("tcp", ("127.0.0.1", 5000)))
        self.assertEqual(parse_address("localhost:0"), ("tcp", ("localhost", 0)))
        self.assertEqual(parse_address("[::1]:5000"), ("tcp", ("::1", 5000)))
        self.assertEqual(parse_address(":5000"), ("tcp", ("127.0.0.1", 5000)))
        self.assertEqual(parse_address(("", 5000)), ("tcp", ("127.0.0.1", 5000)))
        self.assertEqual(parse_address("/tmp/sm.sock"), ("unix", "/tmp/sm.sock"))
        self.assertEqual(parse_address("./sm.sock"), ("unix", "./sm.sock"))
        for bad in ("", "nohost", "h:65536", "h:port", "::1:5000", "\\\\.\\pipe\\x"):
            with self.subTest(address=bad), self.assertRaises(ValueError):
                parse_address(bad)


class ResumeOptionTest(unittest.TestCase):
    def test_resume_within_is_checked_before_connecting(self):
        with self.assertRaisesRegex(ValueError, "resume_within needs reconnect"):
            connect("127.0.0.1:1", "key", resume_within=5, reconnect=False)
        for bad in (0, -1, float("inf"), "5"):
            with self.subTest(resume_within=bad), self.assertRaisesRegex(ValueError, "resume_within must be a number of seconds above 0"):
                connect("127.0.0.1:1", "key", resume_within=bad)


class EnvironmentTest(unittest.TestCase):
    def setUp(self):
        require_server()

    def test_connect_reads_the_environment(self):
        with mock.patch.dict(os.environ, {ADDRESS_ENV: ADDRESS, AUTHKEY_ENV: AUTHKEY}):
            with connect() as m:
                self.assertEqual(m.connection.address, ADDRESS)
                self.assertEqual(m.Queue().qsize(), 0)

    def test_arguments_win_over_the_environment(self):
        with mock.patch.dict(os.environ, {ADDRESS_ENV: "127.0.0.1:1", AUTHKEY_ENV: "wrong"}):
            with connect(ADDRESS, AUTHKEY) as m:
                self.assertTrue(m.session_id)

    def test_missing_configuration_is_explained(self):
        with mock.patch.dict(os.environ, {ADDRESS_ENV: "", AUTHKEY_ENV: ""}):
            with self.assertRaisesRegex(ValueError, ADDRESS_ENV):
                connect()
            with self.assertRaisesRegex(ValueError, AUTHKEY_ENV):
                connect(ADDRESS)

    def test_client_info_is_shown_to_inspection(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        with connect(ADDRESS, AUTHKEY.encode("utf-8"), name="env-test-worker") as m:
            sessions = {s["sessionId"]: s for s in snapshot(inspector)["sessions"]}
            mine = sessions[m.session_id]
            self.assertEqual(mine["clientInfo"]["name"], "env-test-worker")
            self.assertEqual(mine["processId"], os.getpid())
            self.assertEqual(mine["protocol"], "jsonrpc")
