"""A PEP 517 build backend in the standard library only, for syncmanager-client.

``pyproject.toml`` names it (``build-backend = "syncmanager_client._build_backend"``, with
``backend-path = ["."]``): it lives in the package it builds, so the project needs nothing else.

Why not setuptools: ``pip install`` must work offline with every Python from 3.8, and none of
the usual installs can build a PEP 621 project with setuptools without downloading something
(3.12+ has no setuptools, 3.8/3.9 have one older than 61, and none has ``wheel``). This backend
needs nothing: it reads the ``[project]`` table of ``pyproject.toml`` and zips the pure-Python
package into a wheel (PEP 427), an sdist, or an editable wheel (PEP 660).

It understands the subset of TOML that this project's ``pyproject.toml`` uses (tables, strings,
arrays of strings, one-line inline tables of strings), through ``tomllib`` when Python has it.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "syncmanager_client"
#: What an sdist carries besides the package.
SDIST_EXTRA = ("pyproject.toml", "README.md", "examples", "tests")

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]


# ---------------------------------------------------------------------------------------------
# pyproject.toml


def _parse_value(text):
    """One TOML value of the subset: a string, an array of strings, true/false, an inline table."""
    text = text.strip()
    if text.startswith("{"):
        out = {}
        for part in _split_top(text[1:-1]):
            key, _, value = part.partition("=")
            out[key.strip().strip('"')] = _parse_value(value)
        return out
    if text.startswith("["):
        return [_parse_value(item) for item in _split_top(text[1:-1])]
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"') and text.endswith('"'):
        body = text[1:-1]
        if "\\" in body:
            raise ValueError("pyproject.toml: escapes in strings are not supported by this backend: %s" % text)
        return body
    raise ValueError("pyproject.toml: a value this backend cannot read: %s" % text)


def _split_top(text):
    """Splits on commas outside strings and brackets; drops empty items (a trailing comma)."""
    items, depth, quoted, current = [], 0, False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "[{":
            depth += 1
        elif not quoted and ch in "]}":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [i for i in (x.strip() for x in items) if i]


def _strip_comment(line):
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def read_pyproject(path=None):
    """The parsed ``pyproject.toml`` as nested dicts."""
    path = path or os.path.join(ROOT, "pyproject.toml")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        tomllib = None
    if tomllib is not None:
        return tomllib.loads(raw.decode("utf-8"))
    return parse_toml_subset(raw.decode("utf-8"))


def parse_toml_subset(text):
    """The TOML subset reader used before Python 3.11 (and tested against tomllib after)."""
    data, table, pending = {}, None, ""
    for raw_line in text.splitlines():
        line = _strip_comment(raw_line).strip()
        if pending:
            pending += " " + line
            if pending.count("[") == pending.count("]") and pending.count("{") == pending.count("}"):
                key, _, value = pending.partition("=")
                table[key.strip()] = _parse_value(value)
                pending = ""
            continue
        if not line:
            continue
        header = re.match(r"^\[([A-Za-z0-9_.\-]+)\]$", line)
        if header:
            table = data
            for part in header.group(1).split("."):
                table = table.setdefault(part, {})
            continue
        if table is None or "=" not in line:
            raise ValueError("pyproject.toml: a line this backend cannot read: %s" % raw_line)
        key, _, value = line.partition("=")
        if value.count("[") != value.count("]") or value.count("{") != value.count("}"):
            pending = line
            continue
        table[key.strip()] = _parse_value(value)
    return data


def _project():
    project = read_pyproject()["project"]
    for key in ("name", "version", "requires-python"):
        if not isinstance(project.get(key), str):
            raise ValueError("pyproject.toml: [project] needs %s" % key)
    if project.get("dependencies"):
        raise ValueError("syncmanager-client has no dependencies: this backend does not write Requires-Dist")
    return project


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def metadata_text(project):
    """Core metadata 2.1 (the METADATA / PKG-INFO file)."""
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % project["name"],
        "Version: %s" % project["version"],
    ]
    if project.get("description"):
        lines.append("Summary: %s" % project["description"])
    if project.get("keywords"):
        lines.append("Keywords: %s" % ",".join(project["keywords"]))
    license_ = project.get("license")
    if isinstance(license_, dict) and license_.get("text"):
        lines.append("License: %s" % license_["text"])
    for classifier in project.get("classifiers", []):
        lines.append("Classifier: %s" % classifier)
    lines.append("Requires-Python: %s" % project["requires-python"])
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str):
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + body


def _entry_points(project):
    scripts = project.get("scripts") or {}
    if not scripts:
        return None
    return "[console_scripts]\n" + "".join("%s = %s\n" % item for item in sorted(scripts.items()))


def _dist_info_files(project):
    """``(name, bytes)`` of the .dist-info directory, RECORD left out."""
    files = [
        ("METADATA", metadata_text(project).encode("utf-8")),
        ("WHEEL", b"Wheel-Version: 1.0\nGenerator: syncmanager_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        ("top_level.txt", (PACKAGE + "\n").encode("ascii")),
    ]
    entry_points = _entry_points(project)
    if entry_points:
        files.append(("entry_points.txt", entry_points.encode("utf-8")))
    return files


# ---------------------------------------------------------------------------------------------
# Wheels (PEP 427)


def _package_files():
    """Every ``.py`` file of the package, relative to the project root, sorted."""
    out = []
    for directory, dirs, files in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(directory, name), ROOT).replace(os.sep, "/"))
    return out


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _zip_info(path):
    # A fixed date makes the wheel reproducible.
    info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write_wheel(wheel_directory, project, contents):
    """Writes ``contents`` (``(path, bytes)``) plus the .dist-info into a wheel; its file name."""
    dist = _dist_name(project)
    dist_info = "%s-%s.dist-info" % (dist, project["version"])
    filename = "%s-%s-py3-none-any.whl" % (dist, project["version"])
    entries = list(contents) + [("%s/%s" % (dist_info, name), data) for name, data in _dist_info_files(project)]
    record = "".join(_record_line(path, data) + "\n" for path, data in entries) + "%s/RECORD,,\n" % dist_info
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as whl:
        for path, data in entries:
            whl.writestr(_zip_info(path), data)
        whl.writestr(_zip_info("%s/RECORD" % dist_info), record.encode("utf-8"))
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    contents = []
    for path in _package_files():
        with open(os.path.join(ROOT, path), "rb") as f:
            contents.append((path, f.read()))
    return _write_wheel(wheel_directory, project, contents)


#: The module an editable install adds: it maps the package's name, and only that, to the source.
_EDITABLE_FINDER = """\
\"\"\"Maps the package %(package)r to its source directory (an editable install of %(dist)s).\"\"\"
import importlib.abc
import importlib.util
import os
import sys

_PACKAGE = %(package)r
_PATH = %(path)r


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _PACKAGE:
            return None
        return importlib.util.spec_from_file_location(name, os.path.join(_PATH, "__init__.py"), submodule_search_locations=[_PATH])


def install():
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
"""


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 660: a wheel whose .pth file installs a finder for the package alone. (A .pth naming
    this directory would also make its ``tests`` and ``examples`` importable everywhere.)"""
    project = _project()
    dist = _dist_name(project)
    module = "__editable___%s_finder" % dist
    finder = _EDITABLE_FINDER % {"package": PACKAGE, "dist": dist, "path": os.path.join(ROOT, PACKAGE)}
    pth = "import %s; %s.install()\n" % (module, module)
    return _write_wheel(wheel_directory, project, [("%s.py" % module, finder.encode("utf-8")), ("__editable__.%s.pth" % dist, pth.encode("utf-8"))])


def _prepare_metadata(metadata_directory):
    project = _project()
    dist_info = "%s-%s.dist-info" % (_dist_name(project), project["version"])
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for name, data in _dist_info_files(project):
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    return dist_info


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _prepare_metadata(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _prepare_metadata(metadata_directory)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


# ---------------------------------------------------------------------------------------------
# sdists


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (_dist_name(project), project["version"])
    filename = base + ".tar.gz"
    paths = list(_package_files())
    for extra in SDIST_EXTRA:
        full = os.path.join(ROOT, extra)
        if os.path.isfile(full):
            paths.append(extra)
        elif os.path.isdir(full):
            for directory, dirs, files in os.walk(full):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if not name.endswith((".pyc", ".pyo")):
                        paths.append(os.path.relpath(os.path.join(directory, name), ROOT).replace(os.sep, "/"))

    def add(tar, path, data):
        info = tarfile.TarInfo("%s/%s" % (base, path))
        info.size = len(data)
        info.mode = 0o644
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            with open(os.path.join(ROOT, path), "rb") as f:
                add(tar, path, f.read())
        add(tar, "PKG-INFO", metadata_text(project).encode("utf-8"))
    return filename
