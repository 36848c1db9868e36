"""Outgoing webhooks: campaign events POSTed as JSON, signed so receivers can verify them.

Headers: `X-Undersigned-Timestamp: UNIX seconds` and
`X-Undersigned-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}.{body}"))`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import time
from urllib.parse import urlsplit

import httpx

from bot.domain.outgoing import Message, WebhookPayload
from bot.domain.replies import Reply
from bot.domain.web_addresses import address_inside
from runtime.dispatcher import Undeliverable, rate_limited

DELIVERY_SECONDS = 15.0  # one delivery, from connecting to the answer's status and headers


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: check the signature and refuse stale timestamps."""
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    """POSTs events to organizers' URLs. A URL is an organizer's choice, and an organizer may be
    hostile: unless `allow_private`, an address inside the host's networks (loopback, private,
    link-local such as cloud metadata) is refused, so webhooks can't probe or poke them."""

    def __init__(
        self, client: httpx.AsyncClient | None = None, *, allow_private: bool = False
    ) -> None:
        self.client = client or httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self.allow_private = allow_private

    async def _check_target(self, url: str) -> None:
        parsed = urlsplit(url)
        host = parsed.hostname or ""
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port)
        except OSError as exc:
            raise ConnectionError(f"cannot resolve the webhook's host: {exc}") from None
        for *_, address in found:
            if address_inside(ipaddress.ip_address(address[0])):
                raise Undeliverable(
                    "the webhook's address is inside this host's networks "
                    "(set UNDERSIGNED_WEBHOOK_ALLOW_PRIVATE=true to allow it)"
                )

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        if not self.allow_private:
            await self._check_target(message.target)
        payload = message.payload
        if not isinstance(payload, WebhookPayload):
            raise Undeliverable("a webhook message without a webhook payload")
        body = json.dumps(payload.body, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Undersigned-Webhook/1",
            "X-Undersigned-Timestamp": timestamp,
            "X-Undersigned-Signature": signature(payload.secret, timestamp, body),
        }
        # Streamed: the status and headers are all we use, so no byte of the answer's body is
        # read (a receiver's 150 MB reply costs nothing) and the connection is closed; and the
        # whole delivery has one deadline, so a receiver dripping its answer can't hold a slot.
        try:
            async with asyncio.timeout(DELIVERY_SECONDS):
                async with self.client.stream(
                    "POST", message.target, content=body, headers=headers
                ) as response:
                    status, retry = response.status_code, response.headers.get("Retry-After")
        except TimeoutError:
            raise ConnectionError("the webhook took too long to answer") from None
        if status == 429:
            raise rate_limited(retry)
        if status >= 400:
            raise ConnectionError(f"the webhook answered {status}")

    async def close(self) -> None:
        await self.client.aclose()
