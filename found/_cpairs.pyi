"""Type stub of the range-batch builder (ffi/pairs/pairs.c); found._transaction falls back to Python without it."""

from typing import List, Tuple

def pairs(block: object, count: int, /) -> List[Tuple[bytes, bytes]]: ...
