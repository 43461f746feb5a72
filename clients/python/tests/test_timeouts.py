"""Timeouts: the methods' own timeout arguments, and the client-wide request timeout that
cancels a call with $/cancelRequest (SPEC 10)."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import unittest

from syncmanager_client import RequestCancelledError, RequestTimeoutError

from .support import ADDRESS, AUTHKEY, WAIT, ServerTestCase, inspecting_manager, manager, pending_calls, until


class MethodTimeoutTest(ServerTestCase):
    def test_own_timeouts(self):
        q = self.m.Queue(1)
        started = time.monotonic()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.2)
        self.assertGreaterEqual(time.monotonic() - started, 0.15)
        q.put(1)
        with self.assertRaises(queue.Full):
            q.put(2, True, 0.1)
        lock = self.m.Lock()
        lock.acquire()
        self.assertFalse(lock.acquire(timeout=0.1))
        self.assertFalse(self.m.Event().wait(0.1))
        self.assertFalse(self.m.Semaphore(0).acquire(timeout=0.1))


class RequestTimeoutTest(ServerTestCase):
    def test_blocked_get_is_cancelled_without_effect(self):
        impatient = manager(request_timeout=0.3)
        self.addCleanup(impatient.close)
        q = self.m.Queue()
        theirs = impatient.proxy_from_token(q._token)
        started = time.monotonic()
        with self.assertRaises(RequestTimeoutError) as caught:
            theirs.get()
        self.assertGreaterEqual(time.monotonic() - started, 0.25)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertIsInstance(caught.exception, RequestCancelledError)
        self.assertEqual(impatient.connection.pending_count(), 0)
        # The cancelled get took nothing: the next item is there for whoever asks.
        q.put("kept")
        self.assertEqual(theirs.get_nowait(), "kept")
        # The connection goes on serving.
        self.assertEqual(theirs.qsize(), 0)

    def test_per_call_timeout(self):
        q = self.m.Queue()
        with self.assertRaises(RequestTimeoutError):
            q._callmethod("get", request_timeout=0.1)
        q.put(5)
        self.assertEqual(q.get(timeout=WAIT), 5)

    def test_result_that_beats_the_cancel_is_kept(self):
        # With no time at all the cancel always comes too late for a call that does not block:
        # the server ignores it and the result stands (SPEC 10), so nothing is lost.
        q = self.m.Queue()
        q.put("item")
        self.assertEqual(q._callmethod("get", request_timeout=0), "item")
        self.assertEqual(q._callmethod("qsize", request_timeout=0), 0)

    def test_cancelled_acquire_takes_nothing(self):
        lock = self.m.Lock()
        lock.acquire()
        impatient = manager(request_timeout=0.2)
        self.addCleanup(impatient.close)
        theirs = impatient.proxy_from_token(lock._token)
        with self.assertRaises(RequestTimeoutError):
            theirs.acquire()
        lock.release()
        self.assertFalse(lock.locked())  # the withdrawn acquire did not take it when it came free

    def test_cancelled_condition_wait_leaves_the_lock(self):
        impatient = manager(request_timeout=0.2)
        self.addCleanup(impatient.close)
        cond = impatient.Condition()
        # The wait is cancelled and ends without the lock (SPEC 10.1); the with block then must
        # not release it (that would raise RuntimeError for an RLock it no longer owns).
        with self.assertRaises(RequestTimeoutError):
            with cond:
                cond.wait()
        mine = self.m.proxy_from_token(cond._token)
        self.assertTrue(mine.acquire(False))  # free for anyone now
        mine.release()
        # And the proxy still works normally afterwards.
        with cond:
            self.assertFalse(cond.wait(0))

    def test_blocked_call_is_withdrawn_when_its_connection_closes(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        doomed = manager()
        q = self.m.Queue()
        theirs = doomed.proxy_from_token(q._token)
        outcome = queue.Queue()

        def blocked_get():
            try:
                outcome.put(theirs.get())
            except Exception as error:
                outcome.put(error)

        t = threading.Thread(target=blocked_get, daemon=True)
        t.start()
        until(lambda: pending_calls(inspector, doomed.session_id), "the get to block")
        doomed.connection.close()
        error = outcome.get(timeout=WAIT)
        self.assertIsInstance(error, ConnectionError)
        t.join(WAIT)
        # The client knows at once; the server learns when the close reaches it. A put before
        # that would go to the get still waiting there, and be lost with its answer (SPEC 10).
        until(lambda: not pending_calls(inspector, doomed.session_id), "the server to withdraw the get")
        q.put("not lost")  # nothing waits for it any more: it stays in the queue
        self.assertEqual(q.get_nowait(), "not lost")


CHILD = r"""
import sys
import time
from syncmanager_client import connect
m = connect(sys.argv[1], sys.argv[2], name="interrupted-child")
q = m.proxy_from_token({"id": sys.argv[3], "typeid": "Queue", "exposed": [], "builtin": "Queue"})
print(m.session_id, flush=True)
try:
    q.get()
    print("got an item", flush=True)
except KeyboardInterrupt:
    # The get was withdrawn on the server before KeyboardInterrupt reached us. Its answer (the
    # cancellation) may come after the answer to a later call (SPEC 6: any order): wait for it.
    size = q.qsize()
    deadline = time.monotonic() + 10
    while m.connection.pending_count() and time.monotonic() < deadline:
        m.connection.wait_closed(0.01)  # a pause between looks, bounded by the deadline
    print("interrupted", size, m.connection.pending_count(), flush=True)
m.close()
"""


class InterruptTest(ServerTestCase):
    @unittest.skipIf(os.name != "posix", "SIGINT to a child process")
    def test_ctrl_c_withdraws_the_blocked_call(self):
        inspector = inspecting_manager()
        self.addCleanup(inspector.close)
        q = self.m.Queue()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        child = subprocess.Popen([sys.executable, "-c", CHILD, ADDRESS, AUTHKEY, q._id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        self.addCleanup(lambda: child.poll() is None and child.kill())
        session_id = child.stdout.readline().strip()
        self.assertTrue(session_id, child.stderr.read() if child.poll() is not None else "no session id")
        until(lambda: pending_calls(inspector, session_id), "the child's get to block")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=WAIT)
        self.assertEqual(out.strip(), "interrupted 0 0", err)
        q.put("still here")  # the withdrawn get takes nothing
        self.assertEqual(q.get_nowait(), "still here")
