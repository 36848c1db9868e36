"""Nothing lost across time, as an operator meets it: the wrong key, a lost key file, a schema
that needs an upgrade, a backup taken while people sign, a restore, a mistyped path. Real
`undersigned` processes on a real SQLite file; each refusal is one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from bot.domain.errors import StorageUnavailable
from bot.domain.identity import Actor, SignerKey
from bot.service import Service
from storage.database import Database, alembic_config, backup_sqlite
from tests.conftest import EVERY_SIGNATURE as IMMEDIATE
from tests.sqlite_lock import write_lock_held
from tests.test_cli import run

CREATE = '@o /petition new pp title:"P" goal:5 We ask.'


def one_line(result: object) -> str:
    """The refusal: exactly one line on stderr, a non-zero exit, no traceback."""
    assert result.returncode != 0, result.stdout  # type: ignore[attr-defined]
    lines = [x for x in result.stderr.splitlines() if x.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in lines[0]
    return lines[0]


def count(db: Path, slug: str = "pp") -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM signature JOIN campaign ON campaign.id = campaign_id "
            "WHERE slug = ?",
            (slug,),
        ).fetchone()[0]


def test_another_signer_key_stops_every_command_and_adopting_one_counts_nobody_twice(
    tmp_path: Path,
) -> None:
    key = {"UNDERSIGNED_SECRET_KEY": "the-first-key"}
    done = run(tmp_path, "console", stdin=f"{CREATE}\n@bob /sign pp\n", env=key)
    assert done.returncode == 0, done.stderr
    assert "Thank you, bob: you signed" in done.stdout
    wrong = {"UNDERSIGNED_SECRET_KEY": "a-typo"}
    for args in (["console"], ["petition", "list"], ["petition", "close", "pp"]):
        line = one_line(run(tmp_path, *args, stdin="@bob /sign pp\n", env=wrong))
        assert line.startswith("error: this database's signatures were made with the signer key")
        assert SignerKey(b"the-first-key").key_id in line
        assert "undersigned key adopt-new" in line
    assert count(tmp_path / "bot.db") == 1  # bob was not counted again
    # A lost key file is the same mistake: the generated one is never a silent replacement.
    fresh = tmp_path / "other"
    fresh.mkdir()
    assert run(fresh, "console", stdin=f"{CREATE}\n@bob /sign pp\n").returncode == 0
    (fresh / "bot.key").unlink()
    assert "signer key" in one_line(run(fresh, "petition", "list"))

    adopted = run(tmp_path, "key", "adopt-new", "--yes", env=wrong)
    assert adopted.returncode == 0, adopted.stderr
    assert "1 campaigns signed under the old key take no more signatures" in adopted.stdout
    session = "\n".join(
        [
            "@bob /sign pp",
            "@erin /unsign pp",
            '@o /petition new qq title:"Q" goal:5 Hi.',
            "@bob /sign qq",
            "@bob /sign qq",
        ]
    )
    after = run(tmp_path, "console", stdin=session + "\n", env=wrong)
    assert after.returncode == 0, after.stderr
    assert after.stdout.count("was signed under an earlier key of this server") == 2
    assert count(tmp_path / "bot.db") == 1  # nobody counted twice in the old campaign
    assert count(tmp_path / "bot.db", "qq") == 1  # the new one counts, once
    assert "You already signed" in after.stdout
    # A named signer is still found by their account: they see it, and may withdraw.
    theirs = run(tmp_path, "console", stdin="@bob /sign mine\n@bob /unsign pp\n", env=wrong)
    assert "`pp`: P, publicly as bob" in theirs.stdout and "withdrawn and deleted" in theirs.stdout
    assert count(tmp_path / "bot.db") == 0
    # And the old key no longer opens it: the database moved on, on purpose.
    assert "signer key" in one_line(run(tmp_path, "petition", "list", env=key))


def test_the_log_key_is_recorded_never_regenerated_and_changed_only_on_purpose(
    tmp_path: Path,
) -> None:
    assert run(tmp_path, "console", stdin=f"{CREATE}\n").returncode == 0
    key_file = tmp_path / "bot.log.key"
    first = run(tmp_path, "log", "key").stdout.strip()
    key_file.rename(tmp_path / "elsewhere")
    for args in (["console"], ["log", "key"]):
        line = one_line(run(tmp_path, *args, stdin="/petition list\n"))
        assert f"signed with key {first[:16]}" in line and "is missing" in line
        assert not key_file.exists()  # not regenerated
    other = run(tmp_path, "log", "new-key").stdout.strip()
    line = one_line(run(tmp_path, "console", env={"UNDERSIGNED_LOG_KEY": other}))
    assert "UNDERSIGNED_LOG_KEY holds key" in line and "log change-key" in line
    (tmp_path / "elsewhere").rename(key_file)
    (tmp_path / "new.key").write_text(other + "\n")
    changed = run(tmp_path, "log", "change-key", "new.key")
    assert changed.returncode == 0, changed.stderr
    assert "signed by the old key" in changed.stderr
    assert key_file.read_text().strip() == other and (key_file.stat().st_mode & 0o777) == 0o600
    assert list(tmp_path.glob("bot.log.key.retired-*"))  # the old key kept beside it
    assert run(tmp_path, "console", stdin="/petition list\n").returncode == 0


def test_a_token_key_that_cannot_open_the_stored_tokens_stops_the_server(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from storage.installations import InstalledBot, save_installation
    from storage.token_cipher import TokenCipher, new_key

    assert run(tmp_path, "petition", "list").returncode == 0  # sets the database up
    sealed_with = new_key()
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with engine.begin() as conn:
        bot = InstalledBot(workspace="T1", bot_token="xoxb-1", team_name="Acme")
        save_installation(conn, TokenCipher.from_setting(sealed_with), bot, datetime.now(UTC))
    engine.dispose()
    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}
    line = one_line(run(tmp_path, "serve", env={**oauth, "UNDERSIGNED_TOKEN_KEY": new_key()}))
    assert "UNDERSIGNED_TOKEN_KEY cannot open the stored Slack tokens of 1 workspaces" in line
    assert "xoxb" not in line


def test_only_run_serve_and_console_upgrade_and_they_say_so(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with create_engine(f"sqlite:///{db}").begin() as conn:
        command.upgrade(alembic_config(conn), "0014")
    status = run(tmp_path, "db", "status")
    assert status.returncode == 0, status.stderr
    assert "revision: 0014" in status.stdout
    assert [x.split()[1] for x in status.stdout.splitlines() if x.startswith("pending:")] == [
        "0015",
        "0016",
        "0017",
    ]
    line = one_line(run(tmp_path, "petition", "list"))
    assert "needs 0017" in line and "undersigned db upgrade" in line
    started = run(tmp_path, "console", stdin="/petition list\n")
    assert started.returncode == 0, started.stderr
    assert "database upgraded from 0014 to 0017" in started.stderr
    assert "pending: none" in run(tmp_path, "db", "status").stdout
    assert run(tmp_path, "db", "upgrade").stdout.strip() == "the database is up to date"
    version = run(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("undersigned 0.")
    # A new, empty database is set up by any command, as ever: that is no upgrade.
    empty = tmp_path / "new"
    empty.mkdir()
    assert run(empty, "petition", "list").returncode == 0


def test_the_database_file_is_private_and_a_mistyped_folder_is_refused(tmp_path: Path) -> None:
    assert run(tmp_path, "petition", "list").returncode == 0
    assert (tmp_path / "bot.db").stat().st_mode & 0o777 == 0o600
    typo = {"DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'bot.db'}"}
    line = one_line(run(tmp_path, "console", env=typo))
    assert "does not exist" in line
    assert not (tmp_path / "no-such-folder").exists()
    assert not list(tmp_path.glob("no-such-folder*"))


async def test_a_backup_taken_while_people_sign_holds_every_committed_signature(
    tmp_path: Path,
) -> None:
    path = tmp_path / "live.db"
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    service = Service(db, SignerKey(b"k"), steps=IMMEDIATE)
    organizer = Actor("console", "local", "o", "o", operator=True)
    await service.handle(organizer, "/petition", 'new pp title:"P" goal:500 We ask.')
    signed = 0

    async def signers() -> None:
        nonlocal signed
        for i in range(60):
            reply = await service.handle(Actor("console", "local", f"u{i}", f"u{i}"), "/sign", "pp")
            assert not reply.error, reply.text
            signed += 1

    task = asyncio.create_task(signers())
    while signed < 20:
        await asyncio.sleep(0.01)
    copy = tmp_path / "backup.db"
    committed = signed
    await backup_sqlite(str(path), copy)
    await task
    await db.close()
    assert copy.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(copy) as conn:
        rows = conn.execute("SELECT count(*) FROM signature").fetchone()[0]
        kept = conn.execute("SELECT signature_count FROM campaign").fetchone()[0]
    assert committed <= rows <= 60 and rows == kept  # every acknowledged one, consistently


def test_backup_restore_and_a_log_behind_its_signed_head(tmp_path: Path) -> None:
    """`db backup` beside a running bot, `db restore` over it: what the restore undid is said,
    and a log now behind the head this server signed is named at start."""
    from tests.test_log_cli import Server, sign

    server = Server(tmp_path)
    server.console('@o /petition new walkout title:"W" goal:50 Hi.', "@o /petition publish walkout")
    server.start()
    try:
        sign(server, "a", "b", "c")
        assert server.check("log", "verify", server.url).returncode == 0
        backup = subprocess_run(server, "db", "backup", "backup.db")
        assert "backed up 1 campaign and 3 signatures" in backup.stdout
        assert "The keys are not in the backup" in backup.stderr
        sign(server, "d", "e", "f")
        assert server.check("log", "verify", server.url).returncode == 0  # a head of 6 signed
        refused = one_line(server.check("db", "restore", str(tmp_path / "backup.db"), "--yes"))
        assert "the bot is running on" in refused and "stop it first" in refused
    finally:
        server.stop()
    restored = subprocess_run(server, "db", "restore", "backup.db", "--yes")
    assert "restored 1 campaign and 3 signatures" in restored.stdout
    assert "/forget-me" in restored.stderr and "do it again" in restored.stderr
    assert list(tmp_path.glob("bot.db.before-restore-*"))
    assert count(tmp_path / "bot.db", "walkout") == 3
    server.start()
    err = server.stop()
    assert "the public log of walkout has 3 entries, but this server signed a head of 6" in err
    # Grown back past that size, it is another log than the one signed then: said too.
    sign(server, "g", "h", "i")
    server.start()
    err = server.stop()
    assert "signed a head of 6 (released" in err and "with other entries than its first 6" in err


def subprocess_run(server: object, *args: str) -> object:
    import subprocess

    from tests.slack_harness import EXE

    done = subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        env=server.env,  # type: ignore[attr-defined]
        cwd=server.tmp_path,  # type: ignore[attr-defined]
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done


async def test_a_locked_database_is_said_plainly_and_nothing_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}", busy_timeout_ms=200)
    await db.migrate()
    service = Service(db, SignerKey(b"k"), steps=IMMEDIATE)
    organizer = Actor("console", "local", "o", "o", operator=True)
    await service.handle(organizer, "/petition", 'new pp title:"P" goal:5 We ask.')
    with write_lock_held(path, seconds=30):
        reply = await service.handle(Actor("console", "local", "bob", "bob"), "/sign", "pp")
    assert reply.error
    assert StorageUnavailable().message in reply.text
    assert "OperationalError" not in reply.text and "sqlite" not in reply.text.lower()
    await db.close()
    assert count(path) == 0


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_locked_database_sentence_speaks_the_persons_language(language: str) -> None:
    from bot.domain.messages import speaking

    with speaking(language):
        said = StorageUnavailable().message
    assert said != StorageUnavailable().message


@pytest.mark.postgres
async def test_postgres_backup_and_restore_go_through_pg_dump(tmp_path: Path) -> None:
    """On PostgreSQL `db backup` runs pg_dump (or says the command), `db restore` pg_restore:
    a signature made after the backup is gone after the restore, as the notes say."""
    import shutil

    from tests.conftest import PG_URL, reset_postgres

    assert PG_URL
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump is not installed")
    await reset_postgres(PG_URL)
    env = {
        "DATABASE_URL": PG_URL,
        "UNDERSIGNED_SECRET_KEY": "pg-key",
        "UNDERSIGNED_LOG_KEY": "55" * 32,
    }
    assert run(tmp_path, "console", stdin=f"{CREATE}\n@a /sign pp\n", env=env).returncode == 0
    backup = run(tmp_path, "db", "backup", str(tmp_path / "pg.dump"), env=env)
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.startswith("ran: pg_dump") and "pg-key" not in backup.stdout
    assert (tmp_path / "pg.dump").stat().st_size > 0
    assert run(tmp_path, "console", stdin="@b /sign pp\n", env=env).returncode == 0
    restored = run(tmp_path, "db", "restore", str(tmp_path / "pg.dump"), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    assert "/forget-me" in restored.stderr
    status = run(tmp_path, "petition", "status", "pp", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert '"signatures": 1' in status.stdout


def test_campaigns_an_earlier_silent_key_change_split_are_retired_by_the_upgrade(
    tmp_path: Path,
) -> None:
    """Before 0016 a changed key only warned: a campaign holding signatures under two keys
    could count its earlier signers again. The upgrade retires it, and records the newest."""
    db = tmp_path / "bot.db"
    with create_engine(f"sqlite:///{db}").begin() as conn:
        command.upgrade(alembic_config(conn), "0015")
        conn.exec_driver_sql(
            "INSERT INTO campaign (id, slug, kind, title, goal, status, names, version, "
            "signature_count, created_by, created_at, shown_count, shown_named, log_waiting) "
            "VALUES (1, 'split', 'petition', 'S', 10, 'open', 'public', 1, 2, 'x', "
            "'2026-11-01 09:00:00.000000', 2, 0, 0), (2, 'whole', 'petition', 'W', 10, 'open', "
            "'public', 1, 1, 'x', '2026-11-01 09:00:00.000000', 1, 0, 0)"
        )
        for i, (campaign, key, day) in enumerate(
            [(1, "oldkey", "2026-11-01"), (1, "newkey", "2026-11-03"), (2, "newkey", "2026-11-02")]
        ):
            conn.exec_driver_sql(
                "INSERT INTO signature (id, campaign_id, signer_hash, key_id, anonymous, version, "
                f"signed_at) VALUES ('s{i}', {campaign}, 'h{i}', '{key}', 1, 1, "
                f"'{day} 00:00:00.000000')"
            )
    with create_engine(f"sqlite:///{db}").begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with closing(sqlite3.connect(db)) as conn:
        retired = dict(conn.execute("SELECT slug, key_retired FROM campaign").fetchall())
        recorded = conn.execute("SELECT value FROM key_record WHERE kind = 'signer'").fetchone()
        counts = conn.execute("SELECT count(*) FROM signature").fetchone()[0]
    assert retired == {"split": 1, "whole": 0}
    assert recorded == ("newkey",) and counts == 3


def test_the_log_key_of_the_release_before_is_expected_not_replaced(tmp_path: Path) -> None:
    """A database from 0.1.0 (revision 0014) served signed logs: at its first start under this
    release, a missing log key file stops it instead of a new key being made and recorded."""
    import json
    import shutil

    fixtures = Path(__file__).parent / "fixtures" / "upgrades"
    keys = json.loads((fixtures / "manifest.json").read_text())["fixtures"]["r0014-d9b751e"]["keys"]
    shutil.copy(fixtures / "r0014-d9b751e.db", tmp_path / "bot.db")
    signer = {"UNDERSIGNED_SECRET_KEY": keys["UNDERSIGNED_SECRET_KEY"]}
    first = run(tmp_path, "console", stdin="/petition list\n", env=signer)
    assert first.returncode == 1 and "Traceback" not in first.stderr
    upgraded, line = first.stderr.strip().splitlines()  # the upgrade is said, then the refusal
    assert "database upgraded from 0014 to 0017" in upgraded
    assert "signed by the release before this one" in line and "is missing" in line
    assert not (tmp_path / "bot.log.key").exists()
    given = {**signer, "UNDERSIGNED_LOG_KEY": keys["UNDERSIGNED_LOG_KEY"]}
    assert run(tmp_path, "console", stdin="/petition list\n", env=given).returncode == 0
    other = run(tmp_path, "log", "new-key").stdout.strip()
    line = one_line(run(tmp_path, "console", env={**signer, "UNDERSIGNED_LOG_KEY": other}))
    assert "UNDERSIGNED_LOG_KEY holds key" in line  # the key read at that start is the one
