"""Read the engine's LMDB reader table (lock.mdb) from outside: which slots hold a snapshot.

Layout of LMDB 0.9's lock file on 64-bit Linux: a 128-byte header (two
cache lines), then 64-byte slots, each starting with the snapshot's txnid
(8 bytes, all ones when the slot holds none) and the owner's pid (4 bytes,
0 when the slot is free).
"""

import os
import struct

HEADER = 128
SLOT = 64
_NONE = (1 << 64) - 1


def live_slots(directory, pid=None) -> int:
    """Slots of lock.mdb holding a snapshot now (of process ``pid`` when given)."""
    with open(os.path.join(directory, "lock.mdb"), "rb") as f:
        data = f.read()
    count = 0
    for offset in range(HEADER, len(data) - SLOT + 1, SLOT):
        txnid, owner = struct.unpack_from("<QI", data, offset)
        if owner and txnid != _NONE and (pid is None or owner == pid):
            count += 1
    return count
