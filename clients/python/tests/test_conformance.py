"""The conformance interpreter (protocol/conformance/README.md): its patterns on their own, and
scenarios, passing and failing, against the manager under test."""

import io
import os
import unittest
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Iterator, Optional

from syncmanager_client import conformance
from syncmanager_client.conformance import Mismatch, ScenarioError, ScenarioFormatError, match, parse_scenario, run_scenario, substitute

from .support import ADDRESS, AUTHKEY, require_server

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


@contextmanager
def authkey_in_environment(value: Optional[str]) -> Iterator[None]:
    """SYNCMANAGER_AUTHKEY set to ``value`` (unset for None) while the block runs, then as it was."""
    before = os.environ.pop("SYNCMANAGER_AUTHKEY", None)
    if value is not None:
        os.environ["SYNCMANAGER_AUTHKEY"] = value
    try:
        yield
    finally:
        os.environ.pop("SYNCMANAGER_AUTHKEY", None)
        if before is not None:
            os.environ["SYNCMANAGER_AUTHKEY"] = before


class PatternTest(unittest.TestCase):
    def ok(self, pattern, actual, captures=None):
        return match(pattern, actual, dict(captures or {}))

    def bad(self, pattern, actual, captures=None):
        with self.assertRaises(Mismatch):
            match(pattern, actual, dict(captures or {}))

    def test_plain_values(self):
        self.ok(1, 1.0)  # numbers by value
        self.bad(1, True)  # JSON's true is not 1
        self.bad(True, 1)
        self.bad(None, 0)
        self.ok("a", "a")
        self.bad("a", "b")
        self.ok([1, [2]], [1, [2]])
        self.bad([1], [1, 2])

    def test_objects(self):
        self.ok({"a": 1}, {"a": 1})
        self.bad({"a": 1}, {"a": 1, "b": 2})
        self.ok({"a": 1, "$more": True}, {"a": 1, "b": 2})
        self.bad({"a": 1, "$more": True}, {"b": 2})
        self.bad({"a": "$any"}, {})  # the key must be present

    def test_placeholders(self):
        self.ok("$any", None)
        self.ok("$string", "x")
        self.bad("$string", 1)
        self.ok("$integer", 2)
        self.ok("$integer", 2.0)  # as JavaScript's Number.isInteger
        self.bad("$integer", 2.5)
        self.bad("$number", True)
        self.ok("$boolean", False)
        self.ok("$object", {})
        self.ok("$array", [])
        self.ok("$$literal", "$literal")
        self.bad("$$literal", "$$literal")
        captures = self.ok({"id": "$capture:x"}, {"id": "7"})
        self.assertEqual(captures, {"x": "7"})
        self.ok("${x}", "7", captures)
        self.bad("${x}", 7, captures)  # "7" and 7 differ
        with self.assertRaises(ScenarioError):
            self.ok("$strnig", "typo")
        with self.assertRaises(ScenarioError):
            self.ok("${never}", 1)

    def test_operators(self):
        self.ok({"$unordered": [1, 2, 3]}, [3, 1, 2])
        self.bad({"$unordered": [1, 2]}, [1, 1])
        self.ok({"$anyOf": ["$string", 1]}, 1)
        self.bad({"$anyOf": ["$string", 1]}, 2)
        captures = self.ok({"$unordered": [{"k": "$capture:a"}, {"k": 1}]}, [{"k": 1}, {"k": 9}])
        self.assertEqual(captures["a"], 9)
        self.ok({"$float": 2}, {"$float": 2})  # object keys are never placeholders

    def test_substitute(self):
        self.assertEqual(substitute({"id": "${x}", "k": ["$$y", 1], "$float": 2}, {"x": {"deep": [1]}}), {"id": {"deep": [1]}, "k": ["$y", 1], "$float": 2})
        with self.assertRaises(ScenarioError):
            substitute("$any", {})

    def test_parse_errors(self):
        for text in ('{"description": "no name"}', '{"scenario": "x"}\n{"bogus": 1}', '{"scenario": "x"}\n{"expect": {"result": 1}}', '{"scenario": "x"}\nnot json', '{"scenario": "x", "extra": 1}'):
            with self.subTest(text=text), self.assertRaises(ScenarioFormatError):
                parse_scenario(text, "inline")
        scenario = parse_scenario('// comment\n\n{"scenario": "x", "spec": ["3"]}\n{"conn": "other", "connect": true}\n', "inline")
        self.assertEqual((scenario.name, scenario.spec, scenario.steps[0].conn, scenario.steps[0].line), ("x", ["3"], "other", 4))


HEAD = """{"scenario": "inline"}
{"connect": true}
{"handshake": "ok"}
{"send": {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "1.2"}}}
"""


class RunTest(unittest.TestCase):
    def setUp(self):
        require_server()

    def run_text(self, text):
        return run_scenario(parse_scenario(text, "inline.jsonl"), ADDRESS, AUTHKEY.encode("utf-8"), step_timeout_ms=2000)

    def test_own_scenarios_pass(self):
        for scenario in conformance.load_scenarios(SCENARIOS):
            with self.subTest(scenario=scenario.name):
                result = run_scenario(scenario, ADDRESS, AUTHKEY.encode("utf-8"))
                self.assertTrue(result.ok, conformance.format_result(result))

    def test_wrong_answer_fails_at_its_line(self):
        result = self.run_text(HEAD + '{"expect": {"jsonrpc": "2.0", "id": 1, "result": {"$more": true, "protocolVersion": "9.9"}}}\n')
        self.assertFalse(result.ok)
        self.assertEqual(result.failure["line"], 5)
        self.assertIn("protocolVersion", result.failure["message"])
        self.assertIn('"sessionId"', result.failure["received"])
        self.assertIn("FAIL inline", conformance.format_result(result))

    def test_unexpected_response_fails_at_the_end(self):
        # The initialize response arrives before describe's (requests are served in order), so
        # it is surely in the queue, unexpected, when the scenario ends.
        result = self.run_text(HEAD + '{"send": {"jsonrpc": "2.0", "id": 2, "method": "manager/describe"}}\n{"expect": {"jsonrpc": "2.0", "id": 2, "result": "$object"}}\n')
        self.assertFalse(result.ok)
        self.assertEqual(result.failure["step"], "(end of scenario)")

    def test_not_yet_and_close(self):
        ok = self.run_text(
            HEAD
            + '{"expect": {"jsonrpc": "2.0", "id": 1, "result": {"$more": true}}}\n'
            + '{"notYet": 2}\n'
            + '{"send": {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}}\n'
            + '{"expect": {"jsonrpc": "2.0", "id": 2, "result": null}}\n'
            + '{"expectClose": true}\n'
        )
        self.assertTrue(ok.ok, conformance.format_result(ok))
        late = self.run_text(HEAD + '{"expect": {"jsonrpc": "2.0", "id": 1, "result": {"$more": true}}}\n{"notYet": 1}\n')
        self.assertFalse(late.ok)
        self.assertIn("already arrived", late.failure["message"])

    def test_wrong_key_handshake(self):
        result = self.run_text('{"scenario": "k"}\n{"connect": true}\n{"handshake": "wrong-key"}\n')
        self.assertTrue(result.ok, conformance.format_result(result))

    def test_command_line(self):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = conformance.main([ADDRESS, "--authkey", AUTHKEY, "--scenarios", SCENARIOS, "--only", "py-cancel"])
        self.assertEqual(status, 0, out.getvalue() + err.getvalue())
        self.assertIn("ok   py-cancel", out.getvalue())
        self.assertIn("1 passed, 0 failed, 1 scenarios", out.getvalue())
        with redirect_stdout(out), redirect_stderr(err):
            self.assertEqual(conformance.main([ADDRESS, "--authkey", AUTHKEY, "--scenarios", SCENARIOS, "--only", "no-such"]), 2)
        with redirect_stdout(out), redirect_stderr(err), authkey_in_environment(None), self.assertRaises(SystemExit) as caught:
            conformance.main([ADDRESS, "--scenarios", SCENARIOS])  # no key at all
        self.assertEqual(caught.exception.code, 2)

    def test_command_line_key_from_environment(self):
        """The key by environment, as a secret should travel (a command line is every local user's to read); --authkey wins."""
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err), authkey_in_environment(AUTHKEY):
            self.assertEqual(conformance.main([ADDRESS, "--scenarios", SCENARIOS, "--only", "py-cancel"]), 0, out.getvalue() + err.getvalue())
            self.assertEqual(conformance.main([ADDRESS, "--authkey", "not-" + AUTHKEY, "--scenarios", SCENARIOS, "--only", "py-cancel", "--step-timeout-ms", "2000"]), 1)
