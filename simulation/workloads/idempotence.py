"""Idempotence: the contract of found.transactional() under faults.

Each operation writes an idempotency marker and an "applied" count in one
transaction, and db.hooks record what fires for it. One operation in four
goes through ``async with found.transaction(db)`` (one attempt each) in a
hand-written retry loop instead, which must fire the same hooks. Checked per operation:
the write applies at most once even when commits are ambiguous
(commit_unknown_result, kills); tx.vars starts empty on every attempt;
on_begin fires once per attempt; on_commit re-runs on every attempt that
reaches commit and its writes commit atomically with the transaction;
on_post_commit fires exactly once per success (never for a failure) with
stats.retries equal to the retries made.
"""

import asyncio
import contextvars
import struct

import found
from simulation.workloads.base import Workload, read_all

_VAR = "simulation.idempotence"
_current = contextvars.ContextVar("simulation_idempotence_op", default=None)
_installed = set()


class _Record:
    __slots__ = ("attempts", "completions", "begins", "on_commit", "post_commit", "retries")

    def __init__(self):
        self.attempts = self.completions = self.begins = self.on_commit = self.post_commit = 0
        self.retries = None


class Idempotence(Workload):
    name = "idempotence"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.issued = 0
        _install_hooks(ctx.db, self.space)

    async def step(self):
        self.issued += 1
        seq = self.issued
        record = _Record()
        manual = self.rng.random() < 0.25
        token = _current.set((self, seq, record))
        try:
            outcome = await self.transact(self._apply, seq, record, loop=retry_transaction if manual else None)
        except found.FoundException:
            if record.post_commit:
                self.violation("op %d failed yet on_post_commit fired %d time(s)" % (seq, record.post_commit))
            raise
        finally:
            _current.reset(token)
        self._check_hooks(seq, record, manual)
        return {
            "op": "apply",
            "id": seq,
            "outcome": outcome,
            "attempts": record.attempts,
            "with": "transaction" if manual else "transactional",
        }

    async def _apply(self, tx, seq, record):
        record.attempts += 1
        if _VAR in tx.vars:
            self.violation(
                "op %d attempt %d: tx.vars still holds %r from a previous attempt"
                % (seq, record.attempts, tx.vars[_VAR])
            )
        tx.vars[_VAR] = (seq, record.attempts)
        marker = self.key("id", *self.tag, seq)
        if await found.get(tx, marker) is not None:
            outcome = "already-applied"
        else:
            await found.set(tx, marker, b"")
            await found.add(tx, self.key("applied", *self.tag, seq), struct.pack("<q", 1))
            outcome = "applied"
        record.completions += 1
        return outcome

    def _check_hooks(self, seq, record, manual):
        if record.post_commit != 1:
            self.violation("op %d succeeded but on_post_commit fired %d times" % (seq, record.post_commit))
        if record.begins != record.attempts:
            self.violation("op %d: on_begin fired %d times for %d attempts" % (seq, record.begins, record.attempts))
        if record.on_commit != record.completions:
            self.violation(
                "op %d: on_commit ran %d times for %d attempts that reached commit"
                % (seq, record.on_commit, record.completions)
            )
        # found.transaction() is one attempt: its stats say retries=0.
        expected_retries = 0 if manual else record.attempts - 1
        if record.retries is not None and record.retries != expected_retries:
            self.violation(
                "op %d: TransactionStats.retries is %d, expected %d" % (seq, record.retries, expected_retries)
            )

    @classmethod
    async def check(cls, db, space, config, runs):
        # No client runs any more: reading in pages is consistent.
        markers = await read_all(db, found.pack(space + ("id",)))
        applied = await read_all(db, found.pack(space + ("applied",)))
        hooked = await read_all(db, found.pack(space + ("hook",)))
        ids = {found.unpack(k)[len(space) + 1 :] for k, _ in markers}
        counts = {found.unpack(k)[len(space) + 1 :]: struct.unpack("<q", v)[0] for k, v in applied}
        hooks = {found.unpack(k)[len(space) + 1 :] for k, _ in hooked}
        problems = ["op %s applied %d times" % (op, n) for op, n in sorted(counts.items()) if n != 1]
        problems += ["op %s has no idempotency marker but applied" % (op,) for op in sorted(set(counts) - ids)]
        problems += ["op %s committed without its on_commit write" % (op,) for op in sorted(ids - hooks)]
        problems += ["op %s has an on_commit write but did not commit" % (op,) for op in sorted(hooks - ids)]
        return problems


async def retry_transaction(db, func, *args):
    """A retry loop around ``async with found.transaction(db)``: a fresh
    transaction per attempt, retrying the errors FoundationDB calls retryable."""
    attempt = 0
    while True:
        attempt += 1
        try:
            async with found.transaction(db) as tx:
                result = await func(tx, *args)
            return result
        except found.FoundException as error:
            if not found.error_predicate(found.ERROR_PREDICATE_RETRYABLE, error.code):
                raise
        await asyncio.sleep(min(0.001 * 2**attempt, 0.1))


def _install_hooks(db, space):
    """Register the observing hooks once per database handle."""
    if id(db) in _installed:
        return
    _installed.add(id(db))

    async def on_begin(tx):
        current = _current.get()
        if current:
            current[2].begins += 1

    async def on_commit(tx):
        current = _current.get()
        if current:
            workload, seq, record = current
            record.on_commit += 1
            await found.set(tx, workload.key("hook", *workload.tag, seq), b"")

    async def on_post_commit(tx, stats):
        current = _current.get()
        if current:
            record = current[2]
            record.post_commit += 1
            record.retries = stats.retries

    db.hooks.on_begin.append(on_begin)
    db.hooks.on_commit.append(on_commit)
    db.hooks.on_post_commit.append(on_post_commit)
