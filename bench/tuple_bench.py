#!/usr/bin/env python3
"""Tuple codec speed, as ratios to references measured in the same run.

    python3 bench/tuple_bench.py [--rounds 9] [--number 1000] [--distinct 100000]

For a mix of representative keys it times pack and unpack with the official
fdb.tuple, found's C codec and found's pure-Python codec, and, as the floor,
copying the packed bytes in C (``bytes(bytearray)``: one call that returns a
new bytes object of the key's length). Prints ns per key and the ratios
fdb/found-C (the speedup) and found-C/copy (how far from a plain copy).

Then ``--distinct`` distinct mixed keys (the templates above with a counter
in them) are packed and unpacked, every result kept in a list, with the
cyclic GC on as in an application: a side's rate is keys packed+unpacked per
second; fdb and found-C alternate for --rounds rounds, and the ratio is given
round by round (median, min-max).
"""

import argparse
import gc
import os
import statistics
import sys
import time
import timeit
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import fdb.tuple  # noqa: E402

from found import _tuple_py  # noqa: E402

try:
    from found import _ctuple  # noqa: E402
except ImportError:
    sys.exit("found._ctuple is not built: FOUND_BUILD=tuple python3 setup.py build_ext --inplace")

KEYS = {
    "short str/int": ("users", 12345, "alice"),
    "str/int/bytes/uuid": (
        "events",
        1700000000123,
        b"\x00\x01payload",
        uuid.UUID(int=0x1234_5678_9ABC_DEF0_1122_3344_5566_7788),
    ),
    "nested": ("idx", ("city", "Paris"), (None, b"k", 3), ["a", -1]),
    "large ints": (2**64 - 1, -(2**70), 2**200, 2**63),
    "ints": (0, -42, 255, 65536, 123456789012, -(2**63)),
    "unicode": ("héllo wörld", "日本語テキスト", "a\x00b"),
    "floats/bools/None": (1.5, -0.0, True, False, None),
    "long bytes": (b"x" * 200, b"\x00" * 20),
}


def per_call_ns(function, argument, rounds, number):
    timer = timeit.Timer(lambda: function(argument))
    return min(timer.repeat(repeat=rounds, number=number)) / number * 1e9


def measure(rounds, number):
    rows = []
    for name, key in KEYS.items():
        packed = fdb.tuple.pack(key)
        assert _ctuple.pack(key) == packed == _tuple_py.pack(key), name
        row = {"name": name, "bytes": len(packed)}
        for label, pack, unpack in (
            ("fdb", fdb.tuple.pack, fdb.tuple.unpack),
            ("c", _ctuple.pack, _ctuple.unpack),
            ("py", _tuple_py.pack, _tuple_py.unpack),
        ):
            row["pack_" + label] = per_call_ns(pack, key, rounds, number)
            row["unpack_" + label] = per_call_ns(unpack, packed, rounds, number)
        row["copy"] = per_call_ns(bytes, bytearray(packed), rounds, number)
        rows.append(row)
    return rows


def report(rows):
    header = "%-20s %5s | %9s %8s %9s %7s | %9s %8s %9s %7s | %7s %8s %8s"
    print(
        header
        % (
            "key",
            "bytes",
            "fdb pack",
            "C pack",
            "py pack",
            "fdb/C",
            "fdb unp",
            "C unp",
            "py unp",
            "fdb/C",
            "copy",
            "Cpack/cp",
            "Cunp/cp",
        )
    )
    line = "%-20s %5d | %9.0f %8.0f %9.0f %6.1fx | %9.0f %8.0f %9.0f %6.1fx | %7.0f %7.1fx %7.1fx"
    for r in rows:
        print(
            line
            % (
                r["name"],
                r["bytes"],
                r["pack_fdb"],
                r["pack_c"],
                r["pack_py"],
                r["pack_fdb"] / r["pack_c"],
                r["unpack_fdb"],
                r["unpack_c"],
                r["unpack_py"],
                r["unpack_fdb"] / r["unpack_c"],
                r["copy"],
                r["pack_c"] / r["copy"],
                r["unpack_c"] / r["copy"],
            )
        )
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "name"}
    print()
    print(
        "mix (all keys, ns summed): pack fdb/C %.1fx, unpack fdb/C %.1fx; "
        "pack py/fdb %.2fx, unpack py/fdb %.2fx; C pack %.1fx and C unpack %.1fx a bytes copy"
        % (
            total["pack_fdb"] / total["pack_c"],
            total["unpack_fdb"] / total["unpack_c"],
            total["pack_py"] / total["pack_fdb"],
            total["unpack_py"] / total["unpack_fdb"],
            total["pack_c"] / total["copy"],
            total["unpack_c"] / total["copy"],
        )
    )


def distinct_keys(count):
    templates = list(KEYS.values())
    return [templates[i % len(templates)] + (i,) for i in range(count)]


def kept_rate(pack, unpack, keys):
    gc.collect()
    start = time.perf_counter()
    packed = [pack(k) for k in keys]
    unpacked = [unpack(p) for p in packed]
    seconds = time.perf_counter() - start
    assert len(unpacked) == len(keys)
    return len(keys) / seconds


def report_distinct(count, rounds):
    keys = distinct_keys(count)
    assert [_ctuple.unpack(_ctuple.pack(k)) for k in keys[: len(KEYS)]] == [
        fdb.tuple.unpack(fdb.tuple.pack(k)) for k in keys[: len(KEYS)]
    ]
    rates = {"fdb": [], "c": []}
    for _ in range(rounds):
        rates["fdb"].append(kept_rate(fdb.tuple.pack, fdb.tuple.unpack, keys))
        rates["c"].append(kept_rate(_ctuple.pack, _ctuple.unpack, keys))
    ratios = [c / f for c, f in zip(rates["c"], rates["fdb"])]
    print()
    print(
        "%d distinct mixed keys packed+unpacked and kept, GC on, %d rounds: found-C %.0f/s, fdb %.0f/s (medians); "
        "ratio found-C/fdb %.1fx (min %.1fx, max %.1fx)"
        % (
            count,
            rounds,
            statistics.median(rates["c"]),
            statistics.median(rates["fdb"]),
            statistics.median(ratios),
            min(ratios),
            max(ratios),
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=1000)
    parser.add_argument("--distinct", type=int, default=100_000)
    args = parser.parse_args()
    report(measure(args.rounds, args.number))
    if args.distinct:
        report_distinct(args.distinct, args.rounds)


if __name__ == "__main__":
    main()
