#!/usr/bin/env python3
"""Fuzz found._ctuple under AddressSanitizer + UndefinedBehaviorSanitizer.

    python3 tests/tuple/fuzz.py [--seconds 60] [--seed N]

Within --seconds in all, builds the C codec with FOUND_SANITIZE=1 into a
temporary directory, then re-runs itself with libasan preloaded and feeds
``unpack`` random bytes and mutations of valid packed tuples (bit flips,
truncations, insertions, deletions, splices), and ``pack`` /
``pack_with_versionstamp`` random values. Every result must equal the
pure-Python reference's (same tuple, or ValueError naming the same offset);
any other exception, or any sanitizer report, fails the run (non-zero exit).
A seed makes a run reproducible.
"""

import argparse
import glob
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_sanitized(out_dir):
    """Path of a freshly built ASan+UBSan found._ctuple."""
    env = dict(os.environ, FOUND_SANITIZE="1", FOUND_BUILD="tuple")
    subprocess.run(
        [
            sys.executable,
            "setup.py",
            "-q",
            "build_ext",
            "--build-lib",
            os.path.join(out_dir, "lib"),
            "--build-temp",
            os.path.join(out_dir, "tmp"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (path,) = glob.glob(os.path.join(out_dir, "lib", "found", "_ctuple*.so"))
    return path


def sanitizer_runtime():
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def parent(args):
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="found-fuzz-") as tmp:
        module = build_sanitized(tmp)
        # --seconds bounds the whole run, build included
        remaining = max(1.0, args.seconds - (time.monotonic() - started) - 1.0)
        env = dict(
            os.environ,
            LD_PRELOAD=sanitizer_runtime(),
            # CPython itself keeps memory until exit: only errors, not leaks.
            ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
            UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
            PYTHONPATH=ROOT,
            # every object from malloc, so ASan sees the bounds of each one
            PYTHONMALLOC="malloc",
        )
        cmd = [sys.executable, __file__, "--child", module, "--seconds", str(remaining), "--seed", str(args.seed)]
        return subprocess.run(cmd, env=env, cwd=ROOT).returncode


# --- the fuzzing itself (child process) -------------------------------------


def load_module(path):
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.ExtensionFileLoader("found._ctuple", path)
    spec = importlib.util.spec_from_file_location("found._ctuple", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Values:
    """Random tuple values of every supported type."""

    def __init__(self, rng, types):
        self.rng = rng
        self.types = types

    def leaf(self):
        rng = self.rng
        kind = rng.randrange(11)
        if kind == 0:
            return None
        if kind == 1:
            return bytes(rng.choice((0, 0xFF, rng.randrange(256))) for _ in range(rng.randrange(8)))
        if kind == 2:
            return "".join(rng.choice("\x00aé\U0001f600\uffff") for _ in range(rng.randrange(6)))
        if kind == 3:
            bits = rng.choice((4, 8, 16, 63, 64, 65, 72, 200, 2040))
            return rng.randrange(-(1 << bits) + 1, 1 << bits)
        if kind == 4:
            return struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if kind == 5:
            return self.types.SingleFloat(struct.unpack(">f", rng.getrandbits(32).to_bytes(4, "big"))[0])
        if kind == 6:
            return rng.random() < 0.5
        if kind == 7:
            return uuid.UUID(int=rng.getrandbits(128))
        if kind == 8:
            return self.types.Versionstamp(rng.getrandbits(80).to_bytes(10, "big"), rng.randrange(65536))
        return rng.randrange(-300, 300)

    def element(self, depth=0):
        if depth < 3 and self.rng.random() < 0.2:
            items = [self.element(depth + 1) for _ in range(self.rng.randrange(4))]
            return items if self.rng.random() < 0.3 else tuple(items)
        return self.leaf()

    def tuple(self):
        return tuple(self.element() for _ in range(self.rng.randrange(6)))


def mutate(rng, data, other):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[at % len(data)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data.insert(at, rng.choice((0x00, 0xFF, 0x05, 0x1D, 0x0B, 0x33, rng.randrange(256))))
        elif op == 2:
            del data[at : at + rng.randrange(1, 4)]
        elif op == 3:
            del data[at:]
        elif op == 4:
            data[at:at] = other[rng.randrange(len(other) + 1) :]
        else:
            data[at:at] = data[at : at + rng.randrange(1, 8)]
    return bytes(data)


def canonical(value):
    if isinstance(value, (tuple, list)):
        return ("tuple", tuple(canonical(v) for v in value))
    if isinstance(value, float):
        return ("double", struct.pack(">d", value))
    name = type(value).__name__
    if name == "SingleFloat":
        return ("single", struct.pack(">f", value.value))
    if name == "Versionstamp":
        return ("versionstamp", value.tr_version, value.user_version)
    return (type(value), value)


def outcome(function, *args):
    try:
        return ("ok", canonical(function(*args)))
    except ValueError as exc:
        return ("ValueError", str(exc))


def child(args):
    from found import _tuple_py, _tuple_types

    ctuple = load_module(args.child)
    maps = open("/proc/self/maps").read()
    if "libasan" not in maps or args.child not in maps:
        print("fuzz: the sanitized module or libasan is not loaded", file=sys.stderr)
        return 1
    print("fuzz: seed %d (rerun with --seed %d)" % (args.seed, args.seed), flush=True)
    rng = random.Random(args.seed)
    values = Values(rng, _tuple_types)
    deadline = time.monotonic() + args.seconds
    corpus = [_tuple_py.pack(values.tuple()) for _ in range(64)]
    counts = {"unpack": 0, "pack": 0}
    while time.monotonic() < deadline:
        for _ in range(200):
            t = values.tuple()
            expected = outcome(_tuple_py.pack, t)
            got = outcome(ctuple.pack, t)
            check(got == expected, "pack", t, got, expected)
            if expected[0] == "ok":
                corpus[rng.randrange(len(corpus))] = _tuple_py.pack(t)
            stamped = t + (_tuple_types.Versionstamp.incomplete(rng.randrange(65536)),)
            prefix = bytes(rng.randrange(256) for _ in range(rng.randrange(4)))
            check(
                outcome(ctuple.pack_with_versionstamp, stamped, prefix)
                == outcome(_tuple_py.pack_with_versionstamp, stamped, prefix),
                "pack_with_versionstamp",
                stamped,
            )
            counts["pack"] += 2
            if rng.random() < 0.3:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            else:
                data = mutate(rng, rng.choice(corpus), rng.choice(corpus))
            for start in {0, rng.randrange(len(data) + 1)}:
                got = outcome(ctuple.unpack, data, start)
                expected = outcome(_tuple_py.unpack, data, start)
                check(got == expected, "unpack", (data, start), got, expected)
                counts["unpack"] += 1
    print("fuzz: %(unpack)d unpack and %(pack)d pack inputs, no finding" % counts)
    return 0


def check(ok, what, value, *details):
    if not ok:
        print("fuzz: %s mismatch on %r: %r" % (what, value, details), file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 32)
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
