"""The environment variables' names this client reads are the ones the protocol's spec names (SPEC 2),
which the TypeScript tools set: each language spells them in its own code, so a test ties them."""

import os
import re
import unittest

from syncmanager_client import manager

#: protocol/SPEC.md in a checkout of the repository; an installed copy of the tests has none.
SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "protocol", "SPEC.md")


class EnvironmentNamesTest(unittest.TestCase):
    def test_names_are_the_specs(self) -> None:
        if not os.path.exists(SPEC):
            self.skipTest("protocol/SPEC.md is not beside this copy of the tests")
        with open(SPEC, encoding="utf-8") as spec:
            line = next((l for l in spec if "as the environment variables" in l), None)
        self.assertIsNotNone(line, "SPEC.md names the environment variables workers get")
        self.assertEqual(re.findall(r"`(SYNCMANAGER_\w+)`", line or ""), [manager.ADDRESS_ENV, manager.AUTHKEY_ENV])


if __name__ == "__main__":
    unittest.main()
