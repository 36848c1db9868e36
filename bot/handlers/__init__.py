"""One entry per intent of the grammar: which handler answers it.

Each handler is an async function `(ctx, actor, command, place) -> Reply`, grouped by topic in
this package. Adding a command is one line here and one in `bot/commands/`; a test checks that
no command of the grammar is left without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import commands as cmd
from bot.context import Context
from bot.domain.identity import Actor, Place
from bot.domain.replies import Reply
from bot.handlers import (
    campaigns,
    organizers,
    publishing,
    reading,
    reminders,
    signer_data,
    signing,
)

Handler = Callable[[Context, Actor, Any, Place | None], Awaitable[Reply]]

HANDLERS: dict[type, Handler] = {
    cmd.Sign: signing.sign,
    cmd.Consent: signing.consent,
    cmd.Safety: reading.safety,
    cmd.Unsign: signing.unsign,
    cmd.Status: reading.status,
    cmd.Read: reading.read,
    cmd.ListCampaigns: reading.list_campaigns,
    cmd.Help: reading.help,
    cmd.Create: campaigns.create,
    cmd.Edit: campaigns.edit,
    cmd.Close: campaigns.close,
    cmd.Post: campaigns.post,
    cmd.Mine: signer_data.mine,
    cmd.ForgetMe: signer_data.forget_me,
    cmd.Organizers: organizers.organizers,
    cmd.Audit: organizers.audit,
    cmd.Export: organizers.export_reply,
    cmd.Purge: organizers.purge,
    cmd.Publish: publishing.publish,
    cmd.Remind: reminders.remind,
    cmd.Reminders: reminders.reminders,
    cmd.Webhook: reminders.webhook,
}
