"""The whole suite runs as one pytest session (the README's command), in
pytest's default import mode, where test areas are not packages: two test
modules with the same file name in different areas break collection of
everything. Bazel runs each area alone, so this test is what notices there."""

import collections
import os


def test_test_module_names_are_unique_across_areas(root):
    seen = collections.defaultdict(list)
    for folder, dirs, files in os.walk(os.path.join(root, "tests")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if (
                name.endswith(".py")
                and name != "conftest.py"
                and not os.path.exists(os.path.join(folder, "__init__.py"))
            ):
                seen[name].append(os.path.relpath(os.path.join(folder, name), root))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each: {clashes}"
