"""The public names of docs/directory.md's API table: exported, sync or
coroutine as listed, with docstrings. (That the signatures equal the official
binding's is checked in test_directory_interop.py.)"""

import inspect

import pytest

import found

OPERATIONS = ["create_or_open", "open", "create", "move", "move_to", "remove", "remove_if_exists", "list", "exists"]
SUBSPACE = [
    "key",
    "pack",
    "pack_with_versionstamp",
    "unpack",
    "range",
    "contains",
    "subspace",
    "__getitem__",
    "as_foundationdb_key",
]


def test_exported():
    for name in (
        "Subspace",
        "directory",
        "DirectoryLayer",
        "DirectorySubspace",
        "DirectoryPartition",
        "DirectoryError",
    ):
        assert name in found.__all__
    assert type(found.directory) is found.DirectoryLayer
    assert found.directory._node_subspace.key() == b"\xfe" and found.directory._content_subspace.key() == b""
    assert issubclass(found.DirectorySubspace, found.Subspace)
    assert issubclass(found.DirectoryPartition, found.DirectorySubspace)
    assert issubclass(found.DirectoryError, ValueError) and issubclass(found.DirectoryError, found.BaseFoundException)


@pytest.mark.parametrize("cls", [found.DirectoryLayer, found.DirectorySubspace, found.DirectoryPartition])
@pytest.mark.parametrize("name", OPERATIONS)
def test_operations_are_coroutines(cls, name):
    method = getattr(cls, name)
    assert inspect.iscoroutinefunction(method)
    assert (method.__doc__ or "").strip()
    assert list(inspect.signature(method).parameters)[:2] == ["self", "tr"]


@pytest.mark.parametrize("cls", [found.DirectoryLayer, found.DirectorySubspace])
@pytest.mark.parametrize("name", ["get_layer", "get_path"])
def test_accessors_are_sync(cls, name):
    assert not inspect.iscoroutinefunction(getattr(cls, name))


@pytest.mark.parametrize("name", SUBSPACE)
def test_subspace_methods_are_sync(name):
    method = getattr(found.Subspace, name)
    assert not inspect.iscoroutinefunction(method) and (method.__doc__ or "").strip()


async def test_a_transaction_or_a_database(db):
    """The same operation through found.transactional, a transaction of
    one's own, and a Database (its own transaction)."""
    first = await found.transactional(db, found.directory.create_or_open, ("x",))
    async with found.transaction(db) as tx:
        second = await found.directory.open(tx, "x")
    third = await found.directory.open(db, ("x",))
    assert first.key() == second.key() == third.key()
    assert first.get_path() == second.get_path() == third.get_path() == ("x",)


async def test_opened_directories_work_relative_to_their_path(db):
    app = await found.directory.create_or_open(db, "app")
    users = await app.create(db, "users")
    assert users.get_path() == ("app", "users")
    assert await app.list(db) == ["users"]
    assert await app.exists(db, "users") and await app.exists(db)
    moved = await app.move(db, "users", "people")
    assert moved.get_path() == ("app", "people") and moved.key() == users.key()
    again = await moved.move_to(db, ("people",))
    assert again.get_path() == ("people",)
    assert await found.directory.list(db) == ["app", "people"]
    assert await again.remove(db) is True and await again.remove_if_exists(db) is False
    assert await found.directory.list(db) == ["app"]
