"""Subspaces: a key prefix plus the tuple layer, byte-identical to ``fdb.Subspace``.

A subspace is the set of keys that start with one prefix: ``rawPrefix`` bytes
followed by a packed tuple. Keys inside it are the prefix followed by a
packed tuple, so each application (or each part of one) keeps to its own
range of the key space.
"""

from found import tuple as _tuple

__all__ = ["Subspace"]


class Subspace:
    """The keys that start with ``rawPrefix + pack(prefixTuple)``.

    ``Subspace(("app", 1))`` and ``Subspace(rawPrefix=b"\\x01app")`` are both
    valid; ``sub["users"]`` or ``sub.subspace(("users",))`` nest further.
    """

    def __init__(self, prefixTuple: tuple = (), rawPrefix: bytes = b"") -> None:  # noqa: N803 — fdb's names
        if not isinstance(rawPrefix, bytes):
            raise TypeError("rawPrefix must be bytes, not %s" % type(rawPrefix).__name__)
        self.rawPrefix = _tuple.pack(prefixTuple, prefix=rawPrefix)

    def __repr__(self) -> str:
        return "Subspace(rawPrefix=%r)" % (self.rawPrefix,)

    def __getitem__(self, name) -> "Subspace":
        """The subspace of this one extended by the one tuple element ``name``."""
        return Subspace((name,), self.rawPrefix)

    def key(self) -> bytes:
        """The prefix of this subspace, as bytes."""
        return self.rawPrefix

    def pack(self, t: tuple = ()) -> bytes:
        """The key of tuple ``t`` in this subspace: prefix + packed ``t``."""
        return _tuple.pack(t, prefix=self.rawPrefix)

    def pack_with_versionstamp(self, t: tuple = ()) -> bytes:
        """As pack, for a tuple holding one incomplete Versionstamp: the key for
        ``set_versionstamped_key`` (ends with the stamp's 4-byte offset)."""
        return _tuple.pack_with_versionstamp(t, prefix=self.rawPrefix)

    def unpack(self, key: bytes) -> tuple:
        """The tuple that ``key`` holds after this subspace's prefix."""
        if not self.contains(key):
            raise ValueError(
                "Cannot unpack key that is not in subspace: %r does not start with %r" % (key, self.rawPrefix)
            )
        return _tuple.unpack(key, prefix_len=len(self.rawPrefix))

    def range(self, t: tuple = ()) -> slice:
        """``slice(start, stop)``: the keys of every tuple in this subspace that
        extends ``t`` (``t`` itself excluded)."""
        inner = _tuple.range(t)
        return slice(self.rawPrefix + inner.start, self.rawPrefix + inner.stop)

    def contains(self, key: bytes) -> bool:
        """True if ``key`` starts with this subspace's prefix."""
        return key.startswith(self.rawPrefix)

    def as_foundationdb_key(self) -> bytes:
        """The prefix, as the official binding uses a subspace in place of a key."""
        return self.rawPrefix

    def subspace(self, tuple: tuple) -> "Subspace":  # noqa: A002 — fdb's parameter name
        """The subspace of this one extended by ``tuple``."""
        return Subspace(tuple, self.rawPrefix)
