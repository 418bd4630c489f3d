"""What every subcommand shares: the database argument, key syntax, errors and exit codes."""

import argparse
import ast
import codecs
import os
import sys
from typing import Optional, Tuple

import found

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SYSTEM = b"\xff"
SPECIAL = b"\xff\xff"


class Interrupted(Exception):
    """The command was cancelled by Ctrl-C (exit status 130)."""


class CommandError(Exception):
    """A failure to report on stderr as ``found <command>: <message>`` (exit 1)."""


def add_db(parser: argparse.ArgumentParser, positional: bool = False) -> None:
    """The database to use: a cluster file, an engine data directory, or none for the default."""
    help_text = (
        "cluster file of a FoundationDB cluster, or an embedded engine data directory "
        "(default: $FDB_CLUSTER_FILE, /etc/foundationdb/fdb.cluster, else the engine's default directory)"
    )
    if positional:
        parser.add_argument("db", nargs="?", metavar="DB", help=help_text)
    else:
        parser.add_argument("--db", "-d", metavar="DB", help=help_text)


def add_key_modes(parser: argparse.ArgumentParser) -> None:
    """--tuple/--value-tuple/--system, shared by the key commands."""
    parser.add_argument(
        "--tuple", "-t", action="store_true", help="keys are tuples: given as a Python tuple literal, shown unpacked"
    )
    parser.add_argument(
        "--value-tuple", action="store_true", help="values are tuples too (given and shown like --tuple keys)"
    )
    parser.add_argument(
        "--system",
        action="store_true",
        help="allow system keys (\\xff...); without it they are refused and ranges stop at \\xff",
    )


async def open_db(path: Optional[str], create: bool = False):
    """found.open() of the command's DB argument.

    The engine creates a missing directory on open; only commands that write
    may do that, so a mistyped path given to a reading command is an error
    instead of a new empty database.
    """
    if path and not create and not os.path.exists(path):
        raise CommandError("no database at %s (only set, clear, load and copy create an engine directory)" % path)
    return await found.open(path)


def parse_bytes(text: str) -> bytes:
    """A key or value from the command line: ``b'..'`` literal, or text with backslash escapes (``a\\x00b``)."""
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise CommandError("not a bytes literal: %s (%s)" % (text, exc)) from None
        if type(value) is bytes:
            return value
    try:
        return codecs.escape_decode(text.encode("utf-8"))[0]
    except ValueError as exc:
        raise CommandError("bad escape in %r: %s" % (text, exc)) from None


def parse_tuple(text: str) -> bytes:
    """A tuple-layer key from a Python literal: ``'("users", 42)'``; a lone element is a 1-tuple."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise CommandError("not a tuple literal: %s (%s)" % (text, exc)) from None
    if not isinstance(value, tuple):
        value = (value,)
    try:
        return found.pack(value)
    except (TypeError, ValueError) as exc:
        raise CommandError("cannot pack %r as a tuple: %s" % (value, exc)) from None


def parse(text: str, as_tuple: bool) -> bytes:
    """A key or value in the chosen syntax."""
    return parse_tuple(text) if as_tuple else parse_bytes(text)


def show(data: bytes, as_tuple: bool) -> str:
    """How a key or value is printed: repr of the bytes, or of the unpacked tuple when asked (and it is one)."""
    if as_tuple:
        try:
            return repr(found.unpack(data))
        except Exception:  # not tuple-encoded: fall back to the bytes
            pass
    return repr(data)


def key_range(args) -> Tuple[bytes, bytes]:
    """[begin, end) from --prefix P or BEGIN/END (defaults: the first key, \\xff — \\xff\\xff with --system)."""
    top = SPECIAL if args.system else SYSTEM
    if args.prefix is not None:
        if args.begin is not None or args.end is not None:
            raise CommandError("give a prefix or a begin/end, not both")
        begin = parse(args.prefix, args.tuple)
        end = found.next_prefix(begin) if begin else top
    else:
        begin = parse(args.begin, args.tuple) if args.begin is not None else b""
        end = parse(args.end, args.tuple) if args.end is not None else top
    if end > SYSTEM and not args.system:
        raise CommandError("the range [%r, %r) reaches system keys (\\xff...); pass --system" % (begin, end))
    if begin >= end:
        raise CommandError("empty range: begin %r is not before end %r" % (begin, end))
    return begin, end


def check_key(key: bytes, system: bool, what: str = "key") -> None:
    """Refuse system keys unless --system was given."""
    if key.startswith(SYSTEM) and not system:
        raise CommandError("%s %r is a system key (\\xff...); pass --system to use it" % (what, key))


def fail(command: str, message: str) -> int:
    """Report a failure on stderr; the exit code of a failed command."""
    print("found %s: %s" % (command, message), file=sys.stderr)
    return EXIT_FAILED


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that the examples epilog keeps its lines as written."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def command(sub, name: str, run, summary: str, description: str, example_lines) -> argparse.ArgumentParser:
    """A subcommand's parser: its one-line summary, description, examples epilog, and ``run`` coroutine."""
    parser = sub.add_parser(
        name, help=summary, description=description, epilog=examples(*example_lines), formatter_class=HelpFormatter
    )
    parser.set_defaults(run=run)
    return parser


def examples(*lines: str) -> str:
    """An --help epilog listing example invocations."""
    return "examples:\n" + "\n".join("  " + line for line in lines)
