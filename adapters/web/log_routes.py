"""The public log's routes (formats in bot/domain/public_log.py and docs/security.md):

- `GET /c/SLUG/log.json`: the signed head;
- `GET /c/SLUG/log/entries?start=A&end=B`: entries A ≤ i < B, at most 1,000 per call;
- `GET /c/SLUG/log/consistency?first=M&second=N`: RFC 9162's proof between two sizes;
- `GET /c/SLUG/log/keys`: the server's key and its deliberate changes, each signed by the
  key it replaced;
- `GET /c/SLUG/log`: what the log proves, in plain words, and a receipt check that runs in
  the browser (the receipt never leaves it: the page downloads every entry, as anyone may).

Unknown and unpublished campaigns get the pages' own 404; a malformed query a 400 in JSON.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import log_reads
from bot.domain.messages import number
from bot.domain.public_log import PAGE_MAX

DECIMAL = re.compile(r"[0-9]{1,12}")
# Released entries and proofs never change, but a page taken down must leave shared caches as
# soon as its JSON does.
SETTLED = "public, max-age=30"
LISTED_PAGES = 10  # download links of entries offered on the page for checking offline


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class LogRoutes:
    def __init__(self, pages: Any) -> None:
        """`pages`: the PublicPages these routes answer like (headers, 404, templates)."""
        self.pages = pages

    def mount(self, app: web.Application, slug: str) -> None:
        app.router.add_get(f"/c/{slug}/log.json", self.head)
        app.router.add_get(f"/c/{slug}/log/entries", self.entries)
        app.router.add_get(f"/c/{slug}/log/consistency", self.consistency)
        app.router.add_get(f"/c/{slug}/log/keys", self.keys)
        app.router.add_get(f"/c/{slug}/log", self.page)

    @property
    def ctx(self) -> Any:
        return self.pages.service.ctx

    def _bad(self, request: web.Request, reason: str) -> web.Response:
        body = _dumps({"error": reason})
        return self.pages._answer(request, body, "application/json", status=400)

    def _numbers(self, request: web.Request, *names: str) -> list[int] | str:
        found = []
        for name in names:
            value = request.query.get(name, "")
            if not DECIMAL.fullmatch(value):
                return f"{name} must be a whole number"
            found.append(int(value))
        return found

    async def head(self, request: web.Request) -> web.Response:
        signed = await log_reads.signed_head(self.ctx, request.match_info["slug"])
        if signed is None:
            return self.pages._missing(request)
        return self.pages._answer(request, _dumps(signed.as_json()), "application/json")

    async def keys(self, request: web.Request) -> web.Response:
        found = await log_reads.key_changes(self.ctx, request.match_info["slug"])
        if found is None:
            return self.pages._missing(request)
        body = _dumps({"key": self.ctx.log_key.public_hex, "changes": [c.as_json() for c in found]})
        return self.pages._answer(request, body, "application/json")

    async def _read(
        self, request: web.Request, names: tuple[str, str], read: Any
    ) -> web.Response | tuple[int, int, Any]:
        """Two whole numbers from the query and what `read` finds with them; or the answer
        instead: a 400 for a malformed or out-of-range query, the pages' 404."""
        numbers = self._numbers(request, *names)
        if isinstance(numbers, str):
            return self._bad(request, numbers)
        first, second = numbers
        try:
            found = await read(self.ctx, request.match_info["slug"], first, second)
        except log_reads.BadRange as exc:
            return self._bad(request, exc.message)
        if found is None:
            return self.pages._missing(request)
        return first, second, found

    async def entries(self, request: web.Request) -> web.Response:
        got = await self._read(request, ("start", "end"), log_reads.entries)
        if isinstance(got, web.Response):
            return got
        start, end, found = got
        whole = len(found) == min(end - start, PAGE_MAX)  # released entries never change
        body = _dumps({"start": start, "entries": [e.as_json() for e in found]})
        return self.pages._answer(
            request, body, "application/json", cache=SETTLED if whole else "no-cache"
        )

    async def consistency(self, request: web.Request) -> web.Response:
        got = await self._read(request, ("first", "second"), log_reads.consistency)
        if isinstance(got, web.Response):
            return got
        body = _dumps({"proof": [h.hex() for h in got[2]]})
        return self.pages._answer(request, body, "application/json", cache=SETTLED)

    async def page(self, request: web.Request) -> web.Response:
        pages = self.pages
        f = await pages._facts(request)
        signed = await log_reads.signed_head(self.ctx, request.match_info["slug"])
        if f is None or signed is None:
            return pages._missing(request)
        size = signed.head.tree_size
        downloads = [(start, min(start + PAGE_MAX, size)) for start in range(0, size, PAGE_MAX)][
            :LISTED_PAGES
        ]
        page_url = f"{pages.base}/c/{f.slug}" if pages.base else ""
        return pages._html(
            request,
            "log.html",
            language=f.language,
            f=f,
            head=signed.head,
            released=datetime.strptime(signed.head.released, "%Y-%m-%dT%H:%M:%SZ"),
            signed=signed,
            downloads=downloads,
            more_pages=size > LISTED_PAGES * PAGE_MAX,
            page_url=page_url or f"/c/{f.slug}",
            command_url=page_url or "URL",
            size=number(size),
        )
