"""Outgoing webhooks: campaign events POSTed as JSON, signed so receivers can verify them.

Headers: `X-Undersigned-Timestamp: UNIX seconds` and
`X-Undersigned-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}.{body}"))`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from bot.dispatcher import RetryAfter
from bot.replies import Reply
from storage.outbox import Message


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does: check the signature and refuse stale timestamps."""
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self.client = client or httpx.AsyncClient(timeout=10.0)

    async def deliver(self, message: Message, reply: Reply | None) -> None:
        body = json.dumps(message.payload["body"], separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        response = await self.client.post(
            message.target,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Undersigned-Webhook/1",
                "X-Undersigned-Timestamp": timestamp,
                "X-Undersigned-Signature": signature(message.payload["secret"], timestamp, body),
            },
        )
        if response.status_code == 429:
            raise RetryAfter(float(response.headers.get("Retry-After", "5")))
        response.raise_for_status()

    async def close(self) -> None:
        await self.client.aclose()
