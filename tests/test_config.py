"""Settings: every one is documented in .env.example, and plain URLs are accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_env_example_and_the_operators_guide() -> None:
    example = (ROOT / ".env.example").read_text()
    operating = (ROOT / "docs" / "operating.md").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.alias}=" in example, field.alias
        assert field.alias in operating, field.alias


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_GUILD_IDS", "123, abc")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("DISCORD_GUILD_IDS", "123, 456")
    assert Settings().guild_ids == [123, 456]


@pytest.mark.parametrize("creators", [",,:::", ",", "slack::U1", "bogus:X", "a b", "U1,,U2"])
def test_creators_that_would_mean_nobody_or_everybody_are_refused(
    monkeypatch: pytest.MonkeyPatch, creators: str
) -> None:
    monkeypatch.setenv("UNDERSIGNED_CREATORS", creators)
    with pytest.raises(ValidationError, match=r"UNDERSIGNED_CREATORS|creators"):
        Settings()


@pytest.mark.parametrize(
    "creators", ["anyone", "U0123ABC", "slack:T01:U0123", "discord-role:42, slack-team:T9"]
)
def test_creators_in_every_documented_form_are_accepted(
    monkeypatch: pytest.MonkeyPatch, creators: str
) -> None:
    monkeypatch.setenv("UNDERSIGNED_CREATORS", creators)
    assert Settings().creators == creators


def test_the_count_window_is_read_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNDERSIGNED_COUNT_WINDOW_MINUTES", "0")
    assert Settings().steps.immediate
    monkeypatch.setenv("UNDERSIGNED_COUNT_WINDOW_MINUTES", "5000")
    with pytest.raises(ValidationError):
        Settings()


def test_serving_freezes_what_start_up_built_so_full_collections_skip_it() -> None:
    """The collector's full passes over start-up's objects stalled acks for 100 ms or more."""
    import gc

    from runtime.heap import settle_heap

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_a_fresh_clone_is_told_once_why_tests_were_skipped(tmp_path: Path) -> None:
    """`pytest` without PostgreSQL used to print "114 skipped" and nothing else."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEST_DATABASE_URL", "UNDERSIGNED_REQUIRE_POSTGRES")
    }
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "-k", "fifty_signers",
         "tests/test_concurrency.py"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    lines = [line for line in result.stdout.splitlines() if "PostgreSQL is not configured" in line]
    assert len(lines) == 1 and "set TEST_DATABASE_URL=" in lines[0], result.stdout[-2000:]
    assert lines[0].startswith("1 skipped:")


def _clean_environment() -> dict[str, str]:
    """The process environment without any setting of ours: only `.env` speaks."""
    ours = ("SLACK_", "DISCORD_", "MATRIX_", "UNDERSIGNED_", "DATABASE_", "LC_", "LANG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["LANG"] = "C.UTF-8"
    return env


def test_the_shipped_template_starts_when_copied(tmp_path: Path) -> None:
    """`cp .env.example .env` and `undersigned run`: every empty value means unset."""
    from tests.cli_paths import EXE, wait_until_healthy
    from tests.slack_harness import free_port

    port = free_port()
    template = (ROOT / ".env.example").read_text()
    assert "UNDERSIGNED_HTTP_PORT=3000\n" in template  # only the port changes: 3000 may be taken
    (tmp_path / ".env").write_text(
        template.replace("UNDERSIGNED_HTTP_PORT=3000", f"UNDERSIGNED_HTTP_PORT={port}")
    )
    proc = subprocess.Popen(
        [EXE, "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_clean_environment(),
    )
    try:
        wait_until_healthy(proc, port)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "error" not in err.lower() and "Traceback" not in err, err
    assert (tmp_path / "undersigned.db").exists() and (tmp_path / "undersigned.key").exists()


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("UNDERSIGNED_LANGAUGE=de", "UNDERSIGNED_LANGUAGE"),
        ("DATABASE_URI=sqlite:///./other.db", "DATABASE_URL"),
        ("UNDERSIGNED_COUNT_WINDOW=5", "UNDERSIGNED_COUNT_WINDOW_MINUTES"),
    ],
)
def test_a_misspelt_setting_stops_the_start_and_says_which_was_meant(
    tmp_path: Path, line: str, meant: str
) -> None:
    from tests.cli_paths import EXE

    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text() + line + "\n")
    done = subprocess.run(
        [EXE, "db", "status"], capture_output=True, text=True, cwd=tmp_path,
        env=_clean_environment(), timeout=60,
    )  # fmt: skip
    name = line.split("=")[0]
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"unknown setting {name}: did you mean {meant}?" in done.stderr


def test_other_tools_settings_in_the_environment_are_left_alone(tmp_path: Path) -> None:
    from tests.cli_paths import EXE

    env = _clean_environment() | {"MATRIX_HOMESERVER_URL": "x", "UNDERSIGNED_REQUIRE_X": "1"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    done = subprocess.run(
        [EXE, "db", "status"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_no_library_logs_below_warning_at_any_level_of_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """matrix-nio said at INFO who opened a direct message with the bot; slack_bolt logs
    acknowledgement bodies at DEBUG. Ours follow the setting; no library, named or not."""
    import logging

    from adapters.cli import _setup_logging
    from runtime.logs import OUR_LOGGERS, QUIET_LOGGERS

    root = logging.getLogger()
    named = (*OUR_LOGGERS, *QUIET_LOGGERS)
    saved = root.level, {n: logging.getLogger(n).level for n in named}, list(root.handlers)
    monkeypatch.setenv("UNDERSIGNED_LOG_LEVEL", "DEBUG")
    try:
        _setup_logging(Settings())
        for ours in ("bot.jobs", "adapters.matrix.bot", "runtime.scheduler", "storage.writer"):
            assert logging.getLogger(ours).getEffectiveLevel() == logging.DEBUG, ours
        for library in ("nio.crypto", "nio.client.async_client", "peewee", "slack_bolt.App",
                        "some.library.nobody.named", "aiohttp.access"):  # fmt: skip
            assert logging.getLogger(library).getEffectiveLevel() >= logging.WARNING, library
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[2]
        for name, level in saved[1].items():  # as it was: the suite runs in any order
            logging.getLogger(name).setLevel(level)


def test_the_readmes_piped_session_shows_a_count_that_moves(tmp_path: Path) -> None:
    """The first thing a newcomer runs: three named signers show at once, and the status
    says why the anonymous fourth waits."""
    import re
    import shlex

    from tests.cli_paths import EXE

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(printf '%s\\n' \\\n.*?)\n```", readme, re.S)
    assert block is not None, "the README's piped session"
    lines = [shlex.split(x.rstrip(" \\"))[0] for x in block.group(1).splitlines()[1:]]
    command = block.group(1).splitlines()[-1].split("|", 1)[1].split()
    settings = dict(part.split("=", 1) for part in command if "=" in part)
    env = _clean_environment() | settings | {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    done = subprocess.run(
        [EXE, "console"], input="\n".join(lines) + "\n", capture_output=True, text=True,
        cwd=tmp_path, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status = done.stdout.rsplit("> @dave /petition status walkout", 1)[1]
    assert "3 of 1,000 signatures" in status, status
    assert "steps" in status and "midnight" in status


def test_a_job_cut_short_by_shutdown_is_no_error_with_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopping `run` just after it started logged APScheduler's "Error running job" with a
    CancelledError traceback: at shutdown that is expected. A real failure still shows."""
    import asyncio
    import logging

    import runtime.scheduler  # noqa: F401  (its filter on APScheduler's loggers)

    logger = logging.getLogger("apscheduler.executors.default")
    with caplog.at_level(logging.ERROR, logger="apscheduler.executors.default"):
        for exc in (asyncio.CancelledError(), RuntimeError("a real failure")):
            try:
                raise exc
            except BaseException:
                logger.exception("Error running job %s", "sweep")
    assert [r.exc_info[1].__class__ for r in caplog.records if r.exc_info] == [RuntimeError]


def test_a_key_set_and_a_key_file_that_differ_are_refused(tmp_path: Path) -> None:
    """Compose reads the keys from secret files; a key also left in .env would win silently,
    and the file backed up would not be the key in use."""
    import subprocess

    from tests.cli_paths import EXE
    from tests.slack_harness import clean_env

    env = clean_env(tmp_path / "bot.db")
    (tmp_path / "signer.key").write_text("another-key\n")
    env["UNDERSIGNED_SECRET_KEY_FILE"] = str(tmp_path / "signer.key")
    refused = subprocess.run(
        [EXE, "petition", "list"], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: UNDERSIGNED_SECRET_KEY and the file"), refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    (tmp_path / "signer.key").write_text(env["UNDERSIGNED_SECRET_KEY"] + "\n")  # the same key
    agreed = subprocess.run(
        [EXE, "petition", "list"], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert agreed.returncode == 0, agreed.stderr


def test_a_secret_from_a_file_and_its_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "discord_token"
    token.write_text("MTIz.secret-token\n")
    monkeypatch.setenv("DISCORD_TOKEN_FILE", str(token))
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert Settings().discord_token == "MTIz.secret-token"
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.other")
    with pytest.raises(ValidationError, match="set DISCORD_TOKEN or DISCORD_TOKEN_FILE, not both"):
        Settings()
    monkeypatch.delenv("DISCORD_TOKEN")
    token.write_text("\n")
    with pytest.raises(ValidationError, match="is empty"):
        Settings()
    # The secret itself pasted where its file's name goes is never echoed back.
    monkeypatch.setenv("DISCORD_TOKEN_FILE", "MTIz.pasted-secret")
    with pytest.raises(ValidationError) as refused:
        Settings()
    said = refused.value.errors()[0]["msg"]
    assert "cannot read the file it names" in said and "pasted-secret" not in said
