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
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.signature import SignatureVerifier

# Set in bolt's context of a request already checked over HTTP: the middleware needn't again.
CHECKED = "undersigned.checked"
INTERACTION_TYPES = {"block_actions", "view_submission", "view_closed"}
# The Events API's envelopes (https://api.slack.com/apis/events-api): nothing else is Slack's.
EVENT_ENVELOPES = {"url_verification", "event_callback", "app_rate_limited"}


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


def _url(value: Any) -> bool:
    """Where Slack asks us to answer: an http(s) address with a host."""
    if not _text(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def check_shape(body: bytes, content_type: str) -> dict[str, Any]:
    """Refuse (400) a signed request our listeners could not read; else return its payload
    as bolt reads it (the form's fields, an interaction's `payload`, an event's JSON), so the
    body is parsed once."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "not UTF-8") from None
    if content_type.startswith("application/json") or text.startswith("{"):
        payload = _json(text)
    else:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            raise Refused(400, "malformed form") from None
        form = dict(pairs)
        payload = _json(form["payload"]) if "payload" in form else form
    check_payload(payload)
    return payload


def check_payload(payload: dict[str, Any]) -> None:
    """Refuse (400) a parsed payload our listeners could not read: a slash command's form, an
    interaction, or an Events API envelope (over HTTP and over Socket Mode alike)."""
    if "command" in payload:
        _check_command(payload)
    elif payload.get("type") in INTERACTION_TYPES or "user" in payload:
        _check_interaction(payload)
    else:
        _check_event(payload)


def _check_command(form: dict[str, Any]) -> None:
    for name in ("command", "user_id", "team_id", "trigger_id"):
        if not _text(form.get(name)):
            raise Refused(400, f"slash command without {name}")
    if not _url(form.get("response_url")):
        raise Refused(400, "slash command without a response_url")
    for name in ("text", "channel_id", "user_name"):
        if name in form and not _text(form[name], required=False):
            raise Refused(400, f"malformed {name}")


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refused(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "JSON is not an object")
    return data


def _check_event(data: dict[str, Any]) -> None:
    """An Events API envelope (or url_verification): the fields bolt and we read."""
    kind = data.get("type")
    if kind not in EVENT_ENVELOPES:  # `{"type": "0", "event": null}`: nothing Slack sends
        raise Refused(400, "no event envelope Slack sends")
    for name in ("team_id", "api_app_id", "enterprise_id", "challenge", "token", "event_id"):
        if name in data and data[name] is not None and not _text(data[name], required=False):
            raise Refused(400, f"malformed {name}")
    if kind == "url_verification":
        if not _text(data.get("challenge")):
            raise Refused(400, "no challenge")
        return
    if kind == "app_rate_limited":
        return
    event = data.get("event")
    if not isinstance(event, dict) or not _text(event.get("type")):
        raise Refused(400, "malformed event")
    if not _text(data.get("team_id")):
        raise Refused(400, "event without a workspace")
    tokens = event.get("tokens")
    if tokens is not None and not (
        isinstance(tokens, dict) and all(isinstance(v, list) for v in tokens.values())
    ):
        raise Refused(400, "malformed tokens")
    authorizations = data.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Refused(400, "malformed authorizations")


def _check_interaction(payload: dict[str, Any]) -> None:
    """Every field a listener of ours (or bolt before it) reads, of the type it expects."""
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in INTERACTION_TYPES:
        raise Refused(400, "unknown interaction type")
    user = payload.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        raise Refused(400, "interaction without a user")
    for name in ("name", "username", "team_id"):
        if name in user and not _text(user[name], required=False):
            raise Refused(400, "malformed user")
    team = payload.get("team")
    if team is not None and not isinstance(team, dict):
        raise Refused(400, "malformed workspace")
    team_id = team.get("id") if isinstance(team, dict) else None
    if not _text(team_id) and not _text(user.get("team_id")):
        raise Refused(400, "interaction without a workspace")
    if kind == "block_actions":
        _check_actions(payload)
    if kind in {"view_submission", "view_closed"}:
        _check_view(payload.get("view"))


def _check_actions(payload: dict[str, Any]) -> None:
    # Our buttons live in messages: Slack always sends where to answer and a trigger.
    if not _url(payload.get("response_url")) or not _text(payload.get("trigger_id")):
        raise Refused(400, "action without a response_url or trigger")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Refused(400, "no action")
    for action in actions:
        if not isinstance(action, dict) or not _text(action.get("action_id")):
            raise Refused(400, "malformed action")
        if "value" in action and not _text(action.get("value"), required=False):
            raise Refused(400, "malformed action value")
        if "block_id" in action and not _text(action.get("block_id"), required=False):
            raise Refused(400, "malformed action block")


def _check_view(view: Any) -> None:
    if not isinstance(view, dict) or not _text(view.get("callback_id")):
        raise Refused(400, "interaction without a view")
    if not _text(view.get("type")) or not _text(view.get("id"), required=False):
        raise Refused(400, "interaction without a view type")
    if "private_metadata" in view and not _text(view["private_metadata"], required=False):
        raise Refused(400, "malformed view metadata")
    state = view.get("state", {"values": {}})
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise Refused(400, "malformed view state")
    for block in values.values():
        for element in block.values():
            if not isinstance(element, dict):
                raise Refused(400, "malformed view state")
            option = element.get("selected_option")
            value = element.get("value")
            if value is not None and not _text(value, required=False):
                raise Refused(400, "malformed view value")
            if option is not None and not (
                isinstance(option, dict) and _text(option.get("value"), required=False)
            ):
                raise Refused(400, "malformed view option")
