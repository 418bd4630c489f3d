"""Small helpers of the documented API: co, all, limit, next_prefix."""

import functools
from typing import Any, AsyncIterator, Awaitable, Callable, List, TypeVar

__all__ = ["co", "all", "limit", "next_prefix"]

T = TypeVar("T")


def co(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Wrap a synchronous function into a coroutine function."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)

    return wrapper


async def all(aiogenerator: AsyncIterator[T]) -> List[T]:  # noqa: A001 — documented name
    """Collect every item of an async iterator into a list."""
    return [item async for item in aiogenerator]


async def limit(iterator: AsyncIterator[T], length: int) -> AsyncIterator[T]:
    """Yield at most ``length`` items from ``iterator``."""
    if length <= 0:
        return
    async for item in iterator:
        yield item
        length -= 1
        if length <= 0:
            return


def next_prefix(key: bytes) -> bytes:
    """The first byte string after every key that starts with ``key``.

    Raises ValueError if ``key`` is empty or made only of 0xFF bytes.
    """
    if not isinstance(key, bytes):
        raise TypeError("key must be bytes, not %s" % type(key).__name__)
    stripped = key.rstrip(b"\xff")
    if not stripped:
        raise ValueError("key must contain at least one byte other than 0xFF")
    return stripped[:-1] + bytes((stripped[-1] + 1,))
