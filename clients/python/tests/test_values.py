"""Values (SPEC 11): the tag codec on its own, and every kind of value through a real queue."""

import math
import unittest

from syncmanager_client import CodecError, OpaqueValue, QueueProxy
from syncmanager_client.values import MAX_SAFE_INT, decode, encode

from .support import ServerTestCase


class CodecTest(unittest.TestCase):
    """The encoding of SPEC 11, without a server."""

    def test_plain_json_means_itself(self):
        for value in (None, True, False, 0, -5, 2.5, "text", [1, "a"], {"a": 1}):
            self.assertEqual(encode(value), value)
            self.assertEqual(decode(encode(value)), value)

    def test_tags(self):
        self.assertEqual(encode((1, "a")), {"$tuple": [1, "a"]})
        self.assertEqual(encode(b"hello"), {"$bytes": "aGVsbG8="})
        self.assertEqual(encode(bytearray(b"\x01\x02")), {"$bytes": "AQI="})
        self.assertEqual(encode({1, 2}), {"$set": [1, 2]})
        self.assertEqual(encode(frozenset([3])), {"$frozenset": [3]})
        self.assertEqual(encode({1: "one"}), {"$dict": [[1, "one"]]})
        self.assertEqual(encode(slice(1, None, 2)), {"$slice": [1, None, 2]})
        self.assertEqual(encode(OpaqueValue("python", "fractions.Fraction", b"\x80")), {"$opaque": {"lang": "python", "type": "fractions.Fraction", "data": "gA=="}})

    def test_numbers(self):
        # SPEC 11.3: integral floats and non-finite ones are tagged; big ints are $int.
        self.assertEqual(encode(2.0), {"$float": 2})
        self.assertEqual(encode(float("inf")), {"$float": "inf"})
        self.assertEqual(encode(float("-inf")), {"$float": "-inf"})
        self.assertEqual(encode(float("nan")), {"$float": "nan"})
        self.assertEqual(encode(MAX_SAFE_INT), MAX_SAFE_INT)
        self.assertEqual(encode(MAX_SAFE_INT + 1), {"$int": str(MAX_SAFE_INT + 1)})
        self.assertEqual(encode(-(10 ** 30)), {"$int": "-" + "1" + "0" * 30})
        self.assertIsInstance(decode({"$float": 2}), float)
        self.assertIsInstance(decode(2), int)
        self.assertIsInstance(decode(2.0), float)
        self.assertTrue(math.isnan(decode({"$float": "nan"})))
        self.assertEqual(decode({"$int": "123456789012345678901234567890"}), 123456789012345678901234567890)
        self.assertEqual(math.copysign(1.0, decode(encode(-0.0))), -1.0)
        with self.assertRaises(CodecError):
            encode(10 ** 4300)  # 4301 digits (SPEC 11.3)
        with self.assertRaises(CodecError):
            decode({"$int": "1" * 4301})

    def test_dict_keys(self):
        # SPEC 11.4: a lone '$' key would read as a tag, so such a dict is sent as pairs.
        self.assertEqual(encode({"$ref": "x"}), {"$dict": [["$ref", "x"]]})
        self.assertEqual(encode({"$a": 1, "b": 2}), {"$a": 1, "b": 2})
        self.assertEqual(decode({"$a": 1, "b": 2}), {"$a": 1, "b": 2})
        self.assertEqual(decode({"$dict": [[{"$tuple": [0, 1]}, {"$bytes": "AQI="}]]}), {(0, 1): b"\x01\x02"})

    def test_nesting_limit(self):
        value = None
        for _ in range(512):
            value = [value]
        self.assertEqual(decode(encode(value)), value)
        with self.assertRaises(CodecError):
            encode([value])

    def test_a_tagged_number_counts_as_a_level(self):
        for number in (2.0, float("nan"), 2**60):
            value = number
            for _ in range(511):
                value = [value]
            self.assertEqual(len(str(encode(value))) > 0, True)  # 512 levels with the tag: fine
            with self.assertRaises(CodecError, msg=repr(number)):
                encode([value])
        value = 1.5  # bare: no level of its own
        for _ in range(512):
            value = [value]
        encode(value)

    def test_bare_numbers_are_read_by_value(self):
        from syncmanager_client.transport import decode_json

        self.assertEqual(decode_json(b"[1, 2.0, 1e3, 1.5, -0.5]"), [1, 2, 1000, 1.5, -0.5])
        self.assertIsInstance(decode_json(b"2.0"), int)
        self.assertIsInstance(decode_json(b"9007199254740991"), int)
        self.assertIsInstance(decode_json(b"9007199254740993"), float)
        self.assertIsInstance(decode_json(b"1e300"), float)
        self.assertIsInstance(decode_json(("9" * 5000).encode()), float)  # no ValueError from Python's digit limit
        # A negative zero, however it is written, keeps its sign inside $float (SPEC 11.3).
        for text in (b'{"$float": -0.0}', b'{"$float": -0}', b'{"$float": -0e0}'):
            with self.subTest(text=text):
                self.assertEqual(math.copysign(1.0, decode(decode_json(text))), -1.0)
        self.assertEqual(math.copysign(1.0, decode(decode_json(b'{"$float": 0}'))), 1.0)

    def test_refusals(self):
        with self.assertRaises(TypeError):
            encode(object())  # JSON only: no pickle
        with self.assertRaises(CodecError):
            decode({"$nope": 1})
        with self.assertRaises(CodecError):
            decode({"$bytes": "not base64!"})
        with self.assertRaises(CodecError):
            decode({"$slice": [1, 2]})
        with self.assertRaises(CodecError):
            decode({"$set": [[1]]})  # a list cannot be a set member in Python


class ForeignProxyTest(ServerTestCase):
    def test_a_proxy_of_another_connection_is_refused(self):
        from .support import manager

        other = manager()
        self.addCleanup(other.close)
        theirs = other.Queue()
        mine = self.m.Queue()
        self.addCleanup(mine.close)
        with self.assertRaisesRegex(ValueError, "another connection"):
            mine.put(theirs)


class RoundTripTest(ServerTestCase):
    """Every kind of value put into a shared queue and taken back out (SPEC 11, 18's table)."""

    def roundtrip(self, value):
        q = self.m.Queue()
        self.addCleanup(q.close)
        self.assertIsInstance(q, QueueProxy)
        q.put(value)
        return q.get(timeout=5)

    def test_every_kind(self):
        values = [
            None,
            True,
            0,
            -7,
            2 ** 53 - 1,
            2 ** 53,
            -(10 ** 40),
            1.5,
            2.0,
            1e300,
            float("inf"),
            "héllo ☃",
            b"\x00\xffbytes",
            (1, "two", (3.0,)),
            [1, [2, [3]]],
            {"a": 1, "b": [True, None]},
            {1: "one", (2, 3): "pair", None: 0, b"k": 1.0},
            {"$ref": "not a tag"},
            {"$a": 1, "b": 2},
            {1, 2, "x"},
            frozenset([1, (2, 3)]),
            slice(1, None, -1),
            [{"k": {(1,): frozenset(["z"])}}],
        ]
        for value in values:
            with self.subTest(value=value):
                back = self.roundtrip(value)
                self.assertEqual(back, value)
                self.assertIs(type(back), type(value))

    def test_floats_keep_their_kind(self):
        back = self.roundtrip([2.0, 2, -0.0, float("-inf")])
        self.assertEqual([type(x) for x in back], [float, int, float, float])
        # -0.0 comes back through the server with its sign (SPEC 11.3, since 1.3).
        self.assertEqual(math.copysign(1.0, back[2]), -1.0)
        self.assertTrue(math.isnan(self.roundtrip(float("nan"))))

    def test_bytearray_comes_back_as_bytes(self):
        self.assertEqual(self.roundtrip(bytearray(b"ab")), b"ab")

    def test_deep_value(self):
        value = "bottom"
        for _ in range(511):
            value = [value]
        self.assertEqual(self.roundtrip(value), value)

    def test_opaque_value_travels_unread(self):
        opaque = OpaqueValue("python", "fractions.Fraction", b"\x80\x04not really a pickle")
        back = self.roundtrip({"x": opaque})
        self.assertEqual(back["x"], opaque)
        self.assertEqual(back["x"].type, "fractions.Fraction")

    def test_unencodable_value_is_refused_before_sending(self):
        q = self.m.Queue()
        with self.assertRaises(TypeError):
            q.put(object())
        self.assertEqual(q.qsize(), 0)


class NestedProxyTest(ServerTestCase):
    """Proxies inside values (SPEC 11.5, capability nestedProxies) become proxies again."""

    def test_capability_granted(self):
        self.assertTrue(self.m.connection.capabilities.get("nestedProxies"))

    def test_proxy_stored_in_a_dict(self):
        d = self.m.dict()
        q = self.m.Queue()
        q.put("inside")
        d["q"] = q
        again = d["q"]
        self.assertIsInstance(again, QueueProxy)
        self.assertEqual(again._id, q._id)
        self.assertEqual(again.get(timeout=5), "inside")
        # Proxies deep inside a value, and in a list of them.
        d["many"] = [q, {"also": (q,)}]
        many = d["many"]
        self.assertEqual(many[0]._id, q._id)
        self.assertEqual(many[1]["also"][0]._id, q._id)

    def test_condition_uses_the_lock_it_is_given(self):
        lock = self.m.Lock()
        cond = self.m.Condition(lock)
        with cond:
            self.assertTrue(lock.locked())
        self.assertFalse(lock.locked())
