"""Signed but malformed → 400, for every shape Slack sends: a property test against the real
`undersigned serve` process (bolt behind our checks), with fields missing, of the wrong type,
or extra. Never a 500, never a traceback in the log."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fakes.slack import (
    FakeSlack,
    button_click,
    event,
    form,
    interaction_form,
    slash_command,
    view_submission,
)
from tests.slack_harness import SlackBot


class Running:
    """The fake Slack and the bot, on an event loop of their own (hypothesis calls in)."""

    def __init__(self, workdir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeSlack()
        self.call(self.fake.start())
        self.bot = SlackBot(self.fake, workdir)
        self.call(self.bot.start())

    def call(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(60)

    def stop(self) -> None:
        self.call(self.bot.stop())
        self.call(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    served = Running(tmp_path_factory.mktemp("malformed"))
    yield served
    served.stop()
    log = served.bot.stderr
    for trouble in ("Traceback", "unhandled error in a Slack listener", "didn't call ack"):
        assert trouble not in log, log


def shapes(fake: FakeSlack) -> list[tuple[str, dict[str, Any]]]:
    """One valid payload of each kind Slack sends us, and how it is encoded."""
    closed = view_submission({"slug": "x"})
    closed["type"] = "view_closed"
    return [
        ("form", slash_command(fake, "/sign", "walkout")),
        ("interaction", button_click(fake, "sign", "walkout")),
        ("interaction", view_submission({"slug": "x", "title": "T", "goal": "5"})),
        ("interaction", closed),
        ("json", event("T1", "app_uninstalled")),
        ("json", {"type": "url_verification", "challenge": "abc", "token": "t"}),
    ]


WRONG = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append((*prefix, k))
            found.extend(paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.append((*prefix, i))
            found.extend(paths(v, (*prefix, i)))
    return found


@st.composite
def mutated(draw: st.DrawFn, fake: FakeSlack) -> tuple[str, Any]:
    encoding, base = draw(st.sampled_from(shapes(fake)))
    payload = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        where = paths(payload)
        if not where:
            break
        path = draw(st.sampled_from(where))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["drop", "wrong", "extra"]))
        if action == "drop" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == "wrong":
            parent[path[-1]] = draw(WRONG)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(WRONG)
    return encoding, payload


def encoded(encoding: str, payload: Any) -> str:
    if encoding == "json":
        return json.dumps(payload)
    if encoding == "interaction":
        return interaction_form(payload)
    return form({str(k): str(v) for k, v in payload.items()})


def _answered_without_a_server_error(running: Running, encoding: str, payload: Any) -> int:
    body = encoded(encoding, payload)
    headers = None
    if encoding == "json":
        from tests.fakes.slack import sign
        from tests.slack_harness import SECRET

        headers = {**sign(SECRET, body), "Content-Type": "application/json"}
    status, answer, _ = running.call(running.bot.post(body, headers))
    assert status in (200, 400, 404), (status, answer, payload)
    return status


# Shapes that once got a 500 (found by the property test below, or by a review): kept.
KEPT = [
    ("json", {"type": "0", "event": None}),
    ("json", {"type": "event_callback", "event": None, "team_id": "T1"}),
    ("json", {"type": "block_actions"}),
    ("json", {"type": None}),
    ("json", {"type": "app_rate_limited", "team_id": 5}),
    ("interaction", {"type": "block_actions", "user": {"id": "U1"}, "team": None}),
    ("interaction", {"type": "view_submission", "user": {"id": "U1", "team_id": "T1"}}),
]


@pytest.mark.parametrize(("encoding", "payload"), KEPT)
def test_signed_shapes_that_once_failed_are_refused_with_400(
    running: Running, encoding: str, payload: Any
) -> None:
    assert _answered_without_a_server_error(running, encoding, payload) == 400


SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@seed(20261208)  # the same examples on every run: a failure here is never luck
@SETTINGS
@given(data=st.data())
def test_every_signed_shape_is_answered_without_a_server_error(
    running: Running, data: st.DataObject
) -> None:
    _answered_without_a_server_error(running, *data.draw(mutated(running.fake)))


@settings(SETTINGS, max_examples=100)
@given(data=st.data())
def test_new_signed_shapes_each_run_are_answered_without_a_server_error(
    running: Running, data: st.DataObject
) -> None:
    """Fresh examples on every run: a failure prints its payload; add it to KEPT."""
    _answered_without_a_server_error(running, *data.draw(mutated(running.fake)))
