"""A hypothesis state machine: random directory operations through found,
each answer compared with an in-memory model of the tree (directory_model),
and the whole tree checked after every step: listings, layers, prefixes
(distinct, nested only inside partitions, stable across moves) and the rows
written into directories (kept by moves, gone with removes)."""

import asyncio

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

import found
from directory_model import Failed, Tree
from directory_support import dump

NAMES = st.sampled_from(["a", "b", "c"])
NONEMPTY_PATHS = st.lists(NAMES, min_size=1, max_size=3).map(tuple)
# The root () one time in ten: most operations on it fail at once.
PATHS = st.integers(0, 9).flatmap(lambda n: st.just(()) if n == 0 else NONEMPTY_PATHS)
LAYERS = st.sampled_from([None, b"", b"L", b"partition"])
ROW = ("row",)


class DirectoryMachine(RuleBasedStateMachine):
    loop = None
    db = None

    def __init__(self):
        super().__init__()
        self.run(found.transactional(self.db, found.clear, b"", b"\xff"))
        self.tree = Tree()

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def both(self, operation, model):
        """found's answer to ``operation`` (a coroutine) and the model's, or Failed for both."""
        try:
            expected = model()
        except Failed:
            try:
                answer = self.run(operation)
            except found.DirectoryError:
                return None
            raise AssertionError("found answered %r where the model fails" % (answer,)) from None
        return self.run(operation), expected

    def check_directory(self, got, node, path):
        assert got.get_path() == path
        assert got.get_layer() == node.layer
        assert isinstance(got, found.DirectoryPartition) is node.is_partition
        if node.prefix is None:
            node.prefix = got.rawPrefix
        assert got.rawPrefix == node.prefix

    @initialize(paths=st.lists(st.tuples(NONEMPTY_PATHS, LAYERS), max_size=6))
    def some_directories(self, paths):
        for path, layer in paths:
            self.create_or_open(path, layer)

    @rule(path=PATHS, layer=LAYERS)
    def create_or_open(self, path, layer):
        self._open(path, layer, found.directory.create_or_open(self.db, path, layer), True, True)

    @rule(path=PATHS, layer=LAYERS)
    def create(self, path, layer):
        self._open(path, layer, found.directory.create(self.db, path, layer), True, False)

    @rule(path=PATHS, layer=LAYERS)
    def open(self, path, layer):
        self._open(path, layer, found.directory.open(self.db, path, layer), False, True)

    def _open(self, path, layer, operation, allow_create, allow_open):
        out = self.both(operation, lambda: self.tree.create_or_open(path, layer, allow_create, allow_open))
        if out:
            self.check_directory(out[0], out[1], path)

    def some_path(self, data):
        """Mostly an existing directory's path (where operations do something), else any path."""
        existing = [path for path, _ in self.tree.walk()]
        if existing and data.draw(st.integers(0, 3)):
            return data.draw(st.sampled_from(existing))
        return data.draw(PATHS)

    @rule(data=st.data(), new=PATHS, through_subspace=st.booleans())
    def move(self, data, new, through_subspace):
        old = self.some_path(data)
        if through_subspace and old:
            try:
                opened = self.run(found.directory.open(self.db, old))
            except found.DirectoryError:
                assert not self.tree.exists(old)
                return
            operation = opened.move_to(self.db, new)
        else:
            operation = found.directory.move(self.db, old, new)
        out = self.both(operation, lambda: self.tree.move(old, new))
        if out:
            self.check_directory(out[0], out[1], new)

    @rule(data=st.data())
    def remove(self, data):
        path = self.some_path(data)
        out = self.both(found.directory.remove(self.db, path), lambda: self.tree.remove(path, True))
        assert out is None or out[0] is True

    @rule(path=PATHS)
    def remove_if_exists(self, path):
        out = self.both(found.directory.remove_if_exists(self.db, path), lambda: self.tree.remove(path, False))
        assert out is None or out[0] == out[1]

    @rule(path=PATHS)
    def list(self, path):
        out = self.both(found.directory.list(self.db, path), lambda: self.tree.list(path))
        assert out is None or out[0] == out[1]

    @rule(path=PATHS)
    def exists(self, path):
        assert self.run(found.directory.exists(self.db, path)) is self.tree.exists(path)

    @rule(data=st.data())
    def write_row(self, data):
        path = self.some_path(data)
        node = self.tree.node(path)
        if not path or node is None or node.is_partition:
            return
        opened = self.run(found.directory.open(self.db, path))
        self.run(found.transactional(self.db, found.set, opened.pack(ROW), b"v"))
        node.rows = True

    @invariant()
    def tree_matches(self):
        directories = list(self.tree.walk())
        assert self.run(found.directory.list(self.db)) == sorted(self.tree.root.children)
        for path, node in directories:
            opened = self.run(found.directory.open(self.db, path))
            self.check_directory(opened, node, path)
            assert self.run(found.directory.list(self.db, path)) == sorted(node.children)
            if not node.is_partition:
                row = self.run(found.transactional(self.db, found.get, opened.pack(ROW)))
                assert (row == b"v") is node.rows
        self.check_prefixes(directories)
        self.check_contents(directories)

    def check_contents(self, directories):
        """Outside the metadata, the database holds exactly the rows of the
        directories that exist (a removed directory's rows went with it)."""
        rows = {node.prefix + found.pack(ROW) for _, node in directories if node.rows}
        metadata = [b"\xfe"] + [node.prefix + b"\xfe" for _, node in directories if node.is_partition]
        keys = {key for key, _ in self.run(dump(self.db)) if not key.startswith(tuple(metadata))}
        assert keys == rows

    def check_prefixes(self, directories):
        prefixes = {path: node.prefix for path, node in directories}
        assert len(set(prefixes.values())) == len(prefixes)
        for path, prefix in prefixes.items():
            for other, other_prefix in prefixes.items():
                if other == path or not other_prefix.startswith(prefix):
                    continue
                # Only a partition's prefix starts others: those inside it.
                assert other[: len(path)] == path and self.tree.node(path).is_partition, (path, other)


def test_directory_machine(tmp_path):
    loop = asyncio.new_event_loop()
    try:
        db = loop.run_until_complete(found.open(str(tmp_path)))
        machine = type("Machine", (DirectoryMachine,), {"loop": loop, "db": db})
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=100,
                stateful_step_count=30,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.close()
