"""pool.pool_for_each_par_map: every item mapped once in the pool's
threads, results handed to f, bounded fan-out, errors propagated."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from found.ext import pool


class Gauge:
    """Counts calls running at once, across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.threads = set()

    def square(self, x):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.get_ident())
        try:
            return x * x
        finally:
            with self.lock:
                self.running -= 1


async def numbers(n):
    for i in range(n):
        yield i


@pytest.mark.parametrize("source", ["async", "list"])
async def test_every_result_reaches_f(source):
    gauge = Gauge()
    results = []
    iterator = numbers(50) if source == "async" else list(range(50))
    with ThreadPoolExecutor(max_workers=3) as executor:
        count = await pool.pool_for_each_par_map(
            asyncio.get_running_loop(), executor, results.append, gauge.square, iterator
        )
    assert count == 50
    assert sorted(results) == [i * i for i in range(50)]
    assert gauge.peak <= 3
    assert threading.get_ident() not in gauge.threads


async def test_fan_out_is_bounded_and_lazy():
    pulled = []
    in_flight_when_pulled = []
    gauge = Gauge()

    async def tracked():
        for i in range(20):
            in_flight_when_pulled.append(len(pulled) - len(results))
            pulled.append(i)
            yield i

    results = []
    with ThreadPoolExecutor(max_workers=2) as executor:
        await pool.pool_for_each_par_map(asyncio.get_running_loop(), executor, results.append, gauge.square, tracked())
    assert max(in_flight_when_pulled) < 2
    assert len(results) == 20


async def test_f_may_be_a_coroutine_function():
    seen = []

    async def record(value):
        await asyncio.sleep(0)
        seen.append(value)

    with ThreadPoolExecutor(max_workers=2) as executor:
        await pool.pool_for_each_par_map(asyncio.get_running_loop(), executor, record, str, range(5))
    assert sorted(seen) == ["0", "1", "2", "3", "4"]


async def test_empty_iterator():
    with ThreadPoolExecutor(max_workers=2) as executor:
        count = await pool.pool_for_each_par_map(asyncio.get_running_loop(), executor, pytest.fail, abs, numbers(0))
    assert count == 0


async def test_an_error_in_p_propagates():
    def fragile(x):
        if x == 7:
            raise ValueError("seven")
        return x

    results = []
    with ThreadPoolExecutor(max_workers=2) as executor:
        with pytest.raises(ValueError, match="seven"):
            await pool.pool_for_each_par_map(
                asyncio.get_running_loop(), executor, results.append, fragile, numbers(100)
            )
    assert 7 not in results and len(results) < 100


async def test_an_error_in_f_propagates():
    def picky(value):
        if value == 3:
            raise KeyError(value)

    with ThreadPoolExecutor(max_workers=2) as executor:
        with pytest.raises(KeyError):
            await pool.pool_for_each_par_map(asyncio.get_running_loop(), executor, picky, int, range(10))
