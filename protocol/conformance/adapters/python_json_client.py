"""The client-side harness's adapter for syncmanager's Python JSON client (clients/python).

It reads the harness's commands as JSON lines on stdin, carries each out with the client in a
thread of its own (a blocked call does not hold up the next command), and writes one outcome line
per command on stdout (protocol/conformance/README.md, "Checking a client"):

    PYTHONPATH=clients/python python3 protocol/conformance/adapters/python_json_client.py
"""

import json
import sys
import threading

from syncmanager_client import connect
from syncmanager_client.errors import ConnectionClosedError, ProtocolError, RemoteError, RequestCancelledError, SyncManagerError
from syncmanager_client.transport import AuthenticationError

_out = threading.Lock()
_state = {"manager": None}
_objects = {}
_deliveries = {}


def report(line):
    with _out:
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def describe_error(error):
    """The driver protocol's error kinds (README), from the client's exception classes."""
    message = str(error)
    if isinstance(error, RequestCancelledError):
        return {"kind": "cancelled", "message": message}
    if isinstance(error, AuthenticationError):
        return {"kind": "authentication", "message": message}
    if isinstance(error, ConnectionClosedError):
        return {"kind": "connectionClosed", "message": message}
    if isinstance(error, ProtocolError):
        return {"kind": "protocol", "code": error.code, "message": message}
    if isinstance(error, RemoteError):
        return {"kind": "remote", "type": error.type, "message": message}
    if getattr(error, "rpc_error", None) is not None and not isinstance(error, SyncManagerError):
        # A remote exception raised as Python's own class (queue.Empty, KeyError, ...).
        return {"kind": "remote", "type": type(error).__name__, "message": message}
    return {"kind": "other", "type": type(error).__name__, "message": message}


def run(command):
    op = command["op"]
    if op == "connect":
        resume = command.get("resumeWithinMs")
        # Session resumption (since 1.3, SPEC 20.4), reconnecting soon so that scenarios stay short.
        extra = {"resume_within": resume / 1000.0, "reconnect_initial_delay": 0.02, "reconnect_max_delay": 0.1} if resume is not None else {}
        _state["manager"] = connect(name="conformance-adapter", connect_timeout=5, **extra)
        return None
    manager = _state["manager"]
    if op == "create":
        proxy = manager.create(command["typeid"])
        _objects[command["as"]] = proxy
        return proxy._id
    if op == "call":
        proxy = _objects[command["object"]]
        conn = manager.connection
        args = tuple(conn.decode(a) for a in command.get("args", []))
        kwargs = {k: conn.decode(v) for k, v in command.get("kwargs", {}).items()}
        if "deadlineMs" in command:
            result = proxy._callmethod(command["method"], args, kwargs, request_timeout=command["deadlineMs"] / 1000.0)
        else:
            result = proxy._callmethod(command["method"], args, kwargs)
        return conn.encode(result)
    if op == "getAck":
        delivery = _objects[command["object"]].get(ack=True, visibility_timeout=command.get("visibilityTimeout"))
        _deliveries[command["as"]] = delivery
        return {"value": manager.connection.encode(delivery.value), "redelivered": delivery.redelivered, "deliveryCount": delivery.delivery_count}
    if op == "settle":
        delivery = _deliveries[command["delivery"]]
        if command["how"] == "nack":
            delivery.nack()
        else:
            delivery.ack()
        return None
    if op == "close":
        manager.close()
        return None
    raise ValueError("unknown op %r" % op)


def carry_out(command):
    try:
        report({"tag": command["tag"], "result": run(command)})
    except BaseException as error:  # every outcome is reported, whatever it is
        report({"tag": command["tag"], "error": describe_error(error)})


def main():
    for line in sys.stdin:
        if line.strip():
            threading.Thread(target=carry_out, args=(json.loads(line),), daemon=True).start()


if __name__ == "__main__":
    main()
