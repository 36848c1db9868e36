"""Core replies as Discord messages: content or an embed, and persistent buttons.

User text is escaped (`@everyone`, `@here`, user and role mentions) and every message is sent
with allowed mentions none, so nothing a signer types can ping anyone.
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.domain.messages import _, ngettext, number, percent, speaking
from bot.domain.replies import BUTTON_ACTIONS, ActionKind, Reply

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FIELD_LIMIT = 1024
NO_MENTIONS = discord.AllowedMentions.none()
CUSTOM_ID = "undersigned:{action}:{slug}"
CUSTOM_ID_PATTERN = (
    rf"undersigned:(?P<action>{BUTTON_ACTIONS})"
    r":(?P<slug>[a-z0-9-]{2,40})(?::(?P<token>[A-Za-z0-9_-]{1,24}))?"
)


_MENTION = re.compile(r"@(everyone|here|[!&]?\d+)")
# Markdown that could disguise or hide what a user typed: masked links, headings, subtext,
# quotes and spoilers. Our own replies use only **bold** and `code`, which stay.
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
_LINE_MARKUP = re.compile(r"^([ \t]*)(#{1,3}\s|-#\s|>>>\s|>\s|[-*+]\s|\d+[.)]\s)", re.MULTILINE)


def safe(text: str) -> str:
    """Text that mixes our markup with what users typed: mentions are broken with a
    zero-width space (beside allowed mentions none) and the markdown that could turn a
    name or a title into a link, a heading or a spoiler is escaped."""
    pieces = _CODE_SPAN.split(text)
    for i in range(0, len(pieces), 2):  # outside `code`, where markdown is live
        piece = pieces[i].replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        piece = piece.replace("||", "\\|\\|").replace("<http", "\\<http")
        pieces[i] = piece
    text = _LINE_MARKUP.sub(lambda m: m.group(1) + "\\" + m.group(2), "".join(pieces))
    return _MENTION.sub("@\u200b\\1", text)


def code(text: str) -> str:
    """Text inside a `code span`: markdown is inert there; mentions are still broken."""
    return _MENTION.sub("@\u200b\\1", text.replace("`", "'"))


def user_text(text: str) -> str:
    """Text a user typed, alone: every markdown character escaped, mentions broken."""
    return _MENTION.sub("@\u200b\\1", discord.utils.escape_markdown(text))


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, with "…" where it was cut. Cut after escaping, and never
    inside an escape (a lone backslash would escape the "…")."""
    if len(text) <= limit:
        return text
    return _whole_escapes(text[: limit - 1]) + "…"


def _whole_escapes(piece: str) -> str:
    """Drop a trailing backslash that was escaping a character now cut off."""
    trailing = len(piece) - len(piece.rstrip("\\"))
    return piece[:-1] if trailing % 2 else piece


def tally_line(reply: Reply) -> str | None:
    tally = reply.tally
    if tally is None:
        return None
    values = {"goal": number(tally.goal), "percent": percent(tally.percent)}
    words = (
        tally.summary()  # a pledge that succeeded stays a success; never "4 of 3"
        if tally.succeeded or tally.count > tally.goal
        else ngettext(
            "**{n}** of {goal} pledges ({percent})",
            "**{n}** of {goal} pledges ({percent})",
            tally.count,
            **values,
        )
        if tally.noun == "pledges"
        else ngettext(
            "**{n}** of {goal} signatures ({percent})",
            "**{n}** of {goal} signatures ({percent})",
            tally.count,
            **values,
        )
    )
    return f"`{tally.bar()}` {words}" + tally.notes()


def embed_for(reply: Reply) -> discord.Embed:
    """An announcement or a status: the campaign card with its live tally."""
    card = reply.card
    assert card is not None
    parts = [user_text(card.excerpt), "", safe(reply.text)]
    line = tally_line(reply)
    if line:
        parts += ["", line]
    if reply.tally and reply.tally.recent_public:
        names = ", ".join(user_text(n) for n in reply.tally.recent_public)
        parts.append(_("Latest: {names}", names=names))
    embed = discord.Embed(
        title=cut(user_text(card.title), TITLE_LIMIT),
        description=cut("\n".join(parts), DESCRIPTION_LIMIT),
        colour=discord.Colour.dark_teal() if card.status == "open" else discord.Colour.greyple(),
    )
    if card.addressee:
        embed.add_field(name=_("To"), value=cut(user_text(card.addressee), FIELD_LIMIT))
    if card.kind == "pledge" and card.pledge_action:
        embed.add_field(
            name=_("Pledge"),
            value=cut(
                _("I will {action} if enough of us do", action=user_text(card.pledge_action)),
                FIELD_LIMIT,
            ),
        )
    version = _("version {version}", version=number(card.version))
    embed.set_footer(text=f"{card.slug} · {version}")
    if reply.page is not None:
        embed.set_image(url=reply.page.chart)
    return embed


def content_for(reply: Reply) -> str:
    parts = [("⚠️ " if reply.error else "") + safe(reply.text)]
    line = tally_line(reply)
    if line and reply.card is None:
        parts.append(line)
    if reply.usage:
        parts.append(_("Usage: `{usage}`", usage=code(reply.usage)))
    return cut("\n".join(parts), CONTENT_LIMIT)


def custom_id(kind: str, slug: str, token: str | None = None) -> str:
    """Everything a press needs (at most 100 characters), so buttons outlive restarts."""
    return CUSTOM_ID.format(action=kind, slug=slug) + (f":{token}" if token else "")


def view_for(reply: Reply) -> discord.ui.View | None:
    if not reply.actions and reply.page is None:
        return None
    view = discord.ui.View(timeout=None)
    for action in reply.actions:
        view.add_item(
            discord.ui.Button(
                label=action.label,
                custom_id=custom_id(action.kind.value, action.slug, action.token),
                # Only an announcement's plain Sign stands out; the choices after the safety
                # notice look alike, so neither named nor anonymous is the default by accident.
                style=discord.ButtonStyle.primary
                if action.kind is ActionKind.SIGN
                else discord.ButtonStyle.secondary,
            )
        )
    if reply.page is not None:
        view.add_item(discord.ui.Button(label=reply.page.label, url=reply.page.url))
    return view


def message_kwargs(reply: Reply, *, with_view: bool = True) -> dict[str, Any]:
    """Keyword arguments for send_message / followup.send / edit, in the reply's language."""
    with speaking(reply.locale):
        return _message_kwargs(reply, with_view=with_view)


def _message_kwargs(reply: Reply, *, with_view: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if reply.card is not None:
        kwargs["embed"] = embed_for(reply)
        if reply.usage:
            usage = _("Usage: `{usage}`", usage=code(reply.usage))
            kwargs["content"] = cut(usage, CONTENT_LIMIT)
    else:
        kwargs["content"] = content_for(reply)
    view = view_for(reply) if with_view else None
    if view is not None:
        kwargs["view"] = view
    if reply.attachment is not None:
        name, content = reply.attachment
        kwargs["file"] = discord.File(io.BytesIO(content.encode("utf-8")), filename=name)
    return kwargs


def letter_chunks(letter: str) -> list[str]:
    """A whole letter as embed descriptions, escaped first and then cut: each ≤ 4,096
    characters, at a line break where one is near, never inside an escape; at most 10."""
    text = user_text(letter)
    chunks = []
    while text:
        piece = text[:DESCRIPTION_LIMIT]
        if len(text) > DESCRIPTION_LIMIT:
            cut_at = piece.rfind("\n")
            piece = piece[:cut_at] if cut_at > DESCRIPTION_LIMIT // 2 else _whole_escapes(piece)
        chunks.append(piece)
        text = text[len(piece) :].lstrip("\n")
    return chunks[:10]
