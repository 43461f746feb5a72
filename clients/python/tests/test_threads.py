"""One connection shared by threads: pipelined requests, answers dispatched by id, and a
blocking call that holds only its own request (SPEC 6, 10)."""

import queue
import threading

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
