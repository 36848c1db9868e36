"""Core replies as Matrix messages: a plain `body` and an HTML `formatted_body` we build.

Matrix has no slash commands and no buttons: commands are typed with `!` (`!sign walkout`), so
every `/sign`, `/petition …` a reply mentions is written that way, and buttons become the words
to type. User text never becomes markup (it is HTML-escaped before our own `<strong>` and
`<code>` are added) and never pings: every message carries an empty `m.mentions` (mention
nobody), and `@room` or a user id in what someone typed is broken with a word joiner.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.domain.messages import _, number, speaking
from bot.domain.replies import ActionKind, Reply

BODY_LIMIT = 6_000  # characters of source text per message
EVENT_BUDGET = 30_000  # bytes of JSON before encryption (base64 and the envelope: under 64 KiB)
LETTER_CHUNK = 5_000
# A chat command a reply names, written the Matrix way: `/sign` → `!sign`.
_SLASH = re.compile(r"(?<![\w/<:.])/(sign|unsign|forget-me|petition)\b")
_MENTION = re.compile(r"@(?=room\b|[A-Za-z0-9._=/+-]+:)|(?<=matrix)(?=\.to/)", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_HINTS = {
    ActionKind.SIGN: "!sign {slug}",
    ActionKind.SIGN_ANONYMOUSLY: "!sign {slug} anonymous",
    ActionKind.READ: "!petition read {slug}",
}
CONSENT = (ActionKind.SIGN_NAMED, ActionKind.SIGN_ANON, ActionKind.NOT_NOW)


def bang(text: str) -> str:
    """Our command names as Matrix users type them."""
    return _SLASH.sub(r"!\1", text)


def unping(text: str) -> str:
    """`@room` and `@user:server` shown as text, never a mention (beside `m.mentions: {}`)."""
    return _MENTION.sub("@\u2060", text)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _html(text: str) -> str:
    """Escaped first, then our own markup: `**bold**` and `` `code` ``; line breaks kept."""
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)
    escaped = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escaped)
    return escaped.replace("\n", "<br>")


def _plain(text: str) -> str:
    return text.replace("**", "")


def message(text: str, *, notice: bool = False) -> dict[str, Any]:
    """A message from text that mixes our markup with what users typed, never larger than
    a homeserver takes once encrypted (nio writes non-ASCII as `\\uXXXX`: a letter in
    Cyrillic or emoji is several times its length)."""
    source = bang(cut(text, BODY_LIMIT))
    while True:
        content = {
            "msgtype": "m.notice" if notice else "m.text",
            "body": unping(_plain(source)),
            "format": "org.matrix.custom.html",
            "formatted_body": unping(_html(source)),
            "m.mentions": {},
        }
        if len(json.dumps(content)) <= EVENT_BUDGET or len(source) < 100:
            return content
        source = source[: len(source) * 3 // 4] + "…"


def attachment_messages(name: str, content: str) -> list[dict[str, Any]]:
    """An export as it is (no command rewriting, no markup), in pieces that each fit."""
    pieces, rest = [], content.rstrip()
    while rest:
        size = min(len(rest), 4_000)
        while size > 100 and len(json.dumps(rest[:size])) * 2 > EVENT_BUDGET:
            size = size * 3 // 4
        if size < len(rest):
            at = rest.rfind("\n", 0, size)
            size = at + 1 if at > size // 2 else size
        pieces.append(rest[:size])
        rest = rest[size:]
    total = len(pieces)
    out = []
    for i, piece in enumerate(pieces, 1):
        head = f"{name} ({i}/{total})" if total > 1 else name
        out.append(
            {
                "msgtype": "m.notice",
                "body": unping(f"{head}\n{piece}"),
                "format": "org.matrix.custom.html",
                "formatted_body": unping(
                    f"{html.escape(head)}<pre><code>{html.escape(piece)}</code></pre>"
                ),
                "m.mentions": {},
            }
        )
    return out


def user_text(text: str) -> str:
    """Text a user typed, alone: our markup characters in it are made inert."""
    return text.replace("**", "*\u2060*").replace("`", "'")


def answer_words() -> str:
    """What to type instead of pressing a button after the safety notice."""
    return _(
        "Answer here with one word: `named`, `anonymous` or `not now` (or the same words in "
        "your language)."
    )


def text_of(reply: Reply) -> str:
    """The reply as our markup: card, text, tally, what to type, usage."""
    with speaking(reply.locale):
        return _text_of(reply)


def _text_of(reply: Reply) -> str:
    lines: list[str] = []
    card = reply.card
    if card is not None:
        lines.append(f"**{user_text(card.title)}**")
        if card.addressee:
            lines.append(_("To: {addressee}", addressee=user_text(card.addressee)))
        if card.kind == "pledge" and card.pledge_action:
            action = user_text(card.pledge_action)
            lines.append(_("Pledge: I will {action} if enough of us do", action=action))
        if card.excerpt:
            lines.append(user_text(card.excerpt))
        lines.append("")
    lines.append(("⚠️ " if reply.error else "") + reply.text)
    if reply.tally is not None:
        tally = reply.tally
        lines.append(f"`{tally.bar()}` {tally.summary()}" + tally.notes())
        if tally.recent_public:
            names = ", ".join(user_text(n) for n in tally.recent_public)
            lines.append(_("Latest: {names}", names=names))
    if reply.usage:
        lines.append(_("Usage: `{usage}`", usage=reply.usage.replace("`", "'")))
    hints = [a for a in reply.actions if a.kind in _HINTS]
    if hints:
        lines.append(
            " · ".join(f"{a.label}: `{_HINTS[a.kind].format(slug=a.slug)}`" for a in hints)
        )
    if any(a.kind in CONSENT for a in reply.actions):
        lines.append(answer_words())
    if reply.page is not None:
        lines.append(f"{reply.page.label}: {reply.page.url}")
    if card is not None:
        version = _("version {version}", version=number(card.version))
        lines.append(f"{card.slug} · {version}")
    return "\n".join(lines)  # an attachment follows in messages of its own


def content_of(reply: Reply) -> dict[str, Any]:
    """The whole reply as one message (announcements are `m.text`, so they notify like a
    post; answers to one person are `m.notice`, as bots' replies are)."""
    return message(text_of(reply), notice=reply.card is None)


def messages_of(reply: Reply) -> list[dict[str, Any]]:
    """Everything a reply says, as messages: the reply, then any export in full."""
    if reply.letter is not None and not reply.error:
        return letter_messages(reply)
    out = [content_of(reply)]
    if reply.attachment is not None:
        out += attachment_messages(*reply.attachment)
    return out


def letter_messages(reply: Reply) -> list[dict[str, Any]]:
    """`!petition read`: the whole letter in pieces of at most 5,000 characters, at a line
    break where one is near; the first carries the title."""
    text = user_text(reply.letter or (reply.card.excerpt if reply.card else ""))
    pieces: list[str] = []
    while text and len(pieces) < 10:
        piece = text[:LETTER_CHUNK]
        if len(text) > LETTER_CHUNK:
            at = piece.rfind("\n")
            piece = piece[:at] if at > LETTER_CHUNK // 2 else piece
        pieces.append(piece)
        text = text[len(piece) :].lstrip("\n")
    title = f"**{user_text(reply.card.title)}**\n\n" if reply.card else ""
    return [message((title if i == 0 else "") + p, notice=True) for i, p in enumerate(pieces)]


def edit_of(event_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """An edit in place (`m.replace`): clients show the new content on the original post."""
    return {
        **content,
        "body": f"* {content['body']}",
        "formatted_body": f"* {content['formatted_body']}",
        "m.new_content": dict(content),
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }
