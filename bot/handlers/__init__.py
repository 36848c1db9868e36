"""One entry per intent of the grammar: which handler answers it.

Each handler is an async function `(ctx, actor, command, place) -> Reply`, grouped by topic in
this package. Adding a command is one line here and one in `bot/commands.py`; a test checks that
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
    cmd.Sign: signing.sign_command,
    cmd.Consent: signing.consent_command,
    cmd.Safety: reading.safety,
    cmd.Unsign: signing.unsign_command,
    cmd.Status: reading.status_command,
    cmd.Read: reading.read_command,
    cmd.ListCampaigns: reading.list_command,
    cmd.Help: reading.help_command,
    cmd.Create: campaigns.create_command,
    cmd.Edit: campaigns.edit_command,
    cmd.Close: campaigns.close_command,
    cmd.Post: campaigns.post_command,
    cmd.Mine: signer_data.mine_command,
    cmd.ForgetMe: signer_data.forget_me_command,
    cmd.Organizers: organizers.organizers_command,
    cmd.Audit: organizers.audit_command,
    cmd.Export: organizers.export_command,
    cmd.Purge: organizers.purge_command,
    cmd.Publish: publishing.publish_command,
    cmd.Remind: reminders.remind_command,
    cmd.Reminders: reminders.reminders_command,
    cmd.Webhook: reminders.webhook_command,
}
