"""Settings read from the environment and a `.env` file (pydantic-settings)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.messages import choose_language
from bot.domain.steps import StepRule

# Settings that may come from a file instead (`X_FILE`), as Docker secrets are mounted.
SECRET_FILES = (
    "UNDERSIGNED_TOKEN_KEY",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
    "DISCORD_TOKEN",
    "MATRIX_PASSWORD",
    "MATRIX_ACCESS_TOKEN",
)


def _shown(path: str) -> str:
    """A file's name as typed, unless it looks like the secret itself pasted in its place."""
    return path if path.startswith(("/", ".", "~")) else "the file it names"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every setting Undersigned reads; `.env.example` documents each one."""

    # An empty value means "unset" (a copied template leaves many empty), in .env and outside.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = Field(default="sqlite:///./undersigned.db", alias="DATABASE_URL")
    secret_key: str | None = Field(default=None, alias="UNDERSIGNED_SECRET_KEY")
    key_file: Path | None = Field(
        default=None,
        alias="UNDERSIGNED_KEY_FILE",
        validation_alias=AliasChoices("UNDERSIGNED_KEY_FILE", "UNDERSIGNED_SECRET_KEY_FILE"),
    )
    log_key: str | None = Field(default=None, alias="UNDERSIGNED_LOG_KEY")
    log_key_file: Path | None = Field(default=None, alias="UNDERSIGNED_LOG_KEY_FILE")
    timezone: str = Field(default="UTC", alias="UNDERSIGNED_TIMEZONE")
    language: str = Field(default="en", alias="UNDERSIGNED_LANGUAGE")
    sqlite_synchronous: str = Field(default="NORMAL", alias="UNDERSIGNED_SQLITE_SYNCHRONOUS")
    log_level: str = Field(default="INFO", alias="UNDERSIGNED_LOG_LEVEL")
    log_format: str = Field(default="text", alias="UNDERSIGNED_LOG_FORMAT")
    http_host: str = Field(default="0.0.0.0", alias="UNDERSIGNED_HTTP_HOST")
    http_port: int = Field(default=3000, alias="UNDERSIGNED_HTTP_PORT")
    public_url: str | None = Field(default=None, alias="UNDERSIGNED_PUBLIC_URL")

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_redirect_uri: str | None = Field(default=None, alias="SLACK_REDIRECT_URI")
    slack_allowed_workspaces: str = Field(default="", alias="SLACK_ALLOWED_WORKSPACES")
    token_key: str | None = Field(default=None, alias="UNDERSIGNED_TOKEN_KEY")
    discord_token: str | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_guild_ids: str = Field(default="", alias="DISCORD_GUILD_IDS")
    discord_api_url: str = Field(default="https://discord.com/api/v10", alias="DISCORD_API_URL")
    discord_gateway_url: str = Field(
        default="wss://gateway.discord.gg/", alias="DISCORD_GATEWAY_URL"
    )
    matrix_homeserver: str | None = Field(default=None, alias="MATRIX_HOMESERVER")
    matrix_user_id: str | None = Field(default=None, alias="MATRIX_USER_ID")
    matrix_password: str | None = Field(default=None, alias="MATRIX_PASSWORD")
    matrix_access_token: str | None = Field(default=None, alias="MATRIX_ACCESS_TOKEN")
    matrix_device_name: str = Field(default="Undersigned", alias="MATRIX_DEVICE_NAME")
    matrix_store: Path | None = Field(default=None, alias="MATRIX_STORE")
    matrix_allowed_servers: str = Field(default="", alias="MATRIX_ALLOWED_SERVERS")
    creators: str = Field(default="anyone", alias="UNDERSIGNED_CREATORS")
    rate_limit_per_minute: int = Field(default=30, alias="UNDERSIGNED_RATE_LIMIT_PER_MINUTE")
    purge_after_days: float | None = Field(default=None, alias="UNDERSIGNED_PURGE_AFTER_DAYS")
    reminder_grace_minutes: float = Field(default=60.0, alias="UNDERSIGNED_REMINDER_GRACE_MINUTES")
    outbox_concurrency: int = Field(default=4, alias="UNDERSIGNED_OUTBOX_CONCURRENCY")
    webhook_allow_private: bool = Field(default=False, alias="UNDERSIGNED_WEBHOOK_ALLOW_PRIVATE")
    leader_retry_seconds: float = Field(default=5.0, alias="UNDERSIGNED_LEADER_RETRY_SECONDS")
    recount_minutes: float = Field(default=60.0, alias="UNDERSIGNED_RECOUNT_MINUTES")
    refresh_seconds: float = Field(default=3.0, alias="UNDERSIGNED_REFRESH_SECONDS")
    count_window_minutes: float = Field(default=15.0, alias="UNDERSIGNED_COUNT_WINDOW_MINUTES")
    count_step: int = Field(default=3, alias="UNDERSIGNED_COUNT_STEP")
    metrics_port: int | None = Field(default=None, alias="UNDERSIGNED_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", alias="UNDERSIGNED_METRICS_HOST")
    heartbeat_file: Path | None = Field(default=None, alias="UNDERSIGNED_HEARTBEAT_FILE")

    # Secrets from files (Docker secrets, a mounted key): `X_FILE` holds what `X` would.
    token_key_file: Path | None = Field(default=None, alias="UNDERSIGNED_TOKEN_KEY_FILE")
    slack_bot_token_file: Path | None = Field(default=None, alias="SLACK_BOT_TOKEN_FILE")
    slack_signing_secret_file: Path | None = Field(default=None, alias="SLACK_SIGNING_SECRET_FILE")
    slack_app_token_file: Path | None = Field(default=None, alias="SLACK_APP_TOKEN_FILE")
    slack_client_secret_file: Path | None = Field(default=None, alias="SLACK_CLIENT_SECRET_FILE")
    discord_token_file: Path | None = Field(default=None, alias="DISCORD_TOKEN_FILE")
    matrix_password_file: Path | None = Field(default=None, alias="MATRIX_PASSWORD_FILE")
    matrix_access_token_file: Path | None = Field(default=None, alias="MATRIX_ACCESS_TOKEN_FILE")

    model_config["populate_by_name"] = True

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        """`X_FILE` names a file holding the value of `X` (its trailing newline dropped);
        setting both is refused, never guessed."""
        if not isinstance(data, dict):
            return data
        for alias in SECRET_FILES:
            path = data.get(f"{alias}_FILE")
            if not path:
                continue
            if data.get(alias):
                raise ValueError(f"set {alias} or {alias}_FILE, not both")
            try:
                data[alias] = Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                reason = (getattr(exc, "strerror", None) or "not text").lower()
                raise ValueError(f"{alias}_FILE: cannot read {_shown(path)}: {reason}") from None
            if not data[alias]:
                raise ValueError(f"{alias}_FILE: {_shown(path)} is empty")
        return data

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return choose_language(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use a name like Europe/Berlin)") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or any(c in value for c in " <>\"'"):
            raise ValueError(
                "UNDERSIGNED_PUBLIC_URL must be an address like https://letters.example.org"
            )
        return value.rstrip("/")

    @field_validator("matrix_homeserver")
    @classmethod
    def _matrix_homeserver(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or any(c in value for c in " <>\"'"):
            raise ValueError("MATRIX_HOMESERVER must be an address like https://matrix.example.org")
        return value.rstrip("/")

    @field_validator("matrix_user_id")
    @classmethod
    def _matrix_user_id(cls, value: str | None) -> str | None:
        if not value:
            return None
        local, _, server = value.partition(":")
        if not local.startswith("@") or len(local) < 2 or not server:
            raise ValueError("MATRIX_USER_ID must be a full user id like @undersigned:example.org")
        return value

    @property
    def matrix_servers(self) -> frozenset[str]:
        """Homeservers whose users may invite the bot: MATRIX_ALLOWED_SERVERS, else its own."""
        listed = {s.strip().lower() for s in self.matrix_allowed_servers.split(",") if s.strip()}
        own = (self.matrix_user_id or "").partition(":")[2].lower()
        return frozenset(listed or ({own} if own else set()))

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_sync_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"NORMAL", "FULL", "EXTRA"}:
            raise ValueError("UNDERSIGNED_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")
        return upper

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in LOG_LEVELS:
            raise ValueError(f"UNDERSIGNED_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return upper

    @field_validator(
        "rate_limit_per_minute",
        "purge_after_days",
        "reminder_grace_minutes",
        "recount_minutes",
        "refresh_seconds",
        "count_window_minutes",
    )
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and (value < 0 or value != value):  # NaN too
            raise ValueError("must be zero or more")
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        lower = value.strip().lower()
        if lower not in ("text", "json"):
            raise ValueError("must be text or json")
        return lower

    @field_validator("metrics_port")
    @classmethod
    def _a_port(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value < 65536:
            raise ValueError("must be a port number from 1 to 65535")
        return value

    @field_validator("outbox_concurrency", "leader_retry_seconds", "http_port")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be more than zero")
        return value

    @field_validator("creators")
    @classmethod
    def _creators(cls, value: str) -> str:
        """Refuse what would silently mean nobody (`:::`) or everybody (`,,`)."""
        entries = [p.strip() for p in value.split(",")]
        if not value.strip():
            return "anyone"
        for entry in entries:
            parts = entry.split(":")
            ok = bool(entry) and all(
                part and all(c.isalnum() or c in "-_." for c in part) for part in parts
            )
            if not ok or len(parts) not in (1, 2, 3):
                raise ValueError(
                    f"{entry!r} is neither `anyone`, a user id, an identity "
                    "(slack:T01:U0123), nor `discord-role:ID`, `slack-group:ID` or "
                    "`slack-team:ID`"
                )
            if len(parts) == 2 and parts[0] not in (
                "discord-role",
                "slack-group",
                "slack-team",
                "discord-server",
            ):
                raise ValueError(f"{entry!r}: unknown kind {parts[0]!r}")
        return value

    @field_validator("count_step")
    @classmethod
    def _a_step(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1 (3 or more keeps signatures untimeable)")
        return value

    @field_validator("count_window_minutes")
    @classmethod
    def _within_a_day(cls, value: float) -> float:
        if value > 1440:
            raise ValueError("must be at most 1440 (a day: counts move at each day boundary)")
        return value

    @field_validator("discord_guild_ids")
    @classmethod
    def _guild_ids(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.isdigit():
                raise ValueError("DISCORD_GUILD_IDS must be comma-separated numeric server ids")
        return value

    @model_validator(mode="after")
    def _oauth_complete(self) -> Settings:
        """ "Add to Slack" needs all of its settings, and never stores a token unencrypted."""
        if not (self.slack_client_id or self.slack_client_secret):
            return self
        missing = [
            name
            for name, value in (
                ("SLACK_CLIENT_ID", self.slack_client_id),
                ("SLACK_CLIENT_SECRET", self.slack_client_secret),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ("UNDERSIGNED_TOKEN_KEY", self.token_key),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"installing in many Slack workspaces also needs {', '.join(missing)}")
        from storage.token_cipher import TokenCipher  # validates the key's form

        TokenCipher.from_setting(self.token_key or "")
        return self

    @model_validator(mode="after")
    def _matrix_complete(self) -> Settings:
        """Matrix needs where, who, and a password or a token; any one set asks for it."""
        asked = self.matrix_homeserver or self.matrix_user_id
        asked = asked or self.matrix_password or self.matrix_access_token
        if not asked:
            return self
        missing = [
            name
            for name, value in (
                ("MATRIX_HOMESERVER", self.matrix_homeserver),
                ("MATRIX_USER_ID", self.matrix_user_id),
                (
                    "MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN",
                    self.matrix_password or self.matrix_access_token,
                ),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"Matrix also needs {', '.join(missing)}")
        return self

    @property
    def matrix_store_path(self) -> Path:
        """Where the Matrix encryption keys live: MATRIX_STORE, else beside the database."""
        if self.matrix_store is not None:
            return self.matrix_store
        url = self.database_url
        if url.startswith("sqlite") and ":memory:" not in url:
            return Path(url.split("///", 1)[-1].split("?", 1)[0]).parent / "matrix-store"
        return Path("matrix-store")

    @property
    def allowed_workspaces(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.slack_allowed_workspaces.split(",") if p.strip())

    @property
    def slack_oauth(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def guild_ids(self) -> list[int]:
        return [int(p) for p in (p.strip() for p in self.discord_guild_ids.split(",")) if p]

    @property
    def reminder_grace(self) -> timedelta:
        return timedelta(minutes=self.reminder_grace_minutes)

    @property
    def steps(self) -> StepRule:
        return StepRule(window=timedelta(minutes=self.count_window_minutes), batch=self.count_step)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


OURS = ("UNDERSIGNED_", "SLACK_", "DISCORD_", "MATRIX_", "DATABASE_")


def misspelt_settings(
    environ: dict[str, str], env_file: Path = Path(".env")
) -> list[tuple[str, str]]:
    """(name, the setting it is close to) for each name that looks like a misspelt setting:
    an `UNDERSIGNED_` one in the environment or `.env`, or any of ours in `.env` (elsewhere
    the environment may hold other tools' `SLACK_…`). Unknown and unlike any: left alone."""
    import difflib

    from dotenv import dotenv_values

    known = {f.alias for f in Settings.model_fields.values() if f.alias}
    known.add("UNDERSIGNED_SECRET_KEY_FILE")
    names = {n for n in environ if n.startswith("UNDERSIGNED_")}
    if env_file.is_file():
        names |= {n for n in dotenv_values(env_file) if n.startswith(OURS)}
    found = []
    for name in sorted(names - known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
        if close:
            found.append((name, close[0]))
    return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
