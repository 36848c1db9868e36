"""The chart (SVG by hand, PNG with Pillow) and the share card, from `PublicFacts` only.

Deterministic: the same facts give the same bytes (no timestamps, no metadata), so caches and
ETags work and a test can compare renders. Cumulative signatures per bucket of days (never
fewer than 5 a bucket), the goal line, the deadline, and the projection at today's pace drawn
dashed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from bot.domain.messages import _, calendar_day, day_and_month, ngettext, number, percent, speaking
from bot.domain.public import PublicFacts

WIDTH, HEIGHT = 720, 320
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 20, 20, 36
INK, LINE, GOAL, GRID, PAPER = "#1d1c1d", "#4a154b", "#1a7f37", "#d0d0d0", "#ffffff"


@dataclass(frozen=True)
class Geometry:
    points: tuple[tuple[float, float], ...]  # cumulative line, in pixels
    projection: tuple[tuple[float, float], tuple[float, float]] | None
    goal_y: float
    deadline_x: float | None
    top: int  # the largest count on the axis


def _days(first: date, day: date) -> int:
    return (day - first).days


def geometry(facts: PublicFacts) -> Geometry:
    """Where everything goes; shared by the SVG and the PNG so they always agree."""
    start = facts.started
    series: list[tuple[date, int]] = [(start, 0)]
    total = 0
    for bucket in facts.buckets:
        total += bucket.signed
        series.append((bucket.last, total))
    series.append((facts.updated, facts.signatures))  # the running total, as of today
    end = max(facts.updated, facts.deadline or facts.updated, start)
    span = max(_days(start, end), 1)
    top = max(facts.goal, facts.signatures, facts.projected or 0, 1)
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: date) -> float:
        return round(PAD_LEFT + inner_w * _days(start, day) / span, 1)

    def y(count: int) -> float:
        return round(PAD_TOP + inner_h * (1 - count / top), 1)

    points = tuple((x(d), y(n)) for d, n in series)
    projection = None
    if facts.projected is not None and facts.deadline and facts.deadline > facts.updated:
        projection = (
            (x(facts.updated), y(facts.signatures)),
            (x(facts.deadline), y(facts.projected)),
        )
    deadline_x = x(facts.deadline) if facts.deadline else None
    return Geometry(points, projection, y(facts.goal), deadline_x, top)


def describe(facts: PublicFacts) -> str:
    """The chart in words (its alt text), in the language being spoken."""
    parts = [
        ngettext(
            "It succeeded: the threshold of {goal} was reached ({n} pledge now).",
            "It succeeded: the threshold of {goal} was reached ({n} pledges now).",
            facts.signatures,
            goal=number(facts.goal),
        )
        if facts.outcome == "succeeded"
        else ngettext(
            "{n} of {goal} pledges so far.",
            "{n} of {goal} pledges so far.",
            facts.signatures,
            goal=number(facts.goal),
        )
        if facts.kind == "pledge"
        else ngettext(
            "{n} of {goal} signatures so far.",
            "{n} of {goal} signatures so far.",
            facts.signatures,
            goal=number(facts.goal),
        )
    ]
    if facts.buckets:
        best = max(facts.buckets, key=lambda b: b.signed)
        parts.append(
            ngettext(
                "The busiest period was {first} to {last}, with {n} signature.",
                "The busiest period was {first} to {last}, with {n} signatures.",
                best.signed,
                first=day_and_month(best.first),
                last=day_and_month(best.last),
            )
        )
    if facts.projected is not None and facts.deadline:
        parts.append(
            _(
                "At today's pace, about {projected} by {day}.",
                projected=number(facts.projected),
                day=calendar_day(facts.deadline),
            )
        )
    return " ".join(parts)


def _drawn(text: str) -> str:
    """Pillow's built-in font lacks the narrow and no-break spaces some languages group
    digits with: a plain space reads the same."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def svg(facts: PublicFacts) -> str:
    """The chart in the campaign's language (images are shared beyond the page)."""
    with speaking(facts.language):
        return _svg(facts)


def _svg(facts: PublicFacts) -> str:
    g = geometry(facts)
    start = facts.started
    line = " ".join(f"{px},{py}" for px, py in g.points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(_("{title}: signatures over time", title=facts.title))}</title>',
        f'<desc id="d">{escape(describe(facts))}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>',
        f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - PAD_RIGHT}" '
        f'y2="{HEIGHT - PAD_BOTTOM}" stroke="{GRID}"/>',
        f'<line x1="{PAD_LEFT}" y1="{g.goal_y}" x2="{WIDTH - PAD_RIGHT}" y2="{g.goal_y}" '
        f'stroke="{GOAL}" stroke-width="2"/>',
        f'<text x="{PAD_LEFT - 6}" y="{g.goal_y + 4}" text-anchor="end" font-size="12" '
        f'fill="{GOAL}">{number(facts.goal)}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_BOTTOM + 4}" text-anchor="end" '
        f'font-size="12" fill="{INK}">0</text>',
    ]
    if g.deadline_x is not None:
        parts.append(
            f'<line x1="{g.deadline_x}" y1="{PAD_TOP}" x2="{g.deadline_x}" '
            f'y2="{HEIGHT - PAD_BOTTOM}" stroke="{INK}" stroke-dasharray="2 4"/>'
        )
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="3" '
        'stroke-linejoin="round"/>'
    )
    if g.projection is not None:
        (x1, y1), (x2, y2) = g.projection
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{LINE}" stroke-width="2" '
            'stroke-dasharray="8 6"/>'
        )
    parts.append(
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 10}" font-size="12" fill="{INK}">'
        f"{calendar_day(start)}</text>"
    )
    parts.append(
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 10}" font-size="12" text-anchor="end" '
        f'fill="{INK}">{calendar_day(max(facts.updated, facts.deadline or facts.updated))}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _dashed(
    draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], **kw: object
) -> None:
    (x1, y1), (x2, y2) = a, b
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
    steps = int(length // 14)
    for i in range(steps + 1):
        t1, t2 = i * 14 / length, min(1.0, (i * 14 + 8) / length)
        draw.line(
            [
                (x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1),
                (x1 + (x2 - x1) * t2, y1 + (y2 - y1) * t2),
            ],
            **kw,  # type: ignore[arg-type]
        )


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)  # no metadata: same facts, same bytes
    return out.getvalue()


def png(facts: PublicFacts) -> bytes:
    with speaking(facts.language):
        return _png_chart(facts)


def _png_chart(facts: PublicFacts) -> bytes:
    g = geometry(facts)
    start = facts.started
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    base = HEIGHT - PAD_BOTTOM
    draw.line([(PAD_LEFT, base), (WIDTH - PAD_RIGHT, base)], fill=GRID, width=1)
    draw.line([(PAD_LEFT, g.goal_y), (WIDTH - PAD_RIGHT, g.goal_y)], fill=GOAL, width=2)
    font = _font(12)
    goal = _drawn(number(facts.goal))
    draw.text((PAD_LEFT - 6, g.goal_y), goal, fill=GOAL, font=font, anchor="rm")
    draw.text((PAD_LEFT - 6, base), "0", fill=INK, font=font, anchor="rm")
    if g.deadline_x is not None:
        _dashed(draw, (g.deadline_x, PAD_TOP), (g.deadline_x, base), fill=INK, width=1)
    draw.line(list(g.points), fill=LINE, width=3, joint="curve")
    if g.projection is not None:
        _dashed(draw, *g.projection, fill=LINE, width=2)
    first = _drawn(calendar_day(start))
    draw.text((PAD_LEFT, HEIGHT - 10), first, fill=INK, font=font, anchor="ls")
    end = _drawn(calendar_day(max(facts.updated, facts.deadline or facts.updated)))
    draw.text((WIDTH - PAD_RIGHT, HEIGHT - 10), end, fill=INK, font=font, anchor="rs")
    return _png(image)


def _wrap(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int, lines: int
) -> list[str]:
    words, out, current = text.split(), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width:
            current = trial
            continue
        if current:
            out.append(current)
        current = word
        if len(out) == lines:
            break
    if current and len(out) < lines:
        out.append(current)
    if len(out) == lines and " ".join(out) != " ".join(words):
        out[-1] = out[-1].rstrip(".,;: ") + "…"
    return out


def card(facts: PublicFacts) -> bytes:
    """1200×630: title, count and progress, for link previews in chat and social media."""
    with speaking(facts.language):
        return _card(facts)


def _card(facts: PublicFacts) -> bytes:
    image = Image.new("RGB", (1200, 630), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle([(0, 0), (1200, 16)], fill=LINE)
    title_font, big, small = _font(64), _font(96), _font(36)
    y = 80
    for line in _wrap(facts.title, title_font, 1080, 3):
        draw.text((60, y), line, fill=INK, font=title_font)
        y += 78
    draw.text((60, 360), _drawn(number(facts.signatures)), fill=LINE, font=big)
    if facts.outcome == "succeeded":
        of_goal = ngettext(
            "pledged · it succeeded: {n} was the threshold",
            "pledged · it succeeded: {n} was the threshold",
            facts.goal,
        )
    elif facts.kind == "pledge":
        of_goal = ngettext(
            "of {n} pledges · {percent}",
            "of {n} pledges · {percent}",
            facts.goal,
            percent=percent(facts.percent),
        )
    else:
        of_goal = ngettext(
            "of {n} signatures · {percent}",
            "of {n} signatures · {percent}",
            facts.goal,
            percent=percent(facts.percent),
        )
    draw.text((60, 470), _drawn(of_goal), fill=INK, font=small)
    draw.rectangle([(60, 540), (1140, 572)], fill="#eeeeee")
    filled = 60 + round(1080 * min(facts.percent, 100) / 100)
    if filled > 60:
        draw.rectangle([(60, 540), (filled, 572)], fill=LINE)
    return _png(image)
