"""found get / set / clear / range / watch: single keys and ranges."""

import asyncio
import sys

import found
from found._cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_db,
    add_key_modes,
    check_key,
    command,
    key_range,
    open_db,
    parse,
    show,
)

_CHUNK = 10_000  # pairs per transaction of `found range`
_TOO_OLD = found.FDB_ERR_TRANSACTION_TOO_OLD


def _system_option(tx, system: bool) -> None:
    if system:
        found.set_option(tx, found.FDB_TR_OPTION_ACCESS_SYSTEM_KEYS)


async def _key_and_db(args, create: bool = False):
    """The command's KEY (checked) and its database."""
    key = parse(args.key, args.tuple)
    check_key(key, args.system)
    return key, await open_db(args.db, create)


async def get(args) -> int:
    """Print the value of one key (exit 1 when it is absent)."""
    key, db = await _key_and_db(args)

    async def read(tx):
        _system_option(tx, args.system)
        return await found.get(tx, key)

    value = await found.transactional(db, read)
    if value is None:
        print("found get: no such key: %s" % show(key, args.tuple), file=sys.stderr)
        return EXIT_FAILED
    print(show(value, args.value_tuple))
    return EXIT_OK


async def set_(args) -> int:
    """Set one key to a value."""
    value = parse(args.value, args.value_tuple)
    key, db = await _key_and_db(args, create=True)

    async def write(tx):
        _system_option(tx, args.system)
        await found.set(tx, key, value)

    await found.transactional(db, write)
    return EXIT_OK


async def clear(args) -> int:
    """Clear one key, or a range with --range/--prefix."""
    if args.prefix is not None or args.range:
        if args.prefix is None and args.end is None:
            raise CommandError("--range needs BEGIN and END")
        begin, end = key_range(args)
    else:
        if args.begin is None or args.end is not None:
            raise CommandError("give one KEY (or --range BEGIN END, or --prefix P)")
        begin = parse(args.begin, args.tuple)
        check_key(begin, args.system)
        end = None
    db = await open_db(args.db, create=True)

    async def write(tx):
        _system_option(tx, args.system)
        await found.clear(tx, begin, end)

    await found.transactional(db, write)
    return EXIT_OK


class _Pinned:
    """Range reads in several transactions at the first one's read version, while the database keeps it."""

    def __init__(self, db, system: bool):
        self.db = db
        self.system = system
        self.versions = []

    async def read(self, first, last, limit: int):
        await asyncio.sleep(0)  # let Ctrl-C in between chunks (engine reads never yield)

        async def attempt(tx):
            _system_option(tx, self.system)
            if self.versions and self.versions[-1] is not None:
                await found.set_read_version(tx, self.versions[-1])
            try:
                rows = await found.all(found.query(tx, first, last, limit=limit))
            except found.FoundException as exc:
                if exc.code == _TOO_OLD and self.versions:
                    self.versions.append(None)  # gone: the retry takes a fresh version
                raise
            if not self.versions or self.versions[-1] is None:
                self.versions.append(await found.read_version(tx))
            return rows

        return await found.transactional(self.db, attempt, snapshot=True)


async def range_(args) -> int:
    """Print the pairs of a range, one ``KEY<TAB>VALUE`` per line, streaming in chunks of transactions."""
    begin, end = key_range(args)
    if args.limit < 0:
        raise CommandError("--limit must be >= 0")
    db = await open_db(args.db)
    reader = _Pinned(db, args.system)
    left = args.limit or -1
    while left:
        chunk = _CHUNK if left < 0 else min(left, _CHUNK)
        # Reversed, query(key > other) would include a bytes `key`; a selector keeps END excluded.
        rows = await reader.read(*((found.gte(end), begin) if args.reverse else (begin, end)), chunk)
        for key, value in rows:
            print("%s\t%s" % (show(key, args.tuple), show(value, args.value_tuple)))
        if len(rows) < chunk:
            break
        left -= len(rows)
        if args.reverse:
            end = rows[-1][0]
        else:
            begin = rows[-1][0] + b"\x00"
    versions = [v for v in reader.versions if v is not None]
    if len(versions) > 1:
        print(
            "found range: not one snapshot: read at versions %d..%d (the database no longer kept the first)"
            % (versions[0], versions[-1]),
            file=sys.stderr,
        )
    return EXIT_OK


async def watch(args) -> int:
    """Print a key's value, then each new value as it changes (--count changes; 0: until interrupted)."""
    key, db = await _key_and_db(args)

    async def arm(tx):
        _system_option(tx, args.system)
        value = await found.get(tx, key)
        return value, found.watch(tx, key)

    value, changed = await found.transactional(db, arm)
    _print_value(value, args.value_tuple)
    seen = 0
    while args.count == 0 or seen < args.count:
        try:
            await asyncio.wait_for(changed, args.timeout)
        except asyncio.TimeoutError:
            print("found watch: no change within %g s" % args.timeout, file=sys.stderr)
            return EXIT_FAILED
        seen += 1
        value, changed = await found.transactional(db, arm)
        _print_value(value, args.value_tuple)
    changed.cancel()
    return EXIT_OK


def _print_value(value, as_tuple: bool) -> None:
    print("(absent)" if value is None else show(value, as_tuple), flush=True)


def _key_command(sub, name, run, summary, description, example_lines, *positionals):
    """A key command's parser: positionals (name, metavar, nargs), then --db and the key modes."""
    parser = command(sub, name, run, summary, description, example_lines)
    for dest, metavar, nargs in positionals:
        parser.add_argument(dest, metavar=metavar, nargs=nargs)
    add_db(parser)
    add_key_modes(parser)
    return parser


def register(sub) -> None:
    """Add get/set/clear/range/watch to the subcommand parsers."""
    key = ("key", "KEY", None)
    _key_command(
        sub,
        "get",
        get,
        "print the value of a key",
        "Print the value of KEY (exit status 1 and a message on stderr when absent).",
        [
            "found get hello",
            "found get 'b\"\\x01\\x02\"' -d ./data",
            "found get --tuple '(\"users\", 42)' --value-tuple",
            "found get --system '\\xff/metadataVersion'",
        ],
        key,
    )
    _key_command(
        sub,
        "set",
        set_,
        "set a key to a value",
        "Set KEY to VALUE in one transaction.",
        [
            "found set hello world",
            "found set 'a\\x00b' '\\xff\\x00' -d ./data",
            "found set --tuple '(\"users\", 42)' --value-tuple '(\"Ada\", 1815)'",
        ],
        key,
        ("value", "VALUE", None),
    )

    p = _key_command(
        sub,
        "clear",
        clear,
        "clear a key, a range or a prefix",
        "Clear KEY; with --range every key in [BEGIN, END); with --prefix every key starting with P.",
        [
            "found clear hello",
            "found clear --range a m",
            "found clear --prefix 'user/'",
            "found clear --tuple --prefix '(\"users\",)'",
        ],
        ("begin", "KEY", "?"),
        ("end", "END", "?"),
    )
    p.add_argument("--range", action="store_true", help="clear [KEY, END) instead of one key")
    p.add_argument("--prefix", "-p", metavar="P", help="clear every key starting with P")

    p = _key_command(
        sub,
        "range",
        range_,
        "print the pairs of a range",
        "Print the pairs in [BEGIN, END) as KEY<TAB>VALUE lines (BEGIN defaults to the first key, END "
        "to \\xff, or \\xff\\xff with --system).",
        [
            "found range",
            "found range a m --limit 10",
            "found range --prefix 'user/' --reverse",
            "found range --tuple --prefix '(\"users\",)' --value-tuple",
            "found range --system '\\xff' '\\xff\\xff' -d ./data",
        ],
        ("begin", "BEGIN", "?"),
        ("end", "END", "?"),
    )
    p.add_argument("--prefix", "-p", metavar="P", help="every key starting with P")
    p.add_argument("--limit", "-n", type=int, default=0, metavar="N", help="at most N pairs (0: all)")
    p.add_argument("--reverse", "-r", action="store_true", help="from the last key down")

    p = _key_command(
        sub,
        "watch",
        watch,
        "print a key's value and wait for it to change",
        "Print KEY's value ((absent) when unset), then its new value after each change.",
        [
            "found watch counter",
            "found watch counter --count 0   # until Ctrl-C",
            'found watch --tuple \'("jobs", "state")\' --timeout 60',
        ],
        key,
    )
    p.add_argument("--count", "-c", type=int, default=1, metavar="N", help="exit after N changes (default 1; 0: never)")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="exit with status 1 when no change comes within SECONDS",
    )
