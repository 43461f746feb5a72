"""Error responses raise Python's exceptions (SPEC 12.2)."""

import multiprocessing
import multiprocessing.managers
import queue
import threading
import unittest

from syncmanager_client import (
    AuthenticationError,
    ConnectionClosedError,
    InvalidValueError,
    MethodNotExposedError,
    RemoteError,
    UnknownObjectError,
    UnknownTypeidError,
    connect,
)

from .support import ADDRESS, AUTHKEY, ServerTestCase, require_server


class MappedExceptionsTest(ServerTestCase):
    def test_builtin_exceptions(self):
        q = self.m.Queue(1)
        with self.assertRaises(queue.Empty):
            q.get_nowait()
        q.put(1)
        with self.assertRaises(queue.Full):
            q.put_nowait(2)
        d = self.m.dict()
        with self.assertRaises(KeyError) as caught:
            d[("missing", 1)]
        self.assertEqual(caught.exception.args, (("missing", 1),))  # data.args, decoded
        self.assertEqual(caught.exception.rpc_error.type, "KeyError")
        with self.assertRaises(IndexError):
            self.m.list()[3]
        with self.assertRaises(ValueError) as caught:
            q.get(timeout=-1)
        self.assertIn("non-negative", str(caught.exception))
        with self.assertRaises(TypeError) as caught:
            q.get(1, 2, 3)  # Python's binding rules on the server (SPEC 9.2)
        self.assertIn("positional arguments", str(caught.exception))
        with self.assertRaises(TypeError):
            q.get(timout=1)
        with self.assertRaises(RuntimeError):
            self.m.Lock().release()
        barrier = self.m.Barrier(2)
        barrier.abort()
        with self.assertRaises(threading.BrokenBarrierError):
            barrier.wait()

    def test_method_not_exposed_is_an_attribute_error(self):
        q = self.m.Queue()
        with self.assertRaises(AttributeError) as caught:
            q._callmethod("no_such_method")
        self.assertIsInstance(caught.exception, MethodNotExposedError)
        self.assertEqual(caught.exception.code, -31006)
        # Fallback methods answer for every object (SPEC 9.3).
        self.assertIn("Queue", q._callmethod("__repr__"))
        with self.assertRaises(TypeError):
            q._getvalue()  # a queue is not a value

    def test_an_unserved_typeid_names_itself_the_manager_and_what_it_serves(self):
        with self.assertRaises(AttributeError) as caught:
            self.m.get_no_such_queue()
        message = str(caught.exception)
        self.assertIn("serves no typeid 'get_no_such_queue'", message)
        self.assertIn(str(self.m.address), message)
        self.assertIn("Queue", message)
        self.assertFalse(hasattr(self.m, "get_no_such_queue"))

    def test_protocol_errors_have_classes(self):
        with self.assertRaises(UnknownTypeidError):
            self.m.create("NoSuchTypeid")
        with self.assertRaises(UnknownTypeidError):
            self.m.create("Iterator")  # not creatable
        with self.assertRaises(UnknownObjectError):
            self.m.connection.request("object/call", {"id": "no-such-object", "method": "qsize"})
        q = self.m.Queue()  # kept: a proxy dropped at once would release the object at once
        with self.assertRaises(InvalidValueError):
            self.m.connection.request("object/call", {"id": q._id, "method": "put", "args": [{"$nope": 1}]})
        with self.assertRaises(TypeError):
            q._callmethod("put", (1,), {"$x": 2})  # refused before sending (SPEC 8.3)

    def test_custom_type_errors_are_remote_errors(self):
        if "Counter" not in self.m.typeids:
            self.skipTest("the manager registers no Counter typeid")
        counter = self.m.Counter()
        with self.assertRaises(RemoteError) as caught:
            counter.fail()
        self.assertIsInstance(caught.exception, multiprocessing.managers.RemoteError)
        self.assertEqual(caught.exception.type, "CounterError")
        self.assertIn("CounterError", str(caught.exception))


class ConnectionErrorsTest(unittest.TestCase):
    def setUp(self):
        require_server()

    def test_wrong_authkey(self):
        with self.assertRaises(AuthenticationError) as caught:
            connect(ADDRESS, AUTHKEY + "-wrong")
        self.assertIsInstance(caught.exception, multiprocessing.AuthenticationError)

    def test_nothing_listening(self):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(ConnectionRefusedError) as caught:
            connect("127.0.0.1:%d" % port, AUTHKEY, connect_timeout=5)
        self.assertIn("cannot connect to the manager at 127.0.0.1:%d: " % port, str(caught.exception))

    def test_calls_after_close(self):
        m = connect(ADDRESS, AUTHKEY)
        q = m.Queue()
        m.close()
        self.assertTrue(m.connection.closed)
        with self.assertRaises(ConnectionClosedError) as caught:
            q.qsize()
        self.assertIsInstance(caught.exception, EOFError)
        self.assertIsInstance(caught.exception, ConnectionError)
        m.close()  # idempotent

    def test_bad_addresses(self):
        for address in ("no-port", "host:99999", "::1:80", "[::1]80"):
            with self.subTest(address=address), self.assertRaises(ValueError):
                connect(address, AUTHKEY)


class ServerReportedErrorsTest(ServerTestCase):
    def test_a_connection_the_server_closes_after_an_error_says_what_the_server_reported(self):
        # A frame the server cannot read (here a negative length) is answered with an error of id
        # null, and then the connection is closed (SPEC 5, 19): the calls that fail with it must
        # say what the server reported, not only that the connection was lost.
        connection = self.m.connection
        connection._sock.sendall(b"Content-Length: -5\r\n\r\n")
        with self.assertRaises(ConnectionClosedError) as caught:
            for _ in range(1000):  # bounded: the server closes after its answer
                self.m.Queue().qsize()
        self.assertIn("Content-Length", str(caught.exception))
