"""One connection shared by threads: pipelined requests, answers dispatched by id, and a
blocking call that holds only its own request (SPEC 6, 10)."""

import queue
import threading
import unittest

from syncmanager_client import connection

from .support import WAIT, ServerTestCase, inspecting_manager, pending_calls, until


class SharedConnectionTest(ServerTestCase):
    def test_many_threads_one_connection(self):
        d = self.m.dict()
        results = self.m.list()
        errors = queue.Queue()
        threads = []

        def work(n):
            try:
                for i in range(40):
                    d[n] = i
                    if d[n] != i:  # each thread reads back its own write
                        raise AssertionError("thread %d read %r" % (n, d[n]))
                    results.append((n, i))
            except Exception as error:
                errors.put(error)

        for n in range(8):
            t = threading.Thread(target=work, args=(n,), daemon=True)
            threads.append(t)
            t.start()
        for t in threads:
            t.join(WAIT * 3)
            self.assertFalse(t.is_alive())
        self.assertTrue(errors.empty(), errors.queue)
        got = results._getvalue()
        self.assertEqual(len(got), 8 * 40)
        for n in range(8):
            self.assertEqual([i for (m, i) in got if m == n], list(range(40)))  # in each thread's order
        self.assertEqual(self.m.connection.pending_count(), 0)

    def test_a_call_made_one_at_a_time_reads_its_own_answer(self):
        # Handing every answer from a reader thread to the caller cost more than the rest of a
        # call: a caller alone on the connection reads its answer itself.
        readers = []
        original = connection.Connection._dispatch

        def dispatch(conn, message):
            readers.append((threading.current_thread(), message.get("id")))
            original(conn, message)

        q = self.m.Queue()
        connection.Connection._dispatch = dispatch
        try:
            for i in range(50):
                q.put(i)
                self.assertEqual(q.get(), i)
        finally:
            connection.Connection._dispatch = original
        mine = [r for r in readers if r[0] is threading.current_thread()]
        # The reader thread may still hold the role for the first call (the connection was idle).
        self.assertGreater(len(mine), 50, "answers read in the calling thread: %d of %d" % (len(mine), len(readers)))
        self.assertEqual(self.m.connection.pending_count(), 0)

    def test_threads_take_turns_reading(self):
        # Whoever reads hands each answer to its caller, and lets another go on when it is done:
        # no call waits for a reader that has stopped.
        q = self.m.Queue()
        errors = queue.Queue()

        def work(n):
            try:
                for i in range(30):
                    q.put((n, i))
                    q.get(timeout=WAIT)
                    if i % 10 == 0:
                        q.qsize()
            except Exception as error:
                errors.put(error)

        threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT * 3)
            self.assertFalse(t.is_alive())
        self.assertTrue(errors.empty(), errors.queue)
        self.assertEqual(q.qsize(), 0)
        self.assertEqual(self.m.connection.pending_count(), 0)

    def test_blocked_get_does_not_block_the_connection(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        q = self.m.Queue()
        other = self.m.list()
        got = queue.Queue()
        t = threading.Thread(target=lambda: got.put(q.get(timeout=WAIT)), daemon=True)
        t.start()
        until(lambda: pending_calls(inspector, self.m.session_id), "the get to block in the manager")
        # The same connection serves other calls meanwhile.
        for i in range(20):
            other.append(i)
        self.assertEqual(len(other), 20)
        self.assertTrue(got.empty())
        q.put("woken")
        self.assertEqual(got.get(timeout=WAIT), "woken")
        t.join(WAIT)

    def test_blocked_calls_answer_out_of_order(self):
        first, second = self.m.Queue(), self.m.Queue()
        answers = queue.Queue()
        threads = [threading.Thread(target=lambda q=q, name=name: answers.put((name, q.get(timeout=WAIT))), daemon=True) for q, name in ((first, "first"), (second, "second"))]
        for t in threads:
            t.start()
        second.put(2)
        self.assertEqual(answers.get(timeout=WAIT), ("second", 2))
        first.put(1)
        self.assertEqual(answers.get(timeout=WAIT), ("first", 1))
        for t in threads:
            t.join(WAIT)


class PendingRequestTest(unittest.TestCase):
    """What a waiting caller relies on of its request's answered flag, however set and wait meet."""

    def test_set_before_the_first_wait(self):
        pending = connection._Pending("m", None)
        self.assertFalse(pending.wait(0))
        pending.set()
        pending.set()  # twice: harmless
        self.assertTrue(pending.wait(0))
        self.assertTrue(pending.wait())

    def test_set_from_another_thread_while_waiting(self):
        for first_wait in (None, 0.0, 0.001):
            with self.subTest(first_wait=first_wait):
                pending = connection._Pending("m", None)
                if first_wait is not None:
                    self.assertFalse(pending.wait(first_wait))  # a wait that timed out leaves the lock made
                waiting = threading.Event()
                woke = []

                def wait():
                    waiting.set()
                    woke.append(pending.wait(WAIT))

                t = threading.Thread(target=wait, daemon=True)
                t.start()
                self.assertTrue(waiting.wait(WAIT))
                pending.set()
                t.join(WAIT)
                self.assertEqual(woke, [True])
                self.assertTrue(pending.is_set())
