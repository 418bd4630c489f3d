"""The DIRECTORY_* instructions (``bindings/bindingtester/spec/directoryLayerTester.md``) on found.directory.

The state is a list of directories and subspaces (index 0 the default
directory layer), the index of the current one and an error index.  As the
official tester does, any failure of a directory instruction pushes
``DIRECTORY_ERROR`` (and, for an instruction that would have added an entry
to the list, adds None in its place).
"""

from typing import Any, List, Optional, Tuple

import found

DIRECTORY_ERROR = b"DIRECTORY_ERROR"

# The instructions that add an entry to the list, a None one when they fail.
_CREATING = frozenset(
    (
        "DIRECTORY_CREATE_SUBSPACE",
        "DIRECTORY_CREATE_LAYER",
        "DIRECTORY_CREATE_OR_OPEN",
        "DIRECTORY_CREATE",
        "DIRECTORY_OPEN",
        "DIRECTORY_MOVE",
        "DIRECTORY_MOVE_TO",
        "DIRECTORY_OPEN_SUBSPACE",
    )
)


async def _pop_tuple(inst) -> Tuple[Any, ...]:
    """Pop a count N, then N items, as a tuple."""
    return tuple(await inst.pop_many(await inst.pop()))


class DirectoryOps:
    """The directory instructions' state for one stack machine."""

    def __init__(self) -> None:
        self.entries: List[Optional[Any]] = [found.directory]
        self.index = 0
        self.error_index = 0

    async def execute(self, machine, inst) -> None:
        """Execute directory instruction ``inst`` for ``machine``."""
        op = inst.op
        try:
            current = self.entries[self.index]
            handler = getattr(self, "op_" + op[len("DIRECTORY_") :].lower(), None)
            if handler is None:
                raise ValueError("unknown directory instruction %r" % op)
            await handler(machine, inst, current)
        except Exception:  # noqa: B902 — every failure is DIRECTORY_ERROR, as in the official tester
            if op in _CREATING:
                self.entries.append(None)
            inst.push(DIRECTORY_ERROR)

    async def _on_target(self, machine, inst, method, *args):
        """``await method(tr, *args)`` with tr what the instruction's form names."""
        if inst.on_database:
            return await method(machine.db, *args)  # found.directory runs it in found.transactional
        return await machine.on_target(inst, lambda tx: method(tx, *args))

    # --- the list of directories

    async def op_create_subspace(self, machine, inst, current) -> None:
        """DIRECTORY_CREATE_SUBSPACE: pop a path tuple and a raw prefix, add that Subspace."""
        path = await _pop_tuple(inst)
        raw_prefix = await inst.pop()
        self.entries.append(found.Subspace(path, raw_prefix))

    async def op_create_layer(self, machine, inst, current) -> None:
        """DIRECTORY_CREATE_LAYER: pop two entry indices and allow_manual_prefixes, add that DirectoryLayer."""
        node, content, allow_manual_prefixes = await inst.pop_many(3)
        if self.entries[node] is None or self.entries[content] is None:
            self.entries.append(None)
            return
        self.entries.append(found.DirectoryLayer(self.entries[node], self.entries[content], allow_manual_prefixes == 1))

    async def op_change(self, machine, inst, current) -> None:
        """DIRECTORY_CHANGE: pop an index and make it current (the error index if its entry is None)."""
        self.index = await inst.pop()
        if self.entries[self.index] is None:
            self.index = self.error_index

    async def op_set_error_index(self, machine, inst, current) -> None:
        """DIRECTORY_SET_ERROR_INDEX: pop the index DIRECTORY_CHANGE falls back to."""
        self.error_index = await inst.pop()

    # --- directory operations

    async def op_create_or_open(self, machine, inst, current) -> None:
        """DIRECTORY_CREATE_OR_OPEN: pop a path and a layer, add the directory."""
        path = await _pop_tuple(inst)
        layer = await inst.pop()
        self.entries.append(await self._on_target(machine, inst, current.create_or_open, path, layer or b""))

    async def op_create(self, machine, inst, current) -> None:
        """DIRECTORY_CREATE: pop a path, a layer and a prefix, add the new directory."""
        path = await _pop_tuple(inst)
        layer, prefix = await inst.pop_many(2)
        self.entries.append(await self._on_target(machine, inst, current.create, path, layer or b"", prefix))

    async def op_open(self, machine, inst, current) -> None:
        """DIRECTORY_OPEN: pop a path and a layer, add the directory."""
        path = await _pop_tuple(inst)
        layer = await inst.pop()
        self.entries.append(await self._on_target(machine, inst, current.open, path, layer or b""))

    async def op_move(self, machine, inst, current) -> None:
        """DIRECTORY_MOVE: pop the old and new paths, add the moved directory."""
        old_path = await _pop_tuple(inst)
        new_path = await _pop_tuple(inst)
        self.entries.append(await self._on_target(machine, inst, current.move, old_path, new_path))

    async def op_move_to(self, machine, inst, current) -> None:
        """DIRECTORY_MOVE_TO: pop a new absolute path, add the moved directory."""
        new_path = await _pop_tuple(inst)
        self.entries.append(await self._on_target(machine, inst, current.move_to, new_path))

    async def _path_op(self, machine, inst, method) -> Any:
        """remove, remove_if_exists, list and exists: a count 0 (the directory itself) or 1 and a path."""
        if await inst.pop() == 0:
            return await self._on_target(machine, inst, method)
        return await self._on_target(machine, inst, method, await _pop_tuple(inst))

    async def op_remove(self, machine, inst, current) -> None:
        """DIRECTORY_REMOVE: remove the current directory or a path under it."""
        await self._path_op(machine, inst, current.remove)

    async def op_remove_if_exists(self, machine, inst, current) -> None:
        """DIRECTORY_REMOVE_IF_EXISTS: as DIRECTORY_REMOVE, without failing when absent."""
        await self._path_op(machine, inst, current.remove_if_exists)

    async def op_list(self, machine, inst, current) -> None:
        """DIRECTORY_LIST: push the subdirectory names as one packed tuple."""
        inst.push(found.pack(tuple(await self._path_op(machine, inst, current.list))))

    async def op_exists(self, machine, inst, current) -> None:
        """DIRECTORY_EXISTS: push 1 if the directory exists, else 0."""
        inst.push(1 if await self._path_op(machine, inst, current.exists) else 0)

    # --- subspace operations

    async def op_pack_key(self, machine, inst, current) -> None:
        """DIRECTORY_PACK_KEY: pop a tuple, push its key in the current subspace."""
        inst.push(current.pack(await _pop_tuple(inst)))

    async def op_unpack_key(self, machine, inst, current) -> None:
        """DIRECTORY_UNPACK_KEY: pop a key, push the elements of its tuple."""
        for item in current.unpack(await inst.pop()):
            inst.push(item)

    async def op_range(self, machine, inst, current) -> None:
        """DIRECTORY_RANGE: pop a tuple, push the start and stop of its range in the current subspace."""
        span = current.range(await _pop_tuple(inst))
        inst.push(span.start)
        inst.push(span.stop)

    async def op_contains(self, machine, inst, current) -> None:
        """DIRECTORY_CONTAINS: pop a key, push 1 if the current subspace holds it, else 0."""
        inst.push(1 if current.contains(await inst.pop()) else 0)

    async def op_open_subspace(self, machine, inst, current) -> None:
        """DIRECTORY_OPEN_SUBSPACE: pop a tuple, add the subspace it extends the current one by."""
        self.entries.append(current.subspace(await _pop_tuple(inst)))

    async def op_strip_prefix(self, machine, inst, current) -> None:
        """DIRECTORY_STRIP_PREFIX: pop bytes starting with the current prefix, push the rest."""
        value = await inst.pop()
        prefix = current.key()
        if not value.startswith(prefix):
            raise ValueError("%r does not start with the raw prefix %r" % (value, prefix))
        inst.push(value[len(prefix) :])

    # --- logging

    async def op_log_subspace(self, machine, inst, current) -> None:
        """DIRECTORY_LOG_SUBSPACE: pop a prefix, log the current prefix under it."""
        prefix = await inst.pop()
        await found.set(machine.current(), prefix + found.pack((self.index,)), current.key())

    async def op_log_directory(self, machine, inst, current) -> None:
        """DIRECTORY_LOG_DIRECTORY: pop a prefix, log path, layer, existence and children under it."""
        prefix = await inst.pop()
        tx = machine.current()
        exists = await current.exists(tx)
        children = tuple(await current.list(tx)) if exists else ()
        log = found.Subspace((self.index,), prefix)
        await found.set(tx, log["path"].key(), found.pack(current.get_path()))
        await found.set(tx, log["layer"].key(), found.pack((current.get_layer(),)))
        await found.set(tx, log["exists"].key(), found.pack((int(exists),)))
        await found.set(tx, log["children"].key(), found.pack(children))
