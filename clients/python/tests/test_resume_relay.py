"""Resumable sessions through a relay that cuts the network (SPEC 20.4), with the Manager's own
reconnect loop: a call in flight at the loss goes on on the resumed connection, whichever thread
was reading when the loss came, and a call still being sent then too; one carried over that times
out is cancelled there; and a resuming connection that fails in the read completing its opening is
a failed try (the next one resumes the session, and the calls in flight go on there). A message
from the manager that the client cannot read is a loss too, up to a bound, and so is a Ctrl-C that
stops a send part-way (the other calls go on, the interrupted one is never carried out); and the
callbacks told of a loss may use the manager, and a Ctrl-C in one leaves the later ones called.
"""

import signal
import sys
import threading
import unittest

from syncmanager_client import ConnectionClosedError, ConnectionLostError, RequestTimeoutError, StaleProxyError, connect

from .relay import Relay
from .support import ADDRESS, AUTHKEY, WAIT, inspecting_manager, references_of, require_server, snapshot, until


def carried_over(m, first):
    """Whether ``m`` resumed its session on a connection other than ``first`` and the get waiting
    at the loss is on it. The new connection's own describe, sent before the calls in flight are
    taken over, is pending on it too for a moment: ``m.resumed``, set once that is answered, tells
    the one from the other."""
    connection = m.connection
    return connection is not first and m.resumed and connection.pending_count() == 1


class ResumeThroughRelayTest(unittest.TestCase):
    def setUp(self) -> None:
        require_server()
        self.relay = Relay(ADDRESS)
        self.addCleanup(self.relay.close)
        self.inspector = inspecting_manager()
        self.addCleanup(self.inspector.close)

    def resumable(self, **options):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", resume_within=30, reconnect_initial_delay=0.01, **options)
        self.addCleanup(m.close)
        return m

    def session(self, session_id):
        return next((s for s in snapshot(self.inspector)["sessions"] if s["sessionId"] == session_id), None)

    def start_get(self, connection, queue_id, timeout):
        """A get on ``connection`` in a thread of its own; the dict gets its result or error."""
        outcome = {}

        def get():
            try:
                outcome["result"] = connection.request("object/call", {"id": queue_id, "method": "get"}, timeout=timeout)
            except Exception as error:
                outcome["error"] = error

        getter = threading.Thread(target=get)
        getter.start()
        return getter, outcome

    def waiting_get(self):
        """A resumable manager with a get waiting on a new queue, in a thread of its own, as the manager shows."""
        m = self.resumable()
        queue = m.Queue()
        first = m.connection
        session_id = first.session_id
        getter, outcome = self.start_get(first, queue._id, 3 * WAIT)
        until(lambda: len(self.session(session_id)["pending"]) == 1, "the get waiting")
        return m, queue, first, session_id, getter, outcome

    def when_restored(self, m):
        """An event set when ``m`` is connected again."""
        restored = threading.Event()
        m.on_connection_restored = lambda attempts: restored.set()
        return restored

    def put_then_see_the_get_end(self, queue, getter, outcome):
        """Puts "after" into ``queue``: the get waiting in ``getter`` ends with it."""
        self.put(queue._id, "after")
        getter.join(3 * WAIT)
        self.assertEqual(outcome, {"result": "after"}, "the waiting get ends with the item")

    def put(self, queue_id, item):
        self.inspector.connection.request("object/call", {"id": queue_id, "method": "put", "args": [item]})

    def test_a_call_reading_its_own_answer_when_the_connection_is_lost_waits_for_the_resumed_one(self):
        # No grace after a cancel: a call taken for timed out by the loss would end at once.
        m = self.resumable(cancel_grace=0)
        queue = m.Queue()
        first = m.connection
        session_id = first.session_id
        failures = []

        def cut_then_put():
            try:
                until(lambda: len(self.session(session_id)["pending"]) == 1, "the get waiting")
                self.relay.cut()
                until(lambda: carried_over(m, first), "the get carried over to the resumed connection")
                self.put(queue._id, "after")
            except BaseException as error:
                failures.append(error)

        helper = threading.Thread(target=cut_then_put)
        helper.start()
        # A call just before: its answer read, the reader thread leaves the read role to callers
        # (it takes it back after a pause), so the get made at once after reads its own answer,
        # and it is the one reading when the connection is lost.
        first.request("manager/describe")
        try:
            got = first.request("object/call", {"id": queue._id, "method": "get"}, timeout=3 * WAIT)
        finally:
            helper.join(3 * WAIT)
        self.assertEqual(failures, [])
        self.assertTrue(m.resumed)
        self.assertEqual(got, "after", "the get went on waiting on the resumed connection, neither timed out nor cancelled")
        until(lambda: self.session(session_id)["pending"] == [], "no get left waiting in the manager")

    def test_a_call_carried_over_to_the_resumed_connection_that_times_out_is_cancelled_there(self):
        # Long enough for the resumption to come first; the outcome is waited for, not timed.
        timeout = WAIT / 2
        m = self.resumable(cancel_grace=WAIT)
        queue = m.Queue()
        first = m.connection
        session_id = first.session_id
        getter, outcome = self.start_get(first, queue._id, timeout)
        until(lambda: len(self.session(session_id)["pending"]) == 1, "the get waiting")
        self.relay.cut()
        until(lambda: carried_over(m, first), "the get carried over to the resumed connection")
        self.assertTrue(m.resumed)
        getter.join(timeout + 2 * WAIT)
        self.assertFalse(getter.is_alive(), "the get ended")
        self.assertIsInstance(outcome.get("error"), RequestTimeoutError)
        self.assertIn("was cancelled", str(outcome["error"]), "the manager confirmed the cancellation")
        until(lambda: self.session(session_id)["pending"] == [], "no get left waiting in the manager")
        self.put(queue._id, "after")
        self.assertEqual(queue.get(), "after", "the item goes to the next get, not to the one given up")
        self.assertEqual(list(m.connection.late_results) + list(first.late_results), [])

    def test_a_resuming_connection_that_fails_in_the_read_completing_its_opening_is_a_failed_try(self):
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        # The resuming connection's describe answer comes with bytes that are no frame: that
        # connection fails in the very read that completes its opening.
        self.relay.append_downstream(b'"typeids"', b"!not a frame")
        self.relay.cut()

        def resumed_again():
            session = self.session(session_id)
            connection = m.connection
            return session is not None and not session.get("resumableUntil") and not connection.closed and connection.pending_count() == 1

        until(resumed_again, "the session resumed again after the failed connection, the get carried over")
        self.put_then_see_the_get_end(queue, getter, outcome)

    def test_a_session_started_anew_after_a_refused_resumption_is_resumed_at_the_next_cut(self):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", resume_within=0.5, reconnect_initial_delay=0.01, reconnect_max_delay=0.05)
        self.addCleanup(m.close)
        items = m.list()
        for n in range(5):
            items.append(n)
        first = m.session_id
        self.relay.cut(refuse=True)
        until(lambda: self.session(first) is None, "the first session gone, its window passed")
        restored = self.when_restored(m)
        self.relay.mend()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertFalse(m.resumed, "the expired session is not resumed")
        self.assertNotEqual(m.session_id, first)
        # The new session has received fewer answers than the old one had: its count starts anew.
        second = m.session_id
        queue = m.Queue()
        connection = m.connection
        getter, outcome = self.start_get(connection, queue._id, 3 * WAIT)
        until(lambda: len(self.session(second)["pending"]) == 1, "the get waiting")
        restored = self.when_restored(m)
        self.relay.cut()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertTrue(m.resumed, "the new session is resumed, not refused: %s" % (m.connection.resume_refused,))
        self.assertEqual(m.session_id, second)
        self.put_then_see_the_get_end(queue, getter, outcome)

    def test_closing_while_reconnecting_fails_the_waiting_calls_and_ends_the_session(self):
        m = self.resumable()
        queue = m.Queue()
        first = m.connection
        session_id = first.session_id
        getter, outcome = self.start_get(first, queue._id, None)
        until(lambda: len(self.session(session_id)["pending"]) == 1, "the get waiting")
        lost = threading.Event()
        m.on_connection_lost = lambda error: lost.set()
        self.relay.cut(refuse=True)
        self.assertTrue(lost.wait(WAIT), "the loss seen")
        m.close()
        getter.join(WAIT)
        self.assertFalse(getter.is_alive(), "the get ended when the client was closed")
        self.assertIsInstance(outcome.get("error"), ConnectionClosedError)
        self.relay.mend()
        # Nothing resumes the closed client's session behind its back: it is not kept on a live connection.
        until(lambda: (self.session(session_id) or {}).get("resumableUntil") is not None or self.session(session_id) is None, "the session detached or gone")
        self.put(queue._id, "after")
        self.assertTrue(m.connection.closed, "no connection opened after close()")

    def test_a_proxy_released_while_the_session_is_detached_gives_its_reference_back_once_it_is_resumed(self):
        m = self.resumable()
        items = m.list()
        object_id = items._id
        first = m.connection
        session_id = first.session_id
        self.assertEqual(references_of(self.inspector, object_id, session_id), 1)
        lost = threading.Event()
        restored = threading.Event()
        m.on_connection_lost = lambda error: lost.set()
        m.on_connection_restored = lambda attempts: restored.set()
        self.relay.cut(refuse=True)
        self.assertTrue(lost.wait(WAIT), "the loss seen")
        items._release()
        self.relay.mend()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertTrue(m.resumed)
        until(lambda: references_of(self.inspector, object_id, session_id) == 0, "the reference given back")

    def test_a_call_waiting_when_the_session_expires_fails_saying_it_could_not_be_resumed(self):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", resume_within=0.5, reconnect_initial_delay=0.01, reconnect_max_delay=0.05)
        self.addCleanup(m.close)
        queue = m.Queue()
        first = m.connection
        session_id = first.session_id
        getter, outcome = self.start_get(first, queue._id, None)
        until(lambda: len(self.session(session_id)["pending"]) == 1, "the get waiting")
        restored = self.when_restored(m)
        self.relay.cut(refuse=True)
        until(lambda: self.session(session_id) is None, "the session gone, its window passed")
        self.relay.mend()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertFalse(m.resumed)
        getter.join(WAIT)
        self.assertFalse(getter.is_alive(), "the get ended")
        error = outcome.get("error")
        self.assertIsInstance(error, ConnectionLostError)
        self.assertIn("could not be resumed", str(error))
        self.assertIn("effect of this call is unknown", str(error))
        with self.assertRaises(StaleProxyError):
            queue.qsize()

    def test_a_resuming_connection_cut_before_its_describe_answer_is_a_failed_try(self):
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        # The resuming connection ends after its initialize answer, before its describe answer.
        cut = self.relay.cut_downstream_before(b'"typeids"')
        self.relay.cut()
        self.assertTrue(cut.wait(WAIT), "the describe answer cut off")
        restored = self.when_restored(m)
        self.relay.mend()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertTrue(m.resumed)
        until(lambda: m.connection.pending_count() == 1, "the get carried over to the resumed connection")
        self.put_then_see_the_get_end(queue, getter, outcome)

    def test_reconnection_tries_ended_in_the_handshake_are_failed_tries_not_a_refused_key(self):
        # As a port forward or proxy whose manager is down: each try is accepted, then ended.
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        refused = self.relay.refused
        self.relay.cut(refuse=True, by_ending=True)
        until(lambda: self.relay.refused >= refused + 3 or m._ended is not None, "three tries refused")
        restored = self.when_restored(m)
        self.relay.mend()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.assertTrue(m.resumed)
        self.put_then_see_the_get_end(queue, getter, outcome)

    def test_a_call_whose_send_fails_at_the_cut_waits_for_the_resumed_connection_and_is_carried_out_once(self):
        # The relay stops reading the put part-way, so its send is still going when the network is
        # cut: more than the client's send buffer (Linux lets it grow to 4 MiB) and the relay's
        # fixed receive buffer hold.
        self.relay = Relay(ADDRESS, receive_buffer=64 * 1024)
        self.addCleanup(self.relay.close)
        m = self.resumable()
        queue = m.Queue()
        first = m.connection
        item = "x" * (12 * 1024 * 1024)
        held = self.relay.hold_upstream_at(b'"method":"put"')
        outcome = {}

        def put():
            try:
                outcome["result"] = queue.put(item)
            except Exception as error:
                outcome["error"] = error

        putter = threading.Thread(target=put)
        putter.start()
        self.assertTrue(held.wait(WAIT), "the relay holding the put part-sent")
        until(lambda: in_function(putter, "_sendall"), "the put blocked in its send")
        self.relay.cut()
        putter.join(3 * WAIT)
        self.assertFalse(putter.is_alive(), "the put ended")
        self.assertEqual(outcome, {"result": None}, "the put went on on the resumed connection")
        self.assertTrue(m.resumed)
        self.assertIsNot(m.connection, first)
        self.assertEqual(queue.qsize(), 1, "the put carried out once")
        self.assertEqual(queue.get(timeout=WAIT), item)

    @unittest.skipIf(not hasattr(signal, "pthread_kill"), "a signal to the main thread")
    def test_a_ctrl_c_that_interrupts_a_send_part_way_is_a_loss_and_the_session_resumes(self):
        # As in the test above, the relay stops reading a large append part-way, so that its send
        # (in this, the main thread: Ctrl-C comes there) is still going when the interrupt comes.
        self.relay = Relay(ADDRESS, receive_buffer=64 * 1024)
        self.addCleanup(self.relay.close)
        # Python's own SIGINT handler (raising KeyboardInterrupt), whatever the runner left.
        self.addCleanup(signal.signal, signal.SIGINT, signal.signal(signal.SIGINT, signal.default_int_handler))
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        items = m.list()
        held = self.relay.hold_upstream_at(b'"method":"append"')
        main = threading.main_thread()
        failures = []

        def interrupt():
            try:
                self.assertTrue(held.wait(WAIT), "the relay holding the append part-sent")
                until(lambda: in_function(main, "_sendall"), "the append blocked in its send")
                signal.pthread_kill(main.ident, signal.SIGINT)
            except BaseException as error:
                failures.append(error)

        helper = threading.Thread(target=interrupt)
        helper.start()
        try:
            with self.assertRaises(KeyboardInterrupt):
                items.append("x" * (12 * 1024 * 1024))
        finally:
            helper.join(WAIT)
        self.assertEqual(failures, [])
        # The stream holds half a message: the connection cannot go on, but the session can.
        self.put_then_see_the_get_end(queue, getter, outcome)
        self.assertTrue(m.resumed)
        self.assertIsNot(m.connection, first)
        self.assertEqual(len(items), 0, "the interrupted append, never sent whole, was not carried out")

    def test_without_resumption_a_framing_error_fails_the_call_in_flight_and_the_next_call_reconnects(self):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", reconnect_initial_delay=0.01)
        self.addCleanup(m.close)
        queue = m.Queue()
        queue.put("poison")
        first = m.connection
        self.relay.spoil_downstream(b'"poison"')
        with self.assertRaisesRegex(ConnectionLostError, "cannot read"):
            queue.get()
        self.assertEqual(m.dict({"n": 1}).copy(), {"n": 1}, "the next call reconnected")
        self.assertIsNot(m.connection, first)
        self.assertFalse(m.resumed)

    def test_callbacks_that_call_the_manager_run_once_each_in_order(self):
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        heard = []
        restored = threading.Event()

        def on_lost(error):
            # A call in the callback waits for the reconnection, as any call does.
            heard.append(("lost", queue.qsize()))

        def on_restored(attempts):
            heard.append(("restored", m.resumed, queue.qsize()))
            restored.set()

        m.on_connection_lost = on_lost
        m.on_connection_restored = on_restored
        self.relay.cut()
        self.assertTrue(restored.wait(WAIT), "connected again")
        self.put_then_see_the_get_end(queue, getter, outcome)
        self.assertEqual(heard, [("lost", 0), ("restored", True, 0)])

    def test_a_manager_connection_that_breaks_the_framing_is_a_loss_and_the_session_resumes(self):
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        # The get's answer comes unreadable once: the client closes that connection and resumes
        # the session, and the manager sends the answer it kept again.
        self.relay.spoil_downstream(b'"poison"')
        self.put(queue._id, "poison")
        getter.join(3 * WAIT)
        self.assertFalse(getter.is_alive(), "the get ended")
        self.assertEqual(outcome, {"result": "poison"}, "the get answered on the resumed connection")
        self.assertTrue(m.resumed)
        self.assertIsNot(m.connection, first)
        self.assertEqual(queue.qsize(), 0, "the item taken once")

    def test_a_manager_whose_answer_breaks_the_framing_each_time_ends_in_a_clear_error(self):
        m, queue, first, session_id, getter, outcome = self.waiting_get()
        # The answer kept for the get comes unreadable on every connection that resumes the session.
        self.relay.spoil_downstream(b'"poison"', times=None)
        self.put(queue._id, "poison")
        getter.join(3 * WAIT)
        self.assertFalse(getter.is_alive(), "the get ended instead of resuming for ever")
        error = outcome.get("error")
        self.assertIsInstance(error, ConnectionClosedError)
        self.assertIn("cannot read", str(error))
        self.assertIn("stopped reconnecting", str(error))
        with self.assertRaisesRegex(ConnectionClosedError, "stopped reconnecting"):
            queue.qsize()

    def test_without_resumption_a_callback_that_calls_the_manager_makes_the_reconnection_and_hears_restored_after(self):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", reconnect_initial_delay=0.01)
        self.addCleanup(m.close)
        queue = m.Queue()
        heard = []
        m.on_connection_lost = lambda error: heard.append(("lost", m.dict({"n": 1}).copy()))
        m.on_connection_restored = lambda attempts: heard.append(("restored", m.connection.closed))
        first = m.connection
        self.relay.cut()
        until(lambda: first.closed, "the loss seen")
        self.assertEqual(m.list([2]).copy(), [2], "the call after the loss goes on on a new connection")
        self.assertEqual(heard, [("lost", {"n": 1}), ("restored", False)])
        with self.assertRaises(StaleProxyError):
            queue.qsize()

    def test_a_callback_interrupted_by_ctrl_c_leaves_the_callbacks_after_it_called(self):
        m = connect(self.relay.address, AUTHKEY, name="unittest-relay", reconnect_initial_delay=0.01)
        self.addCleanup(m.close)
        heard = []

        def on_lost(error):
            heard.append("lost")
            if heard == ["lost"]:
                raise KeyboardInterrupt  # as a Ctrl-C that comes while the callback runs

        m.on_connection_lost = on_lost
        m.on_connection_restored = lambda attempts: heard.append("restored")
        for cut in range(2):
            lost = m.connection
            self.relay.cut()
            until(lambda: lost.closed, "the loss seen")
            if cut == 0:
                with self.assertRaises(KeyboardInterrupt, msg="the interrupt reaches the call that ran the callback"):
                    m.dict()
            self.assertEqual(m.list([cut]).copy(), [cut], "the next call reconnects")
        self.assertEqual(heard, ["lost", "restored", "lost", "restored"])


def in_function(thread, name):
    """Whether ``thread`` is inside a function called ``name`` now."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


if __name__ == "__main__":
    unittest.main()
