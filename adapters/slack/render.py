"""Core replies as Block Kit. Every piece of text is escaped, so user text can't ping anyone.

Slack parses `<!channel>`, `<!here>` and `<@U123>` in mrkdwn; escaping `&`, `<` and `>` turns them
into plain text, and `verbatim` stops Slack from auto-linking names and channels.
"""

from __future__ import annotations

import re
from typing import Any

from bot import commands as cmd
from bot.domain.messages import _, ngettext, number, percent, speaking, translate
from bot.domain.replies import ActionKind, CampaignCard, Reply, Visibility
from bot.domain.tally import Tally
from bot.domain.text import FIELD_NAMES

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
ACTION_PREFIX = "undersigned."
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

Block = dict[str, Any]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """Neutral markup to Slack mrkdwn, escaped."""
    return _BOLD.sub(r"*\1*", escape(text))


def plain(text: str) -> str:
    """Fallback notification text: no markup, still escaped."""
    return escape(text.replace("**", ""))


def chunks(text: str, limit: int = SECTION_LIMIT - 100) -> list[str]:
    """Split at line breaks where possible so each piece fits one section."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def tally_text(tally: Tally) -> str:
    line = f"`{tally.bar()}`  " + tally_words(tally)
    return line + tally.notes()


def tally_words(tally: Tally) -> str:
    """`*12* of 100 signatures (12%)`: the noun agrees with the count where languages say so."""
    values = {"goal": number(tally.goal), "percent": percent(tally.percent)}
    if tally.succeeded or tally.count > tally.goal:  # never "9 of 10" after success, "4 of 3"
        return tally.summary()
    if tally.noun == "pledges":
        return ngettext(
            "*{n}* of {goal} pledges ({percent})",
            "*{n}* of {goal} pledges ({percent})",
            tally.count,
            **values,
        )
    return ngettext(
        "*{n}* of {goal} signatures ({percent})",
        "*{n}* of {goal} signatures ({percent})",
        tally.count,
        **values,
    )


def _text_blocks(text: str) -> list[Block]:
    return [section(mrkdwn(piece)) for piece in chunks(text)]


def _card_blocks(card: CampaignCard) -> list[Block]:
    blocks = [section(f"*{escape(card.title)}*")]
    details = []
    if card.addressee:
        details.append(_("To: {addressee}", addressee=escape(card.addressee)))
    if card.kind == "pledge" and card.pledge_action:
        details.append(
            _("Pledge: I will {action} if enough of us do", action=escape(card.pledge_action))
        )
    details.append(f"`{card.slug}` · " + _("version {version}", version=number(card.version)))
    blocks.append(context(" · ".join(details)))
    blocks.extend(_text_blocks(card.excerpt))
    return blocks


def action_blocks(reply: Reply) -> list[Block]:
    if not reply.actions and reply.page is None:
        return []
    buttons = []
    for action in reply.actions:
        button: Block = {
            "type": "button",
            "action_id": ACTION_PREFIX + action.kind.value,
            "text": {"type": "plain_text", "text": action.label},
            # The action id and value carry all a press needs, so buttons outlive restarts.
            "value": action.slug + (f":{action.token}" if action.token else ""),
        }
        if action.kind is ActionKind.SIGN:
            button["style"] = "primary"
        buttons.append(button)
    if reply.page is not None:  # a link button: it opens the page, nothing comes back to us
        buttons.append(
            {
                "type": "button",
                "action_id": ACTION_PREFIX + "page",
                "text": {"type": "plain_text", "text": reply.page.label},
                "url": reply.page.url,
            }
        )
    return [{"type": "actions", "block_id": "undersigned.actions", "elements": buttons}]


def blocks_for(reply: Reply) -> list[Block]:
    """The reply's blocks, in the language it speaks."""
    with speaking(reply.locale):
        return _blocks_for(reply)


def _blocks_for(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    if reply.card is not None:
        blocks.extend(_card_blocks(reply.card))
    if reply.error:
        blocks.append(section(":warning: " + mrkdwn(reply.text)))
    else:
        blocks.extend(_text_blocks(reply.text))
    if reply.tally is not None:
        blocks.append(section(tally_text(reply.tally)))
        if reply.tally.recent_public and reply.card is not None:
            names = ", ".join(escape(n) for n in reply.tally.recent_public)
            blocks.append(context(_("Latest: {names}", names=names)))
    if reply.usage:
        blocks.append(context(_("Usage: `{usage}`", usage=escape(reply.usage))))
    if reply.attachment is not None:
        blocks.extend(_file_blocks(*reply.attachment))
    if reply.page is not None:
        blocks.append(
            {"type": "image", "image_url": reply.page.chart, "alt_text": reply.page.chart_alt}
        )
    actions = action_blocks(reply)
    if len(blocks) + len(actions) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - len(actions) - 1]
        blocks.append(context(_("(cut short: use *Read the letter* for the rest)")))
    return blocks + actions


def _file_blocks(name: str, content: str) -> list[Block]:
    """An export shown inline (ephemeral) as code blocks; very long ones are cut."""
    pieces = chunks(escape(content), SECTION_LIMIT - 200)
    blocks = [section(f"```{piece}```") for piece in pieces[: MAX_BLOCKS - 6]]
    if len(pieces) > MAX_BLOCKS - 6:
        blocks.append(
            context(
                _(
                    "`{name}` is cut here: on the server, `undersigned petition export` writes "
                    "the whole file.",
                    name=escape(name),
                )
            )
        )
    return blocks


_SLACK_MARKUP = re.compile(
    r"<(#C[A-Z0-9]+|!subteam\^[A-Z0-9]+|[a-z]+:[^>|]+|![a-z]+)(?:\|([^>]*))?>"
)


def unescape_command_text(text: str, keep_user_mentions: bool) -> str:
    """Slack escapes channels, groups and links in command text (`should_escape`): turn them
    back into what the person typed. User mentions become `@name`, unless the command needs
    their ids (`/petition organizers … add @someone`)."""

    def plain(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:]
        return target  # a link: its URL

    text = _SLACK_MARKUP.sub(plain, text)
    if not keep_user_mentions:
        text = re.sub(
            r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>", lambda m: "@" + (m.group(2) or m.group(1)), text
        )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def fallback_text(reply: Reply) -> str:
    head = reply.card.title if reply.card else reply.text.split("\n", 1)[0]
    return plain(head)[:300]


def response(reply: Reply) -> dict[str, Any]:
    """Arguments for `ack()` / `respond()`: ephemeral unless the reply is for the channel."""
    return {
        "response_type": "in_channel" if reply.visibility is Visibility.CHANNEL else "ephemeral",
        "text": fallback_text(reply),
        "blocks": blocks_for(reply),
    }


def letter_modal(reply: Reply) -> dict[str, Any]:
    """The "Read the letter" modal: the whole text, in as many sections as it needs."""
    with speaking(reply.locale):
        card = reply.card
        title = card.title if card else _("The letter")
        blocks: list[Block] = [section(mrkdwn(piece)) for piece in chunks(reply.text)][:99]
        if card is not None:
            version = _("version {version}", version=number(card.version))
            blocks.append(context(f"`{card.slug}` · {version}"))
        return {
            "type": "modal",
            "callback_id": "undersigned.letter",
            "title": {"type": "plain_text", "text": _short(title, 24)},
            "close": {"type": "plain_text", "text": _short(_("Close"), 24)},
            "blocks": blocks,
        }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _form_block(option: cmd.Option) -> Block:
    """One field of a form, as the registry defines the option."""
    element: dict[str, Any]
    if option.choices:
        labels = option.choice_labels or option.choices
        element = {
            "type": "static_select",
            "action_id": "value",
            "options": [
                {
                    "text": {"type": "plain_text", "text": _short(translate(label), 75)},
                    "value": value,
                }
                for value, label in zip(option.choices, labels, strict=True)
            ],
        }
        if option.name == "kind":  # a campaign is a petition unless they pick otherwise
            element["initial_option"] = element["options"][0]
    else:
        element = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": option.kind is cmd.ValueKind.LONG_TEXT,
            "placeholder": {
                "type": "plain_text",
                "text": _short(option.example or translate(option.label), 150),
            },
        }
    return {
        "type": "input",
        "block_id": option.name,
        "optional": not option.required and option.name != "kind",
        "label": {"type": "plain_text", "text": _short(translate(option.label), 2000)},
        "element": element,
    }


def new_campaign_modal(channel: str | None) -> dict[str, Any]:
    """The creation form: every option of `/petition new`, from the registry, in the language
    being spoken (Slack allows 24 characters for a modal's title and buttons)."""
    return {
        "type": "modal",
        "callback_id": "undersigned.new",
        "private_metadata": channel or "",
        "title": {"type": "plain_text", "text": _short(_("New campaign"), 24)},
        "submit": {"type": "plain_text", "text": _short(_("Create"), 24)},
        "close": {"type": "plain_text", "text": _short(_("Cancel"), 24)},
        "blocks": [_form_block(o) for o in cmd.REGISTRY_BY_KEY["new"].options],
    }


def modal_values(view: dict[str, Any]) -> dict[str, str]:
    """Flatten a submitted view's state into {block_id: value}."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            value = element.get("value")
            if value is None and element.get("selected_option"):
                value = element["selected_option"].get("value")
            if value is not None and str(value).strip():
                values[block_id] = str(value)
    return values


# Which field of the form an error is about: its option's key as typed (`goal:`), else the
# field's name in the error's language.
_FIELD_WORDS = [
    ("title", "title"),
    ("letter text", "text"),
    ("threshold", "goal"),
    ("goal", "goal"),
    ("deadline", "deadline"),
    ("action", "action"),
    ("addressee", "to"),
    ("language", "lang"),
]
_FIELD_KEYS = [("`kind:`", "kind"), ("`names:`", "names"), ("`lang", "lang"), ("`goal:", "goal")]


def field_for_error(message: str, language: str | None = None) -> str:
    lowered = message.lower()
    for key, block_id in _FIELD_KEYS:
        if key in lowered:
            return block_id
    with speaking(language):
        for word, block_id in _FIELD_WORDS:
            if translate(FIELD_NAMES[word]).lower() in lowered:
                return block_id
    return "slug"
