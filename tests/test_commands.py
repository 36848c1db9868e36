"""The command grammar, without a database."""

from __future__ import annotations

import pytest

from bot import commands as cmd
from bot.domain.errors import UserError


def test_sign_with_slug_anonymous_and_comment() -> None:
    assert cmd.parse("/sign", "maven anonymous I'm in") == cmd.Sign(
        slug="maven", anonymous=True, comment="I'm in"
    )


def test_sign_without_slug_keeps_the_comment_whole() -> None:
    assert cmd.parse("/sign", "I'm in,  all the way") == cmd.Sign(
        slug=None, comment="I'm in,  all the way"
    )


def test_sign_with_role_in_smart_quotes() -> None:
    parsed = cmd.parse_line("/sign walkout role:“Staff engineer” Count me in")
    assert parsed == cmd.Sign(slug="walkout", role="Staff engineer", comment="Count me in")


def test_sign_anonymous_alone() -> None:
    assert cmd.parse("/sign", "anonymous") == cmd.Sign(slug=None, anonymous=True)


def test_petition_subcommands() -> None:
    assert cmd.parse_line("/petition status") == cmd.Status(None)
    assert cmd.parse_line("/petition status maven") == cmd.Status("maven")
    assert cmd.parse_line("/petition list") == cmd.ListCampaigns()
    assert cmd.parse_line("/petition") == cmd.Help()
    assert cmd.parse_line("/petition close maven") == cmd.Close("maven")
    assert cmd.parse_line("/petition read maven") == cmd.Read("maven")


def test_new_with_options_and_letter() -> None:
    parsed = cmd.parse_line(
        '/petition new maven title:"No Maven" goal:4000 deadline:2026-12-31 to:"The CEO" '
        "We, the undersigned: refuse."
    )
    assert parsed == cmd.Create(
        slug="maven",
        options={"title": "No Maven", "goal": "4000", "deadline": "2026-12-31", "to": "The CEO"},
        text="We, the undersigned: refuse.",
    )


def test_unclosed_quote_is_a_friendly_error() -> None:
    with pytest.raises(UserError) as err:
        cmd.parse_line('/petition new maven title:"No Maven goal:3')
    assert "never closes" in err.value.message
    assert err.value.usage == cmd.USAGE["new"]


@pytest.mark.parametrize(
    "line",
    [
        "sign maven",
        "/frobnicate",
        "/petition dance",
        "/petition close",
        "/unsign a b",
        "/petition edit x",
    ],
)
def test_mistakes_raise_user_errors_with_usage(line: str) -> None:
    with pytest.raises(UserError) as err:
        cmd.parse_line(line)
    assert err.value.usage


def test_mentions_become_identities() -> None:
    from bot.domain.identity import Actor
    from bot.handlers.organizers import person_identity

    slack = Actor("slack", "T1", "U1", "Ann")
    assert person_identity("<@U0123ABC|bob>", slack) == "slack:T1:U0123ABC"
    assert person_identity("U0123ABC", slack) == "slack:T1:U0123ABC"
    discord = Actor("discord", "99", "1", "Ann")
    assert person_identity("<@!123456789012345678>", discord) == "discord:99:123456789012345678"
    assert person_identity("slack:T2:U9", discord) == "slack:T2:U9"
    with pytest.raises(UserError):
        person_identity("@bob", slack)


def test_every_command_of_the_grammar_has_a_handler() -> None:
    import typing

    from bot.handlers import HANDLERS

    assert set(typing.get_args(cmd.Command)) == set(HANDLERS)
