"""The conformance suite's interpreter, in Python, over this package's own transport.

    SYNCMANAGER_AUTHKEY=KEY python -m syncmanager_client.conformance <host:port>
        [--authkey KEY] [--scenarios DIR] [--only NAME]... [--handshake-timeout-ms N]
        [--step-timeout-ms N] [--json FILE]

The key is best given by environment: a command line is every local user's to read (``ps``).

Plays the client's side of every scenario file (``protocol/conformance/scenarios/*.jsonl``)
against a server, exactly as ``protocol/conformance/README.md`` describes the format, with this
package's handshake (:mod:`.transport`), framing and JSON. Passing every scenario shows that this
implementation speaks the wire protocol; the same files check a server. Prints one line per
scenario (``ok``, or ``FAIL`` with the file, line, step and what arrived instead) and exits 1 if
any failed, 2 on a usage error or a malformed scenario file.

Nothing here sleeps: every wait is a socket read with a deadline.
"""

import argparse
import base64
import hmac
import json
import math
import os
import re
import select
import socket
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .manager import AUTHKEY_ENV
from .transport import (
    CHALLENGE,
    FAILURE,
    MAX_HANDSHAKE_FRAME,
    WELCOME,
    FrameReader,
    FramingError,
    HandshakeError,
    answer_server_challenge,
    challenge_server,
    recv_handshake_frame,
    send_handshake_frame,
    decode_json,
    encode_json,
    frame,
    open_socket,
)

__all__ = ["Scenario", "ScenarioError", "ScenarioFormatError", "load_scenarios", "main", "match", "parse_scenario", "run_scenario", "substitute"]

# ---------------------------------------------------------------------------------------------
# Patterns and placeholders (README, "Patterns and placeholders")


class ScenarioError(Exception):
    """A mistake in a scenario itself (an unknown placeholder, a name never captured)."""


class ScenarioFormatError(Exception):
    """A scenario file that does not follow the format."""


_TYPES = ("string", "number", "integer", "boolean", "object", "array")


def _is_name(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and text.isascii() and all(c.isalnum() or c in "_.-" for c in text)


def parse_placeholder(text: str) -> Optional[Tuple[str, str]]:
    """``(kind, arg)`` for a string starting with ``$``, None for one that means itself.

    An unknown ``$`` string is a scenario error, so that a typo cannot demand that exact text.
    """
    if not text.startswith("$"):
        return None
    if text.startswith("$$"):
        return ("literal", text[1:])
    if text == "$any":
        return ("any", "")
    bare = text[1:]
    if bare in _TYPES:
        return ("type", bare)
    if bare.startswith("capture:") and _is_name(bare[len("capture:"):]):
        return ("capture", bare[len("capture:"):])
    if bare.startswith("{") and bare.endswith("}") and _is_name(bare[1:-1]):
        return ("ref", bare[1:-1])
    raise ScenarioError('unknown placeholder %s (write a literal "$" as "$$")' % json.dumps(text))


def _captured(captures: Dict[str, Any], name: str) -> Any:
    if name not in captures:
        raise ScenarioError('"${%s}" was never captured' % name)
    return captures[name]


def substitute(template: Any, captures: Dict[str, Any]) -> Any:
    """A message to send with ``"${NAME}"`` replaced by the captured value (of any type) and
    ``"$$text"`` by ``"$text"``. Object keys are never placeholders (``{"$float": 2}``)."""
    if isinstance(template, str):
        p = parse_placeholder(template)
        if p is None:
            return template
        if p[0] == "literal":
            return p[1]
        if p[0] == "ref":
            return _captured(captures, p[1])
        raise ScenarioError('placeholder %s cannot be sent; only "${NAME}" and "$$" can' % json.dumps(template))
    # Plain loops, not comprehensions: before Python 3.12 a comprehension is a frame of its own,
    # and scenarios nest values over 512 levels deep on purpose.
    if isinstance(template, list):
        items = []
        for item in template:
            items.append(substitute(item, captures))
        return items
    if isinstance(template, dict):
        members = {}
        for key, value in template.items():
            members[key] = substitute(value, captures)
        return members
    return template


def show(value: Any, limit: int = 300) -> str:
    """A short JSON rendering for failure messages."""
    text = "nothing" if value is _MISSING else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text[:limit] + "…" if len(text) > limit else text


_MISSING = object()


def _is_number(v: Any) -> bool:
    # JSON's true is not the number 1, whatever Python's bool says.
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same_number(a: Any, b: Any) -> bool:
    """Numbers by value, except that a negative zero is its own value (SPEC 11.3 keeps its sign)."""
    return a == b and (a != 0 or math.copysign(1.0, a) == math.copysign(1.0, b))


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality of JSON values: numbers by value, ``true`` never equal to ``1``."""
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b) and _same_number(a, b)
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if not json_equal(x, y):
                return False
        return True
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not json_equal(v, b[k]):
                return False
        return True
    return False


class Mismatch(Exception):
    """Where and why a message did not match."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__("at %s: %s" % (path or "/", reason))
        self.path = path or "/"
        self.reason = reason


def _operator(pattern: Dict[str, Any], name: str) -> Optional[List[Any]]:
    if len(pattern) != 1 or name not in pattern:
        return None
    body = pattern[name]
    if not isinstance(body, list):
        raise ScenarioError("%s takes an array of patterns" % name)
    return body


def match(pattern: Any, actual: Any, captures: Dict[str, Any], path: str = "") -> Dict[str, Any]:
    """Matches ``actual`` against ``pattern``; returns the captures extended by it (a new dict:
    a failed ``$anyOf`` branch keeps none) or raises :class:`Mismatch`."""
    if actual is _MISSING:
        raise Mismatch(path, "expected %s, got nothing" % show(pattern))
    if isinstance(pattern, str):
        p = parse_placeholder(pattern)
        if p is None:
            if isinstance(actual, str) and actual == pattern:
                return captures
            raise Mismatch(path, "expected %s, got %s" % (show(pattern), show(actual)))
        return _match_placeholder(p, actual, captures, path)
    if pattern is None or isinstance(pattern, bool):
        if type(actual) is type(pattern) and actual == pattern:
            return captures
        raise Mismatch(path, "expected %s, got %s" % (show(pattern), show(actual)))
    if _is_number(pattern):
        # Numbers by value: 1 matches 1.0; -0.0 and 0 do not match each other.
        if _is_number(actual) and _same_number(actual, pattern):
            return captures
        raise Mismatch(path, "expected %s, got %s" % (show(pattern), show(actual)))
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            raise Mismatch(path, "expected an array, got %s" % show(actual))
        if len(actual) != len(pattern):
            raise Mismatch(path, "expected %d items, got %d: %s" % (len(pattern), len(actual), show(actual)))
        for i, (p_item, a_item) in enumerate(zip(pattern, actual)):
            captures = match(p_item, a_item, captures, "%s/%d" % (path, i))
        return captures
    unordered = _operator(pattern, "$unordered")
    if unordered is not None:
        return _match_unordered(unordered, actual, captures, path)
    any_of = _operator(pattern, "$anyOf")
    if any_of is not None:
        reasons = []
        for alternative in any_of:
            try:
                return match(alternative, actual, captures, path)
            except Mismatch as m:
                reasons.append("%s: %s" % (m.path, m.reason))
        raise Mismatch(path, "matches none of $anyOf (%s)" % "; ".join(reasons))
    return _match_object(pattern, actual, captures, path)


def _match_placeholder(p: Tuple[str, str], actual: Any, captures: Dict[str, Any], path: str) -> Dict[str, Any]:
    kind, arg = p
    if kind == "any":
        return captures
    if kind == "literal":
        if isinstance(actual, str) and actual == arg:
            return captures
        raise Mismatch(path, "expected %s, got %s" % (show(arg), show(actual)))
    if kind == "capture":
        extended = dict(captures)
        extended[arg] = actual
        return extended
    if kind == "ref":
        value = _captured(captures, arg)
        if json_equal(value, actual):
            return captures
        raise Mismatch(path, "expected ${%s} = %s, got %s" % (arg, show(value), show(actual)))
    ok = {
        "string": isinstance(actual, str),
        "number": _is_number(actual),
        # As JavaScript's Number.isInteger: 2.0 is an integer too.
        "integer": _is_number(actual) and not (isinstance(actual, float) and not (math.isfinite(actual) and actual.is_integer())),
        "boolean": isinstance(actual, bool),
        "object": isinstance(actual, dict),
        "array": isinstance(actual, list),
    }[arg]
    if ok:
        return captures
    raise Mismatch(path, "expected any %s, got %s" % (arg, show(actual)))


def _match_object(pattern: Dict[str, Any], actual: Any, captures: Dict[str, Any], path: str) -> Dict[str, Any]:
    if not isinstance(actual, dict):
        raise Mismatch(path, "expected an object, got %s" % show(actual))
    more = pattern.get("$more", _MISSING)
    if more is not _MISSING and not isinstance(more, bool):
        raise ScenarioError('"$more" must be true or false')
    for key, sub in pattern.items():
        if key == "$more":
            continue
        if key not in actual:
            raise Mismatch("%s/%s" % (path, key), "missing key %s in %s" % (show(key), show(actual)))
        captures = match(sub, actual[key], captures, "%s/%s" % (path, key))
    if more is not True:
        extra = [k for k in actual if k not in pattern or k == "$more"]
        if extra:
            raise Mismatch(path, "unexpected key %s in %s" % (show(extra[0]), show(actual)))
    return captures


def _match_unordered(patterns: List[Any], actual: Any, captures: Dict[str, Any], path: str) -> Dict[str, Any]:
    if not isinstance(actual, list):
        raise Mismatch(path, "expected an array, got %s" % show(actual))
    if len(actual) != len(patterns):
        raise Mismatch(path, "expected %d items in any order, got %d: %s" % (len(patterns), len(actual), show(actual)))
    used = [False] * len(actual)
    budget = [100000]  # bounds the backtracking for pathological patterns

    def place(i: int, current: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if i == len(patterns):
            return current
        for j in range(len(actual)):
            budget[0] -= 1
            if used[j] or budget[0] < 0:
                continue
            try:
                extended = match(patterns[i], actual[j], current, "%s/%d" % (path, j))
            except Mismatch:
                continue
            used[j] = True
            done = place(i + 1, extended)
            if done is not None:
                return done
            used[j] = False
        return None

    result = place(0, captures)
    if result is None:
        raise Mismatch(path, "no arrangement of %s matches %s" % (show(actual), show(patterns)))
    return result


def _same_id(a: Any, b: Any) -> bool:
    # 1 and "1" are different ids; so are 1 and true.
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# Scenario files (README, "Files" and "Steps")


class Step:
    __slots__ = ("conn", "line", "text", "kind", "arg")

    def __init__(self, conn: str, line: int, text: str, kind: str, arg: Any) -> None:
        self.conn, self.line, self.text, self.kind, self.arg = conn, line, text, kind, arg


class Scenario:
    __slots__ = ("name", "description", "spec", "file", "steps")

    def __init__(self, name: str, description: str, spec: List[str], file: str, steps: List[Step]) -> None:
        self.name, self.description, self.spec, self.file, self.steps = name, description, spec, file, steps


_HANDSHAKES = ("ok", "wrong-key", "silent", "legacy-md5", "downgraded-digest", "oversized-frame")


_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def _is_base64(text: str) -> bool:
    return _BASE64.match(text) is not None


def _parse_step(value: Any) -> Tuple[str, str, Any]:
    if not isinstance(value, dict):
        raise ValueError("a step must be a JSON object")
    rest = dict(value)
    conn = rest.pop("conn", "main")
    if not isinstance(conn, str) or not conn:
        raise ValueError('"conn" must be a non-empty string')
    if len(rest) != 1:
        raise ValueError('a step has exactly one action besides "conn", found %s' % json.dumps(list(rest)))
    (key, arg), = rest.items()
    if key in ("connect", "expectClose", "close"):
        if arg is not True:
            raise ValueError('"%s" takes true' % key)
    elif key == "handshake":
        if arg not in _HANDSHAKES:
            raise ValueError('"handshake" is one of %s' % ", ".join(json.dumps(h) for h in _HANDSHAKES))
    elif key == "sendRaw":
        if not isinstance(arg, str):
            raise ValueError('"sendRaw" takes a string')
    elif key == "sendAttached":
        attachments = arg.get("attachments") if isinstance(arg, dict) else None
        if not isinstance(arg, dict) or not isinstance(attachments, list) or not all(isinstance(a, str) and _is_base64(a) for a in attachments):
            raise ValueError('"sendAttached" takes {"message": {...}, "attachments": ["<base64>", ...]}')
    elif key == "expect":
        # Which message an expect takes depends on its id or method, so it needs one.
        if not isinstance(arg, dict) or not ("id" in arg or "method" in arg):
            raise ValueError('"expect" takes an object pattern with an "id" or a "method"')
    elif key == "notYet":
        if not (_is_number(arg) or isinstance(arg, str)):
            raise ValueError('"notYet" takes a request id')
    elif key != "send":
        raise ValueError('unknown step "%s"' % key)
    return conn, key, arg


def parse_scenario(text: str, file: str) -> Scenario:
    """Parses one scenario file: comments (empty lines, ``//``), the header, then steps."""
    header = None  # type: Optional[Dict[str, Any]]
    steps = []  # type: List[Step]
    # Lines end at \n only, as in the TypeScript runner: JSON strings may hold U+2028 and the like.
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        where = "%s:%d" % (file, number)
        try:
            value = json.loads(line)
        except ValueError as error:
            raise ScenarioFormatError("%s: not JSON: %s" % (where, error)) from None
        if header is None:
            if not isinstance(value, dict) or not isinstance(value.get("scenario"), str) or not value["scenario"]:
                raise ScenarioFormatError('%s: the header needs "scenario", a name' % where)
            unknown = [k for k in value if k not in ("scenario", "description", "spec")]
            if unknown:
                raise ScenarioFormatError("%s: unknown header key %s" % (where, json.dumps(unknown[0])))
            spec = value.get("spec", [])
            if not isinstance(spec, list) or not all(isinstance(s, str) for s in spec):
                raise ScenarioFormatError('%s: "spec" is a list of section numbers' % where)
            description = value.get("description", "")
            if not isinstance(description, str):
                raise ScenarioFormatError('%s: "description" is a string' % where)
            header = {"name": value["scenario"], "description": description, "spec": spec}
            continue
        try:
            conn, kind, arg = _parse_step(value)
        except ValueError as error:
            raise ScenarioFormatError("%s: %s" % (where, error)) from None
        steps.append(Step(conn, number, line, kind, arg))
    if header is None:
        raise ScenarioFormatError("%s: no header" % file)
    return Scenario(header["name"], header["description"], header["spec"], file, steps)


def load_scenarios(directory: str) -> List[Scenario]:
    """Every ``*.jsonl`` file of a directory, in name order; names must be unique."""
    files = sorted(f for f in os.listdir(directory) if f.endswith(".jsonl"))
    scenarios = []
    seen = {}  # type: Dict[str, str]
    for name in files:
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as f:
            scenario = parse_scenario(f.read(), path)
        if scenario.name in seen:
            raise ScenarioFormatError("scenario name %s is used by %s and %s" % (json.dumps(scenario.name), os.path.basename(seen[scenario.name]), name))
        seen[scenario.name] = path
        scenarios.append(scenario)
    return scenarios


# ---------------------------------------------------------------------------------------------
# Running


class StepFailure(Exception):
    """A step that failed: what was expected, and what arrived instead."""

    def __init__(self, message: str, received: Optional[str] = None) -> None:
        super().__init__(message)
        self.received = received


class _Conn:
    """One connection of a scenario: a socket, and the messages received and not yet taken."""

    def __init__(self, name: str, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.reader = FrameReader(sock)
        self.jsonrpc = False  # handshake done: bytes are frames from now on
        self.queue = []  # type: List[Any]
        # The attachments of queued messages whose frames carried some (SPEC 5.1), by id(message).
        self.attachments = {}  # type: Dict[int, List[bytes]]
        self.response_ids = []  # type: List[Any]
        self.ended = False
        self.closed_by_client = False
        self.protocol_error = None  # type: Optional[str]
        self.raw_unread = 0  # bytes received outside frames (before or without a handshake)

    def _take_frames(self) -> None:
        while self.jsonrpc and self.protocol_error is None:
            try:
                body = self.reader.pop_body()
            except FramingError as error:
                self.protocol_error = "the server's framing is broken: %s" % error
                return
            if body is None:
                return
            try:
                message = decode_json(body)
            except ValueError:
                self.protocol_error = "the server sent a body that is not JSON: %s" % body[:200].decode("utf-8", "replace")
                return
            self.queue.append(message)
            if self.reader.attachments is not None:
                self.attachments[id(message)] = self.reader.attachments
            if isinstance(message, dict) and "id" in message and "method" not in message:
                self.response_ids.append(message["id"])

    def pump(self, timeout: float) -> None:
        """Reads what arrives within ``timeout`` seconds (0: only what is there now), once."""
        if self.ended or self.closed_by_client:
            return
        try:
            ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            self.ended = True
            return
        if not ready:
            return
        try:
            if self.jsonrpc:
                if not self.reader.fill():
                    self.ended = True
            else:
                chunk = self.sock.recv(65536)
                if chunk:
                    self.raw_unread += len(chunk)
                else:
                    self.ended = True
        except OSError:
            self.ended = True  # a reset is the server's way of closing too
        self._take_frames()

    def drain(self) -> None:
        """Reads everything that has already arrived, without waiting."""
        while not self.ended and not self.closed_by_client:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0)
            except (OSError, ValueError):
                return
            if not ready:
                return
            self.pump(0)

    def wait_until(self, check: Any, deadline: float) -> bool:
        """Reads until ``check()`` holds or the deadline passes; returns ``check()``."""
        while not check():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.ended or self.closed_by_client:
                return bool(check())
            self.pump(remaining)
        return True

    def queued(self) -> Optional[str]:
        if self.protocol_error:
            return self.protocol_error
        if not self.queue:
            return "(the connection closed)" if self.ended else None
        return "\n".join(show(m, 200) for m in self.queue)

    def send_bytes(self, data: bytes) -> None:
        if self.closed_by_client:
            raise StepFailure("connection %s was closed by the scenario" % self.name)
        try:
            self.sock.sendall(data)
        except OSError:
            # The server may have closed already; the next expect says what that means.
            self.ended = True

    def close(self) -> None:
        self.closed_by_client = True
        try:
            self.sock.close()
        except OSError:
            pass


def _check_pattern(pattern: Any, captures: Dict[str, Any]) -> None:
    """Raises a ScenarioError for an unknown placeholder or name in ``pattern``; a mismatch
    against the dummy value means nothing."""
    try:
        match(pattern, None, captures)
    except Mismatch:
        pass


def _is_response(m: Any) -> bool:
    return isinstance(m, dict) and "id" in m and "method" not in m


def _is_notification(m: Any) -> bool:
    return isinstance(m, dict) and "method" in m and "id" not in m


class _Run:
    def __init__(self, scenario: Scenario, address: str, authkey: bytes, handshake_timeout: float, step_timeout: float) -> None:
        self.scenario = scenario
        self.address = address
        self.authkey = authkey
        self.handshake_timeout = handshake_timeout
        self.step_timeout = step_timeout
        self.conns = {}  # type: Dict[str, _Conn]
        self.captures = {}  # type: Dict[str, Any]

    def conn(self, step: Step) -> _Conn:
        conn = self.conns.get(step.conn)
        if conn is None:
            raise ScenarioError('connection "%s" was never opened with {"connect": true}' % step.conn)
        return conn

    def step(self, step: Step) -> None:
        kind, arg = step.kind, step.arg
        if kind == "connect":
            existing = self.conns.get(step.conn)
            if existing is not None and not existing.closed_by_client and not existing.ended:
                raise ScenarioError('connection "%s" is already open' % step.conn)
            try:
                sock = open_socket(self.address, timeout=self.step_timeout)
            except OSError as error:
                raise StepFailure("could not connect to %s: %s" % (self.address, error)) from None
            self.conns[step.conn] = _Conn(step.conn, sock)
        elif kind == "handshake":
            self.handshake(self.conn(step), arg)
        elif kind == "send":
            message = substitute(arg, self.captures)
            self.conn(step).send_bytes(frame(encode_json(message)))
        elif kind == "sendRaw":
            self.conn(step).send_bytes(arg.encode("utf-8"))
        elif kind == "sendAttached":
            # SPEC 5.1: the JSON text, then each attachment; Content-Length counts them all.
            attachments = [base64.b64decode(a) for a in arg["attachments"]]
            body = encode_json(substitute(arg["message"], self.captures)) + b"".join(attachments)
            header = b"Content-Length: %d\r\nContent-Attachments: %s\r\n\r\n" % (len(body), ",".join(str(len(a)) for a in attachments).encode("ascii"))
            self.conn(step).send_bytes(header + body)
        elif kind == "expect":
            if "id" in arg:
                self.expect_response(self.conn(step), arg)
            else:
                self.expect_notification(self.conn(step), arg)
        elif kind == "notYet":
            conn = self.conn(step)
            conn.drain()  # "so far": everything that has arrived, without waiting
            request_id = substitute(arg, self.captures)
            if any(_same_id(seen, request_id) for seen in conn.response_ids):
                still = next((m for m in conn.queue if _is_response(m) and _same_id(m["id"], request_id)), None)
                raise StepFailure("a response with id %s has already arrived" % show(request_id), show(still) if still is not None else "(it was taken by an earlier expect)")
        elif kind == "expectClose":
            conn = self.conn(step)
            if not conn.wait_until(lambda: conn.ended, time.monotonic() + self.step_timeout):
                raise StepFailure("the server did not close the connection within %d ms" % (self.step_timeout * 1000), conn.queued())
        elif kind == "close":
            self.conn(step).close()

    def handshake(self, conn: _Conn, mode: str) -> None:
        if mode == "silent":
            # The server must give up on its own: wait its handshake timeout, plus margin.
            limit = self.handshake_timeout + 5.0
            if not conn.wait_until(lambda: conn.ended, time.monotonic() + limit):
                raise StepFailure("the server did not close a silent connection within %d ms" % (limit * 1000))
            return
        key = self.authkey
        if mode == "wrong-key":
            key = b"wrong-" + os.urandom(8).hex().encode("ascii")
            if key == self.authkey:
                key += b"!"
        conn.sock.settimeout(self.step_timeout)
        try:
            verdict = self._answer(conn.sock, key, mode)
            if mode not in ("ok", "legacy-md5"):
                if verdict != FAILURE:
                    what = {"wrong-key": "a wrong key", "downgraded-digest": "an {md5} answer to a stronger challenge"}.get(mode, "a handshake frame over 256 bytes")
                    raise StepFailure("%s was not answered #FAILURE#" % what, show(verdict.decode("latin-1")))
            else:
                if verdict != WELCOME:
                    raise StepFailure("the right key was not answered #WELCOME#", show(verdict.decode("latin-1")))
                challenge_server(conn.sock, key)
        except socket.timeout:
            raise StepFailure("the handshake did not complete within the step timeout") from None
        except HandshakeError as error:  # AuthenticationError included: the server's proof failed
            raise StepFailure("handshake: %s" % error) from None
        except OSError as error:
            raise StepFailure("the connection failed during the handshake: %s" % error) from None
        finally:
            try:
                conn.sock.settimeout(None)
            except OSError:
                pass
        if mode in ("ok", "legacy-md5"):
            conn.jsonrpc = True
            return
        if not conn.wait_until(lambda: conn.ended, time.monotonic() + self.step_timeout):
            raise StepFailure("the server did not close the connection after #FAILURE# within %d ms" % (self.step_timeout * 1000))
        if conn.raw_unread:
            raise StepFailure("the server sent more after #FAILURE#")

    @staticmethod
    def _answer(sock: socket.socket, key: bytes, mode: str) -> bytes:
        """Steps 1 to 3 (SPEC 3.2) with step 2 written as `mode` asks; returns the verdict."""
        if mode in ("ok", "wrong-key"):
            return answer_server_challenge(sock, key)
        challenge = recv_handshake_frame(sock)
        if not challenge.startswith(CHALLENGE):
            raise HandshakeError("expected a #CHALLENGE# frame, got %r" % challenge[:16])
        message = challenge[len(CHALLENGE):]
        if mode == "legacy-md5":  # what an unmodified Python 3.11 answers
            send_handshake_frame(sock, hmac.new(key, message, "md5").digest())
        elif mode == "downgraded-digest":
            send_handshake_frame(sock, b"{md5}" + hmac.new(key, message, "md5").digest())
        else:  # oversized-frame
            send_handshake_frame(sock, bytes(MAX_HANDSHAKE_FRAME + 44))
        return recv_handshake_frame(sock)

    def expect_response(self, conn: _Conn, pattern: Dict[str, Any]) -> None:
        pattern = dict(pattern)
        # Not a member of the message: the pattern of its frame's attachments, as base64 strings;
        # a pattern without it takes only a frame without attachments (README: Attachments).
        expected = pattern.pop("$attachments", None)
        index = self._wait_for(conn, pattern, "id", _is_response, "response with id")
        taken = conn.queue.pop(index)
        attachments = conn.attachments.pop(id(taken), None)
        if expected is not None or attachments is not None:
            received = [base64.b64encode(a).decode("ascii") for a in attachments or []]
            try:
                self.captures = match(expected if expected is not None else [], received, self.captures)
            except Mismatch as m:
                raise StepFailure("the frame's attachments (SPEC 5.1): %s" % m, show(received, 1000)) from None
        self.accept(pattern, taken)

    def expect_notification(self, conn: _Conn, pattern: Dict[str, Any]) -> None:
        index = self._wait_for(conn, pattern, "method", _is_notification, "notification")
        taken = conn.queue[index]
        # Drop the taken one and the other notifications before it; responses stay for their expects.
        conn.queue[:] = [m for i, m in enumerate(conn.queue) if i > index or (i < index and not _is_notification(m))]
        self.accept(pattern, taken)

    def _wait_for(self, conn: _Conn, pattern: Dict[str, Any], key: str, kind: Callable[[Any], bool], what: str) -> int:
        """Waits for the first queued message of this kind whose ``key`` matches the pattern's;
        returns its index in the queue."""
        _check_pattern(pattern[key], self.captures)  # surfaces a scenario error before waiting

        def find() -> int:
            for i, m in enumerate(conn.queue):
                if kind(m):
                    try:
                        match(pattern[key], m[key], self.captures)
                        return i
                    except Mismatch:
                        pass
            return -1

        deadline = time.monotonic() + self.step_timeout
        conn.wait_until(lambda: find() >= 0 or conn.ended or conn.protocol_error is not None, deadline)
        index = find()
        if index < 0:
            if not conn.ended and conn.protocol_error is None:
                raise StepFailure("no %s %s within %d ms" % (what, show(pattern[key]), self.step_timeout * 1000), conn.queued())
            raise StepFailure(conn.protocol_error or "the connection closed before a %s %s arrived" % (what, show(pattern[key])), conn.queued())
        return index

    def accept(self, pattern: Any, message: Any) -> None:
        try:
            self.captures = match(pattern, message, self.captures)
        except Mismatch as m:
            raise StepFailure(str(m), show(message, 1000)) from None

    def finish(self) -> None:
        """The README's end check: every response must have been expected."""
        for conn in self.conns.values():
            conn.drain()
            if conn.protocol_error:
                raise StepFailure('connection "%s": %s' % (conn.name, conn.protocol_error))
            left = [m for m in conn.queue if _is_response(m)]
            if left:
                raise StepFailure('connection "%s" received %d response(s) no step expected' % (conn.name, len(left)), "\n".join(show(m) for m in left))

    def close_all(self) -> None:
        for conn in self.conns.values():
            if not conn.closed_by_client:
                conn.close()


class Result:
    """The outcome of one scenario."""

    __slots__ = ("name", "file", "ok", "duration_ms", "failure")

    def __init__(self, name: str, file: str, ok: bool, duration_ms: int, failure: Optional[Dict[str, Any]]) -> None:
        self.name, self.file, self.ok, self.duration_ms, self.failure = name, file, ok, duration_ms, failure

    def to_json(self) -> Dict[str, Any]:
        out = {"name": self.name, "file": self.file, "ok": self.ok, "durationMs": self.duration_ms}  # type: Dict[str, Any]
        if self.failure is not None:
            out["failure"] = self.failure
        return out


def run_scenario(scenario: Scenario, address: str, authkey: bytes, handshake_timeout_ms: float = 10000, step_timeout_ms: float = 5000) -> Result:
    """Runs one scenario against the server; never raises for a failing server."""
    started = time.monotonic()
    run = _Run(scenario, address, authkey, handshake_timeout_ms / 1000.0, step_timeout_ms / 1000.0)
    failure = None
    current = None  # type: Optional[Step]
    try:
        for step in scenario.steps:
            current = step
            run.step(step)
        current = None
        run.finish()
    except Exception as error:  # every failure becomes a report; the next scenario still runs
        if isinstance(error, ScenarioError):
            prefix = "scenario error: "
        elif isinstance(error, StepFailure):
            prefix = ""
        else:
            prefix = "%s: " % type(error).__name__
        last = scenario.steps[-1].line if scenario.steps else 1
        failure = {
            "line": current.line if current is not None else last,
            "step": current.text if current is not None else "(end of scenario)",
            "message": prefix + str(error),
        }
        received = getattr(error, "received", None)
        if received is not None:
            failure["received"] = received
    finally:
        run.close_all()
    return Result(scenario.name, scenario.file, failure is None, int((time.monotonic() - started) * 1000), failure)


def format_result(result: Result) -> str:
    """``ok   NAME (N ms)``, or ``FAIL NAME  file:line`` with the step, the problem and what arrived."""
    if result.ok:
        return "ok   %s (%d ms)" % (result.name, result.duration_ms)
    f = result.failure or {}
    lines = ["FAIL %s  %s:%s" % (result.name, result.file, f.get("line")), "     step:     %s" % f.get("step"), "     problem:  %s" % f.get("message")]
    received = f.get("received")
    if received:
        for i, line in enumerate(received.split("\n")):
            lines.append("     %s%s" % ("received: " if i == 0 else "          ", line))
    return "\n".join(lines)


def default_scenario_dir() -> Optional[str]:
    """``protocol/conformance/scenarios`` of the repository this package sits in (a checkout's
    ``clients/python/syncmanager_client``), else under the current directory, else None."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, os.pardir, os.pardir, os.pardir, "protocol", "conformance", "scenarios"),
        os.path.join(os.getcwd(), "protocol", "conformance", "scenarios"),
    ]
    for candidate in candidates:
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return None


def _positive_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("takes a positive number of milliseconds")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def main(argv: Optional[List[str]] = None) -> int:
    """The command line; returns the exit status (0 all passed, 1 some failed, 2 usage)."""
    parser = _Parser(prog="python -m syncmanager_client.conformance", description="Runs the syncmanager protocol conformance scenarios against a server, with this client's own transport.")
    parser.add_argument("address", help="the server: host:port, [v6]:port or a Unix socket path")
    parser.add_argument("--authkey", help="the server's authkey (UTF-8); it shows in the process list, so prefer $%s (the default)" % AUTHKEY_ENV)
    parser.add_argument("--scenarios", metavar="DIR", help="the scenario directory (default: the repository's protocol/conformance/scenarios)")
    parser.add_argument("--only", metavar="NAME", action="append", default=[], help="run only this scenario (repeatable)")
    parser.add_argument("--handshake-timeout-ms", type=_positive_ms, default=10000.0, metavar="N", help="the server's handshake timeout (default 10000)")
    parser.add_argument("--step-timeout-ms", type=_positive_ms, default=5000.0, metavar="N", help="the longest any step waits (default 5000)")
    parser.add_argument("--json", metavar="FILE", help="also write every result to FILE")
    args = parser.parse_args(argv)
    if args.authkey is None:
        args.authkey = os.environ.get(AUTHKEY_ENV) or None
    if args.authkey is None:
        parser.error("no authkey: set %s or --authkey KEY" % AUTHKEY_ENV)

    directory = args.scenarios or default_scenario_dir()
    if directory is None or not os.path.isdir(directory):
        print("no scenario directory: pass --scenarios DIR (looked for protocol/conformance/scenarios)", file=sys.stderr)
        return 2
    try:
        scenarios = load_scenarios(directory)
    except (ScenarioFormatError, OSError) as error:
        print("cannot read the scenarios: %s" % error, file=sys.stderr)
        return 2
    if args.only:
        names = {s.name for s in scenarios}
        unknown = [n for n in args.only if n not in names]
        if unknown:
            print("no scenario named %s" % ", ".join(unknown), file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if s.name in args.only]
    if not scenarios:
        print("no scenarios in %s" % directory, file=sys.stderr)
        return 2

    authkey = args.authkey.encode("utf-8")
    results = []
    for scenario in scenarios:
        result = run_scenario(scenario, args.address, authkey, args.handshake_timeout_ms, args.step_timeout_ms)
        print(format_result(result), flush=True)
        results.append(result)
    failed = sum(1 for r in results if not r.ok)
    print("\n%d passed, %d failed, %d scenarios" % (len(results) - failed, failed, len(results)), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([r.to_json() for r in results], f, indent=2)
            f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
