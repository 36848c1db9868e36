"""The installed `undersigned` command: a piped console session and the organizer CLI."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli_paths import EXE, wait_until_healthy
from tests.slack_harness import EVERY_SIGNATURE, free_port

CREATE_X1 = ["petition", "create", "--slug", "x1", "--title", "T", "--goal", "3"]
# A deadline well inside the allowed window (ten years), whatever today is.
FUTURE = (date.today() + timedelta(days=400)).isoformat()


def run(tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "UNDERSIGNED_", "LC_", "LANG"))
    }
    environment["LANG"] = "C.UTF-8"  # English unless a test asks for a language
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    environment["UNDERSIGNED_HTTP_PORT"] = str(free_port())  # `run` serves the public pages
    environment.update(EVERY_SIGNATURE)
    environment.update(env or {})
    return subprocess.run(
        [EXE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
    )


def test_piped_console_session_signs_dedupes_withdraws_and_tallies(tmp_path: Path) -> None:
    session = (
        "\n".join(
            [
                f'@alice /petition new walkout title:"Walk out" goal:4 deadline:{FUTURE} Hi.',
                "@bob /sign walkout I'm in",
                "@carol /sign walkout anonymous",
                "@bob /sign walkout",
                "@carol /unsign walkout",
                "@dave /petition status walkout",
                "@dave /sign nosuch",
            ]
        )
        + "\n"
    )
    result = run(tmp_path, "console", stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Created the petition Walk out" in out
    assert "Thank you, bob: you signed Walk out." in out
    assert "you signed Walk out anonymously" in out
    assert "You already signed Walk out" in out
    assert "withdrawn and deleted" in out
    assert "1 of 4 signatures (25%)" in out.split("> @dave /petition status walkout")[1]
    assert "There's no campaign called `nosuch`" in out
    assert "Traceback" not in out + result.stderr
    assert "Generated new keys in" in result.stderr and "back them up" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # both keys, one line to act on
    key = tmp_path / "bot.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    again = run(tmp_path, "console", stdin="/petition list\n")
    assert "Generated" not in again.stderr  # said once


def _environment(tmp_path: Path, port: int) -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "UNDERSIGNED_", "LC_", "LANG"))
    }
    environment.update(
        {"LANG": "C.UTF-8", "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", **EVERY_SIGNATURE}
    )
    environment["UNDERSIGNED_HTTP_PORT"] = str(port)
    return environment


def test_run_without_tokens_serves_until_a_signal_whatever_stdin_is(tmp_path: Path) -> None:
    """A container has no terminal: `run` keeps serving the pages (and /healthz) until
    SIGTERM, then stops cleanly; it never reads stdin (the console is `undersigned console`)."""
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path, port),
    )
    try:
        wait_until_healthy(proc, port)
        time.sleep(2)  # stdin is at its end long since: still serving
        assert proc.poll() is None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"Listening on http://0.0.0.0:{port}/" in err and "undersigned console" in err
    assert "Traceback" not in err


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [EXE, "run"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_environment(tmp_path, port),
            timeout=60,
        )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: cannot listen on 0.0.0.0:{port}: address already in use "
        "(UNDERSIGNED_HTTP_PORT and UNDERSIGNED_HTTP_HOST choose another)"
    ]
    assert "Traceback" not in result.stderr and "database" not in result.stderr


@pytest.mark.parametrize(
    ("settings", "opens"),
    [
        ({}, True),  # no chat platform: the pages are what `run` serves
        ({"DISCORD_TOKEN": "t"}, False),  # nobody asked for a public port
        ({"DISCORD_TOKEN": "t", "UNDERSIGNED_PUBLIC_URL": "https://p.example.org"}, True),
        ({"DISCORD_TOKEN": "t", "UNDERSIGNED_HTTP_PORT": "3001"}, True),
        ({"DISCORD_TOKEN": "t", "UNDERSIGNED_HTTP_PORT": "3000"}, False),  # .env.example's
        ({"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "xapp"}, False),  # Socket Mode
        ({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "s"}, True),  # Slack over HTTP
    ],
)
def test_run_opens_the_http_port_only_when_something_needs_it(
    settings: dict[str, str], opens: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.runner import listens
    from runtime.config import Settings

    for name in list(os.environ):
        if name.startswith(("SLACK_", "DISCORD_", "UNDERSIGNED_")):
            monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    assert listens(Settings(_env_file=None)) is opens  # type: ignore[call-arg]


def test_petition_create_list_status_json_and_close(tmp_path: Path) -> None:
    letter = tmp_path / "letter.md"
    letter.write_text("# Dear CEO\n\nWe refuse.\n")
    made = run(
        tmp_path,
        "petition",
        "create",
        "--slug",
        "maven",
        "--title",
        "No Maven",
        "--goal",
        "4000",
        "--text-file",
        str(letter),
        "--deadline",
        FUTURE,
    )
    assert made.returncode == 0, made.stderr
    run(tmp_path, "console", stdin="@ann /sign maven\n@ben /sign maven anonymous\n")
    status = run(tmp_path, "petition", "status", "maven", "--json")
    data = json.loads(status.stdout)
    assert data["slug"] == "maven" and data["title"] == "No Maven" and data["kind"] == "petition"
    assert data["status"] == "open" and data["signatures"] == 2 and data["goal"] == 4000
    assert data["deadline"].startswith(FUTURE)
    assert "maven" in run(tmp_path, "petition", "list").stdout
    assert run(tmp_path, "petition", "close", "maven").returncode == 0
    assert (
        json.loads(run(tmp_path, "petition", "status", "maven", "--json").stdout)["status"]
        == "closed"
    )


def test_pledge_from_the_cli(tmp_path: Path) -> None:
    made = run(
        tmp_path,
        "petition",
        "create",
        "--slug",
        "strike",
        "--title",
        "Strike",
        "--kind",
        "pledge",
        "--threshold",
        "2",
        "--action",
        "walk out",
        "--deadline",
        FUTURE,
        "--text",
        "If two of us do, we all do.",
    )
    assert made.returncode == 0, made.stderr
    run(tmp_path, "console", stdin="@a /sign strike\n@b /sign strike\n")
    data = json.loads(run(tmp_path, "petition", "status", "strike", "--json").stdout)
    assert data["kind"] == "pledge" and data["outcome"] == "succeeded" and data["signatures"] == 2


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["petition", "status", "nope"], {}, "no campaign called `nope`"),
        (["console"], {"UNDERSIGNED_LOG_KEY": "not hex"}, "UNDERSIGNED_LOG_KEY must hold"),
        (["log", "key"], {"UNDERSIGNED_LOG_KEY": "ab" * 31}, "UNDERSIGNED_LOG_KEY must hold"),
        (
            ["run"],
            {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "UNDERSIGNED_LOG_KEY (or a file holding it, UNDERSIGNED_LOG_KEY_FILE) must be set",
        ),
        (
            ["petition", "create", "--slug", "x1", "--title", "T", "--goal", "0", "--text", "t"],
            {},
            "at least 1",
        ),
        (["petition", "create", "--slug", "x1", "--title", "T", "--goal", "3"], {}, "--text"),
        (
            [
                *CREATE_X1,
                "--text-file",
                "/no/such/file",
            ],
            {},
            "cannot read",
        ),
        (["petition", "list"], {"DATABASE_URL": "mysql://x@y/z"}, "supports sqlite"),
        (["petition", "list"], {"UNDERSIGNED_TIMEZONE": "Mars/Olympus"}, "unknown timezone"),
        (["petition", "list"], {"UNDERSIGNED_LOG_LEVEL": "LOUD"}, "UNDERSIGNED_LOG_LEVEL"),
        (["petition", "list"], {"UNDERSIGNED_RATE_LIMIT_PER_MINUTE": "-5"}, "zero or more"),
        (["petition", "list"], {"UNDERSIGNED_PURGE_AFTER_DAYS": "-1"}, "zero or more"),
        (["petition", "list"], {"UNDERSIGNED_OUTBOX_CONCURRENCY": "0"}, "more than zero"),
        ([*CREATE_X1, "--text", "x", "--kind", "poll"], {}, "--kind is petition or pledge"),
        ([*CREATE_X1, "--text", "x", "--names", "secret"], {}, "public, sealed or count-only"),
        (
            [
                *CREATE_X1,
                "--text-file",
                "/dev/urandom",
            ],
            {},
            "larger than",
        ),
        (
            [
                *CREATE_X1,
                "--text",
                "x",
                "--deadline",
                "9999-12-31T23:59+14:00",
            ],
            {},
            "years away",
        ),
        (
            [
                *CREATE_X1,
                "--text",
                "x",
                "--deadline",
                "9999-12-31",
            ],
            {"UNDERSIGNED_TIMEZONE": "America/Los_Angeles"},
            "can't read",
        ),
    ],
)
def test_cli_errors_are_one_line_and_non_zero(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = run(tmp_path, *args, env={"UNDERSIGNED_SECRET_KEY": "k", **env})
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and "Traceback" not in result.stderr
    listed = run(tmp_path, "petition", "list", env={"UNDERSIGNED_SECRET_KEY": "k"})
    assert "x1" not in listed.stdout  # nothing half-written


def test_a_piped_console_says_reminders_run_elsewhere(tmp_path: Path) -> None:
    session = (
        f'/petition new walk title:"Walk" goal:3 deadline:{FUTURE} Letter\n'
        "/petition remind walk every 2 hours\n"
    )
    out = run(tmp_path, "console", stdin=session).stdout
    assert "This session doesn't send them" in out and "undersigned run" in out


def test_an_interactive_console_runs_the_outbox_and_prints_no_log_over_the_prompt(
    tmp_path: Path,
) -> None:
    """Typed at a terminal (a pseudo-terminal here), milestones arrive as channel posts."""
    import pty
    import select
    import time

    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "UNDER"))
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "UNDERSIGNED_SECRET_KEY": "k",
            **EVERY_SIGNATURE,
        }
    )
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [EXE, "console"], stdin=follower, stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 20) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen.decode(errors="replace")

    try:
        read_until(b"> ")
        for line in (
            f'/petition new walk title:"Walk" goal:4 deadline:{FUTURE} Letter',
            "/petition post walk",
            "@ann /sign walk",
        ):
            os.write(leader, line.encode() + b"\n")
        read_until(b"[#terminal]")
        read_until(b"25% of the way")
    finally:
        proc.terminate()
        proc.wait(10)
        os.close(leader)
    assert b" INFO " not in seen, seen.decode(errors="replace")


def test_a_letter_of_several_paragraphs_in_the_console_and_on_one_line(tmp_path: Path) -> None:
    """A slash command is one line: `\\n` starts a new one. At the console a line ending in a
    backslash goes on (a line holding only `\\` is a blank line). `read` prints it once."""
    session = "\n".join(
        [
            '/petition new para title:"Para" goal:10 First paragraph.\\',
            "\\",
            "Second paragraph.",
            '/petition new one title:"One" goal:10 Alpha.\\n\\nBeta.',
            "/petition read para",
            "/petition read one",
        ]
    )
    result = run(tmp_path, "console", stdin=session + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "First paragraph.\n\nSecond paragraph." in out
    assert "Alpha.\n\nBeta." in out and "\\n" not in out.split("/petition read one", 1)[1]
    assert out.count("Second paragraph.") == 2  # as typed (echoed), then read once
    assert "== Para ==" not in out


def test_a_piped_console_prints_the_messages_a_command_caused_right_after_it(
    tmp_path: Path,
) -> None:
    """A pipe runs no schedule; the DMs and posts a command queued for this terminal used to be
    held back and come out later, out of order. Now they follow the reply that caused them."""
    session = "\n".join(
        [
            f'/petition new pl kind:pledge threshold:2 action:"strike" deadline:{FUTURE} '
            'title:"P" names:public If two of us do.',
            "/petition post pl",
            "@ann /sign pl",
            "@bob /sign pl",
            "@dora /petition status pl",
        ]
    )
    out = run(tmp_path, "console", stdin=session + "\n").stdout
    after_bob = out.split("> @bob /sign pl", 1)[1].split("> @dora", 1)[0]
    assert "[DM to @ann] It's on: 2 of us pledged to strike" in after_bob, out
    assert "[DM to @bob] It's on" in after_bob
    assert "[#terminal] 🎉 It's on" in after_bob
    assert after_bob.index("you pledged") < after_bob.index("[DM to @ann]")


def test_what_serving_says_to_nobody_in_particular_speaks_the_servers_language(
    tmp_path: Path,
) -> None:
    """With UNDERSIGNED_LANGUAGE=de, the list of campaigns and "not found" (no campaign, no
    Accept-Language) speak German: the server's language is the serving context's."""
    port = free_port()
    env = _environment(tmp_path, port) | {"UNDERSIGNED_LANGUAGE": "de"}
    proc = subprocess.Popen(
        [EXE, "run"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    index = r.read().decode()
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert '<html lang="de">' in index and "Offene Briefe und Zusagen" in index
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_log_key_is_generated_once_privately_and_can_be_given(tmp_path: Path) -> None:
    first, second = run(tmp_path, "log", "key"), run(tmp_path, "log", "key")
    assert first.returncode == 0 and first.stdout == second.stdout, first.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", first.stdout)
    assert (tmp_path / "bot.log.key").stat().st_mode & 0o777 == 0o600
    made = run(tmp_path, "log", "new-key")
    seed, public = made.stdout.strip(), made.stderr.strip().removeprefix("public key: ")
    assert re.fullmatch(r"[0-9a-f]{64}", seed) and seed != public
    # The database recorded the first key: another one given is refused, never printed.
    other = run(tmp_path, "log", "key", env={"UNDERSIGNED_LOG_KEY": seed})
    assert other.returncode == 1 and "UNDERSIGNED_LOG_KEY holds key" in other.stderr
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    given = run(fresh, "log", "key", env={"UNDERSIGNED_LOG_KEY": seed})
    assert given.stdout.strip() == public != first.stdout.strip()
