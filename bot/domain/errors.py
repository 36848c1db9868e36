"""Errors the core turns into friendly chat replies instead of tracebacks."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: the message says what went wrong, `usage` shows the right way."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class NotFound(UserError):
    """No campaign by that slug."""


class NotAllowed(UserError):
    """The actor lacks the power for this action."""


class SlugTaken(Exception):
    """A campaign by that name exists (raised by storage, also when a concurrent create won)."""
