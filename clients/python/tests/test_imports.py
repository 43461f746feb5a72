"""What a cold client loads: importing the package, connecting and a first call load none of the
standard modules only some programs need (TLS, logging, multiprocessing's manager, futures), nor
``typing`` (the annotations are left unevaluated, the names imported only for type checkers).

Each of those costs a fresh interpreter several milliseconds, more than this whole package; they
load when their feature is used: ``ssl`` by the program that makes an ``ssl_context``,
``multiprocessing.managers`` with :class:`RemoteError`, ``concurrent.futures`` with
:class:`RequestCancelledError`, ``logging`` with the first message logged.
"""

import json
import os
import subprocess
import sys
import unittest

import syncmanager_client

from .support import ADDRESS, AUTHKEY, WAIT, require_server

#: Standard modules the common path must not load.
LATER = ("ssl", "logging", "multiprocessing", "multiprocessing.managers", "concurrent.futures", "encodings.idna", "typing")
#: Nor, where CPython has its built-in hash modules, OpenSSL's (the handshake's HMAC uses those).
OPENSSL = ("hmac", "_hashlib")

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(syncmanager_client.__file__)))

# A fresh interpreter without site (-S), so that nothing but this package decides what is loaded.
SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import syncmanager_client
loaded = {"import": [m for m in %(later)r if m in sys.modules]}
if len(sys.argv) > 2:
    with syncmanager_client.connect(sys.argv[2], sys.argv[3], reconnect=False) as m:
        q = m.create("Queue")
        q.put(1)
        q.get()
        loaded["first call"] = [m for m in %(later)r if m in sys.modules]
        try:
            q.get(timeout=0)
        except Exception as error:
            loaded["raised"] = type(error).__name__
print("LOADED " + json.dumps(loaded))
""" % {"later": LATER + OPENSSL}


def loaded_in_fresh_interpreter(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-S", "-c", SCRIPT, PACKAGE_ROOT] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=WAIT * 3)
    for line in done.stdout.splitlines():
        if line.startswith("LOADED "):
            return json.loads(line[len("LOADED "):])
    raise AssertionError("the fresh interpreter failed: " + done.stderr[-2000:])


def builtin_hashes() -> bool:
    """Whether this interpreter has the built-in md5 and sha256 the handshake uses without OpenSSL."""
    import importlib.util

    return importlib.util.find_spec("_md5") is not None and any(importlib.util.find_spec(m) is not None for m in ("_sha2", "_sha256"))


class ColdImportTest(unittest.TestCase):
    def test_import_loads_none_of_them(self):
        self.assertEqual(loaded_in_fresh_interpreter()["import"], [])

    def test_connect_and_a_first_call_load_none_of_them(self):
        require_server()
        loaded = loaded_in_fresh_interpreter(ADDRESS, AUTHKEY)
        self.assertEqual([m for m in loaded["first call"] if builtin_hashes() or m not in OPENSSL], [])
        # An exception still is Python's own (queue.Empty), as before.
        self.assertEqual(loaded["raised"], "Empty")

    def test_the_classes_made_on_first_use_are_the_documented_ones(self):
        import concurrent.futures
        import multiprocessing
        import multiprocessing.managers

        from syncmanager_client import errors, transport

        self.assertTrue(issubclass(syncmanager_client.RemoteError, multiprocessing.managers.RemoteError))
        self.assertTrue(issubclass(syncmanager_client.RemoteError, syncmanager_client.SyncManagerError))
        self.assertTrue(issubclass(syncmanager_client.RequestCancelledError, concurrent.futures.CancelledError))
        self.assertTrue(issubclass(syncmanager_client.RequestCancelledError, syncmanager_client.ProtocolError))
        self.assertTrue(issubclass(syncmanager_client.RequestTimeoutError, syncmanager_client.RequestCancelledError))
        self.assertTrue(issubclass(syncmanager_client.RequestTimeoutError, TimeoutError))
        self.assertTrue(issubclass(syncmanager_client.AuthenticationError, multiprocessing.AuthenticationError))
        self.assertTrue(issubclass(syncmanager_client.AuthenticationError, syncmanager_client.HandshakeError))
        # One class each, wherever it is reached from, named where it lives.
        self.assertIs(syncmanager_client.RemoteError, errors.RemoteError)
        self.assertIs(syncmanager_client.AuthenticationError, transport.AuthenticationError)
        self.assertIs(syncmanager_client.AuthenticationError, errors.AuthenticationError)
        self.assertEqual(repr(errors.RemoteError), "<class 'syncmanager_client.errors.RemoteError'>")
        self.assertEqual(repr(transport.AuthenticationError), "<class 'syncmanager_client.transport.AuthenticationError'>")
        self.assertEqual(errors.RequestCancelledError.CODE, -31002)
        for name in ("RemoteError", "RequestCancelledError", "RequestTimeoutError", "AuthenticationError"):
            self.assertIn(name, dir(syncmanager_client))
        with self.assertRaises(AttributeError):
            syncmanager_client.NoSuchName  # noqa: B018


if __name__ == "__main__":
    unittest.main()
