"""The Slack app manifests validate against Slack's published app manifest schema, and agree
with the code: the scopes OAuth asks for, the commands the registry knows, the routes served.

The schema below is the part of Slack's published schema (github.com/slackapi/manifest-schema,
`manifest.schema.1.0.0.json`) that covers every key our manifests use, field by field, with
`additionalProperties: false` as there: a misspelt or unknown key fails, as it would in Slack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from adapters.slack.install import SCOPES
from bot import commands as cmd

ROOT = Path(__file__).resolve().parent.parent
URL = {"type": "string", "pattern": r"^https?:\/\/", "maxLength": 3500}
STRINGS = {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 255}


def closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


SCHEMA = closed(
    {
        "_metadata": closed(
            {k: {"type": "integer"} for k in ("major_version", "minor_version", "min_version")}
        ),
        "display_information": closed(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "minLength": 1, "maxLength": 140},
                "background_color": {
                    "type": "string",
                    "minLength": 4,
                    "maxLength": 7,
                    "pattern": "^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$",
                },
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
            },
            ("name",),
        ),
        "features": closed(
            {
                "app_home": closed(
                    {
                        k: {"type": "boolean"}
                        for k in (
                            "home_tab_enabled",
                            "messages_tab_enabled",
                            "messages_tab_read_only_enabled",
                        )
                    }
                ),
                "bot_user": closed(
                    {
                        "display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "always_online": {"type": "boolean"},
                    },
                    ("display_name",),
                ),
                "slash_commands": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 50,
                    "items": closed(
                        {
                            "command": {
                                "type": "string",
                                "minLength": 2,
                                "maxLength": 32,
                                "pattern": r"^\/",
                            },
                            "url": {
                                "type": "string",
                                "pattern": r"^https?:\/\/",
                                "maxLength": 3000,
                            },
                            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "usage_hint": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "should_escape": {"type": "boolean"},
                        },
                        ("command", "description"),
                    ),
                },
            }
        ),
        "oauth_config": closed(
            {
                "redirect_urls": {
                    "type": "array",
                    "uniqueItems": True,
                    "maxItems": 1000,
                    "items": {"type": "string", "maxLength": 2500},
                },
                "scopes": closed(
                    {k: STRINGS for k in ("user", "bot", "user_optional", "bot_optional")}
                ),
                "token_management_enabled": {"type": "boolean"},
                "pkce_enabled": {"type": "boolean"},
            }
        ),
        "settings": closed(
            {
                "event_subscriptions": closed(
                    {
                        "request_url": URL,
                        "bot_events": {**STRINGS, "maxItems": 100, "uniqueItems": True},
                        "user_events": {**STRINGS, "maxItems": 100, "uniqueItems": True},
                    }
                ),
                "interactivity": closed(
                    {
                        "is_enabled": {"type": "boolean"},
                        "request_url": URL,
                        "message_menu_options_url": URL,
                    },
                    ("is_enabled",),
                ),
                "org_deploy_enabled": {"type": "boolean"},
                "socket_mode_enabled": {"type": "boolean"},
                "token_rotation_enabled": {"type": "boolean"},
                "is_hosted": {"type": "boolean"},
            }
        ),
    },
    ("display_information",),
)

MANIFESTS = ["manifest.yml", "manifest-oauth.yml"]


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_against_slacks_schema(name: str) -> None:
    jsonschema.validate(load(name), SCHEMA)


def test_the_schema_check_can_fail() -> None:
    broken = load("manifest-oauth.yml")
    broken["settings"]["token_rotation"] = True  # misspelt: Slack would refuse it
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_agrees_with_the_code(name: str) -> None:
    manifest = load(name)
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {f"/{spec.name.split()[0]}" for spec in cmd.REGISTRY}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_uninstalled", "tokens_revoked"} <= events
    for command in manifest["features"]["slash_commands"]:
        assert command["url"].endswith("/slack/events")


def test_the_distribution_manifest_turns_on_oauth_and_rotation() -> None:
    manifest = load("manifest-oauth.yml")
    assert manifest["settings"]["token_rotation_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert [u.rsplit("/", 2)[-2:] for u in manifest["oauth_config"]["redirect_urls"]] == [
        ["slack", "oauth_redirect"]
    ]
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
