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


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for field in Settings.model_fields.values():
        assert f"{field.alias}=" in example, field.alias
        assert field.alias in readme, field.alias


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
