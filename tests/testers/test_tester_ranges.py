"""found/_tester/ranges.py against the official binding's get_range, on the same engine directory.

Random key selectors (inverted ones included), limits, directions and
streaming modes: read_range (on found.query) must return what FoundationDB's
binding returns, errors included.  The official binding runs in a child
process (it cannot share a process with found's network).
"""

import json
import random
import subprocess
import sys

import found
from found import KeySelector
from found._tester.ranges import read_range

CASES = 400
KEYS = [b"k%02d" % i for i in range(0, 40, 2)]  # k00, k02, ... k38
# Selector keys: stored keys, keys between them, before and after all of them.
POOL = KEYS + [b"k%02d" % i for i in range(1, 40, 8)] + [b"", b"a", b"k", b"k\x00", b"z"]

OFFICIAL = r"""
import ctypes, json, sys
import found.engine
ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
import fdb
fdb.api_version(730)
db = fdb.open(sys.argv[1])
out = []
for c in json.load(sys.stdin):
    tr = db.create_transaction()
    b = fdb.KeySelector(bytes.fromhex(c["b"]), c["bo"], c["boff"])
    e = fdb.KeySelector(bytes.fromhex(c["e"]), c["eo"], c["eoff"])
    try:
        rows = [[kv.key.hex(), kv.value.hex()] for kv in tr.get_range(b, e, c["limit"], c["reverse"], c["mode"])]
        out.append(rows)
    except fdb.FDBError as exc:
        out.append(exc.code)
json.dump(out, sys.stdout)
"""


def _cases(seed: int):
    rng = random.Random(seed)
    for _ in range(CASES):
        yield {
            "b": rng.choice(POOL).hex(),
            "bo": rng.random() < 0.5,
            "boff": rng.randint(-4, 4),
            "e": rng.choice(POOL).hex(),
            "eo": rng.random() < 0.5,
            "eoff": rng.randint(-4, 4),
            "limit": rng.choice((0, 1, 3, 7)),
            "reverse": rng.random() < 0.5,
            "mode": rng.randint(-2, 4),
        }


async def _found_answers(db, cases):
    out = []
    for c in cases:
        begin = KeySelector(bytes.fromhex(c["b"]), c["bo"], c["boff"])
        end = KeySelector(bytes.fromhex(c["e"]), c["eo"], c["eoff"])
        tx = found.make_transaction(db)
        try:
            rows = await read_range(tx, begin, end, c["limit"], c["reverse"], c["mode"])
            out.append([[k.hex(), v.hex()] for k, v in rows])
        except found.FoundException as exc:
            out.append(exc.code)
    return out


async def test_read_range_answers_as_the_official_binding(db, directory):
    async def fill(tx):
        for key in KEYS:
            await found.set(tx, key, key.upper())

    await found.transactional(db, fill)
    cases = list(_cases(20261206))
    done = subprocess.run(
        [sys.executable, "-c", OFFICIAL, directory],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    official = json.loads(done.stdout)
    ours = await _found_answers(db, cases)
    mismatches = [(c, o, f) for c, o, f in zip(cases, official, ours) if o != f]
    assert mismatches == []
    # The cases reach every path of read_range: rows, nothing, errors, inverted keys with rows.
    assert any(isinstance(o, int) for o in official) and any(o == [] for o in official)
    assert any(o and c["b"] > c["e"] for c, o in zip(cases, official) if not isinstance(o, int))
