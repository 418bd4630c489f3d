"""Network lifecycle (in fresh processes: it is process-global state)."""

import os
import subprocess
import sys
import textwrap

from engine_lib import ENGINE


def run(code):
    """Run a Python snippet with `capi` (the engine) and return its stdout."""
    prelude = "import ctypes, threading\ncapi = ctypes.CDLL(%r)\n" % ENGINE
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_api_version_must_come_first():
    assert run("""
        print(capi.fdb_setup_network())
        print(capi.fdb_network_set_option(30, None, 0))
        print(capi.fdb_select_api_version_impl(730, 730))
        print(capi.fdb_setup_network())
    """) == ["2200", "2200", "0", "0"]


def test_run_before_setup():
    assert run("""
        capi.fdb_select_api_version_impl(730, 730)
        print(capi.fdb_run_network())
        print(capi.fdb_stop_network())
    """) == ["2008", "2008"]


def test_run_blocks_until_stop_then_runs_hooks():
    out = run("""
        capi.fdb_select_api_version_impl(730, 730)
        capi.fdb_setup_network()
        events = []
        HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
        hook = HOOK(lambda p: events.append("hook %d" % p))
        capi.fdb_add_network_thread_completion_hook(hook, ctypes.c_void_p(7))
        result = []
        t = threading.Thread(target=lambda: result.append(capi.fdb_run_network()))
        t.start()
        events.append("running")
        print(capi.fdb_stop_network())
        t.join()
        print(result[0], events == ["running", "hook 7"])
        print(capi.fdb_run_network())
    """)
    assert out == ["0", "0", "True", "2025"]


def test_official_binding_shuts_down_cleanly():
    out = run("""
        import fdb, tempfile
        fdb.api_version(730)
        db = fdb.open(cluster_file=tempfile.mkdtemp())
        db[b"k"] = b"v"
        print(db[b"k"].decode())
    """)
    assert out == ["v"]


def test_forked_child_can_use_the_engine():
    out = run("""
        import fdb, os, tempfile, threading
        fdb.api_version(730)
        db = fdb.open(cluster_file=tempfile.mkdtemp())
        db[b"k"] = b"parent"
        stop = threading.Event()
        def churn():                      # keeps the engine's locks busy while forking
            while not stop.is_set():
                db[b"k"]
        t = threading.Thread(target=churn)
        t.start()
        pid = os.fork()
        if pid == 0:
            handle = ctypes.c_void_p()
            err = capi.fdb_create_database(tempfile.mkdtemp().encode(), ctypes.byref(handle))
            child = fdb.impl.Database(handle)
            child[b"c"] = b"child"
            os._exit(0 if err == 0 and child[b"c"] == b"child" else 3)
        stop.set()
        t.join()
        _, status = os.waitpid(pid, 0)
        print(os.WEXITSTATUS(status))
    """)
    assert out == ["0"]
