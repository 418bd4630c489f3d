"""Validation of a store's ``prefix``, shared by every store's ``make``."""

from collections.abc import Sequence

import found

# A str or bytes is a sequence too, but taking it as one would silently
# turn "app" into ("a", "p", "p"), which no caller means: refuse them.
_NOT_A_PREFIX = (str, bytes, bytearray, memoryview)


def checked_prefix(prefix, exception):
    """Return ``(prefix, packed)``: ``prefix`` as a tuple and its packed
    bytes.  Any sequence is accepted (0.13 called ``tuple(prefix)``, so a
    list works); anything else, or items the tuple layer cannot pack, raise
    ``exception`` naming what was received."""
    if not isinstance(prefix, Sequence) or isinstance(prefix, _NOT_A_PREFIX):
        raise exception("prefix must be a tuple or list, got {}".format(type(prefix).__name__))
    prefix = tuple(prefix)
    try:
        return prefix, found.pack(prefix)
    except Exception as exc:  # the tuple layer raises several types
        raise exception("prefix {!r} cannot be packed: {}".format(prefix, exc)) from exc
