"""What a signer reads about their own signature: thanks, what it did, who sees their name,
and how to choose a language when theirs was deliberately not asked. Pure wording from values."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.domain.campaigns import Campaign, Kind, Names
from bot.domain.messages import _, ngettext, number, speaking
from bot.domain.messages import current as current_language
from bot.domain.messages import day as format_day_of


def language_hint(slug: str | None, house: str) -> str:
    """Told to an anonymous signer whose language was deliberately not asked: how to pick
    one. Also in the server's language (`house`), so a campaign set to a language nobody there reads
    can't hide the safety notice from them."""

    def hint() -> str:
        return _(
            "Replies to anonymous signatures come in the campaign's language, since asking "
            "your chat app for yours would leave a trace. For another language, add it to "
            "the command: `/sign {slug} anonymous lang:de` (en, de, fr, es, pt_BR).",
            slug=slug or "CAMPAIGN",
        )

    said = hint()
    if current_language() != house:
        with speaking(house):
            said += "\n" + hint()
    return said


def who_sees_your_name(campaign: Campaign) -> str:
    """Said to every named signer, so nobody learns it from the channel afterwards."""
    if campaign.names is Names.COUNT_ONLY:
        return _("Your name is never shown in chat; the organizers' export lists it.")
    if campaign.names is Names.SEALED and not campaign.reached_in_time:
        if campaign.deadline:
            return ngettext(
                "Your name stays sealed, even from the organizers, unless {n} person signs "
                "before the deadline.",
                "Your name stays sealed, even from the organizers, unless {n} people sign "
                "before the deadline.",
                campaign.goal,
            )
        return ngettext(
            "Your name stays sealed, even from the organizers, unless {n} person signs.",
            "Your name stays sealed, even from the organizers, unless {n} people sign.",
            campaign.goal,
        )
    return _("Your name is shown with this campaign: in its status, posts and exports.")


def already_signed(campaign: Campaign, signed_at: datetime, anonymous: bool, tz: tzinfo) -> str:
    """A second signature counts nothing: said with the day of the first."""
    values = {"title": campaign.title, "day": format_day_of(signed_at, tz), "slug": campaign.slug}
    return (
        _(
            "You already signed **{title}** anonymously on {day}; nothing was counted "
            "twice. To withdraw, use `/unsign {slug}`.",
            **values,
        )
        if anonymous
        else _(
            "You already signed **{title}** on {day}; nothing was counted twice. To "
            "withdraw, use `/unsign {slug}`.",
            **values,
        )
    )


def thanks(campaign: Campaign, name: str, anonymous: bool) -> str:
    """The first line of a signature's reply."""
    pledge = campaign.kind is Kind.PLEDGE
    if anonymous:
        return (
            _(
                "Thank you: you pledged to **{title}** anonymously. No name or account is "
                "stored with your pledge.",
                title=campaign.title,
            )
            if pledge
            else _(
                "Thank you: you signed **{title}** anonymously. No name or account is "
                "stored with your signature.",
                title=campaign.title,
            )
        )
    else:
        return (
            _("Thank you, {name}: you pledged to **{title}**.", name=name, title=campaign.title)
            if pledge
            else _("Thank you, {name}: you signed **{title}**.", name=name, title=campaign.title)
        )


def what_follows(
    campaign: Campaign, exact_goal: int, just_succeeded: bool, anonymous: bool
) -> str | None:
    """What the signature did (the goal reached) or what a pledge waits for."""
    pledge = campaign.kind is Kind.PLEDGE
    # Said from what the signer may see (the public count and their own signature), so
    # signing and withdrawing again and again tells nobody what others did since a step.
    reached = just_succeeded and campaign.count >= campaign.goal
    succeeded = campaign.succeeded_at is not None or reached
    if reached and pledge:
        return _(
            "🎉 That makes {count}: the threshold of {goal} is reached. It's on: we {action}!",
            count=number(exact_goal),
            goal=number(campaign.goal),
            action=campaign.action,
        )
    elif reached:
        return _(
            "🎉 You are signature {count}: the goal is reached!",
            count=number(exact_goal),
        )
    elif pledge and not succeeded and anonymous:
        # Nothing of an anonymous pledger is stored: nobody can write to them.
        return ngettext(
            "Your pledge counts only if {n} person pledges by the deadline. Nobody can "
            "message you about it, because nothing of you is stored: the result is "
            "posted where the pledge was announced, `/sign mine` shows it, and so does "
            "its page if it has one.",
            "Your pledge counts only if {n} people pledge by the deadline. Nobody can "
            "message you about it, because nothing of you is stored: the result is "
            "posted where the pledge was announced, `/sign mine` shows it, and so does "
            "its page if it has one.",
            campaign.goal,
        )
    elif pledge and not succeeded:
        return ngettext(
            "Your pledge counts only if {n} person pledges by the deadline; you'll be "
            "told either way.",
            "Your pledge counts only if {n} people pledge by the deadline; you'll be "
            "told either way.",
            campaign.goal,
        )
    return None


def receipt(shown: str, log_page: str | None) -> str:
    """The receipt, told once to the signer alone, on a line of its own to copy: nobody
    keeps it, so say to save it."""
    first = _("Your receipt (only you see it): `{receipt}`", receipt=shown)
    if log_page:
        then = _(
            "Nobody keeps a copy, so save it: with it you can check, at {page} or with "
            "`undersigned receipt check`, that your signature is counted in the public log, "
            "without saying which entry is yours.",
            page=log_page,
        )
    else:
        then = _(
            "Nobody keeps a copy, so save it: once the campaign's page is published, it lets "
            "you check that your signature is counted in the public log, without saying "
            "which entry is yours."
        )
    return f"{first}\n{then}"
