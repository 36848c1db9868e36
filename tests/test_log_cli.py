"""`undersigned log verify` and `undersigned receipt check` against a running server, as a
stranger and a signer use them: real processes (`undersigned run` serving the pages, the
console signing, the two commands), a real SQLite file, real HTTP."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select

from bot.domain.public_log import Entry, EntryKind
from storage import public_log
from storage.tables import LogEntryRow, LogHeadRow, LogNodeRow
from tests.slack_harness import EXE, free_port

RECEIPT = re.compile(r"`([0-9a-f]{64})`")


def environment(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "MATRIX_", "UNDERSIGNED_", "LC_", "LANG"))
    }
    env.update(
        {
            "LANG": "C.UTF-8",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "UNDERSIGNED_COUNT_WINDOW_MINUTES": "0",  # a step with every third signature
            "UNDERSIGNED_HTTP_HOST": "127.0.0.1",
            "UNDERSIGNED_HTTP_PORT": str(port),
            "UNDERSIGNED_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
    )
    return env


class Server:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.env = environment(tmp_path, self.port)
        self.url = f"http://127.0.0.1:{self.port}/c/walkout"
        self.proc: subprocess.Popen[str] | None = None

    def console(self, *lines: str) -> str:
        done = subprocess.run(
            [EXE, "console"],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.tmp_path,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [EXE, "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.tmp_path,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                assert self.proc.poll() is None, self.proc.communicate()
                assert time.monotonic() < deadline, "run never served /healthz"
                time.sleep(0.2)

    def stop(self) -> str:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.communicate(timeout=20)[1]

    def check(self, *args: str, given: str = "") -> subprocess.CompletedProcess[str]:
        time.sleep(1.1)  # what the public reads is kept for a second
        return subprocess.run(
            [EXE, *args], input=given, capture_output=True, text=True, env=self.env, timeout=60
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    if running.proc is not None and running.proc.poll() is None:
        err = running.stop()
        assert "Traceback" not in err, err


def sign(server: Server, *people: str, anonymous: bool = False) -> list[str]:
    lines = [f"@{p} /sign walkout{' anonymous' if anonymous else ''}" for p in people]
    out = server.console(*lines)
    receipts = RECEIPT.findall(out)
    assert len(receipts) == len(people), out
    return receipts


def test_a_stranger_verifies_and_a_signer_finds_their_receipt(server: Server) -> None:
    server.console(
        '@alice /petition new walkout title:"Walk out" goal:100 We, the undersigned, refuse.',
        "@alice /petition publish walkout",
    )
    first = sign(server, "ann", "bob")
    first += sign(server, "cy")  # the third named one: a step with the three of them
    late = sign(server, "dee")  # waits for the next step
    server.start()

    kept = server.tmp_path / "heads.json"
    done = server.check("log", "verify", server.url, "--heads", str(kept))
    assert done.returncode == 0, done.stderr
    assert "3 signatures − 0 withdrawals or removals = 3" in done.stdout
    assert "First check of this log" in done.stdout and done.stdout.endswith("Verified.\n")
    assert kept.exists() and (kept.stat().st_mode & 0o777) == 0o600

    for receipt in first:  # given at the prompt (here a pipe), kept out of the shell's history
        found = server.check("receipt", "check", server.url, given=receipt + "\n")
        assert found.returncode == 0, found.stderr
        assert "Your signature is in the log of walkout" in found.stdout
    missing = server.check("receipt", "check", late[0], server.url)
    assert missing.returncode == 1 and "not in the log" in missing.stderr

    # Three named withdrawals and, with dee's, three named signatures: a step of each part.
    server.console(*(f"@{p} /unsign walkout" for p in ("ann", "bob", "cy")))
    server.console("@eve /sign walkout", "@fay /sign walkout")
    later = server.check("log", "verify", server.url, "--heads", str(kept))
    assert later.returncode == 0, later.stderr
    assert "Consistent with the head you kept" in later.stdout
    assert "6 signatures − 3 withdrawals or removals = 3" in later.stdout
    assert server.check("receipt", "check", late[0], server.url).returncode == 0
    # The default place for kept heads works too (the state directory).
    assert server.check("log", "verify", server.url).returncode == 0
    assert (server.tmp_path / "state" / "undersigned" / "log-heads.json").exists()


def test_an_operator_who_rewrites_the_log_is_caught(server: Server) -> None:
    server.console(
        '@alice /petition new walkout title:"Walk out" goal:100 We refuse.',
        "@alice /petition publish walkout",
    )
    receipts = sign(server, "ann", "bob", "cy")
    server.start()
    kept = server.tmp_path / "heads.json"
    assert server.check("log", "verify", server.url, "--heads", str(kept)).returncode == 0
    database = server.tmp_path / "bot.db"

    # A clumsy edit of one entry: the entries no longer give the signed root.
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE log_entry SET leaf = ? WHERE idx = 1", (bytes(32),))
    tampered = server.check("log", "verify", server.url, "--heads", str(kept), "--no-save")
    assert tampered.returncode == 1, tampered.stdout
    assert tampered.stderr.startswith("FAILED: the entries do not give the signed root")
    assert "Traceback" not in tampered.stderr

    # A careful one: the log rebuilt with an entry dropped, every hash recomputed, the head
    # re-signed by the server's own key. Only a checker who kept a head catches it; and the
    # signer whose entry went catches it with their receipt.
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        rows = conn.execute(
            select(LogEntryRow.kind, LogEntryRow.leaf).order_by(LogEntryRow.idx)
        ).all()
        entries = [Entry(EntryKind(k), bytes(leaf)) for k, leaf in rows]
        for table in (LogEntryRow, LogNodeRow, LogHeadRow):
            conn.execute(delete(table))
        forged = [*entries[:1], *entries[2:], Entry(EntryKind.SIGN, b"\x07" * 32)]
        public_log.append(conn, 1, "walkout", None, forged, datetime.now(UTC))
    engine.dispose()
    rewritten = server.check("log", "verify", server.url, "--heads", str(kept))
    assert rewritten.returncode == 1, rewritten.stdout
    assert rewritten.stderr.startswith("FAILED: the log was rewritten"), rewritten.stderr
    stranger = server.check("log", "verify", server.url, "--heads", str(server.tmp_path / "new"))
    assert stranger.returncode == 0  # with no earlier head, a consistent forgery holds up…
    lost = [server.check("receipt", "check", r, server.url).returncode for r in receipts]
    assert sorted(lost) == [0, 0, 1]  # …but the signer whose entry went finds it missing


def test_bad_input_is_one_line_and_a_non_zero_exit(server: Server) -> None:
    server.console('@alice /petition new walkout title:"Walk out" goal:10 We refuse.')
    server.start()  # not published: its log is not served
    cases = {
        ("receipt", "check", "not-a-receipt", server.url): (2, "A receipt is 64 characters"),
        ("receipt", "check", "ab" * 32, server.url): (2, "no such public campaign"),
        ("log", "verify", "ftp://example.org/c/walkout"): (2, "is not the address"),
        ("log", "verify", server.url): (2, "no such public campaign"),
        ("log", "verify", "http://127.0.0.1:1/c/walkout"): (2, "could not reach"),
        ("receipt", "check", "a", "b", server.url): (2, "Give the campaign's page"),
    }
    for args, (code, said) in cases.items():
        done = server.check(*args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
