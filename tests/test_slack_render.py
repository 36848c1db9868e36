"""Block Kit rendering: limits and escaping, without a network."""

from __future__ import annotations

import json

from adapters.slack import render
from bot.domain.replies import CampaignCard, Reply, sign_actions


def test_long_letter_fits_block_kit_limits() -> None:
    letter = ("A paragraph of the letter that goes on. " * 40 + "\n") * 12  # ~19,700 chars
    reply = Reply(text=letter)
    blocks = render.blocks_for(reply)
    assert len(blocks) <= render.MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    assert "".join(b["text"]["text"] for b in blocks).replace("\n", "") == letter.replace("\n", "")
    modal = render.letter_modal(Reply(text=letter))
    assert len(modal["blocks"]) <= 100 and len(modal["title"]["text"]) <= 24
    assert all(len(b["text"]["text"]) <= 3000 for b in modal["blocks"] if "text" in b)


def test_too_many_blocks_are_cut_with_a_pointer_to_the_letter() -> None:
    reply = Reply(text="x\n" * 200_000, actions=sign_actions("s"))
    blocks = render.blocks_for(reply)
    assert len(blocks) == render.MAX_BLOCKS
    assert blocks[-1]["type"] == "actions"
    assert "Read the letter" in json.dumps(blocks[-2])


def test_user_text_is_escaped_everywhere() -> None:
    card = CampaignCard(
        slug="s",
        kind="petition",
        title="<!channel> & co",
        addressee="<@U1>",
        pledge_action=None,
        excerpt="<!here>",
        version=1,
        status="open",
        outcome=None,
    )
    reply = Reply(text="Hi **<!everyone>**", card=card, usage="<b>")
    payload = json.dumps(render.response(reply))
    for raw in ("<!channel>", "<@U1>", "<!here>", "<!everyone>", "<b>"):
        assert raw not in payload
    assert "&lt;!channel&gt; &amp; co" in payload
    assert "*&lt;!everyone&gt;*" in payload  # bold survives, the mention does not
    assert all(b["text"].get("verbatim") for b in render.response(reply)["blocks"] if "text" in b)
