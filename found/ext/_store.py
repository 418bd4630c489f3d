"""What every store handle shares: ``make``'s checks of name and prefix, the size limits and their errors."""

from typing import Any, ClassVar, Sequence, Tuple, Type, TypeVar

import found
from found._codes import FDB_KEY_SIZE_LIMIT, FDB_VALUE_SIZE_LIMIT
from found.ext._prefix import checked_prefix

#: FoundationDB refuses keys longer than this many bytes.
KEY_LIMIT = FDB_KEY_SIZE_LIMIT
#: FoundationDB refuses values longer than this many bytes.
VALUE_LIMIT = FDB_VALUE_SIZE_LIMIT

_Handle = TypeVar("_Handle", bound="StoreHandle")


class StoreHandle:
    """A store handle: ``name`` (a str, for debugging) and ``prefix`` (a tuple).

    Subclasses set ``kind`` (shown by repr) and ``exception`` (raised on bad
    input), and precompute their key prefixes from the packed prefix in
    ``__init__(name, prefix, packed, ...)``.
    """

    __slots__ = ("name", "prefix")
    kind: ClassVar[str] = "store"
    exception: ClassVar[Type[found.BaseFoundException]] = found.BaseFoundException
    name: str
    prefix: Tuple[Any, ...]

    def __init__(self, name: str, prefix: Tuple[Any, ...]) -> None:
        self.name = name
        self.prefix = prefix

    def __repr__(self) -> str:
        return "<{} {!r} prefix={!r}>".format(self.kind, self.name, self.prefix)

    @classmethod
    def make(cls: Type[_Handle], name: str, prefix: Sequence[Any], *args: Any) -> _Handle:
        """Check ``name`` (a str) and ``prefix`` (a tuple or list), then build ``cls(name, prefix, packed, *args)``."""
        if not isinstance(name, str):
            raise cls.exception("name must be str, got {}".format(type(name).__name__))
        return cls(name, *checked_prefix(prefix, cls.exception), *args)  # type: ignore[call-arg]

    def check_size(self, what: str, size: int, limit: int) -> None:
        """Raise the store's exception when ``what`` (``size`` bytes) is over ``limit`` bytes."""
        if size > limit:
            raise self.exception("{}: {} is {} bytes, over the {} byte limit".format(self.name, what, size, limit))
