"""One entry per command: which use case answers each intent of the grammar.

A table instead of a long `match`: adding a command is one line here and one in
`bot/commands.py`, and a test checks that no command of the grammar is left without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot import commands as cmd
from bot.identity import Actor, Place
from bot.notices import safety_explanation
from bot.replies import Reply

if TYPE_CHECKING:
    from bot.service import Service

Handler = Callable[["Service", Actor, Any, Place | None], Awaitable[Reply]]


async def _help(service: Service, _actor: Actor, _command: cmd.Help, _place: Place | None) -> Reply:
    return service.help()


async def _safety(
    service: Service, actor: Actor, _command: cmd.Safety, _place: Place | None
) -> Reply:
    window = int(service.steps.window.total_seconds() // 60)
    return Reply(text=safety_explanation(actor.platform, window))


HANDLERS: dict[type, Handler] = {
    cmd.Sign: lambda s, a, c, p: s.sign(a, c.slug, c.anonymous, c.role, c.comment),
    cmd.Consent: lambda s, a, c, p: s.consent(a, c.slug, c.choice, c.draft),
    cmd.Safety: _safety,
    cmd.Unsign: lambda s, a, c, p: s.unsign(a, c.slug),
    cmd.Status: lambda s, a, c, p: s.status(c.slug),
    cmd.Read: lambda s, a, c, p: s.read(c.slug),
    cmd.ListCampaigns: lambda s, a, c, p: s.list_campaigns(),
    cmd.Help: _help,
    cmd.Create: lambda s, a, c, p: s.create(a, c.slug, c.options, c.text),
    cmd.Edit: lambda s, a, c, p: s.edit(a, c.slug, c.options, c.text),
    cmd.Close: lambda s, a, c, p: s.close(a, c.slug),
    cmd.Post: lambda s, a, c, p: s.post(a, c.slug, p),
    cmd.Mine: lambda s, a, c, p: s.mine(a),
    cmd.ForgetMe: lambda s, a, c, p: s.forget_me(a, c.confirm),
    cmd.Organizers: lambda s, a, c, p: s.organizers(a, c.slug, c.change, c.person),
    cmd.Audit: lambda s, a, c, p: s.audit(a, c.slug),
    cmd.Export: lambda s, a, c, p: s.export_reply(a, c.slug, c.format),
    cmd.Purge: lambda s, a, c, p: s.purge(a, c.slug),
    cmd.Publish: lambda s, a, c, p: s.publish(a, c.slug, c.on),
    cmd.Remind: lambda s, a, c, p: s.remind(a, c.slug, c.schedule, p),
    cmd.Reminders: lambda s, a, c, p: s.reminders(a, c.slug),
    cmd.Webhook: lambda s, a, c, p: s.webhook(a, c.slug, c.change, c.url),
}
