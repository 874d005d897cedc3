"""Command line: `briefbot brief SOURCE` and `briefbot batch`; every command takes `--config FILE`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.engines import StoreError
from bot.errors import BadInputError, BriefError, InternalError
from bot.logs import setup_logging
from bot.models import Briefing

log = logging.getLogger("briefbot")

EXIT_OK, EXIT_BRIEF_ERROR, EXIT_USAGE = 0, 1, 2


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2021-09-01") from None


def _add_global_options(parser: argparse.ArgumentParser, *, suppress_defaults: bool) -> None:
    # Accepted before the command (`briefbot -v run`, as git and docker taught) and after it; on the
    # subcommand their defaults are suppressed so they don't overwrite what was given before it.
    default = argparse.SUPPRESS if suppress_defaults else None
    parser.add_argument(
        "--config", metavar="FILE", help="settings file (see config.example.toml)", default=default
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress to stderr", default=default or False
    )


WITH_TEXT_HELP = "add the article text (what summary_spans and date offsets index) to the JSON"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, suppress_defaults=True)
    parser = argparse.ArgumentParser(prog="briefbot", description="Turn news articles into short briefings.")
    _add_global_options(parser, suppress_defaults=False)
    commands = parser.add_subparsers(dest="command", required=True)

    brief = commands.add_parser("brief", parents=[common], help="brief one article")
    brief.add_argument(
        "source", nargs="?", default="-", help="http(s) URL, HTML or text file, or - for stdin"
    )
    brief.add_argument("--json", action="store_true", help="print the briefing as JSON")
    brief.add_argument("--published", type=_iso_date, metavar="YYYY-MM-DD", help="publication date")
    brief.add_argument("--with-text", action="store_true", help=WITH_TEXT_HELP)
    brief.set_defaults(handler=_brief_command)

    run = commands.add_parser("run", parents=[common], help="run the chat bot (the console without tokens)")
    run.add_argument("--check", action="store_true", help="validate config and connectivity, then exit")
    run.set_defaults(handler=_run_command)

    migrate = commands.add_parser(
        "migrate", parents=[common], help="bring the store ([store] url) to this release's schema"
    )
    migrate.set_defaults(handler=_migrate_command)

    batch = commands.add_parser("batch", parents=[common], help="brief JSON Lines from stdin")
    batch.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    batch.add_argument("--with-text", action="store_true", help=WITH_TEXT_HELP)
    batch.set_defaults(handler=_batch_command)
    return parser


def _read_local(source: str) -> tuple[str, bool]:
    """Text of a file or stdin, and whether it is HTML."""
    from bot.charsets import decode_body  # noqa: PLC0415 - keeps `--help` fast

    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    head = data[:2048].lstrip().lower()
    is_html = source.lower().endswith((".html", ".htm", ".xhtml")) or head.startswith(
        (b"<!doctype html", b"<html")
    )
    text, _charset = decode_body(data, None, "text/html" if is_html else "text/plain")
    return text, is_html


async def _brief_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.workers import BriefingWorkers  # noqa: PLC0415

    async with AsyncExitStack() as stack:
        workers = await stack.enter_async_context(BriefingWorkers.in_thread(settings))
        # The models load in the briefing thread while this one reads the file or fetches the page; the
        # sleep(0) lets the loading start before this thread's own imports.
        warming = asyncio.create_task(workers.warm_up())
        stack.callback(warming.cancel)
        await asyncio.sleep(0)
        from bot.briefer import Briefer  # noqa: PLC0415

        source: str = args.source
        briefing: Briefing
        if source.startswith(("http://", "https://")) or "://" in source:
            from bot.fetch import Fetcher  # noqa: PLC0415 - only for a URL: aiohttp and TLS cost ~0.3 s

            fetcher = await stack.enter_async_context(Fetcher(settings.fetch))
            briefing = await Briefer(fetcher, workers).brief_url(source, published=args.published)
        else:
            try:
                text, is_html = _read_local(source)
            except OSError as exc:
                raise BadInputError(f"Can't read {source}: {exc.strerror}.") from None
            if is_html:
                briefing = await Briefer(None, workers).brief_html(text, published=args.published)
            else:
                briefing = await Briefer(None, workers).brief_text(text, published=args.published)
    if args.json:
        data = briefing.to_dict(with_text=args.with_text)
        write_utf8(json.dumps(data, ensure_ascii=False, allow_nan=False, indent=2))
    else:
        from bot.render import format_text  # noqa: PLC0415

        shown = settings.briefing
        write_utf8(format_text(briefing, max_actors=shown.max_actors_shown, max_dates=shown.max_dates_shown))
    return EXIT_OK


def write_utf8(text: str) -> None:
    """One line (or block) on stdout as UTF-8 whatever the locale says: `PYTHONIOENCODING=utf-8:strict`
    must not end a batch, nor C.UTF-8's surrogateescape write bytes that are not UTF-8."""
    from bot.sanitize import scrub  # noqa: PLC0415

    sys.stdout.buffer.write(scrub(text).encode("utf-8") + b"\n")
    sys.stdout.flush()


async def _stdin_lines(on_read: Callable[[int], None] | None = None) -> AsyncIterator[str]:
    """Lines of stdin decoded as UTF-8 whatever the locale; bytes that aren't UTF-8 read as U+FFFD (a
    strict locale would raise on them and end the batch), a byte order mark at the start is dropped.
    `on_read` hears the size in bytes of each line read."""
    codec = "utf-8-sig"
    while data := await asyncio.to_thread(sys.stdin.buffer.readline):
        if on_read:
            on_read(len(data))
        yield data.decode(codec, errors="replace")
        codec = "utf-8"


async def _batch_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.batch import run_batch  # noqa: PLC0415
    from bot.briefer import Briefer  # noqa: PLC0415
    from bot.fetch import Fetcher  # noqa: PLC0415
    from bot.progress import BatchProgress  # noqa: PLC0415
    from bot.workers import BriefingWorkers  # noqa: PLC0415

    progress = BatchProgress.on(sys.stderr, sys.stdin)  # None unless stderr is a terminal

    async def write(line: str) -> None:
        write_utf8(line)
        if progress:
            progress.done()

    async with (
        Fetcher(settings.fetch) as fetcher,
        BriefingWorkers.in_processes(settings, args.workers) as workers,
    ):
        await workers.warm_up()
        lines = _stdin_lines(progress.read if progress else None)
        await run_batch(lines, Briefer(fetcher, workers), write, with_text=args.with_text)
    if progress:
        progress.finish()
    return EXIT_OK


async def _migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import Store  # noqa: PLC0415

    async with await Store.open(settings.store.url, migrate=True) as store:
        print(f"store: {store.where} at schema version {store.schema_version} (was {store.found_version})")
    return EXIT_OK


async def _run_command(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.launcher import check_bot, run_bot  # noqa: PLC0415 - the composition root

    if args.check:
        return await check_bot(settings, os.environ)
    return await run_bot(settings, os.environ)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The bot logs structured JSON lines; the one-shot commands log plain text for people.
    setup_logging(logging.INFO if args.verbose else logging.WARNING, structured=args.command == "run")
    try:
        settings = load_settings(args.config, os.environ)
    except ConfigError as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        code: int = asyncio.run(args.handler(args, settings))
        return code
    except (ConfigError, StoreError) as error:  # e.g. a token variable missing; a store it can't run on
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BriefError as error:
        log.info("brief failed: %s", error.code)
        print(f"briefbot: {error.message} [{error.code}]", file=sys.stderr)
        return EXIT_BRIEF_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.error("unexpected failure", exc_info=args.verbose)
        print(f"briefbot: {InternalError().message} [{InternalError.code}]", file=sys.stderr)
        return EXIT_BRIEF_ERROR


if __name__ == "__main__":
    sys.exit(main())
