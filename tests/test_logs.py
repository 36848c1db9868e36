"""The log an operator reads: one line per failure (tracebacks only at DEBUG), JSON lines when
asked, and a failure that repeats said once a minute with how often it came."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import logs
from tests.slack_harness import EXE, clean_env, free_port


@pytest.fixture
def restored() -> Iterator[None]:
    """configure() changes process-wide logging: put it back as it was."""
    root = logging.getLogger()
    named = (*logs.OUR_LOGGERS, *logs.QUIET_LOGGERS)
    saved = root.level, list(root.handlers), {n: logging.getLogger(n).level for n in named}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def _fail_once(logger: logging.Logger) -> None:
    try:
        raise ConnectionResetError("peer U0SECRET reset")
    except ConnectionResetError:
        logger.exception("the database is unavailable", extra={"campaign": "walkout"})


def test_a_failure_is_one_line_without_its_words_unless_debug(restored: None) -> None:
    out = io.StringIO()
    logs.configure("INFO", "text", out)
    _fail_once(logging.getLogger("storage.test_one_line"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "ERROR storage.test_one_line: the database is unavailable (ConnectionResetError)"
    ), lines
    assert "U0SECRET" not in out.getvalue()  # an exception's words may quote someone

    out = io.StringIO()
    logs.configure("DEBUG", "text", out)
    _fail_once(logging.getLogger("storage.test_one_line_debug"))
    assert "Traceback (most recent call last)" in out.getvalue()
    assert len(out.getvalue().splitlines()) > 3


def test_json_lines_carry_time_level_logger_message_and_safe_fields(restored: None) -> None:
    out = io.StringIO()
    logs.configure("INFO", "json", out)
    log = logging.getLogger("bot.test_json")
    log.info("released a step", extra={"campaign": "walkout", "platform": "slack", "who": "U1"})
    _fail_once(logging.getLogger("storage.test_json"))
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "campaign", "platform"}
    assert first["level"] == "INFO" and first["logger"] == "bot.test_json"
    assert first["message"] == "released a step" and first["campaign"] == "walkout"
    assert first["time"].endswith("+00:00")
    assert second["error"] == "ConnectionResetError" and "traceback" not in second

    out = io.StringIO()
    logs.configure("DEBUG", "json", out)
    _fail_once(logging.getLogger("storage.test_json_debug"))
    (entry,) = (json.loads(line) for line in out.getvalue().splitlines())
    assert "Traceback" in entry["traceback"]


def test_a_repeated_failure_is_said_once_a_minute_with_its_count(restored: None) -> None:
    now = [1000.0]
    out = io.StringIO()
    logs.configure("INFO", "text", out)
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "undersigned", False)]
    (once,) = [f for f in handler.filters if isinstance(f, logs.OncePerMinute)]
    once.clock = lambda: now[0]
    log = logging.getLogger("storage.test_repeat")
    for _ in range(500):
        _fail_once(log)
        log.warning("outbox paused")
        log.info("an ordinary line")  # not a failure: never held back
    assert out.getvalue().count("the database is unavailable") == 1
    assert out.getvalue().count("outbox paused") == 1
    assert out.getvalue().count("an ordinary line") == 500
    now[0] += 61
    _fail_once(log)
    assert "the database is unavailable (ConnectionResetError) (and 499 more like it" not in (
        out.getvalue()
    )
    assert "(and 499 more like it in the last minute) (ConnectionResetError)" in out.getvalue()


def test_run_logs_json_lines_only(tmp_path: Path) -> None:
    """`UNDERSIGNED_LOG_FORMAT=json undersigned run`: every line on stderr is one object."""
    port = free_port()
    env = clean_env(tmp_path / "bot.db")
    env.update(UNDERSIGNED_LOG_FORMAT="json", UNDERSIGNED_HTTP_PORT=str(port))
    proc = subprocess.Popen(
        [EXE, "run"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    from tests.cli_paths import wait_until_healthy

    try:
        wait_until_healthy(proc, port)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    lines = err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert any("Ctrl-C to stop" in e["message"] for e in entries), entries
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)


def test_a_library_warning_that_is_no_news_is_left_out(restored: None) -> None:
    out = io.StringIO()
    logs.configure("INFO", "text", out)
    logging.getLogger("slack_bolt.AsyncApp").warning(
        "As you gave `client` as well, `token` will be unused."
    )
    logging.getLogger("slack_bolt.AsyncApp").warning("something else")
    assert "token" not in out.getvalue() and "something else" in out.getvalue()
