"""Fixtures of the build tests: the repository root and setup.py as a module."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def setup_module():
    """setup.py imported under its own name: its helpers, without running setup()."""
    spec = importlib.util.spec_from_file_location("found_setup", os.path.join(ROOT, "setup.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
