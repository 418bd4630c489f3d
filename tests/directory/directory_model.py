"""An in-memory model of a directory tree with FoundationDB's rules, for the
state-machine test: what each operation answers, or that it fails."""


class Failed(Exception):
    """The operation must fail (found raises DirectoryError)."""


class Node:
    """One directory: its layer, its subdirectories, its prefix once known."""

    def __init__(self, layer=b""):
        self.layer = layer
        self.children = {}
        self.prefix = None
        self.rows = False

    @property
    def is_partition(self):
        return self.layer == b"partition"


class Tree:
    """The directory tree as the model sees it; the root is never a partition."""

    def __init__(self):
        self.root = Node()

    def node(self, path):
        node = self.root
        for name in path:
            node = node.children.get(name)
            if node is None:
                return None
        return node

    def partition_of(self, path):
        """Path of the innermost partition strictly containing ``path`` (along
        the existing directories), or () for the root layer."""
        node, found = self.root, ()
        for depth, name in enumerate(path[:-1], 1):
            node = node.children.get(name)
            if node is None:
                break
            if node.is_partition:
                found = path[:depth]
        return found

    def create_or_open(self, path, layer, allow_create=True, allow_open=True):
        if not path:
            raise Failed("root")
        node = self.node(path)
        if node is not None:
            if not allow_open:
                raise Failed("exists")
            if layer and node.layer != layer:
                raise Failed("layer")
            return node
        if not allow_create:
            raise Failed("missing")
        parent = self.create_or_open(path[:-1], None) if len(path) > 1 else self.root
        node = parent.children[path[-1]] = Node(layer or b"")
        return node

    def move(self, old, new):
        if old == new[: len(old)]:
            raise Failed("into itself")
        node = self.node(old)
        if node is None:
            raise Failed("missing")
        if self.partition_of(old) != self.partition_of(new):
            raise Failed("between partitions")
        if self.node(new) is not None:
            raise Failed("exists")
        parent = self.node(new[:-1])
        if parent is None:
            raise Failed("no parent")
        parent.children[new[-1]] = node
        del self.node(old[:-1]).children[old[-1]]
        return node

    def remove(self, path, must_exist):
        if not path:
            raise Failed("root")
        if self.node(path) is None:
            if must_exist:
                raise Failed("missing")
            return False
        del self.node(path[:-1]).children[path[-1]]
        return True

    def list(self, path):
        node = self.node(path)
        if node is None:
            raise Failed("missing")
        return sorted(node.children)

    def exists(self, path):
        return self.node(path) is not None

    def walk(self, node=None, path=()):
        """(path, node) of every directory, parents first."""
        node = node or self.root
        for name, child in sorted(node.children.items()):
            yield path + (name,), child
            yield from self.walk(child, path + (name,))
