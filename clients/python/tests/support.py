"""What the tests share: the manager under test, reached through environment variables.

    SYNCMANAGER_TEST_ADDRESS=127.0.0.1:PORT SYNCMANAGER_TEST_AUTHKEY=KEY \\
        PYTHONPATH=clients/python python -m unittest discover -s clients/python/tests -t clients/python

The manager is syncmanager's own server with its built-in typeids; ``test/python-client/`` starts
one with a few registrations of its own (``get_task_queue``, ``get_result_queue``, ``Counter``),
and the tests that need those skip when they are absent. Without the variables every test that
needs a server is skipped.

Nothing sleeps to synchronise: threads hand over through events and queues, and every wait has a
bound (``WAIT`` seconds), after which the test fails instead of hanging.
"""

import os
import threading
import time
import unittest
from typing import Any, Dict, Optional

from syncmanager_client import Connection, Manager, connect

#: The longest any test waits for something that should happen at once.
WAIT = 10.0

ADDRESS = os.environ.get("SYNCMANAGER_TEST_ADDRESS") or ""
AUTHKEY = os.environ.get("SYNCMANAGER_TEST_AUTHKEY") or ""


def require_server() -> None:
    """Skips the calling test module or case when no manager was given."""
    if not ADDRESS or not AUTHKEY:
        raise unittest.SkipTest("set SYNCMANAGER_TEST_ADDRESS and SYNCMANAGER_TEST_AUTHKEY to a running manager")


def manager(**options: Any) -> Manager:
    """A new connection to the manager under test."""
    require_server()
    options.setdefault("name", "unittest")
    return connect(ADDRESS, AUTHKEY, **options)


def inspecting_manager() -> Manager:
    """A connection granted inspection (SPEC 17), to see references and holders from outside."""
    require_server()
    conn = Connection(ADDRESS, AUTHKEY, client_name="unittest-inspector", capabilities={"cancellation": True, "inspection": True})
    return Manager(conn)


def snapshot(m: Manager) -> Dict[str, Any]:
    return m.connection.request("inspect/snapshot")


def object_summary(m: Manager, object_id: str) -> Optional[Dict[str, Any]]:
    """The object's row in a snapshot taken through ``m``, or None when it left the table."""
    for row in snapshot(m)["objects"]:
        if row["id"] == object_id:
            return row
    return None


def references_of(m: Manager, object_id: str, session_id: str) -> int:
    """How many references ``session_id`` holds to the object (0 when it left the table)."""
    row = object_summary(m, object_id)
    if row is None:
        return 0
    return sum(h["references"] for h in row["holders"] if h["sessionId"] == session_id)


class ServerTestCase(unittest.TestCase):
    """A test with one connection, ``self.m``, closed at the end."""

    def setUp(self) -> None:
        self.m = manager()
        self.addCleanup(self.m.close)


def sync(m: Manager) -> None:
    """A round trip on ``m``: the server handles a connection's messages in order, so every
    release ``m`` sent before (they go without waiting) has been handled once this returns."""
    m.connection.request("manager/describe")


def until(predicate: Any, what: str, timeout: float = WAIT) -> Any:
    """Polls the manager's state (a snapshot, a count) until ``predicate()`` is truthy, for at
    most ``timeout`` seconds; fails with ``what`` otherwise. For state that no event announces,
    such as the server noticing that a socket closed."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %s s waiting for %s" % (timeout, what))
        pause.wait(0.01)


def pending_calls(inspector: Manager, session_id: str) -> list:
    """The calls of ``session_id`` that are blocked in the manager now (SPEC 17.3)."""
    for session in snapshot(inspector)["sessions"]:
        if session["sessionId"] == session_id:
            return session["pending"]
    return []
