"""The FoundationDB network thread: one per process.

Started by the first ``open()`` (API version selected, network options
applied, ``fdb_setup_network``, then ``fdb_run_network`` in a daemon thread),
stopped at interpreter exit (``fdb_stop_network`` + join).  After
``os.fork()`` the child has no network thread and must not touch the parent's
library state: every entry point then raises ForkError instead of hanging.
"""

import atexit
import logging
import os
import struct
import sys
import threading
from typing import Callable, Dict, List, Optional, Tuple, Union

from found import _library
from found._codes import FDB_ERR_INVALID_OPTION, FDB_ERR_NETWORK_ALREADY_SETUP, OPTIONS
from found._errors import ForkError, FoundException
from found._fdb import ffi, lib

__all__ = ["start", "network_set_option", "add_network_thread_completion_hook", "at_fork_in_child"]

_lock = threading.Lock()
_thread: Optional[threading.Thread] = None
_shared = False  # another binding in this process set the network up and runs it
_pid = os.getpid()
_forked = False
_queued_options: List[Tuple[int, Optional[bytes]]] = []
_queued_hooks: List[Callable[[], None]] = []
_hooks: List[Callable[[], None]] = []
_NETWORK_OPTIONS = frozenset(code for scope, _, code, _ in OPTIONS if scope == "NetworkOption")
_child_hooks: List[Callable[[], None]] = []


def forked_error(*args, **kwargs):
    """Stands for a C function in a child forked after found started: raises ForkError."""
    raise ForkError(
        "found cannot be used in a process forked after the database was opened: the FoundationDB "
        "network thread and the library's state belong to the parent (pid %d); open the database in "
        "the child before any use, from a fresh process, or use the 'spawn' start method" % _pid
    )


def ignore(*args, **kwargs):
    """Stands for a C destructor in a forked child: the parent's objects are left alone."""
    return None


def at_fork_in_child(hook: Callable[[], None]) -> None:
    """Run ``hook()`` in a child forked after found started (the library loaded or the network up).

    Hot paths call C through module globals; each such module registers a
    hook that rebinds its own globals to ``forked_error`` (calls raise
    ForkError) or ``ignore`` (destructors), which costs the parent nothing
    per call.
    """
    _child_hooks.append(hook)


def _after_fork_in_child() -> None:
    global _forked
    if _thread is None and not _shared and _library.library() is None:
        return  # nothing was started: the child may use found freely
    _forked = True
    for hook in _child_hooks:
        hook()


def check_process() -> None:
    """Raise ForkError in a child forked after found started."""
    if _forked:
        forked_error()


# (scope, code) → (name, declared parameter type: "Int", "String", "Bytes" or None for none);
# of two names for one code (a renamed option), the first listed.
_OPTION_PARAMETERS: Dict[Tuple[str, int], Tuple[str, Optional[str]]] = {}
for _scope, _name, _code, _param in OPTIONS:
    _OPTION_PARAMETERS.setdefault((_scope, _code), (_name, _param))
_INT64 = struct.Struct("<q")
_WANTED = {"Int": "an int (or its 8 bytes)", "String": "a str (or bytes)", "Bytes": "bytes"}


def _option_value(value, scope: str, option: int) -> Tuple[object, int]:
    declared = _OPTION_PARAMETERS.get((scope, option))
    if declared is None:  # not an option of API 730: the library answers invalid_option
        return _any_value(value)
    name, param = declared
    if param is None:
        if value is not None:
            raise TypeError("option %s (%d) takes no value, not %s" % (name, option, type(value).__name__))
        return ffi.NULL, 0
    if isinstance(value, bytes):
        return value, len(value)
    if param == "Int" and isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError("option %s (%d) takes a signed 64-bit integer, not %d" % (name, option, value))
        return _INT64.pack(value), 8
    if param == "String" and isinstance(value, str):
        data = value.encode("utf-8")
        return data, len(data)
    raise TypeError("option %s (%d) takes %s, not %s" % (name, option, _WANTED[param], type(value).__name__))


def _any_value(value) -> Tuple[object, int]:
    if value is None:
        return ffi.NULL, 0
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        value = _INT64.pack(value)
    elif isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise TypeError("option value must be bytes, str, a 64-bit int or None, not %s" % type(value).__name__)
    return value, len(value)


def option_value(value, scope: str, option: int) -> Tuple[object, int]:
    """C (pointer, length) for a value of ``option`` (a code of ``scope``, e.g. "TransactionOption").

    Checked against the option's declared parameter (found._codes.OPTIONS):
    none → only None; Int → an int in the signed 64-bit range (8 bytes,
    little endian); String → str (UTF-8); Int, String and Bytes also take
    bytes as they are.  TypeError/ValueError name the option otherwise.
    """
    return _option_value(value, scope, option)


def _set_network_option(option: int, value) -> None:
    data, size = _option_value(value, "NetworkOption", option)
    code = lib.fdb_network_set_option(option, data, size)
    if code:
        raise FoundException(code)


def network_set_option(option: int, value: Union[bytes, str, int, None] = None) -> None:
    """Set a network option (an ``FDB_NET_OPTION_*`` constant); ``value`` bytes or None.

    Must be called before the network thread starts, i.e. before the first
    ``found.open()``: the option is checked against API 730's network options
    and queued, then applied by ``open()`` right before the network starts.
    Later calls go straight to the library, which refuses what it no longer
    accepts.
    """
    check_process()
    if not isinstance(option, int):
        raise TypeError("option must be an int (an FDB_NET_OPTION_* constant), not %s" % type(option).__name__)
    _option_value(value, "NetworkOption", option)  # type errors now, not at open()
    with _lock:
        if _library.library() is None:
            if option not in _NETWORK_OPTIONS:
                raise FoundException(FDB_ERR_INVALID_OPTION)
            _queued_options.append((option, value))
            return
    _set_network_option(option, value)  # the library refuses what it no longer accepts


@ffi.def_extern()
def _found_network_done(parameter):
    """Runs on the network thread as it exits: call the registered completion hooks."""
    hook = _hooks[int(ffi.cast("intptr_t", parameter))]
    try:
        hook()
    except Exception:  # a hook's failure must not take the network thread down
        logging.getLogger("found").exception("network thread completion hook %r failed", hook)


def _register_hook(callback: Callable[[], None]) -> None:
    index = len(_hooks)
    _hooks.append(callback)
    code = lib.fdb_add_network_thread_completion_hook(lib._found_network_done, ffi.cast("void *", index))
    if code:
        raise FoundException(code)


def add_network_thread_completion_hook(callback: Callable[[], None]) -> None:
    """Register ``callback()`` (no arguments) to run on the network thread when it exits."""
    check_process()
    if not callable(callback):
        raise TypeError("callback must be callable, not %s" % type(callback).__name__)
    with _lock:
        if _thread is None:
            _queued_hooks.append(callback)
            return
    _register_hook(callback)


def _run() -> None:
    code = lib.fdb_run_network()
    if code:
        logging.getLogger("found").error("fdb_run_network stopped with %s", FoundException(code))


def _let_official_binding_run_network() -> bool:
    """If the official binding (fdb) is loaded on our library and has no network yet, let it start one.

    Its ``init()`` refuses to run once someone else set the network up, while
    found can share a network it did not start: so whoever comes first, both
    work.
    """
    impl = sys.modules.get("fdb.impl")
    if impl is None or getattr(impl, "_network_thread", True) is not None:
        return False
    try:
        import ctypes

        theirs = ctypes.cast(impl._capi.fdb_setup_network, ctypes.c_void_p).value
    except Exception:  # an fdb we do not recognise: leave it alone
        return False
    ours = int(ffi.cast("uintptr_t", lib.found_optional_symbol(b"fdb_setup_network")))
    if theirs != ours:
        return False
    impl.init()
    return True


def start() -> None:
    """Start the network thread once per process (the library must be loaded)."""
    global _thread, _shared
    check_process()
    if _thread is not None or _shared:
        return
    with _lock:
        if _thread is not None or _shared:
            return
        while _queued_options:
            _set_network_option(*_queued_options.pop(0))
        code = FDB_ERR_NETWORK_ALREADY_SETUP if _let_official_binding_run_network() else lib.fdb_setup_network()
        if code == FDB_ERR_NETWORK_ALREADY_SETUP:  # e.g. the official binding, loaded on the same library
            logging.getLogger("found").info("found: sharing the network thread another binding runs")
            _shared = True
        elif code:
            raise FoundException(code)
        while _queued_hooks:
            _register_hook(_queued_hooks.pop(0))
        if _shared:
            return
        thread = threading.Thread(target=_run, name="found-network", daemon=True)
        thread.start()
        _thread = thread


@atexit.register
def _stop() -> None:
    if _thread is None or _forked or os.getpid() != _pid:
        return
    code = lib.fdb_stop_network()
    if code == 0:
        _thread.join()


os.register_at_fork(after_in_child=_after_fork_in_child)
