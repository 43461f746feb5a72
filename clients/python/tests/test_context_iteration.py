"""Context managers (locks acquire, other proxies release) and iteration (SPEC 13.9)."""

import contextlib
import queue
import threading

from syncmanager_client import ConnectionClosedError, QueueProxy, connection

from .support import WAIT, ServerTestCase, inspecting_manager, manager, references_of, sync


@contextlib.contextmanager
def interrupted_calls(after_answer: bool):
    """Every request made inside is interrupted once, by a Ctrl-C that comes where the caller
    waits for its answer: before the answer (``after_answer`` false) or just after it arrived."""
    original = connection.Connection._await
    interrupted = []  # the requests interrupted once already (kept alive, compared by identity)

    def await_answer(self, pending, timeout):
        if pending.method != "object/call" or any(p is pending for p in interrupted):
            return original(self, pending, timeout)
        interrupted.append(pending)
        if after_answer and not original(self, pending, WAIT):
            raise AssertionError("no answer within %s s" % WAIT)
        raise KeyboardInterrupt

    connection.Connection._await = await_answer
    try:
        yield
    finally:
        connection.Connection._await = original


class ConditionInterruptTest(ServerTestCase):
    """Ctrl-C in ``with cond: cond.wait()``: the lock is released only if the wait took it back."""

    def test_interrupt_after_the_wait_completed_releases_the_lock(self):
        cond = self.m.Condition()
        self.addCleanup(cond.close)
        with self.assertRaises(KeyboardInterrupt):
            with cond:
                with interrupted_calls(after_answer=True):
                    cond.wait(0.01)  # times out, takes the lock back; Ctrl-C lands after the answer
        self.assertIsInstance(self.m.connection.late_results[-1].result, bool)
        with self.assertRaisesRegex(RuntimeError, "un-acquired"):
            cond.release()  # __exit__ released it: nothing is held any more

    def test_interrupt_of_a_waiting_wait_leaves_the_lock_alone(self):
        cond = self.m.Condition()
        self.addCleanup(cond.close)
        with self.assertRaises(KeyboardInterrupt):
            with cond:
                with interrupted_calls(after_answer=False):
                    cond.wait()  # withdrawn: it ends without the lock, so __exit__ must not release
        self.assertTrue(cond.acquire(False), "the withdrawn wait left the lock free")
        cond.release()


class ContextManagerTest(ServerTestCase):
    def test_lock_kinds(self):
        for make in (self.m.Lock, self.m.RLock, self.m.Semaphore, self.m.BoundedSemaphore, self.m.Condition):
            with self.subTest(kind=make.args[0]):
                primitive = make()
                with primitive as acquired:
                    self.assertIs(acquired, True)
                    if hasattr(primitive, "locked"):
                        self.assertTrue(primitive.locked())
                if hasattr(primitive, "locked"):
                    self.assertFalse(primitive.locked())

    def test_exception_inside_with_releases_the_lock(self):
        lock = self.m.Lock()
        with self.assertRaises(ZeroDivisionError):
            with lock:
                1 / 0
        self.assertFalse(lock.locked())

    def test_with_proxy_releases_its_reference(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        with inspector.dict() as d:
            d["a"] = 1
            object_id = d._id
            self.assertEqual(references_of(inspector, object_id, inspector.session_id), 1)
        self.assertTrue(d._released)
        self.assertEqual(references_of(inspector, object_id, inspector.session_id), 0)
        with self.assertRaises(ValueError):
            d["a"]

    def test_manager_as_context_manager(self):
        with manager() as m:
            q = m.Queue()
            q.put(1)
        self.assertTrue(m.connection.closed)


class IterationTest(ServerTestCase):
    def test_containers(self):
        self.assertEqual(list(self.m.list([1, 2, 3])), [1, 2, 3])
        self.assertEqual(list(reversed(self.m.list([1, 2, 3]))), [3, 2, 1])
        self.assertEqual(list(self.m.dict({"a": 1, "b": 2})), ["a", "b"])
        self.assertEqual(sorted(self.m.set({3, 1, 2})), [1, 2, 3])
        self.assertEqual(list(self.m.list()), [])
        self.assertEqual([x for x in self.m.Array("i", [4, 5])], [4, 5])

    def test_iterators_are_released(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        l = inspector.list(list(range(5)))
        self.assertEqual(list(l), [0, 1, 2, 3, 4])  # exhausted: released
        for x in l:  # left early: released when the loop's iterator is collected
            if x == 1:
                break
        d = inspector.dict({"a": 1})
        it = iter(d)
        it_id = it._id
        self.assertEqual(references_of(inspector, it_id, inspector.session_id), 1)
        del it
        import gc

        gc.collect()
        sync(inspector)
        mine = [row for row in inspector.connection.request("inspect/snapshot")["objects"] if row["typeid"] == "Iterator" and any(h["sessionId"] == inspector.session_id for h in row["holders"])]
        self.assertEqual(mine, [])

    def test_queue_iteration_ends_when_empty(self):
        q = self.m.Queue()
        for i in range(5):
            q.put(i)
        q.iter_timeout = 0.1
        self.assertEqual(list(q), [0, 1, 2, 3, 4])
        self.assertEqual(list(q.iter(timeout=0.05)), [])

    def test_queue_iteration_with_sentinel(self):
        q = self.m.Queue()
        for item in ["a", "b", None, "after"]:
            q.put(item)
        self.assertEqual(list(q.iter(timeout=None, sentinel=None)), ["a", "b"])
        self.assertEqual(q.get_nowait(), "after")

    def test_queue_iteration_waits_for_items(self):
        q = self.m.Queue()
        got = queue.Queue()
        started = threading.Event()

        def consume():
            started.set()
            for item in q.iter(timeout=WAIT, sentinel="stop"):
                got.put(item)
            got.put("done")

        t = threading.Thread(target=consume, daemon=True)
        t.start()
        self.assertTrue(started.wait(WAIT))
        for item in (1, 2, "stop"):
            q.put(item)
        self.assertEqual([got.get(timeout=WAIT) for _ in range(3)], [1, 2, "done"])
        t.join(WAIT)

    def test_queue_iteration_ends_when_the_connection_closes(self):
        m = manager()
        q = m.Queue()
        self.assertIsInstance(q, QueueProxy)
        got = queue.Queue()
        waiting = threading.Event()

        def consume():
            waiting.set()
            try:
                got.put(list(q.iter(timeout=None)))
            except ConnectionClosedError as error:  # pragma: no cover - would be a bug
                got.put(error)

        t = threading.Thread(target=consume, daemon=True)
        t.start()
        self.assertTrue(waiting.wait(WAIT))
        # Whether the consumer takes "one" before the close or not, its loop ends quietly when
        # the connection goes.
        q.put("one")
        m.connection.close()
        result = got.get(timeout=WAIT)
        self.assertIsInstance(result, list)
        t.join(WAIT)
