"""How the process logs: ours at the level asked for, every library at WARNING, text or JSON,
one line per failure, and a failure that repeats said once a minute with how often it came.

A log is a public figure to whoever reads it (an operator, a log shipper, a support ticket):
libraries log request bodies, user ids and who opened a direct message below WARNING, so no
library goes below it at any level of ours (the root logger stays at WARNING)."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.cache import Bounded

OUR_LOGGERS = ("bot", "adapters", "runtime", "storage")
QUIET_LOGGERS = (
    "sqlalchemy",
    "alembic",
    "apscheduler",
    "slack_bolt",
    "slack_sdk",
    "slack",
    "discord",
    "aiohttp",
    "websockets",
    "httpx",
    "httpcore",
    "asyncio",
    "nio",
    "peewee",
)
FORMATS = ("text", "json")
# Fields a log call may add (`extra=`) that JSON lines carry: none of them names a person.
SAFE_FIELDS = ("campaign", "platform", "kind", "count", "seconds", "attempt")
REPEAT_SECONDS = 60.0


# What libraries warn about on every start of ours and is no news to an operator.
EXPECTED = (
    # bolt reads SLACK_BOT_TOKEN from the environment itself; we hand it the client.
    ("slack_bolt", "As you gave `client` as well, `token` will be unused."),
    # discord.py's voice, which the bot never uses.
    ("discord.client", "PyNaCl is not installed, voice will NOT be supported"),
    ("discord.client", "davey is not installed, voice will NOT be supported"),
)


class Expected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(
            record.name.startswith(name) and record.getMessage() == message
            for name, message in EXPECTED
        )


class OncePerMinute(logging.Filter):
    """A failure (WARNING or worse) of one kind (logger, message as written, exception type)
    passes once per minute; the next one after the minute says how many were held back. A
    database outage of a few seconds is a handful of lines, not thousands of tracebacks."""

    def __init__(self, seconds: float = REPEAT_SECONDS, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self._last: Bounded[tuple[str, str, str], tuple[float, int]] = Bounded(1_000)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        failure = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, record.getMessage(), failure)
        now = self.clock()
        seen = self._last.get(kind)
        if seen is not None and now - seen[0] < self.seconds:
            self._last[kind] = (seen[0], seen[1] + 1)
            return False
        self._last[kind] = (now, 0)
        if seen is not None and seen[1]:
            record.repeated = seen[1]
        return True


def _failure(record: logging.LogRecord, *, traceback: bool, formatter: logging.Formatter) -> str:
    """The exception of a record: its whole traceback at DEBUG, else its type only (its words
    may quote what someone typed)."""
    if not record.exc_info or not record.exc_info[0]:
        return ""
    if traceback:
        return formatter.formatException(record.exc_info)
    return record.exc_info[0].__name__


def _repeated(record: logging.LogRecord) -> str:
    n = getattr(record, "repeated", 0)
    return f" (and {n} more like it in the last minute)" if n else ""


class TextLines(logging.Formatter):
    """`time LEVEL logger: message`, one line per record unless tracebacks are asked for."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line = logging.Formatter.format(self, _without_exception(record)) + _repeated(record)
        failure = _failure(record, traceback=self.tracebacks, formatter=self)
        if failure and self.tracebacks:
            return f"{line}\n{failure}"
        return f"{line} ({failure})" if failure else line


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the safe fields given."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in SAFE_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value if isinstance(value, int | float) else str(value)
        if getattr(record, "repeated", 0):
            entry["repeated"] = record.repeated
        failure = _failure(record, traceback=self.tracebacks, formatter=self)
        if failure:
            entry["traceback" if self.tracebacks else "error"] = failure
        return json.dumps(entry, ensure_ascii=False)


def _without_exception(record: logging.LogRecord) -> logging.LogRecord:
    if not record.exc_info and not record.exc_text:
        return record
    plain = logging.makeLogRecord(record.__dict__)
    plain.exc_info = plain.exc_text = None
    plain.stack_info = None
    return plain


def configure(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Our loggers at `level`, every library's at WARNING, one handler on the root logger."""
    number = getattr(logging, level.upper(), logging.INFO)
    verbose = number <= logging.DEBUG
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonLines if fmt == "json" else TextLines
    handler.setFormatter(formatter(tracebacks=verbose))
    handler.addFilter(Expected())
    handler.addFilter(OncePerMinute())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "undersigned", False)]:
        root.removeHandler(old)
    handler.undersigned = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(number)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
