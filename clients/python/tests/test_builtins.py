"""Every built-in typeid of SPEC 13 through its proxy, with Python's method names."""

import queue
import threading

from syncmanager_client import (
    ArrayProxy,
    BarrierProxy,
    BoundedSemaphoreProxy,
    ConditionProxy,
    DictProxy,
    EventProxy,
    IteratorProxy,
    ListProxy,
    LockProxy,
    NamespaceProxy,
    QueueProxy,
    RLockProxy,
    SemaphoreProxy,
    SetProxy,
    ValueProxy,
)

from .support import WAIT, ServerTestCase, manager


class DescribeTest(ServerTestCase):
    def test_creation_methods_follow_describe(self):
        names = self.m.creation_methods()
        for typeid in ("Queue", "JoinableQueue", "LifoQueue", "PriorityQueue", "dict", "list", "set", "Namespace", "Value", "Array",
                       "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier"):
            self.assertIn(typeid, names)
        self.assertNotIn("Iterator", names)  # createMethod false (SPEC 13.9)
        with self.assertRaises(AttributeError):
            self.m.Iterator
        self.assertEqual(self.m.connection.protocol_version, "1.3")
        self.assertEqual(self.m.connection.server_info.get("name"), "syncmanager")
        self.assertTrue(self.m.session_id)


class QueueTest(ServerTestCase):
    def test_queue(self):
        q = self.m.Queue()
        self.assertIsInstance(q, QueueProxy)
        self.assertTrue(q.empty())
        q.put(1)
        q.put_nowait(2)
        q.put(item=3)
        self.assertEqual(q.qsize(), 3)
        self.assertFalse(q.full())
        self.assertEqual([q.get(), q.get_nowait(), q.get(block=False)], [1, 2, 3])
        with self.assertRaises(queue.Empty):
            q.get_nowait()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.05)

    def test_bounded(self):
        q = self.m.Queue(2)
        q.put("a")
        q.put("b")
        self.assertTrue(q.full())
        with self.assertRaises(queue.Full):
            q.put_nowait("c")
        with self.assertRaises(queue.Full):
            q.put("c", timeout=0.05)
        self.assertEqual(q.qsize(), 2)

    def test_joinable(self):
        q = self.m.JoinableQueue()
        self.assertIsInstance(q, QueueProxy)
        q.put("job")
        joined = threading.Event()

        def join():
            q.join()
            joined.set()

        t = threading.Thread(target=join, daemon=True)
        t.start()
        self.assertEqual(q.get(timeout=WAIT), "job")
        self.assertFalse(joined.is_set())  # not before task_done
        q.task_done()
        self.assertTrue(joined.wait(WAIT))
        t.join(WAIT)
        with self.assertRaises(ValueError):
            q.task_done()

    def test_lifo_and_priority(self):
        lifo = self.m.LifoQueue()
        for i in range(3):
            lifo.put(i)
        self.assertEqual([lifo.get() for _ in range(3)], [2, 1, 0])
        pq = self.m.PriorityQueue()
        for item in [(3, "c"), (1, "a"), (2, "b")]:
            pq.put(item)
        self.assertEqual([pq.get() for _ in range(3)], [(1, "a"), (2, "b"), (3, "c")])
        pq.put({"x": 1})
        with self.assertRaises(TypeError):
            pq.put({"y": 2})  # dicts cannot be ordered (SPEC 13.6)


class DictTest(ServerTestCase):
    def test_dict(self):
        d = self.m.dict({"a": 1}, b=2)
        self.assertIsInstance(d, DictProxy)
        d["c"] = 3
        d[(1, 2)] = "tuple key"
        self.assertEqual(len(d), 4)
        self.assertIn("a", d)
        self.assertNotIn("zz", d)
        self.assertEqual(d["b"], 2)
        self.assertEqual(d.get("zz", "default"), "default")
        self.assertEqual(d.keys(), ["a", "b", "c", (1, 2)])
        self.assertEqual(d.values(), [1, 2, 3, "tuple key"])
        self.assertEqual(d.items()[0], ("a", 1))
        self.assertEqual(d.setdefault("e", 5), 5)
        self.assertEqual(d.pop("e"), 5)
        self.assertEqual(d.pop("e", None), None)
        del d[(1, 2)]
        self.assertEqual(d.popitem(), ("c", 3))
        d.update({"x": 9}, y=10)
        self.assertEqual(d.copy(), {"a": 1, "b": 2, "x": 9, "y": 10})
        self.assertEqual(d._getvalue(), {"a": 1, "b": 2, "x": 9, "y": 10})
        self.assertEqual(dict(d), {"a": 1, "b": 2, "x": 9, "y": 10})
        self.assertEqual(d | {"z": 0}, {"a": 1, "b": 2, "x": 9, "y": 10, "z": 0})
        self.assertEqual({"a": 0, "q": 1} | d, {"a": 1, "q": 1, "b": 2, "x": 9, "y": 10})  # __ror__
        d |= {"w": 1}
        self.assertIsInstance(d, DictProxy)
        self.assertEqual(d["w"], 1)
        self.assertEqual(d.fromkeys(["k"], 0), {"k": 0})
        self.assertEqual(list(d), ["a", "b", "x", "y", "w"])
        self.assertEqual(list(reversed(d)), ["w", "y", "x", "b", "a"])
        d.clear()
        self.assertEqual(len(d), 0)
        with self.assertRaises(KeyError):
            d.popitem()


class ListTest(ServerTestCase):
    def test_list(self):
        l = self.m.list([3, 1, 2])
        self.assertIsInstance(l, ListProxy)
        l.append(4)
        l.extend([5, 6])
        l.insert(0, 0)
        self.assertEqual(len(l), 7)
        self.assertEqual(l[0], 0)
        self.assertEqual(l[-1], 6)
        self.assertEqual(l[1:3], [3, 1])
        self.assertEqual(l[::-2], [6, 4, 1, 0])
        l[0] = 10
        l[1:3] = ["a", "b", "c"]
        self.assertEqual(l.copy(), [10, "a", "b", "c", 2, 4, 5, 6])
        del l[1:4]
        self.assertEqual(l._getvalue(), [10, 2, 4, 5, 6])
        self.assertIn(4, l)
        self.assertEqual(l.index(4), 2)
        self.assertEqual(l.count(5), 1)
        self.assertEqual(l.pop(), 6)
        self.assertEqual(l.pop(0), 10)
        l.remove(4)
        l.reverse()
        self.assertEqual(list(l), [5, 2])
        l.sort()
        self.assertEqual(list(l), [2, 5])
        l.sort(reverse=True)
        self.assertEqual(list(reversed(l)), [2, 5])
        self.assertEqual(l + [1], [5, 2, 1])
        self.assertEqual(l * 2, [5, 2, 5, 2])
        self.assertEqual(2 * l, [5, 2, 5, 2])
        l += [7]
        self.assertIsInstance(l, ListProxy)
        l *= 2
        self.assertEqual(l._getvalue(), [5, 2, 7, 5, 2, 7])
        l.clear()
        with self.assertRaises(IndexError):
            l[0]
        with self.assertRaises(IndexError):
            l.pop()
        with self.assertRaises(ValueError):
            l.remove("absent")


class SetTest(ServerTestCase):
    def test_set(self):
        s = self.m.set([1, 2, 3])
        self.assertIsInstance(s, SetProxy)
        s.add(4)
        s.discard(1)
        s.remove(2)
        self.assertEqual(len(s), 2)
        self.assertIn(3, s)
        self.assertEqual(s.copy(), {3, 4})
        self.assertEqual(s | {5}, {3, 4, 5})
        self.assertEqual(s & {3}, {3})
        self.assertEqual(s - {3}, {4})
        self.assertEqual(s ^ {4, 9}, {3, 9})
        self.assertEqual({3, 7} & s, {3})
        self.assertEqual(frozenset([3, 8]) | s, frozenset([3, 4, 8]))
        self.assertTrue(s == {3, 4})
        self.assertFalse(s != {3, 4})
        self.assertTrue(s <= {3, 4, 5})
        self.assertTrue(s < {3, 4, 5})
        self.assertTrue(s >= {3})
        self.assertTrue(s > {3})
        self.assertEqual(s.union([10]), {3, 4, 10})
        self.assertEqual(s.intersection([3]), {3})
        self.assertEqual(s.difference([3]), {4})
        self.assertEqual(s.symmetric_difference([4, 5]), {3, 5})
        self.assertTrue(s.issubset([3, 4, 5]))
        self.assertTrue(s.issuperset([3]))
        self.assertTrue(s.isdisjoint([9]))
        other = self.m.set([4, 100])
        self.assertEqual(s & other, {4})  # a set proxy is a set operand (SPEC 13.7)
        s |= {11}
        self.assertIsInstance(s, SetProxy)
        s &= {3, 4, 11}
        s -= {11}
        s ^= {5}
        self.assertEqual(s._getvalue(), {3, 4, 5})
        s.update([6])
        s.difference_update([6])
        s.intersection_update([3, 4, 5])
        s.symmetric_difference_update([5])
        self.assertEqual(sorted(s), [3, 4])
        self.assertEqual(s.pop(), 3)  # insertion order on the server
        with self.assertRaises(TypeError):
            s.add([1])  # unhashable
        with self.assertRaises(TypeError):
            s & [1]
        s.clear()
        with self.assertRaises(KeyError):
            s.pop()
        with self.assertRaises(TypeError):
            hash(s)


class NamespaceValueArrayTest(ServerTestCase):
    def test_namespace(self):
        ns = self.m.Namespace(x=1)
        self.assertIsInstance(ns, NamespaceProxy)
        ns.y = [2]
        self.assertEqual(ns.x, 1)
        self.assertEqual(ns.y, [2])
        del ns.x
        with self.assertRaises(AttributeError):
            ns.x
        self.assertEqual(ns._getvalue(), {"y": [2]})

    def test_value(self):
        v = self.m.Value("i", 1)
        self.assertIsInstance(v, ValueProxy)
        self.assertEqual(v.get(), 1)
        v.set(2)
        self.assertEqual(v.value, 2)
        v.value = 3.5
        self.assertEqual(v.get(), 3.5)

    def test_array(self):
        a = self.m.Array("i", [1, 2, 3])
        self.assertIsInstance(a, ArrayProxy)
        self.assertEqual(len(a), 3)
        a[0] = 10
        self.assertEqual(list(a), [10, 2, 3])  # iteration by __getitem__ until IndexError
        self.assertEqual(a[1:], [2, 3])
        a[1:3] = [7, 8, 9]
        self.assertEqual(a._getvalue(), [10, 7, 8, 9])
        with self.assertRaises(OverflowError):
            a[0] = 2 ** 40
        with self.assertRaises(TypeError):
            a[0] = "x"
        d = self.m.Array("d", [1, 2])
        self.assertEqual(d[0], 1.0)
        self.assertIs(type(d[0]), float)


class LockTest(ServerTestCase):
    def test_lock(self):
        lock = self.m.Lock()
        self.assertIsInstance(lock, LockProxy)
        self.assertTrue(lock.acquire())
        self.assertTrue(lock.locked())
        self.assertFalse(lock.acquire(False))
        self.assertFalse(lock.acquire(timeout=0.05))
        lock.release()
        with self.assertRaises(RuntimeError):
            lock.release()
        with lock:
            self.assertTrue(lock.locked())
        self.assertFalse(lock.locked())
        with self.assertRaises(ValueError):
            lock.acquire(False, 1)

    def test_rlock(self):
        rlock = self.m.RLock()
        self.assertIsInstance(rlock, RLockProxy)
        with rlock:
            with rlock:  # the owner is this connection's session: it may take it again
                self.assertTrue(rlock.locked())
            self.assertTrue(rlock.locked())
        self.assertFalse(rlock.locked())
        with self.assertRaises(RuntimeError):
            rlock.release()
        # Another session cannot take it while this one holds it.
        other = manager()
        self.addCleanup(other.close)
        theirs = other.proxy_from_token(rlock._token)
        with rlock:
            self.assertFalse(theirs.acquire(False))
            with self.assertRaises(RuntimeError):
                theirs.release()

    def test_semaphores(self):
        sem = self.m.Semaphore(2)
        self.assertIsInstance(sem, SemaphoreProxy)
        self.assertTrue(sem.acquire())
        self.assertTrue(sem.acquire())
        self.assertFalse(sem.acquire(False))
        self.assertFalse(sem.acquire(timeout=0.05))
        sem.release(2)
        with sem:
            self.assertTrue(sem.acquire(False))
            sem.release()
        with self.assertRaises(ValueError):
            self.m.Semaphore(-1)
        bounded = self.m.BoundedSemaphore(1)
        self.assertIsInstance(bounded, BoundedSemaphoreProxy)
        with bounded:
            self.assertFalse(bounded.acquire(False))
        with self.assertRaises(ValueError):
            bounded.release()


class ConditionEventBarrierTest(ServerTestCase):
    def test_condition(self):
        cond = self.m.Condition()
        self.assertIsInstance(cond, ConditionProxy)
        with self.assertRaises(RuntimeError):
            cond.wait(0)  # not holding its lock
        with cond:
            self.assertFalse(cond.wait(0.05))
            cond.notify()  # nobody waits: nothing happens
            cond.notify_all()
        flag = self.m.Value("b", 0)
        waiting = threading.Event()
        results = queue.Queue()
        other = self._second_manager()
        their_cond = other.proxy_from_token(cond._token)
        their_flag = other.proxy_from_token(flag._token)

        def waiter():
            with their_cond:
                waiting.set()
                results.put(their_cond.wait_for(lambda: their_flag.get() == 1, timeout=WAIT))

        t = threading.Thread(target=waiter, daemon=True)
        t.start()
        self.assertTrue(waiting.wait(WAIT))
        # The waiter holds the lock until its wait gives it up; acquiring here waits for that.
        with cond:
            flag.set(1)
            cond.notify()
        self.assertTrue(results.get(timeout=WAIT))
        t.join(WAIT)

    def _second_manager(self):
        other = manager()
        self.addCleanup(other.close)
        return other

    def test_event(self):
        ev = self.m.Event()
        self.assertIsInstance(ev, EventProxy)
        self.assertFalse(ev.is_set())
        self.assertFalse(ev.wait(0.05))
        woke = queue.Queue()
        t = threading.Thread(target=lambda: woke.put(ev.wait(WAIT)), daemon=True)
        t.start()
        ev.set()
        self.assertTrue(woke.get(timeout=WAIT))
        self.assertTrue(ev.is_set())
        ev.clear()
        self.assertFalse(ev.is_set())
        t.join(WAIT)

    def test_barrier(self):
        barrier = self.m.Barrier(2)
        self.assertIsInstance(barrier, BarrierProxy)
        self.assertEqual(barrier.parties, 2)
        self.assertEqual(barrier.n_waiting, 0)
        self.assertFalse(barrier.broken)
        indices = queue.Queue()
        t = threading.Thread(target=lambda: indices.put(barrier.wait(WAIT)), daemon=True)
        t.start()
        mine = barrier.wait(WAIT)
        theirs = indices.get(timeout=WAIT)
        self.assertEqual(sorted([mine, theirs]), [0, 1])
        t.join(WAIT)
        barrier.abort()
        self.assertTrue(barrier.broken)
        with self.assertRaises(threading.BrokenBarrierError):
            barrier.wait(1)
        barrier.reset()
        self.assertFalse(barrier.broken)
        with self.assertRaises(threading.BrokenBarrierError):
            barrier.wait(0)  # a timeout breaks it


class IteratorTest(ServerTestCase):
    def test_iterator_proxy(self):
        l = self.m.list(["a", "b"])
        it = iter(l)
        self.assertIsInstance(it, IteratorProxy)
        self.assertEqual(next(it), "a")
        self.assertEqual(next(it), "b")
        with self.assertRaises(StopIteration):
            next(it)
        self.assertTrue(it._released)  # exhausted: its reference went back at once
        with self.assertRaises(StopIteration):
            next(it)
        d = self.m.dict({"k": 1})
        it = iter(d)
        d["new"] = 2
        with self.assertRaises(RuntimeError):
            next(it)  # dictionary changed size during iteration
        it.close()
        self.assertTrue(it._released)
