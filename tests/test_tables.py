"""The generated tables are up to date with ffi/reference/ (ffi/gen_tables.py --check)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_generated_tables_are_current():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "ffi", "gen_tables.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_codes_match_reference():
    import csv

    from found import _codes

    with open(os.path.join(ROOT, "ffi", "reference", "fdb-errors-7.3.69.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(_codes.ERRORS) == len(rows)
    for row in rows:
        assert _codes.ERRORS[int(row["code"])][0] == row["name"]


def _reference(name):
    import csv

    with open(os.path.join(ROOT, "ffi", "reference", name), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_error_code_has_a_python_name():
    """found.FDB_ERR_<NAME> for each row of the reference, public and equal to its code."""
    import found

    rows = _reference("fdb-errors-7.3.69.tsv")
    for row in rows:
        name = "FDB_ERR_" + row["name"].upper()
        assert getattr(found, name) == int(row["code"]) and name in found.__all__, name
    assert len({n for n in found.__all__ if n.startswith("FDB_ERR_")}) == len(rows)


def test_every_limit_has_a_name_in_python_and_c():
    import found

    header = open(os.path.join(ROOT, "ffi", "engine", "util", "gen_limits.h")).read()
    rows = _reference("fdb-limits-7.3.69.tsv")
    assert rows
    for row in rows:
        name = "FDB_" + row["name"].upper()
        assert getattr(found, name) == int(row["value"]), name
        assert "#define %s %s " % (name, row["value"]) in header
    assert (found.MAX_SIZE_KEY, found.MAX_SIZE_VALUE, found.MAX_SIZE_TRANSACTION) == (
        found.FDB_KEY_SIZE_LIMIT,
        found.FDB_VALUE_SIZE_LIMIT,
        found.FDB_TRANSACTION_SIZE_LIMIT,
    )
