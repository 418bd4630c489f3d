"""Fan an iterator out to a thread pool and stream the results back."""

import asyncio
import inspect
import os
from concurrent.futures import Executor
from typing import Any, AsyncIterable, Awaitable, Callable, Iterable, TypeVar, Union

from found.ext._aiterate import aiterate


def _width(pool: Executor) -> int:
    # ThreadPoolExecutor keeps its size private; fall back to its default.
    width = getattr(pool, "_max_workers", None)
    return width if isinstance(width, int) and width > 0 else min(32, (os.cpu_count() or 1) + 4)


T = TypeVar("T")
R = TypeVar("R")


async def pool_for_each_par_map(
    loop: asyncio.AbstractEventLoop,
    pool: Executor,
    f: Callable[[R], Union[Awaitable[Any], Any]],
    p: Callable[[T], R],
    iterator: Union[AsyncIterable[T], Iterable[T]],
) -> int:
    """Apply ``p`` in the threads of ``pool`` (a concurrent.futures
    executor) to each item of ``iterator`` (async or plain iterable), and
    call ``f`` on each result in ``loop`` (the running asyncio loop) as soon
    as it completes, in completion order; ``f`` may be a coroutine function.

    At most as many items as ``pool`` has workers are in flight, so a long
    iterator is consumed lazily.  The first exception raised by ``p`` or
    ``f`` cancels the calls not started yet and propagates (calls already
    running in a thread finish there, their results dropped).  Returns the number of items processed.
    """
    width = _width(pool)
    pending = set()
    done_count = 0
    items = aiterate(iterator)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < width:
                try:
                    item = await items.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                else:
                    pending.add(loop.run_in_executor(pool, p, item))
            if not pending:
                return done_count
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                out = f(future.result())
                if inspect.isawaitable(out):
                    await out
                done_count += 1
    finally:
        for future in pending:
            future.cancel()
