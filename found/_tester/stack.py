"""The stack machine's data stack: items paired with the instruction number that pushed them.

An item's value may still be pending (an awaitable, e.g. the versionstamp
future GET_VERSIONSTAMP pushes): popping it waits for it and, as the spec
says, turns a missing result into ``RESULT_NOT_PRESENT`` and a FoundationDB
error into the packed ``(b"ERROR", code)``.
"""

from typing import Any, List, Tuple

import found

RESULT_NOT_PRESENT = b"RESULT_NOT_PRESENT"


def error_value(exc: found.FoundException) -> bytes:
    """What the stack holds for a FoundationDB error: pack((b"ERROR", b"<code>"))."""
    return found.pack((b"ERROR", str(exc.code).encode("ascii")))


class Pending:
    """A value the stack holds before it is known (wraps an awaitable)."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable) -> None:
        self.awaitable = awaitable

    async def settle(self) -> Any:
        """The value to use: the result, RESULT_NOT_PRESENT for None, or the error value."""
        try:
            value = await self.awaitable
        except found.FoundException as exc:
            return error_value(exc)
        return RESULT_NOT_PRESENT if value is None else value


class Stack:
    """A stack of ``[instruction_number, value]`` items; index 0 is the top."""

    def __init__(self) -> None:
        self._items: List[List[Any]] = []  # the top is the last element

    def __len__(self) -> int:
        return len(self._items)

    def push(self, number: int, value: Any) -> None:
        """Push ``value``, recording the instruction ``number`` that produced it."""
        self._items.append([number, value])

    def top(self) -> Tuple[int, Any]:
        """(number, value) of the top item, without popping it."""
        number, value = self._items[-1]
        return number, value

    def swap(self, depth: int) -> None:
        """Exchange the top item with the one ``depth`` below it."""
        items = self._items
        items[-1], items[-1 - depth] = items[-1 - depth], items[-1]

    def clear(self) -> None:
        """Discard every item."""
        self._items.clear()

    async def pop_item(self) -> Tuple[int, Any]:
        """Pop the top item as (number, value), its value settled."""
        number, value = self._items.pop()
        if isinstance(value, Pending):
            value = await value.settle()
        return number, value

    async def pop(self) -> Any:
        """Pop the top item's settled value."""
        return (await self.pop_item())[1]

    async def pop_many(self, count: int) -> List[Any]:
        """Pop ``count`` values, the top first."""
        return [await self.pop() for _ in range(count)]
