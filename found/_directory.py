"""The directory layer: named, nested directories that map paths to short key prefixes.

FoundationDB's design, with its key layout, so directories made by found and
by the official bindings are the same directories:

- The **node subspace** (``\\xfe`` by default) holds the metadata. Each
  directory is a node: the subspace ``node_subspace[prefix]`` where
  ``prefix`` is the directory's content prefix. The root node is
  ``node_subspace[node_subspace.key()]``.
- ``node[0][name] = child prefix`` links a directory to each subdirectory;
  ``node[b"layer"]`` holds the directory's layer (b"" when none).
- ``root[b"version"]`` holds the layer format version, three little-endian
  uint32 (1, 0, 0), written by the first change.
- ``root[b"hca"]`` holds the high-contention allocator's counters
  (found._hca), which hands out the content prefixes, placed after the
  **content subspace**'s prefix (empty by default).
- A directory whose layer is ``b"partition"`` is a **partition**: its own
  directory layer with node subspace ``prefix + \\xfe`` and content subspace
  ``prefix``, so everything inside shares the partition's prefix.

Every operation is a coroutine taking a found transaction first (a
found.Database is accepted too: the operation then runs in its own
transaction, retried by found.transactional).
"""

import functools
import struct
from typing import List, Optional, Tuple, Union

from found._database import Database
from found._errors import BaseFoundException
from found._hca import HighContentionAllocator
from found._layer_reads import first_in, last_in, snapshot_of
from found._subspace import Subspace
from found._transaction import Transaction, clear, get, query, set
from found._transactional import transactional
from found._util import next_prefix

__all__ = ["DirectoryError", "DirectoryLayer", "DirectorySubspace", "DirectoryPartition", "directory"]

Path = Union[str, Tuple[str, ...]]

_SUBDIRS = 0
_VERSION = (1, 0, 0)
_PARTITION = b"partition"


class DirectoryError(BaseFoundException, ValueError):
    """A directory operation that cannot be done: the directory is missing or
    already exists, the layer differs, a prefix is in use, a move would cross
    a partition or go into its own subdirectory, the stored format is newer…

    A ValueError, as the official binding raises ValueError for these.
    """


def _name(path: Tuple[str, ...]) -> str:
    return repr(path)


def _path_of(path, argument: str = "path") -> Tuple[str, ...]:
    """``path`` as a tuple of str (a str alone is a path of one name)."""
    if isinstance(path, str):
        return (path,)
    if isinstance(path, tuple) and all(isinstance(name, str) for name in path):
        return path
    if isinstance(path, tuple):
        wrong = next(name for name in path if not isinstance(name, str))
        raise TypeError(
            "%s must be a str or a tuple of str; it holds a %s: %r" % (argument, type(wrong).__name__, wrong)
        )
    raise TypeError("%s must be a str or a tuple of str, not %s" % (argument, type(path).__name__))


def _optional_bytes(value, argument: str) -> Optional[bytes]:
    if value is None or isinstance(value, bytes):
        return value
    raise TypeError("%s must be bytes or None, not %s" % (argument, type(value).__name__))


def _prefix_end(prefix: bytes) -> bytes:
    """The first key after every key that starts with ``prefix``."""
    try:
        return next_prefix(prefix)
    except ValueError:
        raise DirectoryError("prefix %r cannot hold a directory: it has no byte other than 0xFF" % (prefix,)) from None


def _in_transaction(method):
    """Let ``method(self, tr, ...)`` take a found.Database as ``tr`` (run in
    found.transactional) and refuse anything that is not a transaction."""

    @functools.wraps(method)
    async def run(self, tr, *args, **kwargs):
        if isinstance(tr, Transaction):
            return await method(self, tr, *args, **kwargs)
        if isinstance(tr, Database):
            return await transactional(tr, lambda tx: method(self, tx, *args, **kwargs))
        raise TypeError("tr must be a found.Transaction or a found.Database, not %s" % type(tr).__name__)

    return run


class Directory:
    """Directory operations relative to one directory (``path`` in ``directory_layer``)."""

    def __init__(self, directory_layer: "DirectoryLayer", path: Tuple[str, ...] = (), layer: bytes = b"") -> None:
        self._directory_layer = directory_layer
        self._path = path
        self._layer = layer

    @_in_transaction
    async def create_or_open(self, tr: Transaction, path: Path, layer: Optional[bytes] = None):
        """Open the subdirectory ``path``, creating it (and missing parents) if needed.

        ``layer``, when given, must match an existing directory's layer, and is
        recorded on a new one.
        """
        return await self._directory_layer.create_or_open(tr, self._subpath(path), layer)

    @_in_transaction
    async def open(self, tr: Transaction, path: Path, layer: Optional[bytes] = None):
        """Open the existing subdirectory ``path`` (DirectoryError if missing or of another layer)."""
        return await self._directory_layer.open(tr, self._subpath(path), layer)

    @_in_transaction
    async def create(self, tr: Transaction, path: Path, layer: Optional[bytes] = None, prefix: Optional[bytes] = None):
        """Create the subdirectory ``path`` (DirectoryError if it exists), with
        ``layer`` and, when the layer allows manual prefixes, the given ``prefix``."""
        return await self._directory_layer.create(tr, self._subpath(path), layer, prefix)

    @_in_transaction
    async def list(self, tr: Transaction, path: Path = ()) -> List[str]:
        """The names of the subdirectories of ``path``, in key order."""
        return await self._directory_layer.list(tr, self._subpath(path))

    @_in_transaction
    async def move(self, tr: Transaction, old_path: Path, new_path: Path):
        """Move subdirectory ``old_path`` to ``new_path`` (both relative to this directory)."""
        return await self._directory_layer.move(
            tr, self._subpath(old_path, "old_path"), self._subpath(new_path, "new_path")
        )

    @_in_transaction
    async def move_to(self, tr: Transaction, new_absolute_path: Path):
        """Move this directory to ``new_absolute_path``, within the same partition."""
        layer = self._layer_for_path(())
        new_absolute_path = _path_of(new_absolute_path, "new_absolute_path")
        depth = len(layer._path)
        if new_absolute_path[:depth] != layer._path:
            raise DirectoryError(
                "Cannot move between partitions: %s is outside the partition %s"
                % (_name(new_absolute_path), _name(layer._path))
            )
        return await layer.move(tr, self._path[depth:], new_absolute_path[depth:])

    @_in_transaction
    async def remove(self, tr: Transaction, path: Path = ()) -> bool:
        """Remove subdirectory ``path`` (this directory by default), its contents
        and its subdirectories (DirectoryError if missing)."""
        path = _path_of(path)
        layer = self._layer_for_path(path)
        return await layer.remove(tr, self._subpath(path, layer=layer))

    @_in_transaction
    async def remove_if_exists(self, tr: Transaction, path: Path = ()) -> bool:
        """As remove; returns False instead of raising when the directory is missing."""
        path = _path_of(path)
        layer = self._layer_for_path(path)
        return await layer.remove_if_exists(tr, self._subpath(path, layer=layer))

    @_in_transaction
    async def exists(self, tr: Transaction, path: Path = ()) -> bool:
        """True if subdirectory ``path`` (this directory by default) exists."""
        path = _path_of(path)
        layer = self._layer_for_path(path)
        return await layer.exists(tr, self._subpath(path, layer=layer))

    def get_layer(self) -> bytes:
        """The layer recorded for this directory (b"" when none)."""
        return self._layer

    def get_path(self) -> Tuple[str, ...]:
        """The path this directory was opened with, from the root."""
        return self._path

    def _subpath(self, path, argument: str = "path", layer: "Optional[DirectoryLayer]" = None) -> Tuple[str, ...]:
        """``path`` (relative to this directory) as a path in ``layer``."""
        layer = layer or self._directory_layer
        return self._path[len(layer._path) :] + _path_of(path, argument)

    def _layer_for_path(self, path: Tuple[str, ...]) -> "DirectoryLayer":
        # The layer that holds ``path``: a partition's own root lives in its parent layer.
        return self._directory_layer


class _Node:
    """A directory node found by walking a path: its subspace (None when the
    directory does not exist), the path walked to reach it, and its layer."""

    __slots__ = ("subspace", "path", "target_path", "layer")

    def __init__(self, subspace: Optional[Subspace], path: Tuple[str, ...], target_path: Tuple[str, ...]) -> None:
        self.subspace = subspace
        self.path = path
        self.target_path = target_path
        self.layer: Optional[bytes] = None

    def exists(self) -> bool:
        return self.subspace is not None

    async def load(self, tr: Transaction) -> "_Node":
        """Read the node's layer (when the node exists)."""
        if self.subspace is not None:
            self.layer = await get(tr, self.subspace.pack((b"layer",)))
        return self

    def is_in_partition(self, include_empty_subpath: bool = False) -> bool:
        """True if the node is a partition the target path continues into."""
        return (
            self.subspace is not None
            and self.layer == _PARTITION
            and (include_empty_subpath or len(self.target_path) > len(self.path))
        )

    def partition_subpath(self) -> Tuple[str, ...]:
        return self.target_path[len(self.path) :]

    def contents(self, layer: "DirectoryLayer"):
        return layer._contents_of_node(self.subspace, self.path, self.layer)


class DirectoryLayer(Directory):
    """A directory tree: metadata in ``node_subspace``, contents under ``content_subspace``.

    ``allow_manual_prefixes``: create() may be given the prefix to use.
    ``found.directory`` is the default one (metadata at ``\\xfe``, contents
    anywhere else).
    """

    def __init__(
        self,
        node_subspace: Subspace = Subspace(rawPrefix=b"\xfe"),
        content_subspace: Subspace = Subspace(),
        allow_manual_prefixes: bool = False,
    ) -> None:
        Directory.__init__(self, self)
        self._node_subspace = node_subspace
        self._content_subspace = content_subspace
        self._allow_manual_prefixes = allow_manual_prefixes
        self._root_node = node_subspace[node_subspace.key()]
        self._allocator = HighContentionAllocator(self._root_node[b"hca"])

    def __repr__(self) -> str:
        return "DirectoryLayer(node_subspace=%r, content_subspace=%r, allow_manual_prefixes=%r)" % (
            self._node_subspace,
            self._content_subspace,
            self._allow_manual_prefixes,
        )

    @_in_transaction
    async def create_or_open(self, tr: Transaction, path: Path, layer: Optional[bytes] = None):
        """Open the directory at ``path``, creating it (and missing parents) if needed.

        ``layer``, when given, must match an existing directory's layer, and is
        recorded on a new one.
        """
        return await self._create_or_open(tr, path, layer, None, True, True)

    @_in_transaction
    async def open(self, tr: Transaction, path: Path, layer: Optional[bytes] = None):
        """Open the existing directory at ``path`` (DirectoryError if missing or of another layer)."""
        return await self._create_or_open(tr, path, layer, None, False, True)

    @_in_transaction
    async def create(self, tr: Transaction, path: Path, layer: Optional[bytes] = None, prefix: Optional[bytes] = None):
        """Create the directory at ``path`` and missing parents (DirectoryError if it exists).

        ``prefix`` (allowed with ``allow_manual_prefixes``) is used instead of
        an allocated one; it must not overlap any directory's prefix.
        """
        return await self._create_or_open(tr, path, layer, prefix, True, False)

    @_in_transaction
    async def move_to(self, tr: Transaction, new_absolute_path: Path):
        """The root directory cannot be moved: always raises DirectoryError."""
        raise DirectoryError("The root directory cannot be moved.")

    @_in_transaction
    async def move(self, tr: Transaction, old_path: Path, new_path: Path):
        """Move the directory at ``old_path`` to ``new_path``; its prefix and contents stay.

        DirectoryError if ``old_path`` is missing, ``new_path`` exists or its
        parent is missing, ``new_path`` is inside ``old_path``, or the move
        would cross a partition.
        """
        await self._check_version(tr, write_access=False)
        old_path = _path_of(old_path, "old_path")
        new_path = _path_of(new_path, "new_path")
        if old_path == new_path[: len(old_path)]:
            raise DirectoryError(
                "The destination directory cannot be a subdirectory of the source directory: "
                "%s is inside %s" % (_name(self._path + new_path), _name(self._path + old_path))
            )
        old_node = await (await self._find(tr, old_path)).load(tr)
        new_node = await (await self._find(tr, new_path)).load(tr)
        if not old_node.exists():
            raise DirectoryError("The source directory %s does not exist." % _name(self._path + old_path))
        if old_node.is_in_partition() or new_node.is_in_partition():
            if not (old_node.is_in_partition() and new_node.is_in_partition()) or old_node.path != new_node.path:
                raise DirectoryError(
                    "Cannot move between partitions: %s to %s"
                    % (_name(self._path + old_path), _name(self._path + new_path))
                )
            moved = await new_node.contents(self).move(tr, old_node.partition_subpath(), new_node.partition_subpath())
            await self._check_version(tr)
            return moved
        if new_node.exists():
            raise DirectoryError(
                "The destination directory %s already exists. Remove it first." % _name(self._path + new_path)
            )
        parent = await self._find(tr, new_path[:-1])
        if not parent.exists():
            raise DirectoryError(
                "The parent of the destination directory %s does not exist. Create it first."
                % _name(self._path + new_path)
            )
        await self._check_version(tr)
        await set(tr, parent.subspace.pack((_SUBDIRS, new_path[-1])), self._prefix_of(old_node.subspace))
        await self._remove_from_parent(tr, old_path)
        return self._contents_of_node(old_node.subspace, new_path, old_node.layer)

    @_in_transaction
    async def remove(self, tr: Transaction, path: Path = ()) -> bool:
        """Remove the directory at ``path``, its contents and its subdirectories
        (DirectoryError if missing). Clients that opened it before may still write to its prefix."""
        return await self._remove(tr, path, True)

    @_in_transaction
    async def remove_if_exists(self, tr: Transaction, path: Path = ()) -> bool:
        """As remove; returns False instead of raising when the directory is missing."""
        return await self._remove(tr, path, False)

    @_in_transaction
    async def list(self, tr: Transaction, path: Path = ()) -> List[str]:
        """The names of the subdirectories of ``path``, in key order (DirectoryError if missing)."""
        await self._check_version(tr, write_access=False)
        path = _path_of(path)
        node = await (await self._find(tr, path)).load(tr)
        if not node.exists():
            raise DirectoryError("The directory %s does not exist." % _name(self._path + path))
        if node.is_in_partition(include_empty_subpath=True):
            return await node.contents(self).list(tr, node.partition_subpath())
        return [name for name, _ in await self._subdirectories(tr, node.subspace)]

    @_in_transaction
    async def exists(self, tr: Transaction, path: Path = ()) -> bool:
        """True if the directory at ``path`` exists."""
        await self._check_version(tr, write_access=False)
        path = _path_of(path)
        node = await (await self._find(tr, path)).load(tr)
        if not node.exists():
            return False
        if node.is_in_partition():
            return await node.contents(self).exists(tr, node.partition_subpath())
        return True

    # --- the steps

    async def _create_or_open(self, tr: Transaction, path, layer, prefix, allow_create: bool, allow_open: bool):
        layer = _optional_bytes(layer, "layer")
        prefix = _optional_bytes(prefix, "prefix")
        await self._check_version(tr, write_access=False)
        if prefix is not None and not self._allow_manual_prefixes:
            if not self._path:
                raise DirectoryError("Cannot specify a prefix unless manual prefixes are enabled.")
            raise DirectoryError("Cannot specify a prefix in a partition.")
        path = _path_of(path)
        if not path:
            raise DirectoryError("The root directory cannot be opened.")
        node = await (await self._find(tr, path)).load(tr)
        if node.exists():
            if node.is_in_partition():
                inner = node.contents(self)._directory_layer
                return await inner._create_or_open(
                    tr, node.partition_subpath(), layer, prefix, allow_create, allow_open
                )
            if not allow_open:
                raise DirectoryError("The directory %s already exists." % _name(self._path + path))
            if layer and node.layer != layer:
                raise DirectoryError(
                    "The directory %s was created with an incompatible layer: %r, not %r."
                    % (_name(self._path + path), node.layer, layer)
                )
            return node.contents(self)
        if not allow_create:
            raise DirectoryError("The directory %s does not exist." % _name(self._path + path))
        if prefix is not None and not await self._is_prefix_free(tr, prefix):
            raise DirectoryError("The given prefix %r is already in use." % (prefix,))
        await self._check_version(tr)
        if prefix is None:
            prefix = await self._allocated_prefix(tr)
        if len(path) > 1:
            parent_directory = await self.create_or_open(tr, path[:-1])
            parent = self._node_with_prefix(parent_directory.key())
        else:
            parent = self._root_node
        node = self._node_with_prefix(prefix)
        await set(tr, parent.pack((_SUBDIRS, path[-1])), prefix)
        layer = layer or b""
        await set(tr, node.pack((b"layer",)), layer)
        return self._contents_of_node(node, path, layer)

    async def _allocated_prefix(self, tr: Transaction) -> bytes:
        """A new prefix from the allocator, checked to be empty and free."""
        prefix = self._content_subspace.key() + await self._allocator.allocate(tr)
        if await first_in(tr, prefix, _prefix_end(prefix)) is not None:
            raise DirectoryError(
                "The database has keys stored at the prefix chosen by the automatic prefix allocator: %r." % (prefix,)
            )
        if not await self._is_prefix_free(snapshot_of(tr), prefix):
            raise DirectoryError(
                "The directory layer has manually allocated prefixes that conflict "
                "with the automatic prefix allocator (%r)." % (prefix,)
            )
        return prefix

    async def _remove(self, tr: Transaction, path, fail_on_nonexistent: bool) -> bool:
        await self._check_version(tr, write_access=False)
        path = _path_of(path)
        if not path:
            raise DirectoryError("The root directory cannot be removed.")
        node = await (await self._find(tr, path)).load(tr)
        if not node.exists():
            if fail_on_nonexistent:
                raise DirectoryError("The directory %s does not exist." % _name(self._path + path))
            await self._check_version(tr)
            return False
        if node.is_in_partition():
            inner = node.contents(self)._directory_layer
            removed = await inner._remove(tr, node.partition_subpath(), fail_on_nonexistent)
            await self._check_version(tr)
            return removed
        await self._check_version(tr)
        await self._remove_recursive(tr, node.subspace)
        await self._remove_from_parent(tr, path)
        return True

    async def _check_version(self, tr: Transaction, write_access: bool = True) -> None:
        """Refuse a directory tree written by a newer format; mark a new tree's
        format on its first change.

        Called with ``write_access=False`` first and with True right before the
        first write, so a refused operation leaves the transaction untouched;
        every operation that succeeds writes what the official binding writes
        (the version key included)."""
        key = self._root_node.pack((b"version",))
        raw = await get(tr, key)
        if raw is None:
            if write_access:
                await set(tr, key, struct.pack("<III", *_VERSION))
            return
        version = struct.unpack("<III", raw)
        if version[0] > _VERSION[0]:
            raise DirectoryError(
                "Cannot load directory with version %d.%d.%d using directory layer %d.%d.%d" % (version + _VERSION)
            )
        if version[1] > _VERSION[1] and write_access:
            raise DirectoryError(
                "Directory with version %d.%d.%d is read-only when opened using directory "
                "layer %d.%d.%d" % (version + _VERSION)
            )

    def _node_with_prefix(self, prefix: Optional[bytes]) -> Optional[Subspace]:
        return None if prefix is None else self._node_subspace[prefix]

    def _prefix_of(self, node: Subspace) -> bytes:
        return self._node_subspace.unpack(node.key())[0]

    def _contents_of_node(self, node: Subspace, path: Tuple[str, ...], layer: Optional[bytes] = None):
        prefix = self._prefix_of(node)
        if layer == _PARTITION:
            return DirectoryPartition(self._path + path, prefix, self)
        return DirectorySubspace(self._path + path, prefix, self, layer)

    async def _find(self, tr: Transaction, path: Tuple[str, ...]) -> _Node:
        """Walk ``path`` from the root; stops at a missing directory or a partition."""
        node = _Node(self._root_node, (), path)
        for depth, name in enumerate(path, 1):
            prefix = await get(tr, node.subspace.pack((_SUBDIRS, name)))
            node = _Node(self._node_with_prefix(prefix), path[:depth], path)
            if not node.exists() or (await node.load(tr)).layer == _PARTITION:
                return node
        return node

    async def _subdirectories(self, tr: Transaction, node: Subspace) -> List[Tuple[str, Subspace]]:
        links = node[_SUBDIRS]
        span = links.range(())
        return [
            (links.unpack(key)[0], self._node_with_prefix(value))
            async for key, value in query(tr, span.start, span.stop)
        ]

    async def _remove_from_parent(self, tr: Transaction, path: Tuple[str, ...]) -> None:
        parent = await self._find(tr, path[:-1])
        await clear(tr, parent.subspace.pack((_SUBDIRS, path[-1])))

    async def _remove_recursive(self, tr: Transaction, node: Subspace) -> None:
        for _, child in await self._subdirectories(tr, node):
            await self._remove_recursive(tr, child)
        prefix = self._prefix_of(node)
        await clear(tr, prefix, _prefix_end(prefix))
        span = node.range(())
        await clear(tr, span.start, span.stop)

    async def _node_containing_key(self, tr: Transaction, key: bytes) -> Optional[Subspace]:
        """The node whose prefix starts ``key`` (the root for metadata keys), or None."""
        if key.startswith(self._node_subspace.key()):
            return self._root_node
        last = await last_in(tr, self._node_subspace.range(()).start, self._node_subspace.pack((key,)) + b"\x00")
        if last is not None:
            previous = self._node_subspace.unpack(last[0])[0]
            if key.startswith(previous):
                return self._node_with_prefix(previous)
        return None

    async def _is_prefix_free(self, tr: Transaction, prefix: bytes) -> bool:
        """True if ``prefix`` neither starts nor is started by any directory's prefix."""
        if not prefix:
            return False
        if await self._node_containing_key(tr, prefix) is not None:
            return False
        inside = await first_in(
            tr, self._node_subspace.pack((prefix,)), self._node_subspace.pack((_prefix_end(prefix),))
        )
        return inside is None


class DirectorySubspace(Subspace, Directory):
    """An opened directory: the Subspace of its contents, plus the directory
    operations relative to its path."""

    def __init__(
        self,
        path: Tuple[str, ...],
        prefix: bytes,
        directory_layer: Optional[DirectoryLayer] = None,
        layer: Optional[bytes] = None,
    ) -> None:
        Subspace.__init__(self, rawPrefix=prefix)
        Directory.__init__(self, directory_layer if directory_layer is not None else directory, path, layer)

    def __repr__(self) -> str:
        return "DirectorySubspace(path=%r, prefix=%r)" % (self._path, self.rawPrefix)


def _no_contents(name: str, what: str):
    def refuse(self, *args, **kwargs):
        raise DirectoryError(
            "Cannot %s the root of a directory partition (%s): open a directory inside it." % (what, _name(self._path))
        )

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = "A partition's root holds no keys of its own: always raises DirectoryError."
    return refuse


class DirectoryPartition(DirectorySubspace):
    """A directory with layer ``b"partition"``: a directory layer of its own
    inside the partition's prefix. Its root is not a subspace for keys."""

    def __init__(self, path: Tuple[str, ...], prefix: bytes, parent_directory_layer: DirectoryLayer) -> None:
        inner = DirectoryLayer(Subspace(rawPrefix=prefix + b"\xfe"), Subspace(rawPrefix=prefix))
        inner._path = path
        DirectorySubspace.__init__(self, path, prefix, inner, _PARTITION)
        self._parent_directory_layer = parent_directory_layer

    def __repr__(self) -> str:
        return "DirectoryPartition(path=%r, prefix=%r)" % (self._path, self.rawPrefix)

    __getitem__ = _no_contents("__getitem__", "open a subspace in")
    key = _no_contents("key", "get the key of")
    pack = _no_contents("pack", "pack keys with")
    pack_with_versionstamp = _no_contents("pack_with_versionstamp", "pack keys with")
    unpack = _no_contents("unpack", "unpack keys with")
    range = _no_contents("range", "get a range of")
    contains = _no_contents("contains", "check keys against")
    as_foundationdb_key = _no_contents("as_foundationdb_key", "use as a key")
    subspace = _no_contents("subspace", "open a subspace in")

    def _layer_for_path(self, path: Tuple[str, ...]) -> DirectoryLayer:
        return self._parent_directory_layer if path == () else self._directory_layer


directory = DirectoryLayer()
