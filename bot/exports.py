"""The letter with its signatories, as Markdown, CSV or HTML.

Anonymous signers are counted, never named. CSV cells that a spreadsheet would run as a formula
(starting with = + - @, or a tab or carriage return) are neutralised with a leading quote; HTML
is escaped.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str | None
    comment: str | None
    signed_at: datetime
    version: int


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


def safe_cell(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_csv(data: ExportData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "role", "comment", "signed_at", "text_version"])
    for s in data.signatories:
        writer.writerow(
            [
                safe_cell(s.name),
                safe_cell(s.role),
                safe_cell(s.comment),
                s.signed_at.isoformat(),
                s.version,
            ]
        )
    others = data.count - len(data.signatories)
    if others > 0:
        label = "anonymous signers" if not data.names_withheld else "signers (names withheld)"
        writer.writerow([safe_cell(f"+ {others} {label}"), "", "", "", ""])
    return out.getvalue()


def _others_line(data: ExportData) -> str | None:
    others = data.count - len(data.signatories)
    if others <= 0:
        return None
    if data.names_withheld:
        return f"{data.count:,} people signed; their names are withheld."
    return f"…and {others:,} people who signed anonymously."


def to_markdown(data: ExportData) -> str:
    lines = [f"# {data.title}", ""]
    if data.addressee:
        lines += [f"To: {data.addressee}", ""]
    lines += [
        data.text,
        "",
        f"*Letter version {data.version}. {data.count:,} signatures.*",
        "",
        "## Signatories",
        "",
    ]
    for s in data.signatories:
        extra = f", {s.role}" if s.role else ""
        note = f": “{s.comment}”" if s.comment else ""
        old = f" (signed version {s.version})" if s.version != data.version else ""
        lines.append(f"- **{s.name}**{extra}{note} — {s.signed_at:%Y-%m-%d}{old}")
    others = _others_line(data)
    if others:
        lines += ["", others]
    return "\n".join(lines) + "\n"


def to_html(data: ExportData) -> str:
    e = html.escape
    items = []
    for s in data.signatories:
        extra = f", {e(s.role)}" if s.role else ""
        note = f": “{e(s.comment)}”" if s.comment else ""
        old = f" (signed version {s.version})" if s.version != data.version else ""
        items.append(
            f"<li><strong>{e(s.name)}</strong>{extra}{note} — {s.signed_at:%Y-%m-%d}{old}</li>"
        )
    others = _others_line(data)
    paragraphs = "".join(f"<p>{e(p)}</p>" for p in data.text.split("\n\n"))
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{e(data.title)}</title></head><body>\n"
        f"<h1>{e(data.title)}</h1>\n"
        + (f"<p>To: {e(data.addressee)}</p>\n" if data.addressee else "")
        + f"{paragraphs}\n<p><em>Letter version {data.version}. {data.count:,} signatures."
        f"</em></p>\n<h2>Signatories</h2>\n<ul>\n"
        + "\n".join(items)
        + "\n</ul>\n"
        + (f"<p>{e(others)}</p>\n" if others else "")
        + "</body></html>\n"
    )


RENDERERS = {"md": to_markdown, "csv": to_csv, "html": to_html}
