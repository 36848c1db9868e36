"""Request verification against Slack's documented signing example."""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack import sign


def test_slacks_documented_signing_example() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        "-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        "00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10"
        "d2c447fce8b6703c"
    )
    secret, ts = "8f742231b10e8888abcd99yyyzzz85a5", 1531420618
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign(secret, body, ts)["X-Slack-Signature"] == expected
    verifier = SignatureVerifier(secret, clock=type("C", (), {"now": lambda self: ts + 10})())
    assert verifier.is_valid(body, str(ts), expected)
    assert not verifier.is_valid(body + "x", str(ts), expected)
