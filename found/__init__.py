"""found: the asyncio SDK for FoundationDB (API version 730), with an embedded engine.

The public API is asyncio-foundationdb 0.13's: ``db = await found.open()``,
``await found.transactional(db, func, ...)``, ``await found.get(tx, key)``…
See docs/driver.md for the library choice (a real cluster through the
system libfdb_c, or the embedded engine) and found's additions.
"""

import importlib
from typing import TYPE_CHECKING, Any, List

from found import engine
from found._codes import *  # noqa: F401,F403 — every FDB_* option, mode, mutation and predicate code
from found._database import Database, database_set_option, open
from found._errors import (
    BaseFoundException,
    CommitUnknownResultError,
    ForkError,
    FoundException,
    InterfaceError,
    LibraryError,
    NotCommittedError,
    TimedOutError,
    TooLargeError,
    TransactionCancelledError,
    TransactionTooOldError,
)
from found._hooks import Hooks, TransactionStats, make_hooks
from found._library import library
from found._network import add_network_thread_completion_hook, network_set_option
from found._selectors import KeySelector, gt, gte, lt, lte
from found._subspace import Subspace
from found._transaction import (
    MAX_SIZE_KEY,
    MAX_SIZE_TRANSACTION,
    MAX_SIZE_VALUE,
    Transaction,
    add,
    add_conflict_range,
    append_if_fits,
    bit_and,
    bit_or,
    bit_xor,
    byte_max,
    byte_min,
    cancel,
    clear,
    commit,
    compare_and_clear,
    estimated_size_bytes,
    get,
    get_addresses_for_key,
    get_approximate_size,
    get_committed_version,
    get_key,
    get_range_split_points,
    get_versionstamp,
    make_transaction,
    max,
    min,
    on_error,
    query,
    query_batches,
    read_version,
    reset,
    set,
    set_option,
    set_read_version,
    set_versionstamped_key,
    set_versionstamped_value,
    watch,
)
from found._transactional import transaction, transactional
from found._util import all, co, limit, next_prefix
from found._version import error_predicate, get_client_version
from found.tuple import Versionstamp, has_incomplete_versionstamp, pack, pack_with_versionstamp, unpack

__version__ = "0.14.0"  # as pyproject.toml's project.version (tests/driver/test_packaging.py)
__VERSION__ = (0, 14, 0)
HEADER_VERSION = VERSION = 730

from found import _codes  # noqa: E402

__all__ = [
    "BaseFoundException",
    "FoundException",
    "LibraryError",
    "ForkError",
    "InterfaceError",
    "NotCommittedError",
    "CommitUnknownResultError",
    "TransactionTooOldError",
    "TimedOutError",
    "TransactionCancelledError",
    "TooLargeError",
    "open",
    "library",
    "engine",
    "Database",
    "database_set_option",
    "network_set_option",
    "add_network_thread_completion_hook",
    "get_client_version",
    "error_predicate",
    "transactional",
    "transaction",
    "make_transaction",
    "Transaction",
    "Hooks",
    "make_hooks",
    "TransactionStats",
    "get",
    "set",
    "clear",
    "query",
    "query_batches",
    "get_key",
    "KeySelector",
    "lt",
    "lte",
    "gt",
    "gte",
    "read_version",
    "set_read_version",
    "commit",
    "on_error",
    "reset",
    "cancel",
    "get_committed_version",
    "get_approximate_size",
    "get_versionstamp",
    "watch",
    "add_conflict_range",
    "set_option",
    "get_range_split_points",
    "estimated_size_bytes",
    "get_addresses_for_key",
    "add",
    "bit_and",
    "bit_or",
    "bit_xor",
    "max",
    "min",
    "byte_max",
    "byte_min",
    "set_versionstamped_key",
    "set_versionstamped_value",
    "append_if_fits",
    "compare_and_clear",
    "next_prefix",
    "co",
    "all",
    "limit",
    "pack",
    "unpack",
    "pack_with_versionstamp",
    "has_incomplete_versionstamp",
    "Versionstamp",
    "Subspace",
    "directory",
    "DirectoryLayer",
    "DirectorySubspace",
    "DirectoryPartition",
    "DirectoryError",
    "MAX_SIZE_KEY",
    "MAX_SIZE_VALUE",
    "MAX_SIZE_TRANSACTION",
    "VERSION",
    "HEADER_VERSION",
    "__version__",
    "__VERSION__",
]
__all__ += _codes.__all__  # every FDB_* constant, listed where it is generated

# The `found` command's Python API (docs/cli.md): dump/load a key range in found's dump format.
__all__ += ["dump", "load", "DumpError"]

# Imported on first use (PEP 562), so that `import found` loads only what a
# program uses: the directory layer and the dump format pull in modules
# (the HCA, zlib, json, inspect, ...) most programs never need.
_LAZY = {
    "directory": "found._directory",
    "DirectoryLayer": "found._directory",
    "DirectorySubspace": "found._directory",
    "DirectoryPartition": "found._directory",
    "DirectoryError": "found._directory",
    "dump": "found._dump",
    "load": "found._dump",
    "DumpError": "found._dump",
}

if TYPE_CHECKING:
    from found._directory import DirectoryError, DirectoryLayer, DirectoryPartition, DirectorySubspace, directory
    from found._dump import DumpError, dump, load


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'found' has no attribute %r" % name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted({*globals(), *_LAZY})  # set literal: found.set shadows the builtin here
