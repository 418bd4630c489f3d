"""One stack machine: reads its instructions from the database and executes them.

The instruction set and what each pushes are those of FoundationDB's
``bindings/bindingtester/spec/bindingApiTester.md`` at API 730; where the
spec leaves a choice, the official Python tester's answer is taken, since
the bindingtester compares our log with its log byte for byte.  Results are
awaited as soon as an operation is issued (an engine read is answered at
once, and the value is the same either way), except GET_VERSIONSTAMP's,
which is only known after the commit and so stays pending on the stack.
"""

import struct
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import found
import found.tuple
from found import KeySelector
from found._tester import tenants, unit_checks
from found._tester.ranges import read_range
from found._tester.stack import RESULT_NOT_PRESENT, Pending, Stack, error_value

_DATABASE, _TENANT, _SNAPSHOT = "_DATABASE", "_TENANT", "_SNAPSHOT"
_INVERTED_RANGE = found.FDB_ERR_INVERTED_RANGE
_KEY_TOO_LARGE = found.FDB_ERR_KEY_TOO_LARGE
_VALUE_TOO_LARGE = found.FDB_ERR_VALUE_TOO_LARGE
_DEFERRED = "found._tester.deferred"  # tx.vars entry: the write error FoundationDB would report later
_LOG_BATCH = 100  # LOG_STACK commits every 100 items (transactions stay small)
_LOG_VALUE_LIMIT = 40000

# ATOMIC_OP's operation names (FoundationDB's mutation type names) -> found's functions.
_MUTATIONS: Dict[str, Callable[..., Awaitable[None]]] = {
    name.upper(): getattr(found, name)
    for name in (
        "add",
        "bit_and",
        "bit_or",
        "bit_xor",
        "max",
        "min",
        "byte_min",
        "byte_max",
        "set_versionstamped_key",
        "set_versionstamped_value",
        "append_if_fits",
        "compare_and_clear",
    )
}
_MUTATIONS.update(AND=found.bit_and, OR=found.bit_or, XOR=found.bit_xor)  # the older names


class Shared:
    """What all the stack machines of one tester process share.

    ``start(machine)`` runs a new machine concurrently and returns a handle;
    ``join(handles)`` (a coroutine) waits for those machines.
    """

    def __init__(
        self, db: found.Database, start: Callable[["StackMachine"], Any], join: Callable[[List[Any]], Awaitable[None]]
    ) -> None:
        self.db = db
        self.start = start
        self.join = join
        self.transactions: Dict[bytes, Optional[found.Transaction]] = {}
        self.lock = threading.Lock()  # the transaction map is shared by every thread


class Instruction:
    """The instruction being executed: its number, operation, variant and argument."""

    __slots__ = ("number", "op", "variant", "argument", "stack")

    def __init__(self, number: int, op: str, variant: Optional[str], argument: Any, stack: Stack) -> None:
        self.number = number
        self.op = op
        self.variant = variant
        self.argument = argument
        self.stack = stack

    def push(self, value: Any) -> None:
        """Push ``value`` as this instruction's result."""
        self.stack.push(self.number, value)

    async def pop(self) -> Any:
        """Pop one settled value."""
        return await self.stack.pop()

    async def pop_many(self, count: int) -> List[Any]:
        """Pop ``count`` settled values, the top first."""
        return await self.stack.pop_many(count)

    @property
    def on_database(self) -> bool:
        """True for the _DATABASE and _TENANT forms (no tenant is ever active: see tenants.py)."""
        return self.variant in (_DATABASE, _TENANT)


def _split(op: str) -> Tuple[str, Optional[str]]:
    for variant in (_DATABASE, _TENANT, _SNAPSHOT):
        if op.endswith(variant):
            return op[: -len(variant)], variant
    return op, None


async def _read_all(tx: found.Transaction, begin: bytes, end: bytes) -> List[Tuple[bytes, bytes]]:
    return await found.all(found.query(tx, begin, end))


async def _log(tx: found.Transaction, prefix: bytes, entries: Dict[int, Tuple[int, Any]]) -> None:
    for index, (number, value) in entries.items():
        await found.set(tx, prefix + found.pack((index, number)), found.pack((value,))[:_LOG_VALUE_LIMIT])


async def _check_empty(tx: found.Transaction, prefix: bytes) -> None:
    if await found.all(found.query(tx, prefix, found.next_prefix(prefix), limit=1)):
        raise found.FoundException(found.FDB_ERR_NOT_COMMITTED)  # transactional() waits and retries


class StackMachine:
    """A stack machine reading the instructions stored under the tuple ``(prefix,)``."""

    def __init__(self, shared: Shared, prefix: bytes) -> None:
        self.shared = shared
        self.db = shared.db
        self.prefix = prefix
        self.stack = Stack()
        self.tr_name = prefix
        with shared.lock:
            shared.transactions[prefix] = None  # until NEW_TRANSACTION, as the official tester
        self.last_version = 0
        self.children: List[Any] = []
        self.directory = None  # the directory ops' state, made at the first DIRECTORY_ instruction

    async def run(self) -> None:
        """Execute every instruction, then wait for the machines START_THREAD started."""
        span = found.tuple.range((self.prefix,))
        instructions = await found.transactional(self.db, _read_all, span.start, span.stop)
        for number, (_, packed) in enumerate(instructions):
            await self.execute(number, found.unpack(packed))
        await self.shared.join(self.children)

    async def execute(self, number: int, instruction: tuple) -> None:
        """Execute one instruction; a FoundationDB error becomes the error value on the stack."""
        op, variant = _split(instruction[0])
        argument = instruction[1] if len(instruction) > 1 else None
        inst = Instruction(number, op, variant, argument, self.stack)
        if op.startswith("DIRECTORY_"):
            await self._directory_op(inst)
            return
        handler = _OPS.get(op)
        if handler is None:
            raise ValueError("unknown instruction %r (number %d)" % (instruction[0], number))
        try:
            await handler(self, inst)
        except found.FoundException as exc:
            self.stack.push(number, error_value(self._reported(inst, exc)))

    async def _directory_op(self, inst: Instruction) -> None:
        if self.directory is None:
            from found._tester.directory import DirectoryOps  # needs found.directory

            self.directory = DirectoryOps()
        await self.directory.execute(self, inst)

    # --- transactions

    def current(self) -> found.Transaction:
        """The transaction named by the current transaction name."""
        with self.shared.lock:
            return self.shared.transactions[self.tr_name]

    def _new_transaction(self) -> None:
        with self.shared.lock:
            self.shared.transactions[self.tr_name] = found.make_transaction(self.db)

    async def on_target(self, inst: Instruction, func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """``await func(tx, *args)`` on what the instruction's form names.

        _DATABASE (and _TENANT): a transaction of its own, retried and
        committed; _SNAPSHOT: the current transaction with snapshot reads;
        no suffix: the current transaction.
        """
        if inst.on_database:
            return await found.transactional(self.db, func, *args)
        tx = self.current()
        if inst.variant != _SNAPSHOT:
            return await func(tx, *args)
        previous = tx.snapshot
        tx.snapshot = True  # the same transaction, read as a snapshot for this one operation
        try:
            return await func(tx, *args)
        finally:
            tx.snapshot = previous

    async def _write(self, inst: Instruction, func: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await self.on_target(inst, func, *args)
        except found.FoundException as exc:
            if inst.on_database or exc.code not in (_KEY_TOO_LARGE, _VALUE_TOO_LARGE):
                raise
            await self._defer(self.current(), exc.code)
        if inst.on_database:
            inst.push(RESULT_NOT_PRESENT)

    # found refuses a key or value over the size limits at the write itself
    # (docs/driver.md, "Input checks"); FoundationDB accepts the write and
    # fails the transaction's later reads and commit with that error.  To
    # log what FoundationDB's binding logs, a refused write puts the
    # transaction in that state through the C API: an inverted clear range,
    # which it accepts and defers as 2005 inverted_range, reported as the
    # code found raised.  A transaction already failing (an earlier deferred
    # error, cancelled, timed out) is left as it is: that error comes first
    # in FoundationDB too.

    async def _defer(self, tx: found.Transaction, code: int) -> None:
        try:
            found.add_conflict_range(tx, b"", b"", found.CONFLICT_RANGE_TYPE_READ)  # empty: only the checks
        except found.FoundException:
            return
        tx.vars[_DEFERRED] = code
        await found.clear(tx, b"\x01", b"\x00")

    def _reported(self, inst: Instruction, exc: found.FoundException) -> found.FoundException:
        if exc.code != _INVERTED_RANGE or inst.on_database:
            return exc
        tx = self.current()
        code = tx.vars.get(_DEFERRED) if tx is not None else None
        return exc if code is None else found.FoundException(code)

    def _forget_deferred(self) -> None:
        self.current().vars.pop(_DEFERRED, None)

    async def _range(
        self,
        inst: Instruction,
        begin: KeySelector,
        end: KeySelector,
        limit: int,
        reverse: int,
        mode: int,
        prefix: Optional[bytes] = None,
    ) -> None:
        pairs = await self.on_target(inst, read_range, begin, end, limit, bool(reverse), mode)
        flat: List[bytes] = []
        for key, value in pairs:
            if prefix is None or key.startswith(prefix):
                flat += (key, value)
        inst.push(found.pack(tuple(flat)))

    # --- stack operations

    async def op_push(self, inst: Instruction) -> None:
        """PUSH item: push the instruction's argument."""
        inst.push(inst.argument)

    async def op_dup(self, inst: Instruction) -> None:
        """DUP: push a copy of the top item (same instruction number)."""
        self.stack.push(*self.stack.top())

    async def op_empty_stack(self, inst: Instruction) -> None:
        """EMPTY_STACK: discard every item."""
        self.stack.clear()

    async def op_swap(self, inst: Instruction) -> None:
        """SWAP: pop a depth, exchange the top item with the one that deep."""
        self.stack.swap(await inst.pop())

    async def op_pop(self, inst: Instruction) -> None:
        """POP: discard the top item."""
        await inst.pop()

    async def op_sub(self, inst: Instruction) -> None:
        """SUB: pop A and B, push A - B."""
        a, b = await inst.pop_many(2)
        inst.push(a - b)

    async def op_concat(self, inst: Instruction) -> None:
        """CONCAT: pop A and B (both bytes or both str), push A + B."""
        a, b = await inst.pop_many(2)
        inst.push(a + b)

    async def op_wait_future(self, inst: Instruction) -> None:
        """WAIT_FUTURE: settle the top item, keeping its instruction number."""
        self.stack.push(*await self.stack.pop_item())

    async def op_log_stack(self, inst: Instruction) -> None:
        """LOG_STACK: pop a prefix, write every item under it (100 per transaction), emptying the stack."""
        prefix = await inst.pop()
        entries: Dict[int, Tuple[int, Any]] = {}
        while len(self.stack):
            index = len(self.stack) - 1
            entries[index] = await self.stack.pop_item()
            if len(entries) == _LOG_BATCH:
                await found.transactional(self.db, _log, prefix, entries)
                entries = {}
        await found.transactional(self.db, _log, prefix, entries)

    # --- transaction management

    async def op_new_transaction(self, inst: Instruction) -> None:
        """NEW_TRANSACTION: a new transaction under the current name."""
        self._new_transaction()

    async def op_use_transaction(self, inst: Instruction) -> None:
        """USE_TRANSACTION: pop a name and use its transaction (made if the name is new)."""
        self.tr_name = await inst.pop()
        with self.shared.lock:
            if self.tr_name not in self.shared.transactions:
                self.shared.transactions[self.tr_name] = found.make_transaction(self.db)

    async def op_on_error(self, inst: Instruction) -> None:
        """ON_ERROR: pop an error code and hand it to the transaction's on_error."""
        code = await inst.pop()
        await found.on_error(self.current(), code)
        self._forget_deferred()  # on_error reset the transaction
        inst.push(RESULT_NOT_PRESENT)

    async def op_commit(self, inst: Instruction) -> None:
        """COMMIT: commit the current transaction (no retry)."""
        await found.commit(self.current())
        inst.push(RESULT_NOT_PRESENT)

    async def op_reset(self, inst: Instruction) -> None:
        """RESET: reset the current transaction."""
        found.reset(self.current())
        self._forget_deferred()

    async def op_cancel(self, inst: Instruction) -> None:
        """CANCEL: cancel the current transaction."""
        found.cancel(self.current())

    async def op_get_read_version(self, inst: Instruction) -> None:
        """GET_READ_VERSION: remember the read version, push GOT_READ_VERSION."""
        self.last_version = await self.on_target(inst, found.read_version)
        inst.push(b"GOT_READ_VERSION")

    async def op_set_read_version(self, inst: Instruction) -> None:
        """SET_READ_VERSION: give the current transaction the remembered version."""
        await found.set_read_version(self.current(), self.last_version)

    async def op_get_committed_version(self, inst: Instruction) -> None:
        """GET_COMMITTED_VERSION: remember the committed version, push GOT_COMMITTED_VERSION."""
        self.last_version = found.get_committed_version(self.current())
        inst.push(b"GOT_COMMITTED_VERSION")

    async def op_get_approximate_size(self, inst: Instruction) -> None:
        """GET_APPROXIMATE_SIZE: ask for it, push GOT_APPROXIMATE_SIZE."""
        await found.get_approximate_size(self.current())
        inst.push(b"GOT_APPROXIMATE_SIZE")

    async def op_get_versionstamp(self, inst: Instruction) -> None:
        """GET_VERSIONSTAMP: push the (pending) versionstamp of the current transaction."""
        inst.push(Pending(found.get_versionstamp(self.current())))

    # --- reads

    async def op_get(self, inst: Instruction) -> None:
        """GET: pop a key, push its value or RESULT_NOT_PRESENT."""
        value = await self.on_target(inst, found.get, await inst.pop())
        inst.push(RESULT_NOT_PRESENT if value is None else value)

    async def op_get_key(self, inst: Instruction) -> None:
        """GET_KEY: pop key, or_equal, offset, prefix; push the resolved key, clamped to the prefix's range."""
        key, or_equal, offset, prefix = await inst.pop_many(4)
        result = await self.on_target(inst, found.get_key, KeySelector(key, bool(or_equal), offset))
        if result.startswith(prefix):
            inst.push(result)
        elif result < prefix:
            inst.push(prefix)
        else:
            inst.push(found.next_prefix(prefix))

    async def op_get_range(self, inst: Instruction) -> None:
        """GET_RANGE: pop begin, end, limit, reverse, mode; push the pairs as one packed tuple."""
        begin, end, limit, reverse, mode = await inst.pop_many(5)
        await self._range(inst, KeySelector(begin, False, 1), KeySelector(end, False, 1), limit, reverse, mode)

    async def op_get_range_starts_with(self, inst: Instruction) -> None:
        """GET_RANGE_STARTS_WITH: pop prefix, limit, reverse, mode; push the pairs as one packed tuple."""
        prefix, limit, reverse, mode = await inst.pop_many(4)
        end = found.next_prefix(prefix)
        await self._range(inst, KeySelector(prefix, False, 1), KeySelector(end, False, 1), limit, reverse, mode)

    async def op_get_range_selector(self, inst: Instruction) -> None:
        """GET_RANGE_SELECTOR: pop two selectors, limit, reverse, mode, prefix; push the pairs under prefix."""
        values = await inst.pop_many(10)
        begin = KeySelector(values[0], bool(values[1]), values[2])
        end = KeySelector(values[3], bool(values[4]), values[5])
        limit, reverse, mode, prefix = values[6:]
        await self._range(inst, begin, end, limit, reverse, mode, prefix)

    async def op_get_estimated_range_size(self, inst: Instruction) -> None:
        """GET_ESTIMATED_RANGE_SIZE: pop begin, end; push GOT_ESTIMATED_RANGE_SIZE."""
        begin, end = await inst.pop_many(2)
        await self.on_target(inst, found.estimated_size_bytes, begin, end)
        inst.push(b"GOT_ESTIMATED_RANGE_SIZE")

    async def op_get_range_split_points(self, inst: Instruction) -> None:
        """GET_RANGE_SPLIT_POINTS: pop begin, end, chunk size; push GOT_RANGE_SPLIT_POINTS."""
        begin, end, chunk_size = await inst.pop_many(3)
        await self.on_target(inst, found.get_range_split_points, begin, end, chunk_size)
        inst.push(b"GOT_RANGE_SPLIT_POINTS")

    # --- writes

    async def op_set(self, inst: Instruction) -> None:
        """SET: pop key, value and set it."""
        key, value = await inst.pop_many(2)
        await self._write(inst, found.set, key, value)

    async def op_clear(self, inst: Instruction) -> None:
        """CLEAR: pop a key and clear it."""
        await self._write(inst, found.clear, await inst.pop())

    async def op_clear_range(self, inst: Instruction) -> None:
        """CLEAR_RANGE: pop begin, end and clear [begin, end)."""
        begin, end = await inst.pop_many(2)
        await self._write(inst, found.clear, begin, end)

    async def op_clear_range_starts_with(self, inst: Instruction) -> None:
        """CLEAR_RANGE_STARTS_WITH: pop a prefix and clear every key under it."""
        prefix = await inst.pop()
        await self._write(inst, found.clear, prefix, found.next_prefix(prefix))

    async def op_atomic_op(self, inst: Instruction) -> None:
        """ATOMIC_OP: pop a mutation name, key, parameter and apply it."""
        name, key, value = await inst.pop_many(3)
        await self._write(inst, _MUTATIONS[name], key, value)

    # --- conflict ranges

    async def _conflict(self, inst: Instruction, kind: int, begin: bytes, end: bytes, answer: bytes) -> None:
        found.add_conflict_range(self.current(), begin, end, kind)
        inst.push(answer)

    async def op_read_conflict_range(self, inst: Instruction) -> None:
        """READ_CONFLICT_RANGE: pop begin, end; push SET_CONFLICT_RANGE."""
        begin, end = await inst.pop_many(2)
        await self._conflict(inst, found.CONFLICT_RANGE_TYPE_READ, begin, end, b"SET_CONFLICT_RANGE")

    async def op_write_conflict_range(self, inst: Instruction) -> None:
        """WRITE_CONFLICT_RANGE: pop begin, end; push SET_CONFLICT_RANGE."""
        begin, end = await inst.pop_many(2)
        await self._conflict(inst, found.CONFLICT_RANGE_TYPE_WRITE, begin, end, b"SET_CONFLICT_RANGE")

    async def op_read_conflict_key(self, inst: Instruction) -> None:
        """READ_CONFLICT_KEY: pop a key; push SET_CONFLICT_KEY."""
        key = await inst.pop()
        await self._conflict(inst, found.CONFLICT_RANGE_TYPE_READ, key, key + b"\x00", b"SET_CONFLICT_KEY")

    async def op_write_conflict_key(self, inst: Instruction) -> None:
        """WRITE_CONFLICT_KEY: pop a key; push SET_CONFLICT_KEY."""
        key = await inst.pop()
        await self._conflict(inst, found.CONFLICT_RANGE_TYPE_WRITE, key, key + b"\x00", b"SET_CONFLICT_KEY")

    async def op_disable_write_conflict(self, inst: Instruction) -> None:
        """DISABLE_WRITE_CONFLICT: no write conflict range for the next write."""
        found.set_option(self.current(), found.FDB_TR_OPTION_NEXT_WRITE_NO_WRITE_CONFLICT_RANGE)

    # --- tuples and floats

    async def op_tuple_pack(self, inst: Instruction) -> None:
        """TUPLE_PACK: pop N, then N items; push them packed as one tuple."""
        items = await inst.pop_many(await inst.pop())
        inst.push(found.pack(tuple(items)))

    async def op_tuple_pack_with_versionstamp(self, inst: Instruction) -> None:
        """TUPLE_PACK_WITH_VERSIONSTAMP: pop prefix, N, N items; push OK and the key, or ERROR: NONE / MULTIPLE."""
        prefix = await inst.pop()
        items = tuple(await inst.pop_many(await inst.pop()))
        if not found.has_incomplete_versionstamp(items):
            inst.push(b"ERROR: NONE")
            return
        try:
            packed = found.pack_with_versionstamp(items, prefix=prefix)
        except ValueError:  # more than one incomplete versionstamp
            inst.push(b"ERROR: MULTIPLE")
            return
        inst.push(b"OK")
        inst.push(packed)

    async def op_tuple_unpack(self, inst: Instruction) -> None:
        """TUPLE_UNPACK: pop a packed tuple, push each element packed alone."""
        for item in found.unpack(await inst.pop()):
            inst.push(found.pack((item,)))

    async def op_tuple_range(self, inst: Instruction) -> None:
        """TUPLE_RANGE: pop N, then N items; push the start and stop of their tuple range."""
        items = await inst.pop_many(await inst.pop())
        span = found.tuple.range(tuple(items))
        inst.push(span.start)
        inst.push(span.stop)

    async def op_tuple_sort(self, inst: Instruction) -> None:
        """TUPLE_SORT: pop N packed tuples, push them sorted (the greatest on top)."""
        items = await inst.pop_many(await inst.pop())
        for item in sorted(map(found.unpack, items), key=found.pack):
            inst.push(found.pack(item))

    async def op_encode_float(self, inst: Instruction) -> None:
        """ENCODE_FLOAT: pop 4 big-endian bytes, push the SingleFloat."""
        inst.push(found.tuple.SingleFloat(struct.unpack(">f", await inst.pop())[0]))

    async def op_encode_double(self, inst: Instruction) -> None:
        """ENCODE_DOUBLE: pop 8 big-endian bytes, push the float."""
        inst.push(struct.unpack(">d", await inst.pop())[0])

    async def op_decode_float(self, inst: Instruction) -> None:
        """DECODE_FLOAT: pop a SingleFloat, push its 4 big-endian bytes."""
        inst.push(struct.pack(">f", (await inst.pop()).value))

    async def op_decode_double(self, inst: Instruction) -> None:
        """DECODE_DOUBLE: pop a float, push its 8 big-endian bytes."""
        inst.push(struct.pack(">d", await inst.pop()))

    # --- threads

    async def op_start_thread(self, inst: Instruction) -> None:
        """START_THREAD: pop a prefix and run its stack machine concurrently."""
        machine = StackMachine(self.shared, await inst.pop())
        self.children.append(self.shared.start(machine))

    async def op_wait_empty(self, inst: Instruction) -> None:
        """WAIT_EMPTY: pop a prefix, wait (retrying as on a conflict) until no key has it; push WAITED_FOR_EMPTY."""
        await found.transactional(self.db, _check_empty, await inst.pop())
        inst.push(b"WAITED_FOR_EMPTY")

    # --- the rest

    async def op_unit_tests(self, inst: Instruction) -> None:
        """UNIT_TESTS: run found's unit checks (unit_checks.py)."""
        await unit_checks.run(self.db)

    async def op_tenant_create(self, inst: Instruction) -> None:
        """TENANT_CREATE: pop a name and create that tenant."""
        await tenants.create(self.db, await inst.pop())
        inst.push(RESULT_NOT_PRESENT)

    async def op_tenant_delete(self, inst: Instruction) -> None:
        """TENANT_DELETE: pop a name and delete that tenant."""
        await tenants.delete(self.db, await inst.pop())
        inst.push(RESULT_NOT_PRESENT)

    async def op_tenant_set_active(self, inst: Instruction) -> None:
        """TENANT_SET_ACTIVE: pop a name and open that tenant (tenants are disabled: 2136)."""
        await tenants.open_tenant(self.db, await inst.pop())
        inst.push(b"SET_ACTIVE_TENANT")

    async def op_tenant_clear_active(self, inst: Instruction) -> None:
        """TENANT_CLEAR_ACTIVE: nothing to do, no tenant is ever active."""
        pass  # no tenant is ever active

    async def op_tenant_list(self, inst: Instruction) -> None:
        """TENANT_LIST: pop begin, end, limit; push the tenant names as one packed tuple."""
        begin, end, limit = await inst.pop_many(3)
        inst.push(found.pack(tuple(await tenants.list_names(self.db, begin, end, limit))))

    async def op_tenant_get_id(self, inst: Instruction) -> None:
        """TENANT_GET_ID: push NO_ACTIVE_TENANT."""
        inst.push(b"NO_ACTIVE_TENANT")


_OPS: Dict[str, Callable[[StackMachine, Instruction], Awaitable[None]]] = {
    name[3:].upper(): method for name, method in vars(StackMachine).items() if name.startswith("op_")
}
