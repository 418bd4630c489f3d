"""Ctrl-C in the ``found`` command cancels the running command instead of raising inside the loop.

Run in this process (pytest runs tests on the main thread, where asyncio may
install a SIGINT handler); the subprocess tests in test_transfer.py check the
exit status and the files left behind.
"""

import asyncio
import os
import signal

import pytest

from found._cli import _interruptible
from found._cli.common import Interrupted


def _interrupt_soon(loop) -> None:
    loop.call_later(0.01, os.kill, os.getpid(), signal.SIGINT)


def test_first_ctrl_c_cancels_the_command_and_its_finally_runs():
    unwound = []

    async def command():
        _interrupt_soon(asyncio.get_running_loop())
        try:
            await asyncio.sleep(30)
        finally:
            unwound.append("finally")
        return 0

    with pytest.raises(Interrupted):
        asyncio.run(_interruptible(command()))
    assert unwound == ["finally"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_stops_a_command_that_ignores_the_first():
    seen = []

    async def stubborn():
        loop = asyncio.get_running_loop()
        _interrupt_soon(loop)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            _interrupt_soon(loop)
            await asyncio.sleep(30)  # keeps going: only the second Ctrl-C ends it
        return 0

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(_interruptible(stubborn()))
    assert seen == ["cancelled"]


def test_a_command_that_finishes_returns_its_status_and_restores_sigint():
    async def command():
        return 3

    assert asyncio.run(_interruptible(command())) == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_cancellation_from_elsewhere_stays_a_cancellation():
    async def command():
        asyncio.current_task().cancel()
        await asyncio.sleep(30)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_interruptible(command()))
