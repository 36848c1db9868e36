"""Plain-text rendering of core replies, with a progress bar, in the reply's language."""

from __future__ import annotations

from bot.domain.messages import _, number, speaking
from bot.domain.replies import ActionKind, Reply, Visibility

_ACTION_HINTS = {
    ActionKind.SIGN: "/sign {slug}",
    ActionKind.SIGN_ANONYMOUSLY: "/sign {slug} anonymous",
    ActionKind.READ: "/petition read {slug}",
}


def render(reply: Reply) -> str:
    with speaking(reply.locale):
        return _render(reply)


def _render(reply: Reply) -> str:
    """The reply's own text, tally, hints. A card (Slack's and Discord's rich block) is not
    repeated here: the text already names the campaign, and `read` gives the whole letter."""
    lines = []
    card = reply.card
    if card is not None and card.title not in reply.text:  # an announcement: say which
        lines.append(f"== {card.title} ==")
        if card.kind == "pledge" and card.pledge_action:
            lines.append(_("Pledge: I will {action} if enough of us do", action=card.pledge_action))
        version = _("version {version}", version=number(card.version))
        lines.append(f"({card.slug}, {version})")
    text = reply.text.replace("**", "")
    lines.append(("⚠ " if reply.error else "") + text)
    if reply.tally is not None:
        tally = reply.tally
        lines.append(f"[{tally.bar()}] {tally.summary()}" + tally.notes())
    if reply.usage:
        lines.append(_("Usage: {usage}", usage=reply.usage))
    if reply.actions:
        hints = [f"{a.label}: {_ACTION_HINTS[a.kind].format(slug=a.slug)}" for a in reply.actions]
        lines.append("→ " + " · ".join(hints))
    if reply.attachment is not None:
        name, content = reply.attachment
        end = _("end of {name}", name=name)
        lines.append(f"--- {name} ---\n{content.rstrip()}\n--- {end} ---")
    if reply.visibility is Visibility.ACTOR:
        lines.append(_("(only you can see this)"))
    return "\n".join(lines)
