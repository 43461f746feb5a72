"""Acknowledged gets (SPEC 20.3): ``q.get(ack=True)`` delivers an item that stays in flight until
it is acknowledged; ``with`` acknowledges on success and gives the item back on an exception."""

import queue

from syncmanager_client import DeliverySettledError, QueueProxy, UnknownDeliveryError

from .support import WAIT, ServerTestCase, manager, until


class HandlingFailed(Exception):
    pass


class AcknowledgedGetTest(ServerTestCase):
    def test_with_acknowledges_when_the_block_succeeds(self) -> None:
        q = self.m.Queue()
        q.put("job")
        with q.get(ack=True) as item:
            self.assertEqual(item.value, "job")
            self.assertFalse(item.redelivered)
            self.assertEqual(item.delivery_count, 1)
        self.assertTrue(item.settled)
        with self.assertRaises(queue.Empty):
            q.get_nowait()

    def test_with_gives_the_item_back_when_the_block_raises(self) -> None:
        q = self.m.Queue()
        q.put("first")
        q.put("second")
        with self.assertRaises(HandlingFailed):
            with q.get(ack=True) as item:
                raise HandlingFailed(item.value)
        with q.get(ack=True, timeout=WAIT) as again:
            self.assertEqual(again.value, "first")
            self.assertTrue(again.redelivered)
            self.assertEqual(again.delivery_count, 2)
        self.assertEqual(q.get_nowait(), "second")

    def test_explicit_ack_and_nack_settle_once(self) -> None:
        q = self.m.LifoQueue()
        for n in (1, 2, 3):
            q.put(n)
        d = q.get_nowait(ack=True)
        self.assertEqual(d.value, 3)
        d.nack()
        with self.assertRaises(DeliverySettledError):
            d.ack()
        e = q.get(ack=True)
        self.assertEqual((e.value, e.redelivered), (3, True))
        e.ack()
        with self.assertRaises(DeliverySettledError):
            e.nack()
        # Settled inside the block: the with leaves it as it is.
        with q.get(ack=True) as f:
            f.nack()
        self.assertEqual(q.qsize(), 2)

    def test_a_visibility_timeout_gives_the_item_back(self) -> None:
        q = self.m.PriorityQueue()
        q.put((2, "b"))
        d = q.get(ack=True, visibility_timeout=0.05)
        self.assertEqual(d.value, (2, "b"))
        back = q.get(True, WAIT, ack=True)
        self.assertTrue(back.redelivered)
        with self.assertRaises(UnknownDeliveryError):
            d.ack()
        back.ack()
        self.assertEqual(q.qsize(), 0)

    def test_visibility_timeout_without_ack_is_refused(self) -> None:
        q = self.m.Queue()
        with self.assertRaises(TypeError):
            q.get(visibility_timeout=1)

    def test_a_session_that_ends_gives_its_deliveries_back(self) -> None:
        q = self.m.JoinableQueue()
        q.put("x")
        worker = manager(name="unittest-worker")
        try:
            worker.connection.request("object/incref", {"id": q._id})
            theirs = QueueProxy(worker, q._token)
            held = theirs.get(ack=True)
            self.assertEqual(held.value, "x")
            self.assertEqual(q.qsize(), 0)
        finally:
            worker.close()
        until(lambda: q.qsize() == 1, "the worker's delivery to come back")
        with q.get(ack=True) as item:
            self.assertEqual((item.value, item.redelivered, item.delivery_count), ("x", True, 2))
        q.task_done()
        q.join()
