"""The headers every answer carries, aiohttp's own 404 and 405 included: nothing loads from
another origin, no page can be framed, no referrer leaves, no type is sniffed."""

from __future__ import annotations

from aiohttp import web

BASELINE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def secure_defaults(_request: web.BaseRequest, response: web.StreamResponse) -> None:
    for name, value in BASELINE_HEADERS.items():
        response.headers.setdefault(name, value)
    if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
        response.headers.setdefault("X-Frame-Options", "DENY")
