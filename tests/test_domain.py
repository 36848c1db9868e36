"""Domain rules and pure helpers: no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.campaigns import (
    Campaign,
    Kind,
    Names,
    Status,
    changes_to_the_deal,
    reaches_goal_now,
)
from bot.domain.errors import UserError
from bot.domain.identity import Actor, SignerKey
from bot.domain.tally import build_tally
from bot.domain.text import check_slug, clean
from bot.domain.timeparse import parse_deadline
from bot.domain.values import changed

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def campaign(**changes: object) -> Campaign:
    base: dict[str, object] = dict(
        id=1,
        slug="walkout",
        kind=Kind.PETITION,
        title="T",
        goal=1000,
        addressee=None,
        action=None,
        deadline=NOW + timedelta(days=10),
        status=Status.OPEN,
        names=Names.PUBLIC,
        version=1,
        count=0,
        created_at=NOW - timedelta(days=7),
        closed_at=None,
        succeeded_at=None,
    )
    base.update(changes)
    return Campaign(**base)  # type: ignore[arg-type]


def test_pace_and_projection() -> None:
    c = campaign(count=300)
    tally = build_tally(c, NOW, signed_in_window=280, recent_public=["Ann"])
    assert tally.pace is not None
    assert tally.pace.per_day == pytest.approx(40)
    assert tally.pace.projected == 300 + 400
    assert tally.pace.needed_per_day == 70
    assert tally.percent == 30 and tally.remaining == 700
    sentence = tally.pace_sentence(UTC)
    assert sentence == "At this pace about 700 by Thu, Nov 12; reaching 1,000 takes 70 a day."


def test_pace_window_is_at_least_a_day() -> None:
    c = campaign(count=50, created_at=NOW - timedelta(hours=1))
    tally = build_tally(c, NOW, signed_in_window=50, recent_public=[])
    assert tally.pace is not None and tally.pace.per_day == pytest.approx(50)


def test_pledge_succeeds_only_at_threshold_before_deadline() -> None:
    pledge = campaign(kind=Kind.PLEDGE, goal=3, names=Names.SEALED)
    assert not reaches_goal_now(pledge, 2, NOW)
    assert reaches_goal_now(pledge, 3, NOW)
    assert not reaches_goal_now(pledge, 3, NOW + timedelta(days=11))
    done = campaign(kind=Kind.PLEDGE, goal=3, succeeded_at=NOW)
    assert not reaches_goal_now(done, 4, NOW)
    assert done.outcome(NOW + timedelta(days=30)) == "succeeded"
    after = NOW + timedelta(days=30)
    assert pledge.outcome(after) is None  # closed, its final step not yet out: not "failed"
    assert changed(pledge, final_at=after).outcome(after) == "failed"


def test_edits_never_break_what_signers_were_promised() -> None:
    pledge = campaign(kind=Kind.PLEDGE, goal=1000, count=3, action="walk out", names=Names.SEALED)
    later = NOW + timedelta(days=20)
    earlier = NOW + timedelta(days=5)
    for refused in ({"goal": 4}, {"deadline": later}, {"action": "stay home"}):
        with pytest.raises(UserError):
            changes_to_the_deal(pledge, refused)
    assert changes_to_the_deal(pledge, {"goal": 2000, "deadline": earlier}) == [
        "threshold",
        "deadline",
    ]
    assert changes_to_the_deal(pledge, {"title": "New", "addressee": "CEO"}) == [
        "title",
        "addressee",
    ]
    assert changes_to_the_deal(pledge, {"goal": 1000, "action": "walk out"}) == []
    # Before anyone signed, anything goes, as a new version all the same (whether an edit
    # makes one must not tell an organizer that somebody signed before the count shows it).
    fresh = campaign(kind=Kind.PLEDGE, goal=9, action="x")
    assert changes_to_the_deal(fresh, {"goal": 1}) == ["threshold"]
    assert changes_to_the_deal(changed(fresh, count=1), {"goal": 10}) == ["threshold"]
    sealed = campaign(names=Names.SEALED, count=2)
    with pytest.raises(UserError):
        changes_to_the_deal(sealed, {"goal": 2})
    with pytest.raises(UserError):
        changes_to_the_deal(sealed, {"deadline": later})
    public = campaign(count=2)
    assert changes_to_the_deal(public, {"goal": 2, "deadline": later}) == []


def test_sealed_pledge_hides_names_until_success() -> None:
    pledge = campaign(kind=Kind.PLEDGE, goal=3, count=1, names=Names.SEALED)
    assert build_tally(pledge, NOW, 1, ["Ann"]).recent_public == ()
    done = campaign(kind=Kind.PLEDGE, goal=1, count=1, succeeded_at=NOW)
    assert build_tally(done, NOW, 1, ["Ann"]).recent_public == ("Ann",)


def test_signer_hash_is_keyed_and_per_campaign() -> None:
    alice = Actor("slack", "T1", "U1", "Alice")
    key = SignerKey(b"k1")
    assert key.signer_hash(1, alice) == key.signer_hash(1, alice)
    assert key.signer_hash(1, alice) != key.signer_hash(2, alice)
    assert key.signer_hash(1, alice) != SignerKey(b"k2").signer_hash(1, alice)
    assert "U1" not in key.signer_hash(1, alice)


def test_clean_rejects_control_characters_and_strips_zero_width() -> None:
    assert clean("hi\u200b there", field="comment", limit=10) == "hi there"
    with pytest.raises(UserError, match="control characters"):
        clean("bell\x07", field="comment", limit=100)
    with pytest.raises(UserError, match="limit is 5"):
        clean("toolong", field="comment", limit=5)
    assert clean("a\nb", field="letter", limit=10, multiline=True) == "a\nb"


@pytest.mark.parametrize(
    "slug", ["a", "anon", "mine", "UPPER", "-lead", "trail-", "way-too-long-" * 4, "sp ace"]
)
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(UserError):
        check_slug(slug)


def test_deadline_dates_mean_end_of_day_in_the_timezone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    deadline = parse_deadline("2026-12-31", berlin, NOW)
    assert deadline == datetime(2026, 12, 31, 22, 59, tzinfo=UTC)
    assert parse_deadline("2026-12-31T17:00Z", berlin, NOW) == datetime(
        2026, 12, 31, 17, tzinfo=UTC
    )
    with pytest.raises(UserError, match="already past"):
        parse_deadline("2026-01-01", berlin, NOW)
    with pytest.raises(UserError, match="can't read"):
        parse_deadline("next friday", berlin, NOW)


def test_a_pledge_tally_counts_pledges_wherever_it_is_shown() -> None:
    from adapters.discord.render import tally_line
    from adapters.slack.render import tally_text
    from bot.domain.replies import Reply

    pledge = campaign(kind=Kind.PLEDGE, goal=4, count=1, action="walk out")
    tally = build_tally(pledge, NOW, None, [])
    assert tally.summary() == "1 of 4 pledges (25%)"
    assert "of 4 pledges" in tally_text(tally)
    assert "of 4 pledges" in (tally_line(Reply(text="", tally=tally)) or "")
    assert "of 1,000 signatures" in build_tally(campaign(), NOW, None, []).summary()


def test_no_projection_from_a_first_days_rush_or_from_nothing() -> None:
    """14 signatures in the first minute, or none at all, project nothing in public: the
    tally says it is too early and what a day still needs."""
    for created, signed in ((NOW - timedelta(minutes=1), 0), (NOW - timedelta(days=1), 14)):
        c = campaign(count=14, created_at=created)
        tally = build_tally(c, NOW, signed_in_window=signed, recent_public=[])
        assert tally.pace is not None and tally.pace.projected is None
        sentence = tally.pace_sentence(UTC) or ""
        assert sentence.startswith("Too early for a projection (it needs 2 whole days and 10")
        assert "At this pace" not in sentence
    few = build_tally(campaign(count=9), NOW, signed_in_window=9, recent_public=[])
    assert few.pace is not None and few.pace.projected is None  # a week, but only 9


def test_any_name_a_signer_chooses_sorts_without_error() -> None:
    """Names come from the platform, chosen by the signer: digits `int()` can't read (Ethiopic,
    superscripts) must not take down the page or the export that sorts them."""
    from bot.domain.text import name_order

    names = ["Ann 1\u1369", "w10", "w2", "x\u00b2", "\u0663", "Émile", "emma", ""]
    ordered = sorted(names, key=name_order)
    assert ordered.index("w2") < ordered.index("w10") and len(ordered) == len(names)
