"""Every security header we send, in one place.

Three policies, from strictest to the one our own pages need:
- `BASELINE`: every answer, aiohttp's own 404 and 405 included: nothing loads from another
  origin, nothing frames it, no referrer leaves, no type is sniffed.
- `install_page()`: the "Add to Slack" pages bolt writes (inline style, no script, no form).
- `public_page(frame)`: the pages of published campaigns (adapters/web): scripts, styles and
  images from this origin only (a signer reading the page must not be tracked), framed only
  where `frame` says so (`/embed`).
"""

from __future__ import annotations

from aiohttp import web

_NOT_FRAMED = "frame-ancestors 'none'"

BASELINE_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; {_NOT_FRAMED}",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_PUBLIC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
_INSTALL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    f"{_NOT_FRAMED}"
)


def install_page() -> dict[str, str]:
    return {
        **BASELINE_HEADERS,
        "Content-Security-Policy": _INSTALL_CSP,
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def public_page(frame: bool = False) -> dict[str, str]:
    headers = {
        **BASELINE_HEADERS,
        "Content-Security-Policy": _PUBLIC_CSP + ("" if frame else f"; {_NOT_FRAMED}"),
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if not frame:
        headers["X-Frame-Options"] = "DENY"
    return headers


async def secure_defaults(_request: web.BaseRequest, response: web.StreamResponse) -> None:
    for name, value in BASELINE_HEADERS.items():
        response.headers.setdefault(name, value)
    if _NOT_FRAMED in response.headers["Content-Security-Policy"]:
        response.headers.setdefault("X-Frame-Options", "DENY")
