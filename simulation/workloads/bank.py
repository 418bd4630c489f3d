"""Bank: random transfers between accounts. The total never changes and no
balance ever goes negative, however transfers are retried or cut short."""

import found
from simulation.workloads.base import SpaceInvariantWorkload

ACCOUNTS = 10
OPENING_BALANCE = 100
PLANT_OVERDRAFT = "bank-overdraft"


class Bank(SpaceInvariantWorkload):
    name = "bank"

    async def step(self):
        if self.rng.random() < 0.1:
            await self.transact(self.audit)
            return {"op": "audit"}
        source, target = self.rng.sample(range(ACCOUNTS), 2)
        amount = self.rng.randint(1, OPENING_BALANCE // 2)
        moved = await self.transact(self._transfer, source, target, amount)
        return {"op": "transfer", "from": source, "to": target, "amount": amount, "moved": moved}

    async def _transfer(self, tx, source, target, amount):
        balance = await self._balance(tx, source)
        if balance < amount and not self.ctx.planted(PLANT_OVERDRAFT):
            return False
        await found.set(tx, self.key(source), found.pack((balance - amount,)))
        await found.set(tx, self.key(target), found.pack((await self._balance(tx, target) + amount,)))
        return True

    async def _balance(self, tx, account):
        return found.unpack(await found.get(tx, self.key(account)))[0]

    @staticmethod
    async def space_problem(tx, space):
        return await books_problem(tx, space)

    @classmethod
    async def setup(cls, db, space, config):
        async def open_accounts(tx):
            for account in range(ACCOUNTS):
                await found.set(tx, found.pack(space + (account,)), found.pack((OPENING_BALANCE,)))

        await found.transactional(db, open_accounts)


async def books_problem(tx, space):
    """None when the balances under ``space`` are non-negative and sum to the opening total."""
    balances = []
    for account in range(ACCOUNTS):
        value = await found.get(tx, found.pack(space + (account,)))
        balances.append(None if value is None else found.unpack(value)[0])
    if None in balances:
        return "account missing: %s" % balances
    if sum(balances) != ACCOUNTS * OPENING_BALANCE or min(balances) < 0:
        return "balances %s sum to %d (expected %d)" % (balances, sum(balances), ACCOUNTS * OPENING_BALANCE)
    return None
