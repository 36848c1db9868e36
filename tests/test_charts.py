"""The chart and the card, drawn from facts: where things fall (the shared geometry), what the
pixels of the PNG show, that a projection needs its history, and the card's words in every
language. The page's chart in a real browser is in tests/test_public_browser.py."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from adapters.web import charts, wording
from bot import views
from bot.domain.messages import LANGUAGES, speaking
from bot.domain.public import Bucket, PublicFacts
from bot.service import Service
from tests.conftest import Clock, informed, person

DAY = date(2026, 11, 20)


def facts(**changes: object) -> PublicFacts:
    base = PublicFacts(
        slug="maven",
        title="Cancel the contract",
        kind="petition",
        addressee="The board",
        action=None,
        text="We ask the board to cancel the contract. It is wrong.",
        version=1,
        status="open",
        outcome=None,
        signatures=40,
        goal=100,
        percent=40,
        deadline=DAY + timedelta(days=10),
        days_left=10,
        started=DAY - timedelta(days=6),
        updated=DAY,
        buckets=(
            Bucket(DAY - timedelta(days=6), DAY - timedelta(days=5), 12),
            Bucket(DAY - timedelta(days=4), DAY - timedelta(days=1), 20),
        ),
        projected=90,
        signatories=(),
        names_shown=False,
        unnamed=40,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


@st.composite
def any_facts(draw: st.DrawFn) -> PublicFacts:
    goal = draw(st.integers(1, 100_000))
    days = draw(st.integers(0, 400))
    started = DAY - timedelta(days=days)
    buckets, at = [], started
    for signed in draw(st.lists(st.integers(5, 5_000), max_size=12)):
        at += timedelta(days=draw(st.integers(0, 3)))
        if at >= DAY:
            break
        buckets.append(Bucket(at, at, signed))
        at += timedelta(days=1)
    count = draw(st.integers(0, 200_000))
    deadline = draw(st.one_of(st.none(), st.integers(-30, 400)))
    return facts(
        goal=goal,
        signatures=count,
        started=started,
        buckets=tuple(buckets),
        deadline=DAY + timedelta(days=deadline) if deadline is not None else None,
        projected=draw(st.one_of(st.none(), st.integers(0, 10_000_000))),
        kind=draw(st.sampled_from(["petition", "pledge"])),
        language=draw(st.sampled_from(LANGUAGES)),
    )


@settings(max_examples=150, deadline=None)
@given(any_facts())
def test_everything_falls_inside_the_plot_and_every_label_is_readable_on_a_phone(
    f: PublicFacts,
) -> None:
    with speaking(f.language):
        g = charts.geometry(f)
    left, top, right, bottom = g.plot
    assert top < bottom and left < right
    assert top <= g.goal_y <= bottom  # the goal line is always within the plot
    assert g.top >= max(f.goal, f.signatures)  # scaled to the larger of goal and count
    for x, y in (*g.steps.points, *(g.projection.points if g.projection else ())):
        assert left <= x <= right and top <= y <= bottom, (x, y, g.plot)
    for label in g.texts():
        shown = label.size * charts.PHONE_WIDTH / charts.WIDTH
        assert shown >= 12, label  # at least 12 px where the page is 390 px wide
        width = charts._width(label.text, label.size)
        start = {"start": label.x, "middle": label.x - width / 2, "end": label.x - width}
        assert start[label.anchor] >= 0 and start[label.anchor] + width <= charts.WIDTH, label
        assert label.size <= label.y <= charts.HEIGHT
    goal_box, count_box = charts._box(g.labels[0]), charts._box(g.labels[1])
    assert (
        goal_box[2] < count_box[0]
        or count_box[2] < goal_box[0]
        or goal_box[3] < count_box[1]
        or count_box[3] < goal_box[1]
    ), (g.labels[0], g.labels[1])  # the goal's label never sits on the count's
    assert charts.svg(f) == charts.svg(f) and charts.png(f) == charts.png(f)  # deterministic


def test_the_png_draws_the_same_geometry_as_the_svg() -> None:
    f = facts()
    g = charts.geometry(f)
    image = pixels(charts.png(f))
    left, _, right, _bottom = g.plot
    goal_row = round(g.goal_y)
    ink = rgb(charts.INK)
    across = [image.getpixel((x, goal_row)) for x in range(int(left) + 200, int(right) - 5, 7)]
    assert sum(p == ink for p in across) >= len(across) * 0.9  # the goal line, where it is
    count_y = g.steps.points[-1][1]
    accent = rgb(charts.ACCENT)
    end_x = int(g.steps.points[-1][0])
    assert any(image.getpixel((end_x - 3, round(count_y) + d)) == accent for d in (-1, 0, 1))
    svg = charts.svg(f)
    assert f'y1="{g.goal_y}"' in svg or f",{g.goal_y} " in svg  # the same y in the SVG
    assert 'font-family="system-ui' in svg  # the page's font, not the browser's serif
    sizes = {int(s) for s in __import__("re").findall(r'font-size="(\d+)"', svg)}
    assert sizes and min(sizes) * charts.PHONE_WIDTH / charts.WIDTH >= 12


def test_the_projection_is_lighter_cut_at_the_top_and_only_with_history() -> None:
    g = charts.geometry(facts(projected=10_000))
    assert g.projection is not None
    assert g.projection.width < g.steps.width and g.projection.dash
    assert g.projection.colour == charts.ACCENT_LIGHT != g.steps.colour
    assert g.projection.points[-1][1] == g.plot[1]  # leaves the plot at its top edge, cut
    assert g.top < 200  # the scale stays the goal's, not the projection's 10,000
    assert charts.geometry(facts(projected=None)).projection is None
    assert charts.geometry(facts(outcome="succeeded", kind="pledge")).projection is None
    assert charts.geometry(facts(status="closed", closed_on=DAY)).projection is None
    legend = [label.text for _, label in charts.geometry(facts()).legend]
    assert legend == ["Signatures", "At today's pace", "Deadline"]
    assert [t for _, t in charts.geometry(facts(projected=None)).legend] != legend


def test_one_day_of_data_still_shows_the_count() -> None:
    f = facts(started=DAY, buckets=(), projected=None, deadline=None, signatures=14)
    g = charts.geometry(f)
    xs = [x for x, _ in g.steps.points]
    assert max(xs) - min(xs) > 100  # a visible step, not a line at the left edge
    assert g.steps.points[-1][1] < g.plot[3] - 5  # above the baseline
    assert "14" in [label.text for label in g.labels]
    assert "Goal: 100" in [label.text for label in g.labels]


def test_the_scale_follows_a_count_past_the_goal() -> None:
    g = charts.geometry(facts(signatures=500, projected=None))
    assert g.top >= 500 and g.goal_y > g.steps.points[-1][1]  # the goal below the count
    assert "Goal reached: 100" in [label.text for label in g.labels]


async def test_no_projection_before_the_tally_has_its_days(service: Service, clock: Clock) -> None:
    deadline = (clock.now + timedelta(days=20)).date().isoformat()
    made = await service.handle(
        person("org"), "/petition", f'new early title:"Early" goal:100 deadline:{deadline} Text'
    )
    assert not made.error, made.text
    await service.handle(person("org"), "/petition", "publish early")
    for day in range(4):
        people = [person(f"d{day}p{i}") for i in range(6)]
        await informed(service, *people)
        for who in people:
            assert not (await service.handle(who, "/sign", "early")).error
        f = await views.public(service.ctx, "early")
        assert f is not None
        if f.projected is None:  # the tally's rule (PROJECTION_DAYS) says: too early
            assert charts.geometry(f).projection is None
            assert 'stroke-dasharray="6 5"' not in charts.svg(f)
        else:
            assert day >= 2 and charts.geometry(f).projection is not None
            assert 'stroke-dasharray="6 5"' in charts.svg(f)
        clock.advance(days=1)
    assert f.projected is not None  # by the fourth day there is a pace to project


def test_the_card_says_kind_state_and_terms_in_every_language() -> None:
    pledge = facts(
        kind="pledge",
        action="walk out",
        goal=1000,
        signatures=1200,
        outcome="succeeded",
        succeeded_on=DAY,
        percent=100,
    )
    seen = set()
    for language in LANGUAGES:
        f = replace(pledge, language=language)
        with speaking(language):
            terms = wording.terms(f)
            badge = wording.badge(f)
            when = wording.card_date(f)
        assert badge[0] == "succeeded" and when and terms
        card = charts.card(f, "letters.example.org/c/maven")
        assert card == charts.card(f, "letters.example.org/c/maven")
        image = pixels(card)
        assert image.size == (1200, 630)
        assert image.getpixel((600, 543)) == rgb(charts.SUCCESS)  # the bar, full and green
        seen.add(card)
    assert len(seen) == len(LANGUAGES)  # each language its own words
    with speaking("fr"):
        assert "1\u202f000" in wording.terms(pledge) or "1 000" in wording.terms(pledge)
    with speaking("de"):
        assert wording.terms(replace(pledge, goal=1)).startswith("Wenn 1 Person ")
    open_card = pixels(charts.card(facts(percent=40), ""))
    assert open_card.getpixel((600, 543)) == rgb(charts.ACCENT_SOFT)  # 40 %: not filled there
    assert open_card.getpixel((300, 543)) == rgb(charts.ACCENT)
