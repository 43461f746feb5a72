"""The in-tree build backend: pyproject.toml read the same way with and without tomllib, and a
wheel that holds the package and valid metadata."""

import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

from syncmanager_client import _build_backend as backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BackendTest(unittest.TestCase):
    def test_subset_parser_agrees_with_tomllib(self):
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
            text = f.read()
        ours = backend.parse_toml_subset(text)
        self.assertEqual(ours["project"]["name"], "syncmanager-client")
        self.assertEqual(ours["project"]["requires-python"], ">=3.8")
        self.assertEqual(ours["build-system"]["requires"], [])
        if sys.version_info >= (3, 11):
            import tomllib

            self.assertEqual(ours, tomllib.loads(text))

    def test_wheel(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = backend.build_wheel(tmp)
            self.assertEqual(name, "syncmanager_client-0.1.0-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(tmp, name)) as whl:
                names = whl.namelist()
                self.assertIn("syncmanager_client/__init__.py", names)
                self.assertIn("syncmanager_client/conformance.py", names)
                metadata = whl.read("syncmanager_client-0.1.0.dist-info/METADATA").decode("utf-8")
                self.assertIn("Name: syncmanager-client", metadata)
                self.assertIn("Requires-Python: >=3.8", metadata)
                self.assertNotIn("Requires-Dist", metadata)
                record = whl.read("syncmanager_client-0.1.0.dist-info/RECORD").decode("utf-8").splitlines()
                self.assertEqual(len(record), len(names))
                self.assertIn("syncmanager-conformance = syncmanager_client.conformance:main", whl.read("syncmanager_client-0.1.0.dist-info/entry_points.txt").decode("utf-8"))

    def test_sdist(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = backend.build_sdist(tmp)
            self.assertEqual(name, "syncmanager_client-0.1.0.tar.gz")
            import tarfile

            with tarfile.open(os.path.join(tmp, name)) as tar:
                names = tar.getnames()
            self.assertIn("syncmanager_client-0.1.0/pyproject.toml", names)
            self.assertIn("syncmanager_client-0.1.0/PKG-INFO", names)
            self.assertIn("syncmanager_client-0.1.0/syncmanager_client/values.py", names)

    def test_editable_wheel_maps_the_package_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = backend.build_editable(tmp)
            site = os.path.join(tmp, "site")
            with zipfile.ZipFile(os.path.join(tmp, name)) as whl:
                whl.extractall(site)
            # A fresh interpreter, away from the source tree, that reads the wheel's .pth as pip's
            # install would have it read: the package imports from the source, nothing else does.
            code = (
                "import site, sys; site.addsitedir(sys.argv[1]); import syncmanager_client, syncmanager_client.values as v; "
                "print(syncmanager_client.__file__); print(v.__name__)\n"
                "for other in ('tests', 'examples'):\n"
                "    try:\n"
                "        __import__(other)\n"
                "    except ImportError:\n"
                "        print('no ' + other)\n"
            )
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            out = subprocess.run([sys.executable, "-S", "-c", code, site], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr.decode())
            lines = out.stdout.decode().splitlines()
            self.assertEqual(lines[0], os.path.join(ROOT, "syncmanager_client", "__init__.py"))
            self.assertEqual(lines[1:], ["syncmanager_client.values", "no tests", "no examples"])
