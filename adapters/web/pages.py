"""The public pages of published campaigns, rendered on the server (Jinja2).

`GET /`, `/c/SLUG`, `/c/SLUG.json`, `/c/SLUG/chart.svg`, `/c/SLUG/chart.png`,
`/c/SLUG/card.png`, `/c/SLUG/embed`, the public log (`/c/SLUG/log`, `log.json`,
`log/entries`, `log/consistency`: adapters/web/log_routes.py) and our own `/static/` files.
Unknown and unpublished campaigns get the same 404. Every answer carries a
Content-Security-Policy that allows only this origin (a signer reading the page must not be
tracked), no referrer, nosniff, and refuses framing except for `/embed`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from adapters.security_headers import public_page, secure_defaults
from adapters.web import charts, wording
from adapters.web.log_routes import LogRoutes
from adapters.web.wording import first_sentence, names_hidden, state_line, summary, terms
from bot import views
from bot.cache import Bounded
from bot.domain import letter_markup, messages
from bot.domain.messages import (
    N_,
    _,
    calendar_day,
    from_accept_language,
    language_of,
    number,
)
from bot.domain.messages import percent as format_percent
from bot.domain.public import PublicFacts
from bot.service import Service

HERE = Path(__file__).resolve().parent
SLUG = r"{slug:[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?}"
WHERE = {"static": "/static/", "live": True, "home": "/"}  # how the served pages link our own files


def letter_html(text: str) -> Markup:
    """A letter's HTML (bot/domain/letter_markup.py), already escaped: markup to put in a page."""
    return Markup(letter_markup.letter_html(text))


def _markup_gettext(message: str, /, **values: Any) -> Markup:
    """`_()` in templates: the translation is escaped, then filled; values that are Markup
    (our own tags) stay, everything else is escaped."""
    return Markup(escape(messages._(message))).format(**values)


def _markup_ngettext(singular: str, plural: str, n: int, /, **values: Any) -> Markup:
    """`n` is shown as the language writes it, unless `values` says how (a live figure)."""
    text = messages.translations(messages.current()).ngettext(singular, plural, n)
    values.setdefault("n", number(n))
    return Markup(escape(text)).format(**values)


def _live(name: str, value: int | str) -> Markup:
    """A figure our script keeps current (`static/live.js`), as the language writes it."""
    shown = number(value) if isinstance(value, int) else value
    return Markup('<span data-live="{}">{}</span>').format(name, shown)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        code=lambda text: Markup("<code>{}</code>").format(text),
        _=_markup_gettext,
        ngettext=_markup_ngettext,
        live_figure=_live,
        number=number,
        percent=format_percent,
        calendar_day=calendar_day,
        state_of=state_line,
        badge_of=wording.badge,
        steps_of=wording.steps,
        dates_of=wording.dates,
    )
    return env


def _asked(f: PublicFacts) -> str:
    """`?lang=` for the page's own images when the page speaks another than the campaign's."""
    spoken = messages.current()
    return "" if spoken == f.language else f"?lang={spoken}"


def page_language(request: web.Request, campaign: str) -> str:
    """A campaign's page, embed, chart and card speak the campaign's language, like its channel
    posts: one page for everyone its link reaches, never English headings beside a German
    chart. `?lang=` asks for another, and the page's chart follows it."""
    return _asked_language(request) or campaign


def _asked_language(request: web.Request) -> str | None:
    return language_of(request.query.get("lang", "")[:20])


def reader_language(request: web.Request, fallback: str | None) -> str:
    """The page's own words: `?lang=`, else the browser's Accept-Language, else the
    campaign's (or the server's) language. The letter is the organizer's, as written."""
    asked = _asked_language(request)
    browser = from_accept_language(request.headers.get("Accept-Language", "")[:500])
    return asked or browser or messages.campaign_language(fallback, messages.current())


class PublicPages:
    def __init__(self, service: Service, base_url: str | None = None) -> None:
        self.service = service
        self.base = (base_url or "").rstrip("/")
        self.env = _environment()
        # Renders of the facts the service handed out (it reuses them for up to a second): a
        # page read a thousand times a second is rendered about once a second.
        self._renders: Bounded[tuple[str, str, str], tuple[PublicFacts, bytes]] = Bounded(5_000)
        self._static = {
            "page.css": ("text/css; charset=utf-8", (HERE / "static" / "page.css").read_bytes()),
            "icon.svg": ("image/svg+xml", (HERE / "static" / "icon.svg").read_bytes()),
            "live.js": (
                "text/javascript; charset=utf-8",
                (HERE / "static" / "live.js").read_bytes(),
            ),
            "receipt.js": (
                "text/javascript; charset=utf-8",
                (HERE / "static" / "receipt.js").read_bytes(),
            ),
        }

    def mount(self, app: web.Application) -> None:
        if secure_defaults not in app.on_response_prepare:
            app.on_response_prepare.append(secure_defaults)  # aiohttp's own 404s and 405s too
        app.router.add_get("/", self.index)
        app.router.add_get(f"/c/{SLUG}", self.page)
        app.router.add_get(f"/c/{SLUG}.json", self.data)
        app.router.add_get(f"/c/{SLUG}/chart.svg", self.chart_svg)
        app.router.add_get(f"/c/{SLUG}/chart.png", self.chart_png)
        app.router.add_get(f"/c/{SLUG}/card.png", self.card_png)
        app.router.add_get(f"/c/{SLUG}/embed", self.embed)
        LogRoutes(self).mount(app, SLUG)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/favicon.ico", self.icon)

    # ---- helpers -------------------------------------------------------------------------

    def _answer(
        self,
        request: web.Request,
        body: bytes,
        content_type: str,
        *,
        status: int = 200,
        cache: str = "no-cache",
        frame: bool = False,
    ) -> web.Response:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            **public_page(frame),
            "Cache-Control": cache,
            "ETag": etag,
            "Vary": "Accept-Language",  # the page's words follow the reader's language
        }
        if status == 200 and etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(
            status=status, body=body, headers={**headers, "Content-Type": content_type}
        )

    def _render(self, template: str, *, files: bool = False, **context: Any) -> str:
        """Served pages link `/static/…`; static files (`--out`) link their neighbours and
        carry no script."""
        where = {"static": "", "live": False, "home": f"{self.base}/" if self.base else ""}
        where = where if files else WHERE
        language = messages.current()
        return self.env.get_template(template).render(
            base=self.base, lang=language.replace("_", "-"), **where, **context
        )

    def _html(
        self,
        request: web.Request,
        template: str,
        *,
        status: int = 200,
        language: str | None = None,
        title: str | None = None,
        **context: Any,
    ) -> web.Response:
        """A campaign's page in its language (`language`), else (the index, not found) the
        reader's; `title` is a marked sentence, translated here."""
        spoken = page_language(request, language) if language else reader_language(request, None)
        with messages.speaking(spoken):
            if title is not None:
                context["page_title"] = _(title)
            html = self._render(template, **context)
        frame = template == "embed.html"
        return self._answer(
            request, html.encode(), "text/html; charset=utf-8", status=status, frame=frame
        )

    def _rendered(self, kind: str, facts: PublicFacts, build: Any) -> bytes:
        key = (kind, facts.slug, messages.current())
        cached = self._renders.get(key)
        if cached is not None and cached[0] is facts:
            return cached[1]
        body: bytes = build(facts)
        self._renders[key] = (facts, body)
        return body

    def _missing(self, request: web.Request) -> web.Response:
        """The same answer for a campaign that doesn't exist and one that isn't public."""
        return self._html(request, "missing.html", status=404, title=N_("Not found"))

    async def _facts(self, request: web.Request) -> PublicFacts | None:
        return await views.public(self.service.ctx, request.match_info["slug"])

    # ---- routes --------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        campaigns = await views.published(self.service.ctx)
        return self._html(
            request, "index.html", title=N_("Open letters and pledges"), campaigns=campaigns
        )

    async def page(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        with messages.speaking(page_language(request, f.language)):
            body = self._rendered("page", f, self._page_html)
        return self._answer(request, body, "text/html; charset=utf-8")

    def _page_html(self, f: PublicFacts, files: bool = False) -> bytes:
        """The page in the language being spoken (its letter as the organizer wrote it)."""
        state, badge = wording.badge(f)
        # Absolute only from the configured address: never from a request's Host header
        # (this render is shared by every reader for a second). Served without one, the
        # page's script completes the path from the address bar.
        page_url = f"{self.base}/c/{f.slug}" if self.base else ("" if files else f"/c/{f.slug}")
        # The log lives on the server: a copy on another host links to it there, if it can.
        log_url = f"/c/{f.slug}/log"
        if files:
            log_url = f"{self.base}{log_url}" if self.base else ""
        return self._render(
            "page.html",
            files=files,
            page_title=f.title,
            chart_src="chart.svg" if files else f"/c/{f.slug}/chart.svg" + _asked(f),
            chart_width=charts.WIDTH,
            chart_height=charts.HEIGHT,
            json_src="data.json" if files else f"/c/{f.slug}.json",
            f=f,
            state=state,
            badge=badge,
            page_url=page_url,
            where=wording.where_to_sign(f),
            description=f"{first_sentence(f.text)} {summary(f)}".strip(),
            state_line=state_line(f),
            dates=wording.dates(f),
            terms=terms(f) if f.kind == "pledge" else "",
            names_hidden=names_hidden(f),
            chart_alt=charts.describe(f),
            letter=letter_html(f.text),
            letter_lang=f.language.replace("_", "-"),
            log_url=log_url,
            short_root=f.log_root[:16],
        ).encode()

    async def data(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        body = self._rendered("json", f, _json)
        return self._answer(request, body, "application/json", cache="public, max-age=30")

    def _image(self, kind: str, request: web.Request, f: PublicFacts, draw: Any) -> bytes:
        """An image in the page's language (`?lang=`), cached per facts and language like the
        page: the copy speaking another language is made only when it is drawn."""
        spoken = page_language(request, f.language)

        def drawn(facts: PublicFacts) -> bytes:
            return bytes(draw(dataclasses.replace(facts, language=spoken)))

        with messages.speaking(spoken):
            return self._rendered(kind, f, drawn)

    async def chart_svg(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        body = self._image("svg", request, f, lambda facts: charts.svg(facts).encode())
        return self._answer(request, body, "image/svg+xml", cache="public, max-age=60")

    async def chart_png(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        body = self._image("png", request, f, charts.png)
        return self._answer(request, body, "image/png", cache="public, max-age=60")

    async def card_png(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        body = self._rendered("card", f, lambda facts: charts.card(facts, self.address(facts)))
        return self._answer(request, body, "image/png", cache="public, max-age=300")

    def address(self, f: PublicFacts) -> str:
        """The page's address as a card prints it: no scheme, nothing without a public one."""
        return f"{self.base.split('://', 1)[-1]}/c/{f.slug}" if self.base else ""

    async def embed(self, request: web.Request) -> web.Response:
        f = await self._facts(request)
        if f is None:
            return self._missing(request)
        state, badge = wording.badge(f)
        return self._html(
            request,
            "embed.html",
            language=f.language,
            page_title=f.title,
            f=f,
            state=state,
            badge=badge,
        )

    async def icon(self, request: web.Request) -> web.Response:
        content_type, body = self._static["icon.svg"]
        return self._answer(request, body, content_type, cache="public, max-age=86400")

    async def static(self, request: web.Request) -> web.Response:
        found = self._static.get(request.match_info["name"])
        if found is None:
            return self._missing(request)
        content_type, body = found
        return self._answer(request, body, content_type, cache="public, max-age=3600")


def _json(facts: PublicFacts) -> bytes:
    return json.dumps(facts.as_json(), separators=(",", ":"), ensure_ascii=False).encode()


def static_files(facts: PublicFacts, pages: PublicPages) -> dict[str, bytes]:
    """The same page as files for any static host (`petition publish SLUG --out DIR`), in
    the campaign's language."""
    with messages.speaking(facts.language):
        page = pages._page_html(facts, files=True)
    return {
        "index.html": page,
        "data.json": _json(facts),
        "chart.svg": charts.svg(facts).encode(),
        "chart.png": charts.png(facts),
        "card.png": charts.card(facts, pages.address(facts)),
        "page.css": pages._static["page.css"][1],
        "icon.svg": pages._static["icon.svg"][1],
    }
