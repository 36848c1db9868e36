"""What may reach bolt over HTTP: first signed by Slack, then well-formed.

The signature is checked on the raw bytes before anything is parsed, so a stranger's garbage
costs one HMAC and a 401, never a parse, a traceback or a log line per request. A signed request
is then checked for the fields our listeners read (a user, a workspace, an action), so a
malformed one gets a 400 at once instead of an exception inside a listener.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

INTERACTION_TYPES = {"block_actions", "view_submission", "view_closed"}


class Refused(Exception):
    """The request is answered with `status` and a short reason, and goes no further."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_signature(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not (timestamp.isascii() and timestamp.isdigit() and 0 < len(timestamp) <= 12):
        raise Refused(401, "unsigned request")
    if not signature.isascii() or not SignatureVerifier(secret).is_valid(
        body, timestamp, signature
    ):
        raise Refused(401, "bad or stale signature")


def _text(value: Any, *, required: bool = True) -> bool:
    return isinstance(value, str) and (bool(value.strip()) or not required)


def check_shape(body: bytes, content_type: str) -> None:
    """Refuse (400) a signed request our listeners could not read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "not UTF-8") from None
    if content_type.startswith("application/json"):
        data = _json(text)
        if not _text(data.get("type")):
            raise Refused(400, "no event type")
        return
    try:
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise Refused(400, "malformed form") from None
    if "payload" in fields:
        _check_interaction(_json(fields["payload"][0]))
        return
    form = {k: v[0] for k, v in fields.items()}
    for name in ("command", "user_id", "team_id"):
        if not _text(form.get(name)):
            raise Refused(400, f"slash command without {name}")


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refused(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "JSON is not an object")
    return data


def _check_interaction(payload: dict[str, Any]) -> None:
    kind = payload.get("type")
    if kind not in INTERACTION_TYPES:
        raise Refused(400, "unknown interaction type")
    user = payload.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        raise Refused(400, "interaction without a user")
    team = payload.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    if not _text(team_id) and not _text(user.get("team_id")):
        raise Refused(400, "interaction without a workspace")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Refused(400, "no action")
        for action in actions:
            if not isinstance(action, dict) or not _text(action.get("action_id")):
                raise Refused(400, "malformed action")
            if not _text(action.get("value"), required=False) and "value" in action:
                raise Refused(400, "malformed action value")
    if kind in {"view_submission", "view_closed"}:
        view = payload.get("view")
        if not isinstance(view, dict) or not _text(view.get("callback_id")):
            raise Refused(400, "interaction without a view")
        if not _text(view.get("type")) or not _text(view.get("id"), required=False):
            raise Refused(400, "interaction without a view type")
        state = view.get("state", {"values": {}})
        values = state.get("values") if isinstance(state, dict) else None
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise Refused(400, "malformed view state")
        for block in values.values():
            if not all(isinstance(element, dict) for element in block.values()):
                raise Refused(400, "malformed view state")
