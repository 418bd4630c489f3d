"""The generated tables are up to date with ffi/reference/ (ffi/gen_tables.py --check)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_generated_tables_are_current():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "ffi", "gen_tables.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_codes_match_reference():
    import csv
    from found import _codes
    with open(os.path.join(ROOT, "ffi", "reference", "fdb-errors-7.3.69.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(_codes.ERRORS) == len(rows)
    for row in rows:
        assert _codes.ERRORS[int(row["code"])][0] == row["name"]
