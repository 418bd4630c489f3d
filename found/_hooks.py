"""Transaction lifecycle hooks and the statistics handed to on_post_commit."""

from typing import Awaitable, Callable, List, NamedTuple

__all__ = ["Hooks", "TransactionStats", "make_hooks"]


class Hooks(NamedTuple):
    """Three lists of async callables, fired by transactional() and transaction().

    - ``on_begin``: ``async def hook(tx)``, after the transaction is created
      and after each retry (once ``tx.vars`` is cleared);
    - ``on_commit``: ``async def hook(tx)``, right before commit, inside the
      transaction (its writes commit atomically with the rest); re-runs on retry;
    - ``on_post_commit``: ``async def hook(tx, stats)``, once after a
      successful commit, never on retry; ``stats`` is a TransactionStats.
    """

    on_begin: List[Callable[..., Awaitable[None]]]
    on_commit: List[Callable[..., Awaitable[None]]]
    on_post_commit: List[Callable[..., Awaitable[None]]]


class TransactionStats(NamedTuple):
    """Facts about a committed transaction, passed to every on_post_commit hook.

    ``retries``: retries before the successful commit (0 on first attempt);
    ``elapsed``: seconds from make_transaction to the end of commit;
    ``commit_bytes``: approximate size of the committed transaction in bytes;
    ``maybe_committed``: how many attempts ended in commit_unknown_result
    (1021) — an earlier attempt may have committed too (found addition).
    """

    retries: int
    elapsed: float
    commit_bytes: int
    maybe_committed: int = 0


def make_hooks() -> Hooks:
    """A fresh Hooks with an empty list for each lifecycle slot."""
    return Hooks([], [], [])
