"""Packaging: extras match what each feature imports, a missing one is named, versions agree."""

import ast
import importlib.util
import os
import re
import subprocess
import sys
import sysconfig

import pytest

import found
from driver_support import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest (a test requirement) brings tomli on Python < 3.11
    import tomli as tomllib

PYPROJECT = os.path.join(ROOT, "pyproject.toml")
# The distribution that provides each optional module found imports (h11 is a
# requirement of uvicorn itself, whose HTTP protocol the launcher extends;
# markupsafe one of jinja2, whose Markup the pages build).
DISTRIBUTIONS = {
    "zstandard": "zstandard",
    "jinja2": "jinja2",
    "markupsafe": "jinja2",
    "uvicorn": "uvicorn",
    "h11": "uvicorn",
}


def pyproject() -> dict:
    with open(PYPROJECT, "rb") as f:
        return tomllib.load(f)


def is_stdlib(name: str) -> bool:
    if name in sys.builtin_module_names:  # before find_spec: PyPy's built-in array has no __spec__
        return True
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return name in names
    spec = importlib.util.find_spec(name)  # Python 3.9: where does it come from?
    origin = spec.origin if spec is not None else None
    return origin in ("built-in", "frozen") or (origin or "").startswith(sysconfig.get_paths()["stdlib"])


def third_party_imports():
    """(module, file) for every import in found/ of a module neither stdlib, found, nor cffi's."""
    for folder, _, files in os.walk(os.path.join(ROOT, "found")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in ("found", "_cffi_backend", "cffi") and not is_stdlib(top):
                        yield top, path


def requirement_names(requirements) -> set:
    return {r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip() for r in requirements}


def test_each_optional_import_names_an_extra_that_provides_it():
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    seen = set()
    for module, path in third_party_imports():
        if module in ("uvloop", "httptools"):  # optional speed-ups, imported only when present
            continue
        seen.add(module)
        with open(path) as f:
            source = f.read()
        named = re.findall(r'missing_extra\(\w+, "(\w+)"', source)
        assert named, "%s imports %s without naming the extra that installs it" % (path, module)
        for extra in named:
            assert DISTRIBUTIONS[module] in requirement_names(extras[extra]), (module, extra)
    assert seen == set(DISTRIBUTIONS)
    assert requirement_names(project["dependencies"]) == {"cffi"}  # nothing else is needed to import found


@pytest.mark.parametrize(
    "module,blocked,extra",
    [
        ("found.ext.pstore", "zstandard", "pstore"),
        ("found.ext.vnstore.server", "jinja2", "server"),
        ("found.ext.vnstore.launcher", "uvicorn", "server"),
        ("found.ext.vnstore.launcher", "h11", "server"),
    ],
)
def test_a_missing_extra_is_named_at_import(module, blocked, extra):
    script = "import sys; sys.modules[%r] = None; import %s" % (blocked, module)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ") and "needs the %s package" % blocked in last
    assert "pip install 'found[%s]'" % extra in last


def test_found_vnstore_names_the_server_extra_without_uvicorn():
    script = "import sys; sys.modules['uvicorn'] = None\nfrom found.ext.vnstore.server import main\nmain(['--help'])"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert "found-vnstore needs the uvicorn package, which is not installed: pip install 'found[server]'" in done.stderr


def test_the_version_is_one_number_everywhere():
    assert found.__version__ == pyproject()["project"]["version"]
    assert found.__VERSION__ == tuple(int(part) for part in found.__version__.split("."))
    assert "__version__" in found.__all__


def test_building_metadata_gives_no_license_warning(tmp_path):
    import setuptools

    script = "from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel(%r))" % (
        str(tmp_path),
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "project.license" not in done.stderr, done.stderr  # setuptools >= 77 warned three times
    metadata = (tmp_path / done.stdout.split()[-1] / "METADATA").read_text()
    assert "\nLicense: Apache-2.0\n" in metadata, (setuptools.__version__, metadata[:400])


def test_pytest_prints_no_fixture_loop_scope_warning():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", __file__], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "asyncio_default_fixture_loop_scope" not in done.stdout + done.stderr


def test_python_m_simulation_runs_from_any_directory(tmp_path):
    # .ci/setup (and .ci/pypy) put the checkout on the venv's sys.path (.ci/checkout-pth).
    done = subprocess.run(
        [sys.executable, "-m", "simulation", "--help"], capture_output=True, text=True, cwd=str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m simulation")


def test_the_wheel_carries_the_type_information(tmp_path):
    # build_py copies the package and its package data as a wheel would, without compiling.
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, FOUND_BUILD="none"),
    )
    assert done.returncode == 0, done.stderr
    for name in ("py.typed", "_fdb.pyi", "_ctuple.pyi", "_cpairs.pyi"):
        assert (tmp_path / "found" / name).is_file(), name
