"""The `undersigned` command line: run the bot, the console, migrations and organizer tasks.

Errors end as one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from adapters import log_check, pg_backup
from adapters.console import render, run_console
from adapters.console.repl import default_user, terminal_language
from adapters.console.sender import ConsoleSender
from adapters.http_server import PortUnavailable
from adapters.runner import NothingToRun, listens, run_adapters
from adapters.webhooks import WebhookSender
from bot import __version__, jobs, views
from bot import commands as cmd
from bot.domain.campaigns import Kind, Names
from bot.domain.errors import UserError
from bot.domain.identity import Actor
from bot.domain.messages import LANGUAGES, _, language_of, speak_in_this_context, speaking
from bot.domain.public_log import LogKey
from bot.domain.replies import Reply
from bot.domain.text import TEXT_MAX
from bot.service import Service
from runtime import logs
from runtime.bootstrap import heads_file, open_service
from runtime.config import OURS, Settings, misspelt_settings
from runtime.heartbeat import STALE_SECONDS, default_heartbeat_file
from runtime.heartbeat import age as heartbeat_age
from runtime.key_changes import adopt_signer_key, change_log_key
from runtime.keys import (
    LogKeyInvalid,
    default_key_file,
    default_log_key_file,
    load_log_key,
    load_signer_key,
    write_key_file,
)
from runtime.running import stopped
from runtime.scheduler import lead_when_possible
from runtime.startup import bring_schema_up, open_log_key
from storage.database import (
    Database,
    DatabaseUrlError,
    SchemaState,
    backup_sqlite,
    backup_summary,
    normalize_database_url,
    restore_sqlite,
)
from storage.installations import reseal_all
from storage.token_cipher import TokenCipher, TokenKeyError, new_key

T = TypeVar("T")
app = typer.Typer(no_args_is_help=True, add_completion=False)
petition_app = typer.Typer(no_args_is_help=True, help="Create and manage campaigns.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
token_key_app = typer.Typer(
    no_args_is_help=True, help="The key that encrypts Slack workspaces' tokens at rest."
)
app.add_typer(petition_app, name="petition")
app.add_typer(db_app, name="db")
app.add_typer(token_key_app, name="token-key")
log_app = typer.Typer(
    no_args_is_help=True, help="Check a campaign's public log, as anyone can (no settings needed)."
)
receipt_app = typer.Typer(
    no_args_is_help=True, help="Check that your signature is counted, with your receipt."
)
app.add_typer(log_app, name="log")
key_app = typer.Typer(
    no_args_is_help=True, help="The signer-hash key (UNDERSIGNED_SECRET_KEY) this database uses."
)
app.add_typer(key_app, name="key")
app.add_typer(receipt_app, name="receipt")


class CliError(Exception):
    pass


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    # Empty means unset, for libraries too: slack_bolt reads SLACK_CLIENT_ID itself and an
    # empty one (a copied .env passed by Docker's env_file) would turn on its OAuth flow.
    for name in [n for n, v in os.environ.items() if n.startswith(OURS) and not v.strip()]:
        del os.environ[name]
    for name, meant in misspelt_settings(dict(os.environ)):
        raise CliError(f"unknown setting {name}: did you mean {meant}?")
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        if not where:  # a rule across several settings: the message names them
            raise CliError(f"invalid settings: {message}") from None
        raise CliError(f"invalid setting {where}: {message}") from None


def _settings_or_fail() -> Settings:
    try:
        return _settings()
    except CliError as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


TEXT_FILE_MAX = 4 * TEXT_MAX  # bytes: the longest letter in any script, UTF-8 encoded


def _setup_logging(settings: Settings) -> None:
    """runtime/logs: ours at UNDERSIGNED_LOG_LEVEL, every library's at WARNING whatever it is."""
    logs.configure(settings.log_level, settings.log_format)


def _operator() -> Actor:
    name = default_user()
    return Actor("cli", "local", name, name, operator=True, locale=terminal_language(os.environ))


def _with_service(work: Callable[[Service], Awaitable[T]], *, serving: bool = False) -> T:
    """Open the service, run `work`, and turn every failure into one line on stderr.
    `serving`: run, serve and console, which may settle what start-up settles and upgrade."""

    def go() -> T:
        settings = _settings()
        _setup_logging(settings)

        async def main() -> T:
            async with open_service(settings, serving=serving) as service:
                speak_in_this_context(service.ctx.language)
                return await work(service)

        return asyncio.run(main())

    return _guarded(go)


def _guarded(go: Callable[[], T]) -> T:
    """`go()`, every failure turned into one line on stderr and a non-zero exit."""
    try:
        return go()
    except (
        CliError,
        UserError,
        DatabaseUrlError,
        NothingToRun,
        pg_backup.PgToolFailed,
        PortUnavailable,
        TokenKeyError,
    ) as exc:
        _fail(getattr(exc, "message", None) or str(exc))
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _fail(f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as exc:
        _fail(f"{type(exc).__name__}: {(str(exc) or 'unexpected failure').splitlines()[0]}")
    raise AssertionError("unreachable")


def _print_reply(reply: Reply) -> None:
    if reply.error:
        message = reply.text.replace("**", "")
        _fail(message.replace("\n", " "))
    typer.echo(render(reply).replace("\n(only you can see this)", ""))


async def _console_with_schedule(
    service: Service, settings: Settings, *, language: str | None = None
) -> None:
    """The console; when a person is typing (not a pipe), reminders and events print too."""
    stop = asyncio.Event()
    background = None
    service.ctx.schedule_runs = sys.stdin.isatty()  # a pipe reads to the end and stops
    if service.schedule_runs:
        webhooks = WebhookSender(allow_private=settings.webhook_allow_private)
        senders = {"console": ConsoleSender(), "webhook": webhooks}
        background = asyncio.get_running_loop().create_task(
            lead_when_possible(  # type: ignore[arg-type]
                service, senders, stop, grace=settings.reminder_grace, quiet=True
            )
        )
    try:
        await run_console(service, language=language or terminal_language(os.environ))
    finally:
        stop.set()
        if background is not None:
            await background


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"undersigned {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Undersigned: open letters and pledges, signed safely from chat."""


@app.command()
def run() -> None:
    """Serve until a signal: every adapter whose credentials are configured, the public pages,
    reminders and deliveries. With no chat platform, the pages alone (`console` chats here)."""
    settings = _settings_or_fail()
    _with_service(lambda service: run_adapters(service, settings), serving=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve Slack over HTTP, the public pages, /healthz and /readyz (Discord and Matrix run
    with `run`, which then also runs the schedule and the outbox)."""
    settings = _settings_or_fail()
    _with_service(
        lambda service: run_adapters(
            service, settings, force_http=True, host=host, port=port, http_only=True
        ),
        serving=True,
    )


@app.command()
def health(
    port: Annotated[
        int | None, typer.Option(help="The port `serve --port` was given, if any.")
    ] = None,
) -> None:
    """Exit 0 when the bot running here is alive (the image's HEALTHCHECK): its /healthz
    answers where it listens, else its heartbeat file is fresh. Touches no database."""
    settings = _settings_or_fail()
    if port is not None or listens(settings):
        host = settings.http_host if settings.http_host not in ("0.0.0.0", "::") else "127.0.0.1"
        address = f"http://{host}:{port or settings.http_port}/healthz"
        try:
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with direct.open(address, timeout=5) as answer:  # never through HTTP(S)_PROXY
                if answer.status == 200:
                    typer.echo("ok")
                    return
        except OSError as exc:
            _fail(f"{address} does not answer: {getattr(exc, 'reason', exc)}")
        _fail(f"{address} says the bot is not serving yet")
    beat = settings.heartbeat_file or default_heartbeat_file()
    seconds = heartbeat_age(beat)
    if seconds is None:
        _fail(f"no heartbeat in {beat}: the bot is not running here")
    elif seconds > STALE_SECONDS:
        _fail(f"the heartbeat in {beat} is {seconds:.0f} s old: the bot is stuck")
    typer.echo("ok")


@app.command()
def console(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Your language: en, de, fr, es or pt_BR (default: from LANG)."),
    ] = None,
) -> None:
    """Chat with the bot in this terminal; each line as typed in chat (`@NAME ` acts as NAME).
    Typed at a terminal, reminders, milestones and results print here as they happen."""
    settings = _settings_or_fail()
    language = None
    if lang is not None:
        language = language_of(lang)
        if language is None:
            _fail(f"--lang {lang!r} is not a language Undersigned speaks: {', '.join(LANGUAGES)}")
    _with_service(
        lambda service: _console_with_schedule(service, settings, language=language), serving=True
    )


def _with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the database alone (no keys, no migration), run `work`, one line on failure."""

    async def main() -> T:
        settings = _settings()
        _setup_logging(settings)
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        try:
            return await work(db)
        finally:
            await db.close()

    return _guarded(lambda: asyncio.run(main()))


@db_app.command("status")
def db_status() -> None:
    """Where the database stands: its revision, and each migration this release would apply."""

    async def work(db: Database) -> tuple[SchemaState, str]:
        return await db.schema(), db.display_url

    state, where = _with_database(work)
    typer.echo(f"undersigned {__version__}, schema {state.head}")
    typer.echo(f"database: {where}")
    if state.empty:
        typer.echo("revision: none (a new database: any command sets it up)")
    elif state.unknown:
        typer.echo(f"revision: {state.current} (newer than this release: run the newer release)")
    else:
        typer.echo(f"revision: {state.current}")
    if not state.empty:
        for revision, summary in state.pending:
            typer.echo(f"pending: {revision} {summary}")
        if not state.pending and not state.unknown:
            typer.echo("pending: none")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (`run`, `serve` and `console` also do at start; back up first:
    `undersigned db backup PATH`)."""

    async def work(db: Database) -> tuple[str | None, str] | None:
        return await bring_schema_up(db, upgrade=True, quiet=True)  # said here, once

    done = _with_database(work)
    if done is None:
        typer.echo("the database is up to date")
    elif done[0] is None:
        typer.echo(f"set up a new database at revision {done[1]}")
    else:
        typer.echo(f"database upgraded from {done[0]} to {done[1]}")


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="A new file for the copy.")],
) -> None:
    """A consistent copy of the database, safe while the bot runs and people sign (SQLite);
    on PostgreSQL, pg_dump's. The keys are never in it: keep them apart."""
    settings = _settings_or_fail()
    existed = _sqlite_exists(settings)

    async def work(db: Database) -> str:
        if db.sqlite_path is None:
            return pg_backup.dump(db.url, path)
        if not existed:
            raise CliError(f"there is no database at {db.sqlite_path}: check DATABASE_URL")
        await backup_sqlite(db.sqlite_path, path)
        revision, campaigns, signatures = backup_summary(path)
        return (
            f"backed up {_count(campaigns, 'campaign')} and {_count(signatures, 'signature')} "
            f"(revision {revision}) to {path} (mode 0600)"
        )

    typer.echo(_with_database(work))
    for line in _keys_apart(settings):
        typer.echo(line, err=True)


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file made by `undersigned db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database without asking.")
    ] = False,
) -> None:
    """Replace the database with a backup (stop the bot first). The current database is kept
    beside it first; what changed since the backup is lost, and said."""
    settings = _settings_or_fail()

    if not path.is_file():
        _fail(f"{path} is not a file: give a backup made by `undersigned db backup`")

    async def work(db: Database) -> list[str]:
        if db.sqlite_path is None:
            return [pg_backup.restore(db.url, path)]
        try:
            revision, campaigns, signatures = backup_summary(path)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        current = Path(db.sqlite_path)
        with stopped(str(current)):
            kept = None
            if current.exists() and current.stat().st_size:
                kept = current.with_name(f"{current.name}.before-restore-{_stamp()}")
                await backup_sqlite(str(current), kept)
            await db.close()
            restore_sqlite(path, str(current))
        return [
            f"restored {_count(campaigns, 'campaign')} and {_count(signatures, 'signature')} "
            f"(revision {revision}) from {path}"
            + (f"; the database it replaced is kept in {kept}" if kept else "")
        ]

    if not yes and sys.stdin.isatty():
        typer.confirm(f"Replace the database with {path}?", abort=True)
    for line in _with_database(work):
        typer.echo(line)
    for line in RESTORED_NOTES:
        typer.echo(line, err=True)
    for line in _keys_apart(settings):
        typer.echo(line, err=True)


RESTORED_NOTES = (
    "Everything since the backup is gone: signatures and withdrawals made since, and every "
    "/forget-me or purge done since. Those people are back in the campaigns they left: tell "
    "them to do it again (nothing records who they were, by design).",
    "Public logs that moved past the backup now stand behind heads this server signed: at "
    "start the bot names each such campaign, and checkers who kept a later head will be told "
    "the log shrank, was rewritten or went back in time (even once it grows past that size "
    "again). Say so where the campaigns are followed.",
    "A backup from before a `log change-key` expects the key it replaced: put that key file "
    "(kept beside it as .retired-…) back in place, start, and run `log change-key` again.",
)


def _sqlite_exists(settings: Settings) -> bool:
    """Does the SQLite file of DATABASE_URL exist yet (True for PostgreSQL)? Checked before
    opening it, which would create it."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(normalize_database_url(settings.database_url))
    except DatabaseUrlError as exc:
        _fail(str(exc))
        raise
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database).expanduser().exists()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _keys_apart(settings: Settings) -> list[str]:
    """Where the keys are: never in a backup, needed with it."""
    signer = "UNDERSIGNED_SECRET_KEY (in your environment)"
    if not settings.secret_key:
        signer = str(settings.key_file or default_key_file(settings.database_url))
    log_file = settings.log_key_file or default_log_key_file(settings.database_url)
    log_key = "UNDERSIGNED_LOG_KEY (in your environment)" if settings.log_key else str(log_file)
    heads = heads_file(settings)
    return [
        f"The keys are not in the backup: keep {signer} and {log_key}, with {heads} (the "
        "last log heads this server signed), apart from it, somewhere safe. The backup holds "
        "names and comments: keep it as private as the database; without the keys it can't "
        "count anyone again, and whoever holds both can test who signed what."
    ]


@key_app.command("adopt-new")
def key_adopt_new(
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask.")] = False,
) -> None:
    """Count under a new UNDERSIGNED_SECRET_KEY on purpose (the old one is lost or exposed):
    campaigns signed under the old key keep their count but take no signature or withdrawal
    (nobody in them can be recognised again); the others, and new ones, use the new key."""
    settings = _settings_or_fail()
    if not yes and sys.stdin.isatty():
        typer.confirm(
            "Campaigns signed under the old key will take no more signatures. Go on?",
            abort=True,
        )

    async def work(db: Database) -> str:
        await bring_schema_up(db, upgrade=False)
        key = load_signer_key(
            settings.secret_key, settings.key_file or default_key_file(settings.database_url)
        )
        with stopped(db.sqlite_path):
            before, retired, left = await adopt_signer_key(db, key)
        if before == key.key_id:
            return f"key {key.key_id} is already the one this database expects"
        return (
            f"now counting under key {key.key_id} (was {before or 'none'}): {retired} campaigns "
            f"signed under the old key take no more signatures or withdrawals; {left} others "
            "and every new campaign use the new key"
        )

    typer.echo(_with_database(work))


@petition_app.command("create")
def petition_create(
    slug: Annotated[str, typer.Option(help="Short name: 2–40 lowercase letters, digits, dashes.")],
    title: Annotated[str, typer.Option(help="Title, up to 200 characters.")],
    goal: Annotated[int | None, typer.Option(help="Signatures wanted (petitions).")] = None,
    text: Annotated[str | None, typer.Option(help="The letter (Markdown).")] = None,
    text_file: Annotated[Path | None, typer.Option(help="Read the letter from this file.")] = None,
    deadline: Annotated[str | None, typer.Option(help="ISO date or date-time.")] = None,
    kind: Annotated[str, typer.Option(help="petition or pledge.")] = "petition",
    threshold: Annotated[int | None, typer.Option(help="Pledgers needed (pledges).")] = None,
    action: Annotated[
        str | None, typer.Option(help='What pledgers will do, e.g. "walk out".')
    ] = None,
    addressee: Annotated[
        str | None, typer.Option("--to", help="Who the letter is addressed to.")
    ] = None,
    names: Annotated[
        str | None,
        typer.Option(
            help="Who sees names: public (default for petitions), sealed (default for pledges: "
            "hidden until the goal is reached) or count-only (never in chat)."
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of its posts and page: en, de, fr, es, pt_BR."),
    ] = None,
    organizer: Annotated[
        list[str] | None,
        typer.Option(help="Extra organizer as platform:workspace:user (repeatable)."),
    ] = None,
) -> None:
    """Create a petition or a pledge."""
    if (text is None) == (text_file is None):
        _fail("give the letter with exactly one of --text or --text-file")
    if text_file is not None:
        try:
            with text_file.open("rb") as handle:  # capped: /dev/urandom never ends
                raw = handle.read(TEXT_FILE_MAX + 1)
            if len(raw) > TEXT_FILE_MAX:
                _fail(f"--text-file {text_file} is larger than {TEXT_FILE_MAX:,} bytes")
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read --text-file {text_file}: {getattr(exc, 'strerror', None) or exc}")
    if kind.lower() not in {k.value for k in Kind}:
        _fail(f"--kind is petition or pledge, not {kind!r}")
    if names is not None and names.lower() not in {n.value for n in Names}:
        _fail(f"--names is public, sealed or count-only, not {names!r}")
    options: dict[str, str] = {"title": title, "kind": kind}
    for key, value in (
        ("goal", goal),
        ("threshold", threshold),
        ("deadline", deadline),
        ("action", action),
        ("to", addressee),
        ("names", names),
        ("lang", lang),
    ):
        if value is not None:
            options[key] = str(value)
    for extra in organizer or []:
        if extra.count(":") < 2:
            _fail(f"--organizer {extra!r} must look like platform:workspace:user")

    command = cmd.Create(slug, options, text, organizers=tuple(organizer or []))
    _print_reply(_with_service(lambda s: s.run(_operator(), command)))


@petition_app.command("list")
def petition_list() -> None:
    """List every campaign."""
    _print_reply(_with_service(lambda s: s.run(_operator(), cmd.ListCampaigns())))


@petition_app.command("status")
def petition_status(
    slug: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Show a campaign's tally."""
    if as_json:
        data: dict[str, Any] = _with_service(lambda s: views.status_data(s.ctx, slug))
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    _print_reply(_with_service(lambda s: s.run(_operator(), cmd.Status(slug))))


@petition_app.command("export")
def petition_export(
    slug: str,
    fmt: Annotated[str, typer.Option("--format", help="csv, md or html.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """The letter with its signatories (anonymous signers counted, never named)."""
    reply: Reply = _with_service(lambda s: s.run(_operator(), cmd.Export(slug, fmt.lower())))
    if reply.error or reply.attachment is None:
        _print_reply(reply)  # the refusal, as one line, and a non-zero exit
        return
    content = reply.attachment[1]
    for note in reply.text.splitlines()[1:]:  # who is counted but not listed, beside the file
        typer.echo(note, err=True)
    if output is None:
        typer.echo(content, nl=False)
        return
    try:
        output.write_text(content, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"wrote {output}", err=True)


@petition_app.command("purge")
def petition_purge(slug: str) -> None:
    """After close: replace signer identities by anonymous placeholders, keeping the counts."""
    _print_reply(_with_service(lambda s: s.run(_operator(), cmd.Purge(slug))))


@app.command("outbox")
def outbox_report(
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Queue failed messages again.")
    ] = False,
) -> None:
    """Messages waiting, sent and failed (failed ones are kept, never dropped)."""
    counts, failed, retried = _with_service(lambda s: jobs.outbox_report(s.ctx, retry_failed))
    typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "the outbox is empty")
    for message_id, platform, target, kind, attempts, error in failed:
        # A direct message's target is a person: the row id is enough to act on it.
        where = "a direct message" if kind == "dm" else f"{platform}:{target}"
        typer.echo(f"failed #{message_id} {kind} to {where} after {attempts} tries: {error}")
    if retry_failed:
        typer.echo(f"queued {retried} failed messages again")


@petition_app.command("publish")
def petition_publish(
    slug: str,
    off: Annotated[bool, typer.Option("--off", help="Take the public page down.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the page as static files into this folder instead."),
    ] = None,
) -> None:
    """Publish a campaign's public page on this bot's web server (or take it down), or write
    the same page as static files for a host of your own."""
    if out is None:
        _print_reply(
            _with_service(lambda s: s.run(_operator(), cmd.Publish(slug, "off" if off else "on")))
        )
        return
    if off:
        _fail("--off and --out don't go together: delete the folder to take files down")

    async def work(service: Service) -> list[str]:
        from adapters.web.pages import PublicPages, static_files

        facts = await views.public_snapshot(service.ctx, _operator(), slug)
        files = static_files(facts, PublicPages(service, _settings().public_url))
        out.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (out / name).write_bytes(body)
        return sorted(files)

    names = _with_service(work)
    typer.echo(f"wrote {', '.join(names)} to {out}")


@petition_app.command("close")
def petition_close(slug: str) -> None:
    """Close a campaign to new signatures."""
    _print_reply(_with_service(lambda s: s.run(_operator(), cmd.Close(slug))))


@token_key_app.command("new")
def token_key_new() -> None:
    """Print a new random key for UNDERSIGNED_TOKEN_KEY (nothing is stored)."""
    typer.echo(new_key())


@token_key_app.command("rotate")
def token_key_rotate() -> None:
    """Re-encrypt every stored token with the first key of UNDERSIGNED_TOKEN_KEY; afterwards
    the older keys listed after it can be removed."""

    async def work(service: Service) -> tuple[int, str]:
        settings = _settings()
        if not settings.token_key:
            raise CliError("UNDERSIGNED_TOKEN_KEY is not set")
        cipher = TokenCipher.from_setting(settings.token_key)
        count = await service.db.write(lambda conn: reseal_all(conn, cipher))
        return count, cipher.key_id

    try:
        count, key_id = _with_service(work)
    except TokenKeyError as exc:
        _fail(str(exc))
        return
    typer.echo(f"re-encrypted {count} workspace tokens with key {key_id}")


def _checking(work: Callable[[], object]) -> None:
    """Run a check in the terminal's language: exit 0 when it holds, 1 when the log does not
    hold up (one line saying why), 2 when it could not be checked."""
    with speaking(terminal_language(dict(os.environ)) or "en"):
        try:
            work()
        except log_check.CheckFailed as exc:
            typer.echo(_("FAILED: {reason}", reason=exc), err=True)
            raise typer.Exit(1) from None
        except log_check.CheckError as exc:
            typer.echo(_("error: {reason}", reason=exc), err=True)
            raise typer.Exit(2) from None


@log_app.command("verify")
def log_verify(
    url: Annotated[str, typer.Argument(help="The campaign's page, e.g. https://host/c/walkout.")],
    heads: Annotated[
        Path | None,
        typer.Option(help="Where heads seen earlier are kept (default: your state directory)."),
    ] = None,
    save: Annotated[bool, typer.Option(help="Keep this head to compare next time.")] = True,
) -> None:
    """Check a campaign's log: its signature, its root, its count against the page, and that
    nothing was removed or rewritten since the head you kept."""

    def work() -> None:
        log_check.verify_log(
            url, heads or log_check.default_heads_file(), save=save, say=typer.echo
        )
        typer.echo(_("Verified."))

    _checking(work)


@log_app.command("new-key")
def log_new_key() -> None:
    """Print a new key for UNDERSIGNED_LOG_KEY (its public half on stderr)."""
    key = LogKey.generate()
    typer.echo(key.seed_hex())
    typer.echo(f"public key: {key.public_hex}", err=True)


@log_app.command("change-key")
def log_change_key(
    new_key: Annotated[
        Path, typer.Argument(help="A file holding the new key (`undersigned log new-key > F`).")
    ],
    old_key_lost: Annotated[
        bool,
        typer.Option(
            "--old-key-lost",
            help="The current key is gone: record the change unsigned (checkers are told).",
        ),
    ] = False,
) -> None:
    """Change the key that signs the public logs, on purpose (stop the bot first): the current
    key signs the change, so `log verify` can follow it and says when it happened. The key
    file is replaced (the old one kept beside it); with UNDERSIGNED_LOG_KEY, set it to the new
    key before starting again."""
    settings = _settings_or_fail()
    where = settings.log_key_file or default_log_key_file(settings.database_url)
    try:
        new = LogKey.from_hex(new_key.read_text())
    except (OSError, ValueError) as exc:
        _fail(f"cannot read a log key from {new_key}: {getattr(exc, 'strerror', None) or exc}")
        return

    async def work(db: Database) -> str:
        with stopped(db.sqlite_path):
            return await change(db)

    async def change(db: Database) -> str:
        await bring_schema_up(db, upgrade=False)
        old: LogKey | None = None
        if not old_key_lost:
            try:
                old = load_log_key(settings.log_key, where, generate=False)
            except LogKeyInvalid as exc:
                raise CliError(
                    f"the current log key can't be read ({exc}): give it, or use --old-key-lost"
                ) from None
        previous = await change_log_key(db, old, new)
        if settings.log_key:
            return (
                f"the logs' key is now {new.public_hex} (was {previous}); set "
                "UNDERSIGNED_LOG_KEY to the new key on every instance before starting again"
            )
        retired = None
        if where.exists():
            retired = where.with_name(f"{where.name}.retired-{_stamp()}")
            where.replace(retired)
        write_key_file(where, new.seed_hex())
        kept = (
            f"; the old key is kept in {retired}: keep it as long as you keep backups made "
            "before today (restoring one needs it)"
            if retired
            else ""
        )
        return (
            f"the logs' key is now {new.public_hex} (was {previous}), written to {where}"
            f"{kept}; delete {new_key} now"
        )

    typer.echo(_with_database(work))
    typer.echo(
        "Publish the new public key where people compare it (`undersigned log key`); "
        + (
            "`log verify` follows the change, signed by the old key."
            if not old_key_lost
            else "checkers who kept an earlier head are told the change is unsigned."
        ),
        err=True,
    )


@log_app.command("key")
def log_public_key() -> None:
    """Print the public key this server signs its logs with (to publish where people can
    compare it with the key in log.json): the one the database recorded, checked against the
    key configured here."""
    settings = _settings_or_fail()

    async def work(db: Database) -> str:
        await bring_schema_up(db, upgrade=False)
        return (await open_log_key(db, settings)).public_hex

    typer.echo(_with_database(work))


@receipt_app.command("check")
def receipt_check(
    given: Annotated[
        list[str],
        typer.Argument(
            metavar="[RECEIPT] URL",
            help="The campaign's page (https://host/c/walkout); the receipt the bot showed you "
            "is asked for when left out, so it stays out of your shell's history.",
        ),
    ],
    heads: Annotated[
        Path | None,
        typer.Option(help="Heads kept by `log verify` (default: your state directory)."),
    ] = None,
) -> None:
    """Find your signature in the log: every entry is downloaded and searched here, so the
    server never learns which one is yours."""

    def work() -> None:
        if len(given) not in (1, 2):
            raise log_check.CheckError(_("Give the campaign's page, and your receipt if you like."))
        receipt = given[0] if len(given) == 2 else _ask_receipt()
        kept = heads or log_check.default_heads_file()
        log_check.check_receipt(receipt, given[-1], kept, say=typer.echo)

    _checking(work)


def _ask_receipt() -> str:
    """The receipt from a prompt that doesn't show it, or from a pipe."""
    if not sys.stdin.isatty():
        return sys.stdin.readline(200)
    try:
        return getpass.getpass(_("Your receipt (it won't show as you type): "))
    except (EOFError, KeyboardInterrupt):
        return ""


def main() -> None:
    app()
