"""What every workload is: the interface the client and the checker drive.

A workload instance lives in one task of one client process and owns that
task's state (its random stream, its in-memory model). The class methods
``setup`` and ``check`` run in the harness process, once, without faults:
``setup`` before any client starts, ``check`` after every client has stopped,
against what the clients left in the database (including clients killed with
-9 midway, which is why ``check`` must never rely on client memory).
"""

import found


class Workload:
    """Base class: override ``step`` (one logical operation), and as needed
    ``setup``, ``finish`` (end-of-task checks against the task's model) and
    ``check`` (the invariant over the database)."""

    name = "?"

    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = ctx.rng
        self.tag = ctx.tag
        self.space = ctx.space(self.name)

    def key(self, *items):
        """A key of this workload: the packed tuple ``space + items``."""
        return found.pack(self.space + items)

    async def transact(self, func, *args, loop=None):
        """Run ``func(tx, *args)`` as one transaction through the retry loop
        (found.transactional, or ``loop(db, func, *args)`` when given)."""
        return await self.ctx.transact(self.name, func, *args, loop=loop)

    def violation(self, message):
        """Report a broken invariant (the run will exit non-zero)."""
        self.ctx.violation(self.name, message)

    async def step(self):
        """Perform one logical operation; return a JSON-able description of it."""
        raise NotImplementedError

    async def after_failure(self, error):
        """Called when ``step`` raised a FoundException (the transaction may or
        may not have committed); model-based workloads resynchronise here."""

    async def finish(self):
        """End of this task's run: check the task's model against the database."""

    @classmethod
    async def setup(cls, db, space, config):
        """Initialise the workload's data (harness process, faults off)."""

    @classmethod
    async def check(cls, db, space, config, runs):
        """Return a list of invariant violations found in the database.

        ``runs`` lists every (client, generation, task) that ran, killed or not."""
        return []


class TaskStoreWorkload(Workload):
    """A workload in which each task owns one store and models it exactly in
    ``self.model``.  Subclasses define ``make_store(space, tag)`` (the store
    of one task) and ``store_problems(tx, store)`` (its invariant, as a list
    of problems); the final check runs the latter over every task's store,
    one transaction each, since no model survives to the harness."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.store = self.make_store(self.space, self.tag)
        self.model = {}

    @staticmethod
    def make_store(space, tag):
        """The store of the task ``tag`` under the workload's ``space``."""
        raise NotImplementedError

    @staticmethod
    async def store_problems(tx, store):
        """The invariant violations found in ``store``."""
        raise NotImplementedError

    @classmethod
    async def check(cls, db, space, config, runs):
        problems = []
        for tag in runs:
            store = cls.make_store(space, tag)
            for problem in await found.transactional(db, cls.store_problems, store):
                problems.append("store %s: %s" % (tag, problem))
        return problems


class SpaceInvariantWorkload(Workload):
    """A workload whose whole key space obeys one invariant, written once as
    ``space_problem(tx, space)`` (None when it holds): steps audit it mid-run
    with ``audit`` and the final check reads it without faults."""

    @staticmethod
    async def space_problem(tx, space):
        """None when the data under ``space`` obeys the invariant, else what is wrong."""
        raise NotImplementedError

    async def audit(self, tx):
        """Check the invariant inside ``tx``, reporting a violation if broken."""
        problem = await self.space_problem(tx, self.space)
        if problem:
            self.violation("mid-run audit: " + problem)

    @classmethod
    async def check(cls, db, space, config, runs):
        problem = await found.transactional(db, cls.space_problem, space)
        return [problem] if problem else []


async def read_range(tx, prefix_key):
    """All (key, value) pairs under the packed prefix ``prefix_key``."""
    return await found.all(found.query(tx, prefix_key, found.next_prefix(prefix_key)))


PAGE = 2000


async def read_all(db, prefix_key):
    """All pairs under ``prefix_key``, over as many transactions as needed.

    For final checks only: nothing writes then, so the pages form one
    consistent picture however many transactions read them."""
    end = found.next_prefix(prefix_key)
    begin, out = prefix_key, []
    while True:
        page = await found.transactional(db, lambda tx, b: found.all(found.query(tx, b, end, limit=PAGE)), begin)
        out.extend(page)
        if len(page) < PAGE:
            return out
        begin = page[-1][0] + b"\x00"
