"""Upgrades from databases made by the real code of earlier releases (tests/fixtures/upgrades,
made by its build.py, which says how): today's code upgrades each one, on SQLite and on
PostgreSQL, and people see what they saw before (manifest.json, read from the old release's
own answers): the counts, the named signers in exports, status and the public page, the
anonymous counted and never named, sealed names sealed, the reminder, the messages waiting,
and a public log that a stranger's `undersigned log verify` accepts.

Each fixture and backend is upgraded once, with real processes (`db upgrade` and the reads
through today's command line in one process, then `undersigned run` and `log verify`); the
tests below each check one thing of that run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS, PG_URL, reset_postgres
from tests.fixtures.upgrades import views
from tests.slack_harness import EXE, free_port

FIXTURES = Path(__file__).parent / "fixtures" / "upgrades"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
LABELS = sorted(MANIFEST["fixtures"])
# Releases before the public log knew no log key: the upgraded server gets this one.
FRESH_LOG_KEY = "9b1f0c6e2d4a8f3b5c7e9d1a3f5b7c9e1d3f5a7b9c1e3d5f7a9b1c3e5d7f9a1b"

# Today's command line, several commands in one process, each started as `undersigned` starts
# (it reads its settings and opens the database itself). argv[1]: the steps, each a command
# [args, stdin], or "started" (say so on stdout: the test then starts the server), or a URL to
# wait for. At the end, one JSON line: the answers, and the newest schema revision it knows.
DRIVER = """
import contextlib, io, json, logging, sys, time, urllib.request
from pathlib import Path
from alembic.script import ScriptDirectory
import storage
from adapters.cli import main

answers = []
for step in json.loads(sys.argv[1]):
    if step == "started":
        print("started", answers[0]["rc"], flush=True)
        continue
    if isinstance(step, str):  # no server runs when the upgrade failed
        deadline = time.monotonic() + (30 if answers[0]["rc"] == 0 else 0)
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(step, timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        continue
    (args, given), out, err, code = step, io.StringIO(), io.StringIO(), 0
    sys.argv, sys.stdin = ["undersigned", *args], io.StringIO(given or "")
    logging.getLogger().handlers.clear()  # each command logs to its own stderr
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    answers.append({"rc": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
head = ScriptDirectory(str(Path(storage.__file__).parent / "migrations")).get_current_head()
print(json.dumps({"answers": answers, "head": head}))
"""


@dataclass
class Upgraded:
    label: str
    backend: str
    before: dict[str, Any]  # what the old release showed (manifest.json)
    upgrade: dict[str, Any]  # `undersigned db upgrade`
    after: dict[str, Any]  # what today's code shows, read as `before` was
    raw: dict[tuple[str, str], dict[str, Any]]  # every answer: names must appear nowhere
    verify: dict[str, Any]  # `undersigned log verify` against `undersigned run`
    server_stderr: str
    revision: str  # the database's schema revision afterwards
    head: str  # the newest revision today's code knows


# One upgrade per fixture and backend, shared by the tests of that parameter (in any order).
_UPGRADED: dict[tuple[str, str], Upgraded | str] = {}


def environment(entry: dict[str, Any], url: str, workdir: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "MATRIX_", "UNDERSIGNED_", "LC_", "LANG"))
        and k != "DATABASE_URL"
    }
    env.update(
        {
            "LANG": "C.UTF-8",
            "LOGNAME": "operator",
            "USER": "operator",
            "DATABASE_URL": url,
            "UNDERSIGNED_TIMEZONE": "UTC",
            "UNDERSIGNED_LOG_KEY": FRESH_LOG_KEY,
            "UNDERSIGNED_HTTP_HOST": "127.0.0.1",
            "UNDERSIGNED_HTTP_PORT": str(port),
            "UNDERSIGNED_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "XDG_STATE_HOME": str(workdir / "state"),
            **entry["settings"],  # as the operator had them
            **entry["keys"],
        }
    )
    return env


def database(entry: dict[str, Any], backend: str, workdir: Path) -> str:
    """The fixture, loaded where today's code will open it."""
    if backend == "sqlite":
        shutil.copyfile(FIXTURES / entry["files"]["sqlite"], workdir / "bot.db")
        return f"sqlite:///{workdir / 'bot.db'}"
    if shutil.which("psql") is None:
        if os.environ.get("UNDERSIGNED_REQUIRE_POSTGRES"):
            pytest.fail("UNDERSIGNED_REQUIRE_POSTGRES is set but psql is not installed")
        pytest.skip("psql is not installed (it loads the PostgreSQL fixtures)")
    assert PG_URL
    asyncio.run(reset_postgres(PG_URL))
    loaded = subprocess.run(
        ["psql", PG_URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", entry["files"]["postgresql"]],
        cwd=FIXTURES,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    return PG_URL


def commands(workdir: Path) -> dict[tuple[str, str], tuple[list[str], str | None]]:
    """What people read, as the builder read it from the old release."""
    # The outbox first: a piped console delivers what waits for the console.
    asked: dict[tuple[str, str], tuple[list[str], str | None]] = {
        ("", "outbox"): (["outbox"], None)
    }
    for slug in views.SLUGS:
        asked[slug, "status"] = (["petition", "status", slug], None)
        asked[slug, "status_json"] = (["petition", "status", slug, "--json"], None)
        asked[slug, "export_md"] = (["petition", "export", slug, "--format", "md"], None)
        asked[slug, "export_csv"] = (["petition", "export", slug, "--format", "csv"], None)
        page = str(workdir / f"page-{slug}")
        asked[slug, "page"] = (["petition", "publish", slug, "--out", page], None)
    asked["", "reminders"] = (["console"], "@alice /petition reminders\n")
    return asked


def seen(raw: dict[Any, Any], workdir: Path) -> dict[str, Any]:
    campaigns = {}
    for slug in views.SLUGS:
        index = workdir / f"page-{slug}" / "index.html"
        raw[slug, "page"]["html"] = index.read_text(encoding="utf-8") if index.exists() else ""
        outputs = {what: raw[slug, what] for what in ("status", "status_json", "export_md")}
        outputs |= {what: raw[slug, what] for what in ("export_csv", "page")}
        campaigns[slug] = views.campaign_view(outputs)
    reminders, outbox = raw["", "reminders"], raw["", "outbox"]
    return {
        "campaigns": campaigns,
        "reminders": {"listed": views.reminders(reminders["stdout"]), "text": reminders["stdout"]},
        "outbox": {"counts": views.outbox_counts(outbox["stdout"]), "text": outbox["stdout"]},
    }


def upgrade(label: str, backend: str, workdir: Path) -> Upgraded:
    """`db upgrade` and the outbox; then, while `undersigned run` starts, every other read;
    then `log verify` of open-letter's public log against that server."""
    entry = MANIFEST["fixtures"][label]
    url = database(entry, backend, workdir)
    env = environment(entry, url, workdir, free_port())
    site = env["UNDERSIGNED_PUBLIC_URL"]
    asked = commands(workdir)
    reads = [list(command) for command in asked.values()]  # the outbox first
    steps: list[Any] = [[["db", "upgrade"], None], reads[0], "started", *reads[1:]]
    steps += [f"{site}/healthz", [["log", "verify", f"{site}/c/open-letter", "--no-save"], None]]
    with (workdir / "driver.err").open("w+") as driver_err:
        driver = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps(steps)],
            stdout=subprocess.PIPE,
            stderr=driver_err,
            text=True,
            env=env,
            cwd=workdir,
        )
        assert driver.stdout is not None
        started = driver.stdout.readline().split()
        server = None
        if started == ["started", "0"]:  # upgraded: the server may start
            server = subprocess.Popen(
                [EXE, "run"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=workdir,
            )
        try:
            out = driver.communicate(timeout=300)[0]
        finally:
            server_stderr = ""
            if server is not None:
                server.terminate()
                server_stderr = server.communicate(timeout=30)[1]
        driver_err.seek(0)
        assert driver.returncode == 0, driver_err.read()
    ended = json.loads(out.splitlines()[-1])
    answers = ended["answers"]
    upgraded, verify = answers[0], answers[-1]
    raw = dict(zip(asked, answers[1:-1], strict=True))
    after = seen(raw, workdir)
    return Upgraded(
        label,
        backend,
        entry["seen"][backend],
        upgraded,
        after,
        raw,
        verify,
        server_stderr,
        revision(url),
        ended["head"],
    )


def revision(url: str) -> str:
    query = "SELECT version_num FROM alembic_version"
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return str(conn.execute(query).fetchone()[0])
    found = subprocess.run(
        ["psql", url, "-X", "-q", "-t", "-A", "-c", query], capture_output=True, text=True
    )
    return found.stdout.strip() or found.stderr


@pytest.fixture(params=LABELS)
def label(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def upgraded(label: str, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Upgraded:
    if (label, backend) not in _UPGRADED:
        workdir = tmp_path_factory.mktemp(f"upgrade-{label}-{backend}")
        try:
            _UPGRADED[label, backend] = upgrade(label, backend, workdir)
        except AssertionError as exc:  # said once per parameter, not recomputed per test
            _UPGRADED[label, backend] = f"the upgrade's run failed: {exc}"
    done = _UPGRADED[label, backend]
    if isinstance(done, str):
        pytest.fail(done)
    assert done.upgrade["rc"] == 0, f"db upgrade failed: {done.upgrade['stderr']}"
    return done


def test_the_upgrade_reaches_todays_schema(upgraded: Upgraded) -> None:
    assert upgraded.revision == upgraded.head
    assert "Traceback" not in upgraded.upgrade["stderr"], upgraded.upgrade["stderr"]
    for (slug, what), answer in upgraded.raw.items():
        assert "Traceback" not in answer["stderr"], (slug, what, answer["stderr"])


def test_counts_are_as_before(upgraded: Upgraded) -> None:
    for slug in views.SLUGS:
        before, after = upgraded.before["campaigns"][slug], upgraded.after["campaigns"][slug]
        assert after["status"]["rc"] == 0, (slug, upgraded.raw[slug, "status"]["stderr"])
        assert after["status"]["count"] == before["status"]["count"], (slug, after["status"])
        shown, was = after["status_json"], before["status_json"]
        assert shown["signatures"] == was["signatures"], (slug, shown, was)
        assert (shown["status"], shown["goal"]) == (was["status"], was["goal"]), slug


@pytest.mark.parametrize("slug", ["delivered", "open-letter"])
def test_named_signers_are_exported_as_before(upgraded: Upgraded, slug: str) -> None:
    before, after = upgraded.before["campaigns"][slug], upgraded.after["campaigns"][slug]
    md, csv = after["export_md"], after["export_csv"]
    assert md["rc"] == 0 and csv["rc"] == 0, (md["stderr"], csv["stderr"])
    assert md["named"] == before["export_md"]["named"], (
        f"{slug}: the Markdown export names {md['named']}, before the upgrade "
        f"{before['export_md']['named']}; it says {md['unnamed']}"
    )
    assert csv["named"] == before["export_csv"]["named"], (
        f"{slug}: the CSV export names {csv['named']}, before {before['export_csv']['named']}"
    )
    # The anonymous are counted as before, and never named.
    assert md["unnamed"] == before["export_md"]["unnamed"], (md["unnamed"], md["text"])
    for answer in ("export_md", "export_csv"):
        text = upgraded.raw[slug, answer]["stdout"] + upgraded.raw[slug, answer]["stderr"]
        assert not views.names_in(text, views.ANONYMOUS + views.WITHDRAWN), text


def test_recent_signers_are_as_before(upgraded: Upgraded) -> None:
    for slug in views.SLUGS:
        before, after = upgraded.before["campaigns"][slug], upgraded.after["campaigns"][slug]
        was = before["status_json"]["recent_public_signers"]
        assert after["status_json"]["recent_public_signers"] == was, (
            f"{slug}: status --json lists {after['status_json']['recent_public_signers']} "
            f"as recent signers, before the upgrade {was}"
        )
        assert after["status"]["latest"] == before["status"]["latest"], (
            f"{slug}: status lists {after['status']['latest']} as its latest signers, before "
            f"the upgrade {before['status']['latest']}"
        )


def test_sealed_and_anonymous_names_appear_nowhere(upgraded: Upgraded) -> None:
    after = upgraded.after["campaigns"]["walkout"]
    assert after["export_md"]["named"] == [] and after["export_csv"]["named"] == []
    assert after["status"]["latest"] == [] and after["status_json"]["recent_public_signers"] == []
    assert after["page"]["named"] == []
    hidden = views.ANONYMOUS + views.SEALED + views.WITHDRAWN
    for (slug, what), answer in upgraded.raw.items():
        text = answer["stdout"] + answer["stderr"] + answer.get("html", "")
        assert not views.names_in(text, hidden), (slug, what, text)
    # The sealed pledge says who is counted, as before (or refuses, as a release may).
    md = after["export_md"]
    if md["rc"] == 0:
        assert md["unnamed"] == upgraded.before["campaigns"]["walkout"]["export_md"]["unnamed"]


def test_public_pages_list_whom_they_listed(upgraded: Upgraded) -> None:
    for slug in views.SLUGS:
        before = upgraded.before["campaigns"][slug]["page"]
        after = upgraded.after["campaigns"][slug]["page"]
        if before["rc"] != 0:  # the old release wrote no page for it
            continue
        assert after["rc"] == 0, (slug, upgraded.raw[slug, "page"]["stderr"])
        assert after["named"] == before["named"], (
            f"{slug}: the public page lists {after['named']}, before the upgrade {before['named']}"
        )
        assert after["anonymous"] == before["anonymous"], (slug, after, before)


def test_the_reminder_and_the_waiting_messages_are_kept(upgraded: Upgraded) -> None:
    reminders = upgraded.after["reminders"]
    assert reminders["listed"] == upgraded.before["reminders"]["listed"], reminders["text"]
    # Every message is still there, and none waiting was marked sent. (A release may have
    # tried some since and kept them as failed: r0012-then-r0014's webhooks.)
    after, before = upgraded.after["outbox"]["counts"], upgraded.before["outbox"]["counts"]
    assert sum(after.values()) == sum(before.values()), upgraded.after["outbox"]["text"]
    assert after.get("sent", 0) == before.get("sent", 0), upgraded.after["outbox"]["text"]
    assert sum(after.values()) - after.get("sent", 0) >= 2, upgraded.after["outbox"]["text"]


def test_a_stranger_verifies_the_public_log(upgraded: Upgraded) -> None:
    verify = upgraded.verify
    assert verify["rc"] == 0, (verify, upgraded.server_stderr)
    count = upgraded.before["campaigns"]["open-letter"]["status"]["count"]
    assert f"= {count}" in verify["stdout"], verify["stdout"]
    assert verify["stdout"].endswith("Verified.\n"), verify["stdout"]
    assert "Traceback" not in upgraded.server_stderr, upgraded.server_stderr
