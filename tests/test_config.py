"""Settings: every one is documented in .env.example, and plain URLs are accepted."""

from __future__ import annotations

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
