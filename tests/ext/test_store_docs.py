"""The examples of docs/stores.md run, each on a fresh database."""
import pathlib
import re
import textwrap

import pytest

import found

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "stores.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_document_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("source", EXAMPLES, ids=[str(i) for i in range(len(EXAMPLES))])
async def test_example(tmp_path, source):
    db = await found.open(str(tmp_path))
    code = "async def example(db):\n" + textwrap.indent(source, "    ")
    namespace = {"found": found}
    exec(compile(code, str(DOC), "exec"), namespace)
    await namespace["example"](db)
