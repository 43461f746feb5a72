"""A proxy writes the text of its usual calls itself (see BaseProxy._callmethod): byte for byte
the request the connection would write from the call's params."""

import json

from syncmanager_client.transport import request_frame

from .support import ServerTestCase


class CallTextTest(ServerTestCase):
    def test_the_bytes_of_request_frame(self):
        q = self.m.Queue()
        d = self.m.dict()
        conn = self.m.connection
        sent = []
        send_frame = conn._send_frame

        def recording(data, sent_flag=None):
            sent.append(data)
            return send_frame(data, sent_flag)

        conn._send_frame = recording
        self.addCleanup(lambda: conn.__dict__.pop("_send_frame", None))
        calls = [
            (q, "put", (1,)), (q, "put", (-(2 ** 53) + 1,)), (q, "put", (2 ** 53,)), (q, "put", (True,)),
            (q, "put", ("\u00e9\"\\\u2028",)), (q, "put", (2.0,)), (q, "put", (None,)), (q, "put", ([1, {"a": (2,)}],)),
            (q, "put", (b"\x00",)), (q, "put", (3, True, None)), (q, "qsize", ()),
            (d, "__setitem__", ("k", 1)), (d, "get", ("k",)), (d, "__len__", ()),
        ]
        for proxy, method, args in calls:
            with self.subTest(method=method, args=args):
                before = len(sent)
                proxy._callmethod(method, args)
                self.assertEqual(len(sent), before + 1)
                data = sent[-1]
                message = json.loads(data[data.index(b"\r\n\r\n") + 4:])
                params = {"id": proxy._id, "method": method}
                if args:
                    params["args"] = [conn.encode(a) for a in args]
                self.assertEqual(data, request_frame(message["id"], "object/call", params))
        self.assertEqual([q.get() for _ in range(10)], [1, -(2 ** 53) + 1, 2 ** 53, True, "\u00e9\"\\\u2028", 2.0, None, [1, {"a": (2,)}], b"\x00", 3])
