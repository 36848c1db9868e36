"""The chart (SVG for the page, PNG for chat) and the share card, from `PublicFacts` only.

One geometry (`geometry()`) places every line, area and label; `svg()` and `png()` only draw
it, so the page and the chat always show the same chart. What happened is a filled step line
(the public count moves in steps: cumulative signatures per bucket of days, never fewer than
5 a bucket); the goal is a labelled line; the projection at the present pace is drawn lighter
and dashed, and only when the tally has enough history to make one. The scale is the larger
of the goal and the count (a projection that would leave the plot is cut at its top).

Deterministic: the same facts give the same bytes (no timestamps, no metadata), so caches and
ETags work and a test can compare renders.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import pairwise
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from adapters.web import typeface, wording
from bot.domain.messages import _, calendar_day, day_and_month, ngettext, number, speaking
from bot.domain.public import PublicFacts

WIDTH, HEIGHT = 540, 320
FONT = 19  # chart units: 12.5 px when the chart is 358 px wide (a 390 px phone), 19 on a desktop
PHONE_WIDTH = 358  # the page's content width on a 390 px screen
PAD = 14
INK, MUTED, PAPER = "#1d1c1d", "#55515a", "#ffffff"
ACCENT, ACCENT_SOFT, ACCENT_LIGHT = "#4a154b", "#efe4ef", "#a57ea6"
SUCCESS = "#17663a"
FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"  # the page's own

Point = tuple[float, float]


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # the baseline
    text: str
    anchor: str = "start"  # start | middle | end
    fill: str = INK
    size: int = FONT


@dataclass(frozen=True)
class Stroke:
    points: tuple[Point, ...]
    colour: str
    width: int
    dash: tuple[int, int] | None = None


@dataclass(frozen=True)
class Geometry:
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    area: tuple[Point, ...]  # under the step line
    steps: Stroke  # what happened
    goal: Stroke
    projection: Stroke | None
    deadline: Stroke | None
    legend: tuple[tuple[Stroke, Label], ...]
    labels: tuple[Label, ...]
    top: float  # the count at the plot's top edge

    @property
    def goal_y(self) -> float:
        return self.goal.points[0][1]

    def strokes(self) -> tuple[Stroke, ...]:
        drawn = [self.goal, self.steps]
        drawn[1:1] = [s for s in (self.deadline, self.projection) if s is not None]
        return (*drawn, *(swatch for swatch, _ in self.legend))

    def texts(self) -> tuple[Label, ...]:
        return (*self.labels, *(label for _, label in self.legend))


def _width(text: str, size: int = FONT) -> float:
    """Laid out with the PNG's font (adapters/web/typeface); the page's sans-serif is about
    as wide."""
    return typeface.length(_drawn(text), size)


def _drawn(text: str) -> str:
    """The narrow and no-break spaces some languages group digits with, as plain spaces
    (they read the same, and wrapping never splits a number: it breaks at words only)."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _next(day: date) -> date:
    return day + timedelta(days=1)


def _legend(items: list[tuple[Stroke, str]], left: float, right: float) -> tuple[list, float]:
    """Swatch and word, left to right, wrapping to a second row when a language needs it."""
    placed, x, y = [], left, PAD + FONT
    for swatch, text in items:
        need = 28 + _width(text)
        if x > left and x + need > right:
            x, y = left, y + FONT + 8
        mid = y - FONT * 0.35
        line = Stroke(((x, mid), (x + 22, mid)), swatch.colour, swatch.width, swatch.dash)
        placed.append((line, Label(x + 28, y, text)))
        x += need + 26
    return placed, y


Box = tuple[float, float, float, float]


def _box(t: Label) -> Box:
    width = _width(t.text, t.size)
    x0 = {"start": t.x, "middle": t.x - width / 2, "end": t.x - width}[t.anchor]
    return (x0 - 2, t.y - t.size * 0.8, x0 + width + 2, t.y + t.size * 0.2)


def _crosses(box: Box, points: tuple[Point, ...]) -> bool:
    """Whether a line passes through a label's box (sampled every 3 units)."""
    x0, y0, x1, y1 = box
    for (ax, ay), (bx, by) in pairwise(points):
        steps = max(1, int(max(abs(bx - ax), abs(by - ay)) // 3))
        for i in range(steps + 1):
            px, py = ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps
            if x0 <= px <= x1 and y0 <= py <= y1:
                return True
    return False


def _placed(
    candidates: list[Label], lines: list[tuple[Point, ...]], taken: tuple[Box, ...], room: Box
) -> Label:
    """The first place for a label that stays in the plot and touches no line or other label
    (else the first that stays in the plot)."""

    def inside(t: Label) -> bool:
        x0, y0, x1, y1 = _box(t)
        return room[0] <= x0 + 2 and x1 - 2 <= room[2] and room[1] <= y0 and y1 <= room[3]

    def apart(t: Label) -> bool:
        x0, y0, x1, y1 = _box(t)
        return all(x1 < a or b < x0 or y1 < c or d < y0 for a, c, b, d in taken)

    def fits(t: Label) -> bool:
        box = _box(t)
        return inside(t) and apart(t) and not any(_crosses(box, p) for p in lines)

    # Failing that: over a line but on no other label; then anywhere in the plot.
    for good in (fits, lambda t: inside(t) and apart(t), inside):
        found = [t for t in candidates if good(t)]
        if found:
            return found[0]
    return candidates[0]


def geometry(facts: PublicFacts) -> Geometry:
    """Where everything goes, in the language being spoken."""
    start = facts.started
    closed = facts.closed_on if facts.status != "open" else None
    last = closed or facts.updated  # the series runs to its closing day, or to today
    end = max(_next(last), _next(facts.deadline) if facts.deadline else start, _next(start))
    span = (end - start).days
    pledge = facts.kind == "pledge"
    left, right = PAD, WIDTH - PAD

    what = _("Pledges") if pledge else _("Signatures")
    # a projection needs the tally's history (`projected` is None before), a deadline ahead,
    # and something left to project: never once the pledge succeeded
    pace = facts.projected is not None and facts.deadline is not None and closed is None
    pace = pace and facts.deadline is not None and facts.deadline > facts.updated
    pace = pace and facts.outcome != "succeeded"
    items = [(Stroke((), ACCENT, 3), what)]
    if pace:
        items.append((Stroke((), ACCENT_LIGHT, 2, (6, 5)), _("At today's pace")))
    if facts.deadline:
        items.append((Stroke((), MUTED, 2, (2, 4)), _("Deadline")))
    legend, legend_bottom = _legend(items, left, right)
    top_y, bottom_y = legend_bottom + 16 + FONT, HEIGHT - PAD - FONT - 8
    shown = [b for b in facts.buckets if b.last < last]
    peak = sum(b.signed for b in shown)  # withdrawals may since have brought the count lower
    top = max(facts.goal, facts.signatures, peak, 1) * 1.18

    def x(day: date) -> float:
        return round(left + (right - left) * (day - start).days / span, 1)

    def y(count: float) -> float:
        return round(bottom_y - (bottom_y - top_y) * min(count, top) / top, 1)

    points: list[Point] = [(x(start), y(0))]
    total = 0
    for bucket in shown:
        edge = x(_next(bucket.last))
        points += [(edge, y(total)), (edge, y(total + bucket.signed))]
        total += bucket.signed
    here = x(last)
    points += [(here, y(total)), (here, y(facts.signatures)), (x(_next(last)), y(facts.signatures))]
    steps = Stroke(tuple(points), ACCENT, 3)
    area = (*points, (points[-1][0], bottom_y), (points[0][0], bottom_y))

    projection = None
    if pace and facts.deadline is not None and facts.projected is not None:
        (x1, y1), x2 = points[-1], x(_next(facts.deadline))
        value = float(facts.projected)
        if value > top:  # cut where it leaves the plot, at the same slope
            x2 = x1 + (x2 - x1) * (top - facts.signatures) / (value - facts.signatures)
            value = top
        projection = Stroke(((x1, y1), (round(x2, 1), y(value))), ACCENT_LIGHT, 2, (6, 5))
    deadline = None
    if facts.deadline:
        dx = x(_next(facts.deadline))
        deadline = Stroke(((dx, top_y), (dx, bottom_y)), MUTED, 2, (2, 4))

    goal_y = y(facts.goal)
    reached = facts.outcome == "succeeded" or facts.signatures >= facts.goal
    goal_colour = SUCCESS if reached else INK
    goal = Stroke(((left, goal_y), (right, goal_y)), goal_colour, 2)
    goal_text = (
        (_("Threshold reached: {goal}") if reached else _("Threshold: {goal}"))
        if pledge
        else (_("Goal reached: {goal}") if reached else _("Goal: {goal}"))
    ).format(goal=number(facts.goal))
    end_x, end_y = points[-1]
    count_text = number(facts.signatures)
    lines = [steps.points, goal.points, *([projection.points] if projection else [])]
    count = _placed(
        [
            Label(end_x + 6, end_y - 8, count_text, "start", ACCENT),
            Label(end_x - 6, end_y - 8, count_text, "end", ACCENT),
            Label(end_x - 6, end_y + FONT + 4, count_text, "end", ACCENT),
        ],
        lines,
        (),
        (left, top_y - FONT, right, bottom_y),
    )
    goal_label = _placed(
        [
            Label(left + 4, goal_y - 7, goal_text, "start", goal_colour),
            Label(right - 4, goal_y - 7, goal_text, "end", goal_colour),
            Label(left + 4, goal_y + FONT + 3, goal_text, "start", goal_colour),
            Label(right - 4, goal_y + FONT + 3, goal_text, "end", goal_colour),
        ],
        lines,
        (_box(count),),
        (left, top_y - FONT, right, bottom_y),
    )
    labels = [goal_label, count]
    first, final = calendar_day(start), calendar_day(end - timedelta(days=1))
    base = HEIGHT - PAD
    labels.append(Label(left, base, first, "start", MUTED))
    if final != first and _width(first) + _width(final) + 24 < right - left:
        labels.append(Label(right, base, final, "end", MUTED))
    return Geometry(
        (left, top_y, right, bottom_y),
        area,
        steps,
        goal,
        projection,
        deadline,
        tuple(legend),
        tuple(labels),
        top,
    )


def describe(facts: PublicFacts) -> str:
    """The chart in words (its alt text), in the language being spoken."""
    parts = [wording.figure(facts)]
    if facts.buckets:
        best = max(facts.buckets, key=lambda b: b.signed)
        when = {"first": day_and_month(best.first), "last": day_and_month(best.last)}
        parts.append(
            ngettext(
                "The busiest period was {first} to {last}, with {n} pledge.",
                "The busiest period was {first} to {last}, with {n} pledges.",
                best.signed,
                **when,
            )
            if facts.kind == "pledge"
            else ngettext(
                "The busiest period was {first} to {last}, with {n} signature.",
                "The busiest period was {first} to {last}, with {n} signatures.",
                best.signed,
                **when,
            )
        )
    if (
        facts.projected is not None
        and facts.deadline
        and facts.status == "open"
        and facts.outcome != "succeeded"
    ):
        parts.append(
            _(
                "At today's pace, about {projected} by {day}.",
                projected=number(facts.projected),
                day=calendar_day(facts.deadline),
            )
        )
    return " ".join(parts)


# ---- SVG ------------------------------------------------------------------------------------


def svg(facts: PublicFacts) -> str:
    """The chart in the campaign's language (images are shared beyond the page)."""
    with speaking(facts.language):
        return _svg(facts, geometry(facts))


def _svg_points(points: tuple[Point, ...]) -> str:
    return " ".join(f"{px},{py}" for px, py in points)


def _svg_stroke(s: Stroke) -> str:
    dash = f' stroke-dasharray="{s.dash[0]} {s.dash[1]}"' if s.dash else ""
    return (
        f'<polyline points="{_svg_points(s.points)}" fill="none" stroke="{s.colour}" '
        f'stroke-width="{s.width}" stroke-linejoin="round"{dash}/>'
    )


def _svg_text(t: Label) -> str:
    return (
        f'<text x="{t.x}" y="{t.y}" font-size="{t.size}" text-anchor="{t.anchor}" '
        f'fill="{t.fill}">{escape(t.text)}</text>'
    )


# The page's dark colours (static/page.css), for a reader whose system is dark: the chart is
# an <img>, so it follows the preference itself, colour by colour.
_DARK_COLOURS = {
    PAPER: "#161416",
    INK: "#ececec",
    MUTED: "#bdb9c0",
    ACCENT: "#dcaadd",
    ACCENT_SOFT: "#2c1f2d",
    ACCENT_LIGHT: "#9a7a9b",
    SUCCESS: "#8fd3a6",
}
DARK = (
    "@media (prefers-color-scheme:dark){"
    + "".join(
        f'[fill="{light}"]{{fill:{dark}}}[stroke="{light}"]{{stroke:{dark}}}'
        for light, dark in _DARK_COLOURS.items()
    )
    + "}"
)


def _svg(facts: PublicFacts, g: Geometry) -> str:
    left, _top, right, bottom = g.plot
    title = _("{title}: signatures over time", title=facts.title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="t d" '
        f'font-family="{escape(FAMILY)}">',
        f'<title id="t">{escape(title)}</title>',
        f'<desc id="d">{escape(describe(facts))}</desc>',
        f"<style>{DARK}</style>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}"/>',
        f'<polygon points="{_svg_points(g.area)}" fill="{ACCENT_SOFT}"/>',
        *(_svg_stroke(s) for s in g.strokes()),
        *(_svg_text(t) for t in g.texts()),
        "</svg>",
    ]
    return "".join(parts)


# ---- PNG ------------------------------------------------------------------------------------


def _dashed(draw: ImageDraw.ImageDraw, s: Stroke) -> None:
    on, off = s.dash or (1, 0)
    for (x1, y1), (x2, y2) in pairwise(s.points):
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
        at = 0.0
        while at < length:
            t1, t2 = at / length, min(1.0, (at + on) / length)
            a = (x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1)
            b = (x1 + (x2 - x1) * t2, y1 + (y2 - y1) * t2)
            draw.line([a, b], fill=s.colour, width=s.width)
            at += on + off


def _png_stroke(draw: ImageDraw.ImageDraw, s: Stroke) -> None:
    if s.dash:
        _dashed(draw, s)
    else:
        draw.line(list(s.points), fill=s.colour, width=s.width, joint="curve")


ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # SVG's text-anchor, Pillow's anchor


def _png_text(draw: ImageDraw.ImageDraw, t: Label) -> None:
    typeface.draw_text(draw, (t.x, t.y), _drawn(t.text), t.size, t.fill, ANCHORS[t.anchor])


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)  # no metadata: same facts, same bytes
    return out.getvalue()


def png(facts: PublicFacts) -> bytes:
    with speaking(facts.language):
        g = geometry(facts)
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    left, _top, right, bottom = g.plot
    draw.line([(left, bottom), (right, bottom)], fill=MUTED, width=1)
    draw.polygon(list(g.area), fill=ACCENT_SOFT)
    for s in g.strokes():
        _png_stroke(draw, s)
    for t in g.texts():
        _png_text(draw, t)
    return _png(image)


# ---- the share card ---------------------------------------------------------------------------


_BREAKS = re.compile(r"[ \t\r\n]+")  # not str.split(): a no-break space (`12 345`, `24 déc.`) holds


def _wrap(text: str, size: int, width: int, lines: int) -> list[str]:
    words, out, current = [w for w in _BREAKS.split(text) if w], [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if typeface.length(trial, size) <= width:
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
        while out[-1] and typeface.length(out[-1] + "…", size) > width:
            out[-1] = out[-1][:-1]
        out[-1] = out[-1].rstrip(".,;: ") + "…"
    return out


def card(facts: PublicFacts, address: str = "") -> bytes:
    """1200×630, for link previews in chat and social media: what it is (an open letter or a
    pledge and its terms), to whom, how far it has come, its state and date, and where to
    read it. `address` is the page's, without its scheme (nothing when the server has no
    public address)."""
    with speaking(facts.language):
        return _card(facts, address)


BADGES = {
    "succeeded": (SUCCESS, PAPER),
    "closed": (MUTED, PAPER),
    "open": (ACCENT_SOFT, ACCENT),
}


def _card(facts: PublicFacts, address: str) -> bytes:
    image = Image.new("RGB", (1200, 630), PAPER)
    draw = ImageDraw.Draw(image)
    margin, inner = 64, 1200 - 128
    draw.rectangle([(0, 0), (1200, 14)], fill=ACCENT)

    kind = (_("Pledge") if facts.kind == "pledge" else _("Open letter")).upper()
    text = partial(typeface.draw_text, draw)
    text((margin, 84), _drawn(kind), 30, ACCENT)
    state, badge = wording.badge(facts)
    bg, fg = BADGES[state]
    w = typeface.length(_drawn(badge), 28)
    draw.rounded_rectangle([(1136 - w - 36, 48), (1136, 98)], radius=25, fill=bg)
    text((1136 - 18, 73), _drawn(badge), 28, fg, "rm")

    y = 120
    for line in _wrap(_drawn(facts.title), 58, inner, 2):
        text((margin, y + 56), line, 58, INK)
        y += 70
    if facts.addressee:
        to = _wrap(_drawn(_("To: {addressee}", addressee=facts.addressee)), 32, inner, 1)
        text((margin, y + 44), to[0], 32, MUTED)
        y += 48
    if facts.kind == "pledge":
        for line in _wrap(_drawn(wording.terms(facts)), 32, inner, 2):
            text((margin, y + 44), line, 32, INK)
            y += 44
    room = (390 - y) // 42  # the letter's opening fills what the title left
    opening = wording.first_sentence(facts.text, 300)
    if room > 0 and opening:
        y += 16
        for line in _wrap(_drawn(opening), 30, inner, min(room, 3)):
            text((margin, y + 40), line, 30, MUTED)
            y += 42

    baseline = 505
    count = _drawn(number(facts.signatures))
    won = SUCCESS if facts.outcome == "succeeded" else ACCENT
    text((margin, baseline), count, 112, won)
    after = margin + typeface.length(count, 112) + 20
    of_goal = _wrap(_drawn(wording.of_goal(facts)), 36, int(1136 - after), 1)
    text((after, baseline), of_goal[0], 36, INK)

    draw.rounded_rectangle([(margin, 530), (1136, 556)], radius=13, fill=ACCENT_SOFT)
    share = 100 if facts.outcome == "succeeded" else min(facts.percent, 100)
    filled = margin + round(inner * share / 100)
    if filled > margin + 26:
        colour = SUCCESS if facts.outcome == "succeeded" else ACCENT
        draw.rounded_rectangle([(margin, 530), (filled, 556)], radius=13, fill=colour)

    when = _drawn(wording.card_date(facts))
    if when:
        text((1136, 602), when, 28, MUTED, "rs")
    if address:
        room = int(inner - typeface.length(when, 28) - 40)
        shown = _wrap(_drawn(address), 28, room, 1)
        if shown:
            text((margin, 602), shown[0], 28, INK)
    return _png(image)
