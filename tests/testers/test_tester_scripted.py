"""Scripted instruction streams with known results, run by both testers."""

import struct
import subprocess
import sys

import found
import found.tuple
from tester_support import error, load, logged, run, run_ok

P = b"test"
LOG = b"log/"
RNP = b"RESULT_NOT_PRESENT"


def push(*values):
    """PUSH instructions, the first value deepest."""
    return [("PUSH", value) for value in values]


def log_stack():
    return push(LOG) + [("LOG_STACK",)]


async def results(db, tester, directory, instructions):
    """Run ``instructions`` (ended by LOG_STACK) and return the logged values."""
    await load(db, P, instructions + log_stack())
    run_ok(tester, P, directory)
    return [value for _, value in await logged(db, LOG)]


async def test_stack_operations(db, tester, directory):
    ops = (
        push(b"a", 3, 7)
        + [("SUB",)]  # 7 - 3: the top minus the next
        + push(b"x", b"y")
        + [("CONCAT",)]  # b"x" + b"y"
        + [("DUP",)]
        + push(1)
        + [("SWAP",)]  # swap the top two
        + push(b"gone")
        + [("POP",)]
        + push("code", "uni")
        + [("CONCAT",)]
    )
    assert await results(db, tester, directory, ops) == [b"a", 4, b"yx", b"yx", "unicode"]


async def test_instruction_numbers_are_logged(db, tester, directory):
    ops = push(b"first") + [("DUP",)] + push(b"second") + push(0) + [("SWAP",)]
    await load(db, P, ops + log_stack())
    run_ok(tester, P, directory)
    # DUP keeps the number of the original; SWAP moves items with their numbers.
    assert await logged(db, LOG) == [(0, b"first"), (0, b"first"), (2, b"second")]


async def test_empty_stack(db, tester, directory):
    assert await results(db, tester, directory, push(1, 2) + [("EMPTY_STACK",)] + push(3)) == [3]


async def test_reads_writes_and_errors(db, tester, directory):
    ops = (
        [("NEW_TRANSACTION",)]
        + push(b"v1", b"k1")
        + [("SET",)]
        + push(b"k1")
        + [("GET",)]  # b"v1": reads its own write
        + push(b"k1")
        + [("GET_DATABASE",)]  # not committed yet: absent
        + [("COMMIT",), ("WAIT_FUTURE",), ("RESET",)]  # RESULT_NOT_PRESENT
        + push(b"k1")
        + [("GET_SNAPSHOT",)]  # b"v1"
        + push(2000)
        + [("ON_ERROR",)]  # not retryable: the error
        + [("NEW_TRANSACTION",)]
        + push(0, 0, 0, b"k2", b"k0")
        + [("GET_RANGE",)]  # EXACT without a limit: 2210
        + push(b"v2", b"k2")
        + [("SET_DATABASE",)]  # RESULT_NOT_PRESENT
        + push(-1, 1, 0, b"k3", b"k0")
        + [("GET_RANGE",)]  # reverse, ITERATOR
        + push(b"k", 1, 0, b"k")
        + [("GET_KEY",)]
    )  # first key >= b"k"
    assert await results(db, tester, directory, ops) == [
        b"v1",
        RNP,
        RNP,
        b"v1",
        error(2000),
        error(2210),
        RNP,
        found.pack((b"k2", b"v2", b"k1", b"v1")),
        b"k1",
    ]


async def test_inverted_and_selector_ranges(db, tester, directory):
    setup = [("NEW_TRANSACTION",)]
    for i in range(5):
        setup += push(b"v%d" % i, b"k%d" % i) + [("SET",)]
    ops = (
        setup
        + push(-1, 0, 0, b"k1", b"k3")
        + [("GET_RANGE",)]  # begin > end: nothing
        # begin (k3, +1) = k3 is after end (k1, +3) = k3: nothing, though the keys are inverted
        + push(b"", -1, 0, 0, 3, 0, b"k1", 1, 0, b"k3")
        + [("GET_RANGE_SELECTOR",)]
        # begin (k3, -1) = k1 before end (k1, +3) = k3: k1 and k2, though the keys are inverted
        + push(b"", -1, 0, 0, 3, 0, b"k1", -1, 0, b"k3")
        + [("GET_RANGE_SELECTOR",)]
        + push(-1, 1, 2, b"k")
        + [("GET_RANGE_STARTS_WITH",)]
    )  # the last two, reversed
    assert await results(db, tester, directory, ops) == [
        found.pack(()),
        found.pack(()),
        found.pack((b"k1", b"v1", b"k2", b"v2")),
        found.pack((b"k4", b"v4", b"k3", b"v3")),
    ]


async def test_oversized_write_fails_the_transaction_later(db, tester, directory):
    # found refuses the value at once; FoundationDB's binding reports 2103 at
    # the next read and at the commit, and the tester logs the latter.
    ops = (
        [("NEW_TRANSACTION",)]
        + push(b"v" * 60000)
        + [("DUP",), ("CONCAT",)]  # 120,000 bytes: over the value limit
        + push(b"big")
        + [("SET",)]
        + push(b"big")
        + [("GET",)]
        + [("COMMIT",)]
        + [("RESET",)]
        + push(b"big")
        + [("GET",)]
    )
    assert await results(db, tester, directory, ops) == [error(2103), error(2103), RNP]


async def test_versionstamps(db, tester, directory):
    ops = (
        [("NEW_TRANSACTION",)]
        + push(b"x" * 10 + struct.pack("<I", 0), b"stamped", "SET_VERSIONSTAMPED_VALUE")
        + [("ATOMIC_OP",)]
        + [("GET_VERSIONSTAMP",), ("COMMIT",), ("WAIT_FUTURE",), ("POP",), ("WAIT_FUTURE",)]
        + [("RESET",)]
        + push(b"stamped")
        + [("GET",)]
        + [("GET_VERSIONSTAMP",), ("COMMIT",), ("WAIT_FUTURE",), ("POP",)]
    )  # nothing written: 2021
    stamp, value, missing = await results(db, tester, directory, ops)
    assert len(stamp) == 10 and value == stamp
    assert missing == error(2021)


async def test_atomic_operations_and_conflicts(db, tester, directory):
    ops = (
        [("NEW_TRANSACTION",)]
        + push(struct.pack("<q", 5), b"n", "ADD")
        + [("ATOMIC_OP",)]
        + push(struct.pack("<q", 2), b"n", "ADD")
        + [("ATOMIC_OP_DATABASE",)]
        + push(b"b", b"a")
        + [("READ_CONFLICT_RANGE",)]
        + push(b"a")
        + [("WRITE_CONFLICT_KEY",)]
        + push(b"a", b"b")
        + [("WRITE_CONFLICT_RANGE",)]  # inverted: 2005
        + [("COMMIT",), ("WAIT_FUTURE",), ("RESET",)]
        + push(b"n")
        + [("GET",)]
    )
    assert await results(db, tester, directory, ops) == [
        RNP,
        b"SET_CONFLICT_RANGE",
        b"SET_CONFLICT_KEY",
        error(2005),
        RNP,
        struct.pack("<q", 7),
    ]


async def test_versions_and_sizes(db, tester, directory):
    ops = (
        [("NEW_TRANSACTION",), ("GET_READ_VERSION",)]
        + push(b"v", b"k")
        + [("SET",), ("GET_APPROXIMATE_SIZE",)]
        + push(b"z", b"a")
        + [("GET_ESTIMATED_RANGE_SIZE",)]
        + push(10000000, b"z", b"a")
        + [("GET_RANGE_SPLIT_POINTS",)]
        + [("COMMIT",), ("WAIT_FUTURE",), ("GET_COMMITTED_VERSION",), ("GET_READ_VERSION_SNAPSHOT",)]
    )
    assert await results(db, tester, directory, ops) == [
        b"GOT_READ_VERSION",
        b"GOT_APPROXIMATE_SIZE",
        b"GOT_ESTIMATED_RANGE_SIZE",
        b"GOT_RANGE_SPLIT_POINTS",
        RNP,
        b"GOT_COMMITTED_VERSION",
        b"GOT_READ_VERSION",
    ]


async def test_tuple_operations(db, tester, directory):
    items = (1, b"two", "three", None, -5)
    ops = (
        push(*reversed(items), len(items))
        + [("TUPLE_PACK",), ("DUP",), ("TUPLE_UNPACK",)]
        + push(*reversed(items), len(items))
        + [("TUPLE_RANGE",)]
        + push(found.pack((2,)), found.pack((1, b"z")), found.pack((1,)), 3)
        + [("TUPLE_SORT",)]
        + push(struct.pack(">f", 1.5))
        + [("ENCODE_FLOAT",), ("DECODE_FLOAT",)]
        + push(struct.pack(">d", -2.25))
        + [("ENCODE_DOUBLE",)]
        + push(-2.25)
        + [("DECODE_DOUBLE",)]
        # an incomplete versionstamp travels in an instruction as its packed form, all 0xFF
        + push(found.tuple.Versionstamp(b"\xff" * 10, 3), 1, b"pre")
        + [("TUPLE_PACK_WITH_VERSIONSTAMP",)]
        + push(1, 1, b"pre")
        + [("TUPLE_PACK_WITH_VERSIONSTAMP",)]
    )
    span = found.tuple.range(items)
    assert await results(db, tester, directory, ops) == (
        [found.pack(items)]
        + [found.pack((item,)) for item in items]
        + [span.start, span.stop]
        + [found.pack((1,)), found.pack((1, b"z")), found.pack((2,))]
        + [struct.pack(">f", 1.5), -2.25, struct.pack(">d", -2.25)]
        + [
            b"OK",
            found.pack_with_versionstamp((found.tuple.Versionstamp.incomplete(3),), prefix=b"pre"),
            b"ERROR: NONE",
        ]
    )


async def test_threads_and_wait_empty(db, tester, directory):
    main = []
    for name in (b"t0", b"t1"):
        main += push(b"", b"wait/" + name) + [("SET_DATABASE",), ("POP",)]
    for name in (b"t0", b"t1"):
        await load(
            db,
            name,
            [("NEW_TRANSACTION",)]
            + push(b"ran", b"ran/" + name)
            + [("SET",)]
            + [("COMMIT",), ("WAIT_FUTURE",), ("POP",)]
            + push(b"wait/" + name)
            + [("CLEAR_DATABASE",), ("POP",)]
            + push(b"wait/")
            + [("WAIT_EMPTY",)]  # until both threads cleared theirs
            + push(b"log/" + name + b"/")
            + [("LOG_STACK",)],
        )
        main += push(name) + [("START_THREAD",)]
    await load(db, P, main)
    run_ok(tester, P, directory)
    for name in (b"t0", b"t1"):
        assert [v for _, v in await logged(db, b"log/" + name + b"/")] == [b"WAITED_FOR_EMPTY"]
        assert await found.transactional(db, found.get, b"ran/" + name) == b"ran"


async def test_directory_operations(db, tester, directory):
    ops = (
        [("NEW_TRANSACTION",)]
        + push(b"", "app", 1)
        + [("DIRECTORY_CREATE_OR_OPEN",)]  # entry 1: /app
        + push(b"", "users", "app", 2)
        + [("DIRECTORY_CREATE_OR_OPEN",)]  # entry 2: /app/users
        + push("app", 1, 1)
        + [("DIRECTORY_LIST",)]  # ("users",)
        + push("nope", 1, 1)
        + [("DIRECTORY_EXISTS",)]  # 0
        + push(None, b"", "app", 1)
        + [("DIRECTORY_CREATE",)]  # exists already: error
        + push(1)
        + [("DIRECTORY_CHANGE",)]
        + push(b"k", 1)
        + [("DIRECTORY_PACK_KEY",), ("DUP",), ("DIRECTORY_STRIP_PREFIX",)]
        + push(b"dirlog/")
        + [("DIRECTORY_LOG_DIRECTORY",)]
        + [("COMMIT",), ("WAIT_FUTURE",)]
    )
    values = await results(db, tester, directory, ops)
    assert values[:3] == [found.pack(("users",)), 0, b"DIRECTORY_ERROR"]
    packed, stripped, committed = values[3:]
    assert stripped == found.pack((b"k",)) and packed.endswith(stripped) and committed == RNP
    log = found.Subspace((1,), b"dirlog/")
    get = found.get
    assert await found.transactional(db, get, log["path"].key()) == found.pack(("app",))
    assert await found.transactional(db, get, log["exists"].key()) == found.pack((1,))
    assert await found.transactional(db, get, log["children"].key()) == found.pack(("users",))


async def test_unit_tests_instruction(db, tester, directory):
    assert await results(db, tester, directory, push(b"sentinel") + [("UNIT_TESTS",)]) == [b"sentinel"]


async def test_tenant_instructions_report_tenants_disabled(db, tester, directory):
    ops = push(b"tenant") + [("TENANT_SET_ACTIVE",), ("TENANT_GET_ID",), ("TENANT_CLEAR_ACTIVE",)]
    assert await results(db, tester, directory, ops) == [error(2136), b"NO_ACTIVE_TENANT"]


async def test_unknown_instruction_fails_the_run(db, tester, directory):
    await load(db, P, [("NO_SUCH_OP",)])
    done = run(tester, P, directory)
    assert done.returncode != 0 and "NO_SUCH_OP" in done.stderr


def test_usage(tester):
    done = subprocess.run([sys.executable, "-m", tester, "only-a-prefix"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr


def test_other_api_versions_are_refused(tester, directory):
    done = subprocess.run([sys.executable, "-m", tester, "prefix", "710", directory], capture_output=True, text=True)
    assert done.returncode == 2 and "730" in done.stderr
