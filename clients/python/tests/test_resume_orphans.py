"""The requests a resumable connection leaves waiting when it is lost (SPEC 20.4, 20.4.1): a
request made on it as or after it was lost, never sent, is sent by the connection that resumes the
session and answered there; one whose answer the manager that took the session over names lost
fails with an error that says its effect is unknown. Neither leaves an entry waiting. Requests handed to a resuming connection
that is lost itself before it takes them over go on to the next one; and calls answered while the
session was detached are answered once, never carried out again. A connection this client shut
down is closed, not lost: nothing waits for a resumption of a session that ended.

The moment of the loss is made here by hand, on real connections to the manager under test: the
connection is shut as the reader does on a loss, the session resumed on a new connection, and the
requests handed over as the manager does (``Connection.adopt``).
"""

import threading
import time
import unittest

from syncmanager_client import Connection, ConnectionClosedError, ConnectionLostError, connect
from syncmanager_client.connection import _Pending

from .support import ADDRESS, AUTHKEY, WAIT, inspecting_manager, require_server, snapshot, until


def resumable() -> Connection:
    require_server()
    return Connection(ADDRESS, AUTHKEY, client_name="unittest-orphans", resume_within=30)


def resume(lost: Connection) -> Connection:
    return Connection(ADDRESS, AUTHKEY, client_name="unittest-orphans", resume_within=30, resume_from=lost, ids=lost._ids)


class ResumedOrphansTest(unittest.TestCase):
    def test_a_request_made_on_a_lost_connection_is_sent_by_the_one_that_resumes_the_session(self):
        first = resumable()
        first._shutdown_socket(ConnectionLostError("lost for the test"))
        outcome = {}

        def call():
            try:
                outcome["result"] = first.request("manager/describe", {}, timeout=WAIT)
            except Exception as error:
                outcome["error"] = error

        # Made after the loss took the waiting requests: its caller finds the connection closed.
        caller = threading.Thread(target=call)
        caller.start()
        until(lambda: first._orphans, "the request kept for the connection that resumes the session")
        second = resume(first)
        try:
            self.assertTrue(second.resumed)
            second.adopt(first)
            caller.join(WAIT)
            self.assertIsInstance(outcome.get("result"), dict, outcome)
            # Made on the lost connection once the session was resumed: sent on the new one.
            self.assertIsInstance(first.request("manager/describe", {}, timeout=WAIT), dict)
            self.assertEqual(second.pending_count(), 0, "nothing left waiting")
        finally:
            second.close()

    def test_a_connection_ended_with_shutdown_is_closed_not_lost_and_keeps_no_call_waiting(self):
        first = resumable()
        first.shutdown()
        self.assertTrue(first.closed)
        # The manager ends the session at shutdown and closes the connection: nothing to resume.
        self.assertFalse(first.lost, "closed by this client, not lost: %s" % first._close_reason)
        with self.assertRaises(ConnectionClosedError) as caught:
            first.request("manager/describe", {}, timeout=WAIT)
        self.assertNotIsInstance(caught.exception, ConnectionLostError, "raised at once, not kept for a resumption")

    def test_a_resumable_manager_closed_by_the_program_does_not_reconnect(self):
        m = connect(ADDRESS, AUTHKEY, name="unittest-orphans", resume_within=30)
        m.close()
        self.assertFalse(m.connection.lost, "no loss: nothing starts reconnecting (and warns that it failed)")

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

    def test_requests_handed_to_a_resuming_connection_lost_before_it_took_them_go_on_to_the_next_one(self):
        first = resumable()
        request_id = next(first._ids)
        pending = _Pending("manager/describe", {})
        body = b'{"jsonrpc":"2.0","id":%d,"method":"manager/describe","params":{}}' % request_id
        pending.frame = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        first._pending[request_id] = pending
        first._shutdown_socket(ConnectionLostError("lost for the test"))
        second = resume(first)
        self.assertTrue(second.resumed)
        # Lost too, between its opening and taking the requests over (its reader saw the loss).
        second._shutdown_socket(ConnectionLostError("lost again for the test"))
        second.adopt(first)
        self.assertEqual(second.pending_count(), 0, "nothing waits on a connection that is gone")
        third = resume(second)
        try:
            self.assertTrue(third.resumed)
            third.adopt(second)
            self.assertTrue(pending.wait(WAIT), "the request went on to the connection that resumed the session next")
            self.assertIsInstance(first._outcome(pending), dict)
            self.assertEqual(third.pending_count(), 0)
        finally:
            third.close()

    def test_gets_answered_while_the_session_was_detached_are_answered_once_and_not_carried_out_again(self):
        # More answers than the client counts between two $/answersSeen (64): the manager sends
        # them as the session is resumed, before the client takes its requests over and sends
        # them again; it must not tell the manager they arrived and then ask for them again.
        self.check_gets_answered_while_detached(70, "x" * 4000)

    def test_gets_answered_while_detached_are_not_carried_out_again_when_the_reader_thread_reads_as_they_are_sent_again(self):
        # The reader thread holds the read role (an idle connection) while adopt() sends the
        # requests again: it counts the answers to the first ones sent as the rest are still
        # being sent, and must not report the count (which holds the answers that came before
        # adopt()) between two of them.
        self.check_gets_answered_while_detached(1500, "", reader_reading=True)

    def test_gets_answered_while_detached_on_a_resuming_connection_lost_before_it_took_them_are_not_carried_out_again(self):
        # The answers come on the resuming connection, which counts them, and is lost before it
        # takes the gets over: the next one resumes with that count, and the manager forgets them.
        self.check_gets_answered_while_detached(3, "", lost_before_adopting=True)

    def check_gets_answered_while_detached(self, gets, padding, reader_reading=False, lost_before_adopting=False):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        first = resumable()
        queue = first.request("object/create", {"typeid": "Queue"})["id"]
        waiting = {}
        for _ in range(gets):
            request_id = next(first._ids)
            body = b'{"jsonrpc":"2.0","id":%d,"method":"object/call","params":{"id":"%b","method":"get"}}' % (request_id, queue.encode())
            pending = _Pending("object/call", {})
            pending.frame = b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
            first._pending[request_id] = pending
            first._send_frame(pending.frame)
            waiting[request_id] = pending

        def session():
            return next((s for s in snapshot(inspector)["sessions"] if s["sessionId"] == first.session_id), None)

        until(lambda: len(session()["pending"]) == gets, "the gets waiting")
        first._shutdown_socket(ConnectionLostError("lost for the test"))
        until(lambda: session().get("resumableUntil"), "the session detached")
        for n in range(gets):
            inspector.connection.request("object/call", {"id": queue, "method": "put", "args": ["%d %s" % (n, padding)]})
        until(lambda: not session()["pending"], "every get answered while detached")
        second = resume(first)
        try:
            self.assertTrue(second.resumed)
            second.request("manager/describe", {})  # as the Manager does before taking the requests over
            if reader_reading:
                until(second._read_role.locked, "the reader thread reading the idle connection")
            lost = first
            if lost_before_adopting:
                second._shutdown_socket(ConnectionLostError("lost for the test"))
                second.adopt(first)  # lost itself: the gets go on to the next connection
                lost, second = second, resume(second)
                self.assertTrue(second.resumed)
            second.adopt(lost)
            deadline = time.monotonic() + WAIT
            unanswered = [p for p in waiting.values() if not p.wait(max(0.0, deadline - time.monotonic()))]
            self.assertEqual(len(unanswered), 0, "every get is answered")
            got = sorted(int(first._outcome(p).split(" ")[0]) for p in waiting.values())
            self.assertEqual(got, list(range(gets)), "each item got once")
            self.assertEqual(session()["pending"], [], "no get carried out again")
        finally:
            second.close()

if __name__ == "__main__":
    unittest.main()
