"""Reference counting (SPEC 8.5): a proxy holds one reference and gives it back once, on
close(), at the end of a with block, or when it is garbage-collected."""

import gc
import pickle
import copy

from syncmanager_client import Manager

from .support import ServerTestCase, inspecting_manager, manager, object_summary, references_of, snapshot, sync, until


class ReferenceTest(ServerTestCase):
    def setUp(self):
        self.m = inspecting_manager()
        self.addCleanup(self.m.close)
        self.sid = self.m.session_id

    def refs(self, proxy_or_id):
        object_id = getattr(proxy_or_id, "_id", proxy_or_id)
        sync(self.m)
        return references_of(self.m, object_id, self.sid)

    def test_close_releases_once(self):
        q = self.m.Queue()
        self.assertEqual(self.refs(q), 1)
        q.close()
        q.close()  # idempotent: one decref only
        self.assertEqual(self.refs(q), 0)
        self.assertIsNone(object_summary(self.m, q._id))  # nobody else held it: gone

    def test_garbage_collection_releases(self):
        d = self.m.dict()
        object_id = d._id
        del d
        gc.collect()
        self.assertEqual(self.refs(object_id), 0)

    def test_each_received_token_is_one_reference(self):
        d = self.m.dict()
        q = self.m.Queue()
        d["q"] = q
        copies = [d["q"], d["q"]]  # each $proxy received is one more reference (SPEC 11.5)
        self.assertEqual(self.refs(q), 3)
        copies.pop().close()
        self.assertEqual(self.refs(q), 2)
        del copies
        gc.collect()
        self.assertEqual(self.refs(q), 1)

    def test_proxy_from_token_takes_its_own_reference(self):
        l = self.m.list([1])
        other = manager()
        self.addCleanup(other.close)
        theirs = other.proxy_from_token(l._token)
        l.close()  # the sender releases; the receiver's reference keeps the object
        self.assertEqual(theirs[0], 1)
        sync(other)
        row = object_summary(self.m, theirs._id)
        self.assertEqual([h["sessionId"] for h in row["holders"]], [other.session_id])

    def test_released_proxy_refuses_use(self):
        q = self.m.Queue()
        d = self.m.dict()
        q.close()
        with self.assertRaises(ValueError):
            q.qsize()
        with self.assertRaises(ValueError):
            d["q"] = q  # a released proxy cannot be sent either

    def test_proxies_are_not_pickled(self):
        q = self.m.Queue()
        with self.assertRaises(TypeError):
            pickle.dumps(q)
        with self.assertRaises(TypeError):
            copy.copy(q)

    def test_closing_the_manager_releases_everything(self):
        other = manager()
        q = other.Queue()
        d = other.dict()
        ids = [q._id, d._id]
        sid = other.session_id
        other.close()
        # The server has ended the session before it answered shutdown (SPEC 7.2).
        live = {row["id"] for row in snapshot(self.m)["objects"]}
        self.assertFalse(live & set(ids))
        self.assertNotIn(sid, [s["sessionId"] for s in snapshot(self.m)["sessions"]])

    def test_abandoned_manager_closes_its_connection(self):
        other = manager()
        self.assertIsInstance(other, Manager)
        sid = other.session_id
        q = other.Queue()
        del other, q
        gc.collect()
        until(lambda: sid not in [s["sessionId"] for s in snapshot(self.m)["sessions"]], "the abandoned session to end")
