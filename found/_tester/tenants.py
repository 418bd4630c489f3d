"""The TENANT_* instructions, through the tenant map of the special key space.

found has no tenant API (the embedded engine has no tenants: it answers
2136 tenants_disabled, docs/engine.md), so creating, deleting and listing
go through ``\\xff\\xff/management/tenant/map/`` as FoundationDB's own
tenant management does, and the database answers; opening a tenant is
answered with tenants_disabled.  The bindingtester only sends these
instructions to testers registered with tenants enabled.
"""

from typing import List

import found

_MAP = b"\xff\xff/management/tenant/map/"
_TENANTS_DISABLED = found.FDB_ERR_TENANTS_DISABLED
_TENANT_NOT_FOUND = found.FDB_ERR_TENANT_NOT_FOUND
_TENANT_ALREADY_EXISTS = found.FDB_ERR_TENANT_ALREADY_EXISTS


async def _change(tx: found.Transaction, name: bytes, create: bool) -> None:
    found.set_option(tx, found.FDB_TR_OPTION_SPECIAL_KEY_SPACE_ENABLE_WRITES)
    key = _MAP + name
    exists = await found.get(tx, key) is not None
    if create and exists:
        raise found.FoundException(_TENANT_ALREADY_EXISTS)
    if not create and not exists:
        raise found.FoundException(_TENANT_NOT_FOUND)
    if create:
        await found.set(tx, key, b"")
    else:
        await found.clear(tx, key)


async def create(db: found.Database, name: bytes) -> None:
    """Create tenant ``name``."""
    await found.transactional(db, _change, name, True)


async def delete(db: found.Database, name: bytes) -> None:
    """Delete tenant ``name``."""
    await found.transactional(db, _change, name, False)


async def open_tenant(db: found.Database, name: bytes) -> None:
    """Open tenant ``name``: found has no tenant handles, so tenants are disabled."""
    raise found.FoundException(_TENANTS_DISABLED)


async def _names(tx: found.Transaction, begin: bytes, end: bytes, limit: int) -> List[bytes]:
    pairs = await found.all(found.query(tx, _MAP + begin, _MAP + end, limit=limit))
    return [key[len(_MAP) :] for key, _ in pairs]


async def list_names(db: found.Database, begin: bytes, end: bytes, limit: int) -> List[bytes]:
    """The names of the tenants in [begin, end), at most ``limit``."""
    return await found.transactional(db, _names, begin, end, limit)
