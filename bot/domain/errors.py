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


class StorageUnavailable(UserError):
    """The database was locked or out of reach past every retry: nothing was recorded. Said
    plainly in the person's language; the driver's words never reach them."""

    def __init__(self) -> None:
        from bot.domain.messages import _

        super().__init__(
            _(
                "The database is busy or out of reach right now, so nothing was recorded. "
                "Please try again in a moment."
            )
        )
