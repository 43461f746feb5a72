"""An object of a type the server registers itself (a JavaScript Counter in the test manager):
an AutoProxy with its exposed methods, methodToTypeid results as proxies, and its own errors as
RemoteError (SPEC 8.1, 9.1, 12.2)."""

from syncmanager_client import BaseProxy, RemoteError

from .support import ServerTestCase


class CustomTypeTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        if "Counter" not in self.m.typeids:
            self.skipTest("the manager registers no Counter typeid")

    def test_auto_proxy(self):
        counter = self.m.Counter(5)
        self.assertIsInstance(counter, BaseProxy)
        self.assertEqual(sorted(counter._exposed), ["child", "fail", "increment", "value"])
        self.assertEqual(counter.increment(), 6)
        self.assertEqual(counter.increment(4), 10)
        self.assertEqual(counter.value(), 10)
        self.assertFalse(hasattr(counter, "reset"))  # only what is exposed
        with self.assertRaises(TypeError):
            counter.increment(by=1)  # a JavaScript method takes its arguments by position (SPEC 9.2)

    def test_method_to_typeid_gives_a_proxy(self):
        counter = self.m.Counter(3)
        child = counter.child()
        self.assertIsInstance(child, BaseProxy)
        self.assertEqual(child._typeid, "Counter")
        self.assertNotEqual(child._id, counter._id)
        self.assertEqual(child.increment(), 4)
        self.assertEqual(counter.value(), 3)
        self.assertIs(type(child), type(counter))  # one AutoProxy class per typeid and exposed list

    def test_own_errors(self):
        counter = self.m.Counter()
        with self.assertRaises(RemoteError) as caught:
            counter.fail()
        self.assertEqual(caught.exception.type, "CounterError")
        self.assertEqual(caught.exception.remote_message, "counter failed")
        self.assertIn("<Counter", str(counter))
