"""The examples of docs/directory.md run, each on a fresh database, and
leave a directory tree that the official binding reads the same way."""

import pathlib
import re

import pytest

import found
from directory_support import fdb

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "directory.md"
SOURCES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def example_function(source):
    """The ``example(db)`` coroutine function that ``source`` defines (its
    ``__main__`` guard keeps it from running on its own)."""
    namespace = {"__name__": "directory_docs"}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace["example"]


async def found_tree(db, path=()):
    """{path: (prefix, layer)} of every directory under ``path``, through found."""
    tree = {}
    for name in await found.directory.list(db, path):
        child = await found.directory.open(db, path + (name,))
        tree[child.get_path()] = (child.rawPrefix, child.get_layer())
        tree.update(await found_tree(db, child.get_path()))
    return tree


def fdb_tree(db, path=()):
    """The same through the official binding."""
    tree = {}
    for name in fdb.directory.list(db, path):
        child = fdb.directory.open(db, path + (name,))
        tree[child.get_path()] = (child.rawPrefix, child.get_layer())
        tree.update(fdb_tree(db, child.get_path()))
    return tree


def test_every_example_is_found():
    assert len(SOURCES) >= 5


@pytest.mark.parametrize("source", SOURCES, ids=[str(i) for i in range(len(SOURCES))])
async def test_example(db, fdb_db, source):
    await example_function(source)(db)
    if fdb is not None:  # CPython: the official binding sees the same tree
        assert fdb_tree(fdb_db) == await found_tree(db)
