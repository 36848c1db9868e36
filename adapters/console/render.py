"""Plain-text rendering of core replies, with a progress bar."""

from __future__ import annotations

from bot.replies import ActionKind, Reply, Visibility

_ACTION_HINTS = {
    ActionKind.SIGN: "/sign {slug}",
    ActionKind.SIGN_ANONYMOUSLY: "/sign {slug} anonymous",
    ActionKind.READ: "/petition read {slug}",
}


def render(reply: Reply) -> str:
    lines = []
    if reply.card is not None:
        card = reply.card
        lines.append(f"== {card.title} ==")
        if card.addressee:
            lines.append(f"To: {card.addressee}")
        if card.kind == "pledge" and card.pledge_action:
            lines.append(f"Pledge: I will {card.pledge_action} if enough of us do")
        lines.append(card.excerpt)
        lines.append(f"({card.slug}, version {card.version})")
    text = reply.text.replace("**", "")
    lines.append(("⚠ " if reply.error else "") + text)
    if reply.tally is not None:
        tally = reply.tally
        extra = tally.time_left_text()
        lines.append(f"[{tally.bar()}] {tally.summary()}" + (f" · {extra}" if extra else ""))
    if reply.usage:
        lines.append(f"Usage: {reply.usage}")
    if reply.actions:
        hints = [f"{a.label}: {_ACTION_HINTS[a.kind].format(slug=a.slug)}" for a in reply.actions]
        lines.append("→ " + " · ".join(hints))
    if reply.attachment is not None:
        name, content = reply.attachment
        lines.append(f"--- {name} ---\n{content.rstrip()}\n--- end of {name} ---")
    if reply.visibility is Visibility.ACTOR:
        lines.append("(only you can see this)")
    return "\n".join(lines)
