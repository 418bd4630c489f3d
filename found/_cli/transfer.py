"""found dump / load / copy: move a key range through found's dump format (found/_dump.py)."""

import os
import subprocess
import sys
from typing import List, Optional, Tuple

import found
from found import _dump
from found._cli.common import EXIT_OK, CommandError, add_db, command, key_range, open_db, parse
from found._cli.progress import Display, human_bytes


def _display(args) -> Optional[Display]:
    return None if args.quiet else Display(sys.stderr)


def _versions_note(first: int, last: int) -> str:
    if first == last:
        return "consistent at read version %d" % first
    return (
        "NOT one snapshot: read versions %d..%d (the source no longer served the first version: it changed "
        "while dumping, or FoundationDB's 5 s limit passed; use --consistent to fail instead)" % (first, last)
    )


async def dump(args) -> int:
    """Write a range to a dump file (or stdout with -o -)."""
    begin, end = key_range(args)
    if args.output == "-" and sys.stdout.isatty():
        raise CommandError("refusing to write a binary dump to a terminal; use -o FILE or a pipe")
    db = await open_db(args.db)
    display = _display(args)
    meta = {"source": args.db or "(default)", "library": found.library()[0]}
    if args.output == "-":
        summary = await _dump.dump(
            db,
            sys.stdout.buffer,
            begin=begin,
            end=end,
            system=args.system,
            consistent=args.consistent,
            codec=args.codec,
            progress=display,
            meta=meta,
        )
    else:
        partial = args.output + ".partial"
        try:
            with open(partial, "wb") as out:
                summary = await _dump.dump(
                    db,
                    out,
                    begin=begin,
                    end=end,
                    system=args.system,
                    consistent=args.consistent,
                    codec=args.codec,
                    progress=display,
                    meta=meta,
                )
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
        os.replace(partial, args.output)
    if display:
        display.finish()
    if not args.quiet:
        print(
            "dumped %d pairs (%s) in %d block(s) to %s, %s"
            % (
                summary.pairs,
                human_bytes(summary.bytes),
                summary.blocks,
                args.output,
                _versions_note(summary.first_version, summary.last_version) if summary.blocks else "empty range",
            ),
            file=sys.stderr,
        )
    return EXIT_OK


def _swap(args) -> Optional[Tuple[bytes, bytes]]:
    if not args.prefix_swap:
        return None
    old, new = args.prefix_swap
    return parse(old, args.tuple), parse(new, args.tuple)


def _resume_path(args) -> Optional[str]:
    if args.no_resume:
        return None
    if args.resume_file:
        return args.resume_file
    if args.file != "-":
        return args.file + ".resume"
    return None


async def _load_stream(args, stream, resume: Optional[str]) -> _dump.LoadSummary:
    db = await open_db(args.db, create=True)
    display = _display(args)
    if resume and os.path.exists(resume) and not args.quiet:
        print("found load: resuming from the record in %s" % resume, file=sys.stderr)
    summary = await _dump.load(db, stream, prefix_swap=_swap(args), system=args.system, resume=resume, progress=display)
    if display:
        display.finish()
    return summary


def _report_load(args, summary: _dump.LoadSummary, source: str) -> None:
    if args.quiet:
        return
    resumed = " (resumed at block %d)" % summary.resumed_at_block if summary.resumed_at_block else ""
    print(
        "loaded %d pairs (%s) from %d block(s) of %s%s; the dump was %s"
        % (
            summary.pairs,
            human_bytes(summary.bytes),
            summary.blocks,
            source,
            resumed,
            _versions_note(summary.first_version, summary.last_version) if summary.blocks else "an empty range",
        ),
        file=sys.stderr,
    )


async def load(args) -> int:
    """Commit a dump file (or stdin with -) into a database."""
    resume = _resume_path(args)
    if args.file == "-":
        summary = await _load_stream(args, sys.stdin.buffer, resume)
    else:
        try:
            stream = open(args.file, "rb")
        except OSError as exc:
            raise CommandError("cannot read %s: %s" % (args.file, exc.strerror)) from None
        with stream:
            summary = await _load_stream(args, stream, resume)
    _report_load(args, summary, args.file)
    return EXIT_OK


def _dump_command(args) -> List[str]:
    command = [sys.executable, "-m", "found", "dump", args.src, "-o", "-", "--quiet", "--codec", args.codec]
    for flag, value in (("--prefix", args.prefix), ("--begin", args.begin), ("--end", args.end)):
        if value is not None:
            command += [flag, value]
    command += [
        flag
        for flag, on in (("--system", args.system), ("--consistent", args.consistent), ("--tuple", args.tuple))
        if on
    ]
    return command


async def copy(args) -> int:
    """Dump SRC in a child process and load the stream into DST (each side may use its own library)."""
    key_range(args)  # check the range here, before starting anything
    child = subprocess.Popen(_dump_command(args), stdout=subprocess.PIPE)
    args.db = args.dst
    try:
        summary = await _load_stream(args, child.stdout, args.resume_file)
    except _dump.DumpError:
        if child.wait() != 0:
            raise CommandError(
                "the dump of %s failed (exit status %d); nothing after its last complete block "
                "was loaded" % (args.src, child.returncode)
            ) from None
        raise
    finally:
        child.stdout.close()
        if child.poll() is None:
            child.kill()
        child.wait()
    if child.returncode != 0:
        raise CommandError("the dump of %s ended with exit status %d" % (args.src, child.returncode))
    _report_load(args, summary, args.src)
    return EXIT_OK


def _add_range_options(p) -> None:
    p.add_argument("--prefix", "-p", metavar="P", help="only keys starting with P")
    p.add_argument("--begin", metavar="B", help="first key (default: the first key)")
    p.add_argument("--end", metavar="E", help="end key, excluded (default \\xff; \\xff\\xff with --system)")
    p.add_argument("--tuple", "-t", action="store_true", help="P/B/E (and --prefix-swap) are tuple literals")
    p.add_argument("--system", action="store_true", help="allow the range to reach system keys (\\xff...)")
    p.add_argument(
        "--consistent",
        action="store_true",
        help="fail rather than continue at a newer read version when the first one is gone",
    )
    p.add_argument(
        "--codec",
        choices=sorted(_dump.CODECS),
        default=_dump.default_codec(),
        help="block compression (default: zstd when the zstandard package is installed, else zlib "
        "from the standard library; loading a zstd dump needs zstandard)",
    )


def _add_load_options(p) -> None:
    p.add_argument(
        "--prefix-swap",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="replace the leading OLD of every key by NEW (keys without OLD are an error)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary on stderr")


def register(sub) -> None:
    """Add dump, load and copy to the subcommand parsers."""
    p = command(
        sub,
        "dump",
        dump,
        "write a key range to a dump file",
        "Write the pairs of a range to FILE in found's dump format (docs/cli.md): "
        "compressed blocks with checksums, read in many short transactions at one "
        "read version while the source keeps it. Progress on stderr.",
        [
            "found dump -o all.fdump",
            "found dump ./data --prefix 'user/' -o users.fdump",
            "found dump /etc/foundationdb/fdb.cluster --begin a --end m -o am.fdump",
            "found dump --tuple --prefix '(\"app\",)' -o - | gzip -0 > app.fdump",
        ],
    )
    add_db(p, positional=True)
    p.add_argument("--output", "-o", required=True, metavar="FILE", help="dump file to write ('-': stdout)")
    _add_range_options(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary on stderr")

    p = command(
        sub,
        "load",
        load,
        "commit a dump file into a database",
        "Commit the pairs of a dump FILE into DB, one transaction per block. Every "
        "block is checked before it is written. An interrupted load continues where it "
        "stopped when run again (resume record FILE.resume). Keys in DB that are not in "
        "the dump are left alone.",
        [
            "found load all.fdump ./data",
            "found load users.fdump /etc/foundationdb/fdb.cluster",
            "found load app.fdump --prefix-swap 'app/' 'app2/'",
            "found dump ./a -o - | found load - ./b",
        ],
    )
    p.add_argument("file", metavar="FILE", help="dump file ('-': stdin, not resumable)")
    add_db(p, positional=True)
    _add_load_options(p)
    p.add_argument("--tuple", "-t", action="store_true", help="--prefix-swap OLD/NEW are tuple literals")
    p.add_argument(
        "--system", action="store_true", help="allow writing system keys (\\xff...; a dump made with --system needs it)"
    )
    p.add_argument("--resume-file", metavar="PATH", help="resume record (default FILE.resume)")
    p.add_argument("--no-resume", action="store_true", help="neither read nor write a resume record")

    p = command(
        sub,
        "copy",
        copy,
        "copy a key range from one database to another",
        "Dump SRC (in a child process) piped into a load into DST; SRC and DST may use "
        "different libraries (an engine directory and a cluster file).",
        [
            "found copy ./data /etc/foundationdb/fdb.cluster",
            "found copy ./data ./backup --prefix 'user/'",
            "found copy ./a ./b --prefix app/ --prefix-swap app/ app2/",
        ],
    )
    p.add_argument("src", metavar="SRC", help="source: cluster file or engine data directory")
    p.add_argument("dst", metavar="DST", help="destination: cluster file or engine data directory")
    _add_range_options(p)
    _add_load_options(p)
    p.set_defaults(resume_file=None)
