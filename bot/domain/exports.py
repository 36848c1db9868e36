"""The letter with its signatories, as Markdown, CSV or HTML.

Anonymous signers are counted, never named. CSV cells that a spreadsheet would run as a formula
(starting with = + - @, or a tab or carriage return) are neutralised with a leading quote; HTML
is escaped.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.letter_markup import letter_html
from bot.domain.messages import _, date_only, ngettext, number, speaking

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str | None
    comment: str | None
    signed_at: datetime
    version: int
    # The account that signed (platform:user id): a display name is the signer's to choose
    # (and on Matrix the room's), so an organizer checks names against accounts. In the CSV
    # only, the organizers' sheet: the letter (Markdown, HTML) goes to the addressee, who
    # gets the names people chose, not their accounts.
    account: str | None = None


@dataclass(frozen=True)
class ExportData:
    slug: str
    title: str
    addressee: str | None
    text: str
    version: int
    count: int
    signatories: list[Signatory]  # empty when names may not be exported
    anonymous: int
    names_withheld: bool  # sealed and not yet reached, or purged
    language: str = "en"  # the campaign's: the document goes with its letter


def safe_cell(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_csv(data: ExportData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("name"), _("account"), _("role"), _("comment"), _("signed_at"), _("text_version")]
    )
    for s in data.signatories:
        writer.writerow(
            [
                safe_cell(s.name),
                safe_cell(s.account),
                safe_cell(s.role),
                safe_cell(s.comment),
                s.signed_at.isoformat(),
                s.version,
            ]
        )
    return out.getvalue()  # one row per named signer; the others are counted in others_line


def others_line(data: ExportData) -> str | None:
    """Who is counted but not listed: the step's anonymous figure (a named signer who just
    withdrew leaves the list at once, and is no anonymous signer while the count catches up)."""
    others = data.count - len(data.signatories) if data.names_withheld else data.anonymous
    if others <= 0:
        return None
    if data.names_withheld:
        return ngettext(
            "{n} person signed; their name is withheld.",
            "{n} people signed; their names are withheld.",
            data.count,
        )
    return ngettext(
        "…and {n} person who signed anonymously.",
        "…and {n} people who signed anonymously.",
        others,
    )


def _version_line(data: ExportData) -> str:
    return (
        _("Letter version {version}.", version=number(data.version))
        + " "
        + ngettext("{n} signature.", "{n} signatures.", data.count)
    )


def _signatory_tail(s: Signatory, data: ExportData) -> str:
    day = date_only(s.signed_at, UTC)
    if s.version != data.version:
        return " — " + _("{day} (signed version {version})", day=day, version=number(s.version))
    return f" — {day}"


def to_markdown(data: ExportData) -> str:
    lines = [f"# {data.title}", ""]
    if data.addressee:
        lines += [_("To: {addressee}", addressee=data.addressee), ""]
    lines += [
        data.text,
        "",
        f"*{_version_line(data)}*",
        "",
        "## " + _("Signatories"),
        "",
    ]
    for s in data.signatories:
        extra = f", {s.role}" if s.role else ""
        note = f": “{s.comment}”" if s.comment else ""
        lines.append(f"- **{s.name}**{extra}{note}{_signatory_tail(s, data)}")
    others = others_line(data)
    if others:
        lines += ["", others]
    return "\n".join(lines) + "\n"


def to_html(data: ExportData) -> str:
    e = html.escape
    items = []
    for s in data.signatories:
        extra = f", {e(s.role)}" if s.role else ""
        note = f": “{e(s.comment)}”" if s.comment else ""
        items.append(
            f"<li><strong>{e(s.name)}</strong>{extra}{note}{e(_signatory_tail(s, data))}</li>"
        )
    others = others_line(data)
    paragraphs = letter_html(data.text)  # as the public page shows it
    to = _("To: {addressee}", addressee=data.addressee) if data.addressee else ""
    return (
        f'<!doctype html>\n<html lang="{data.language.replace("_", "-")}"><head>'
        f'<meta charset="utf-8"><title>{e(data.title)}</title></head><body>\n'
        f"<h1>{e(data.title)}</h1>\n"
        + (f"<p>{e(to)}</p>\n" if to else "")
        + f"{paragraphs}<p><em>{e(_version_line(data))}"
        f"</em></p>\n<h2>{e(_('Signatories'))}</h2>\n<ul>\n"
        + "\n".join(items)
        + "\n</ul>\n"
        + (f"<p>{e(others)}</p>\n" if others else "")
        + "</body></html>\n"
    )


_FORMATS = {"md": to_markdown, "csv": to_csv, "html": to_html}


def _in_its_language(fmt: str) -> Callable[[ExportData], str]:
    def render(data: ExportData) -> str:
        with speaking(data.language):
            return _FORMATS[fmt](data)

    return render


# Each export speaks its campaign's language: it travels with the letter.
RENDERERS = {fmt: _in_its_language(fmt) for fmt in _FORMATS}
