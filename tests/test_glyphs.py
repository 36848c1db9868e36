"""Every letter the share cards and chart images draw is in the font that draws it: checked
against the fonts' character maps, not by eye. German, French, Spanish and Brazilian
Portuguese sentences, and names in Latin with its extensions, Greek and Cyrillic, are drawn
with the shipped font; a script no font here has is drawn as "?", never as a box."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from PIL import Image

from adapters.web import charts, typeface
from bot.domain.messages import LANGUAGES
from tests.test_charts import facts

LOCALES = Path(__file__).resolve().parent.parent / "bot" / "locales"
IN_IMAGES = ("adapters/web/charts.py", "adapters/web/wording.py", "bot/domain/messages.py")
NAMES = (
    "Müller, Émile, Łukasz, Çağrı, Søren, Ærø, Đorđe, Ștefan, Nguyễn Thị Hương",
    "Ελένη Παπαδοπούλου",  # Greek
    "Жанна Шевчук, Ђорђе Јовановић",  # Cyrillic (Ukrainian, Serbian)
    "„Gefühl“ «guillemets» ‚ok‘ — ¿qué? ¡sí! ½ € № …",  # punctuation these languages use
)


def _catalog_sentences() -> dict[str, list[str]]:
    """Per language, every translated sentence of the modules that write into a card or a
    chart image (their messages, extracted as `pybabel extract` does)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file

    ids = set()
    for module in IN_IMAGES:
        for _, message, _, _ in extract_from_file(
            "python", str(LOCALES.parent.parent / module), keywords=DEFAULT_KEYWORDS
        ):
            ids.add(message if isinstance(message, str) else message[0])
    found: dict[str, list[str]] = {}
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh)
        texts = []
        for message in catalog:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if not key or key not in ids:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts += [s for s in strings if s]
        found[po.parent.parent.name] = texts
    return found


def _missing(text: str) -> set[str]:
    return {c for c in text if not c.isspace() and not typeface.shipped_covers(c)}


def test_every_catalog_sentence_of_the_images_is_in_the_shipped_font() -> None:
    sentences = _catalog_sentences()
    assert {"de", "fr", "es", "pt_BR"} <= set(sentences)
    for language, texts in sentences.items():
        assert len(texts) > 30, language  # the image sentences were found
        missing = {c for text in texts for c in _missing(text)}
        assert not missing, (language, sorted(missing))
    for name in NAMES:
        assert not _missing(name), (name, sorted(_missing(name)))


class Recorder:
    """Every piece of text the images draw, with the font that draws it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.drawn: list[tuple[int, str]] = []
        real = typeface.runs

        def runs(text: str) -> tuple[tuple[int, str], ...]:
            found = real(text)
            self.drawn.extend(found)
            return found

        monkeypatch.setattr(typeface, "runs", runs)


@pytest.mark.parametrize("language", LANGUAGES)
def test_cards_and_charts_draw_every_letter_with_a_font_that_has_it(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    day = date(2026, 12, 20)
    cases = [
        facts(language=language, title=NAMES[0], addressee=NAMES[1], text=NAMES[2]),
        facts(
            language=language,
            kind="pledge",
            action="streiken für bessere Schritte — grève générale",
            title=NAMES[2],
            addressee=NAMES[3],
        ),
        facts(
            language=language,
            status="closed",
            outcome="succeeded",
            signatures=140,
            closed_on=day,
            succeeded_on=day,
            deadline=day,
        ),
        facts(
            language=language,
            status="closed",
            outcome="failed",
            closed_on=day,
            deadline=day - timedelta(days=1),
            projected=None,
        ),
    ]
    for case in cases:
        Image.open(io.BytesIO(charts.card(case, "letters.example.org/c/maven"))).verify()
        Image.open(io.BytesIO(charts.png(case))).verify()
    fonts = typeface.chain()
    assert recorder.drawn
    for index, piece in recorder.drawn:
        has = fonts[index][1]
        wrong = {c for c in piece if ord(c) not in has and c != typeface.MISSING}
        assert not wrong, (language, piece, sorted(wrong))
    drawn = "".join(piece for _, piece in recorder.drawn)
    for name in (NAMES[0], NAMES[2]):
        assert name.split(",")[0] in drawn  # names reach the image as they are spelt
    if language != "en":
        assert any(not c.isascii() for c in drawn), "no letter of the language's own was drawn"


def test_a_script_no_font_has_is_drawn_as_a_question_mark_never_a_box() -> None:
    outside = "\U0001d11e\U000e0041"  # a musical symbol and a tag character: in no font here
    assert all(piece == typeface.MISSING for _, piece in typeface.runs(outside[0]))
    pieces = typeface.runs("Łukasz " + outside)
    assert "".join(p for _, p in pieces).endswith("??")
    assert pieces[0][0] == 0  # Latin: the shipped font


def test_the_chart_image_and_card_of_a_german_campaign_change_with_the_letters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same card with "Größere Schritte für Übermorgen" and with "Grossere Schritte fur
    Ubermorgen" differ where the accents are: they are drawn, not boxes."""
    german = replace(facts(language="de"), title="Größere Schritte für Übermorgen")
    plain = replace(german, title="Grossere Schritte fur Ubermorgen")
    assert charts.card(german) != charts.card(plain)
    assert typeface.length("Größere", 58) != typeface.length("G\ufffdre", 58)


def test_a_no_break_space_holds_a_number_and_a_date_together_when_lines_wrap() -> None:
    """French writes `12 345` and `24 déc.` with (narrow) no-break spaces: a card may break a
    line at a space, never there."""
    text = "Signée par 12\u202f345 personnes avant le 24\u00a0déc.\u00a02026 ensemble"
    for width in range(120, 900, 20):
        lines = charts._wrap(text, 32, width, 8)
        assert not any(line.endswith("12") or line.startswith("345") for line in lines), lines
        assert not any(line.endswith("24") for line in lines), lines
        assert "\u202f" in "".join(lines)
