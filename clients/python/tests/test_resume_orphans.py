"""The requests a resumable connection leaves waiting when it is lost (SPEC 20.4, 20.4.1): a
request whose caller had not sent it yet is not carried over to the connection that resumes the
session (its caller is told the connection is gone and forgets it), and one whose answer the
manager that took the session over names lost fails with an error that says its effect is unknown.
Neither leaves an entry waiting on the new connection.

The moment of the loss is made here by hand, on real connections to the manager under test: the
connection is shut as the reader does on a loss, the session resumed on a new connection, and the
requests handed over as the manager does (``Connection.adopt``).
"""

import unittest

from syncmanager_client import Connection, ConnectionLostError
from syncmanager_client.connection import _Pending

from .support import ADDRESS, AUTHKEY, WAIT, require_server


def resumable() -> Connection:
    require_server()
    return Connection(ADDRESS, AUTHKEY, client_name="unittest-orphans", resume_within=30)


def resume(lost: Connection) -> Connection:
    return Connection(ADDRESS, AUTHKEY, client_name="unittest-orphans", resume_within=30, resume_from=lost, ids=lost._ids)


class ResumedOrphansTest(unittest.TestCase):
    def test_a_request_registered_as_the_connection_was_lost_and_never_sent_leaves_nothing_waiting(self):
        first = resumable()
        # A caller in request() between registering its request and sending it.
        request_id = next(first._ids)
        pending = _Pending("manager/describe", {})
        first._pending[request_id] = pending
        first._shutdown_socket(ConnectionLostError("lost for the test"))
        second = resume(first)
        try:
            self.assertTrue(second.resumed)
            second.adopt(first)
            # The caller then finds the connection closed (or its send failing) and forgets its request.
            first._forget(request_id)
            self.assertEqual(second.pending_count(), 0, "no entry waits on the new connection for a request never sent")
            self.assertIsInstance(second.request("manager/describe", {}, timeout=WAIT), dict)
        finally:
            second.close()

    def test_a_request_named_in_answers_lost_fails_saying_its_effect_is_unknown_and_leaves_nothing_waiting(self):
        first = resumable()
        request_id = next(first._ids)
        pending = _Pending("object/call", {})
        pending.frame = b"sent before the loss"
        first._pending[request_id] = pending
        first._shutdown_socket(ConnectionLostError("lost for the test"))
        second = resume(first)
        try:
            # As when another manager of the group took the session over and names it lost.
            second.answers_lost = [request_id]
            second.adopt(first)
            self.assertTrue(pending.wait(WAIT))
            with self.assertRaisesRegex(ConnectionLostError, "unknown"):
                first._outcome(pending)
            self.assertEqual(second.pending_count(), 0)
        finally:
            second.close()


if __name__ == "__main__":
    unittest.main()
