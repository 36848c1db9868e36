"""Metrics as a watcher would read them: scraped ten times a second around one anonymous
signature and around one `/petition status`, every figure moves by as much (no latency sum,
no CPU seconds to tell the longer path); nothing names signing, a campaign or a person; the
port is this machine's only unless told otherwise."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.slack import FakeSlack
from tests.slack_harness import SlackBot, blocks_text, bot_env, create_campaign, free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class Watcher:
    """Scrapes every 0.1 s on its own thread, as a Prometheus set to a tight interval."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seen: list[tuple[float, Samples]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.seen.append((time.monotonic(), scrape(self.port)))
            self._stop.wait(0.1)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def moved(self, start: float, end: float) -> dict[tuple[str, tuple], float]:
        """Every sample that changed between `start` and `end`, and by how much."""
        inside = [samples for at, samples in self.seen if start <= at <= end]
        assert len(inside) >= 5, "the watcher did not see enough"
        first, last = inside[0], inside[-1]
        return {
            key: value - first.get(key, 0.0)
            for key, value in last.items()
            if first.get(key) != value
        }


async def test_a_watcher_scraping_every_tenth_of_a_second_cannot_tell_a_signature(
    tmp_path: Path,
) -> None:
    fake = FakeSlack()
    await fake.start()
    metrics_port = free_port()
    env = bot_env(
        fake,
        tmp_path / "bot.db",
        UNDERSIGNED_METRICS_PORT=str(metrics_port),
        UNDERSIGNED_COUNT_WINDOW_MINUTES="15",  # as shipped: counts move in steps
        UNDERSIGNED_COUNT_STEP="3",
    )
    create_campaign(env, tmp_path, "quiet", "Quiet", 100)
    bot = SlackBot(fake, tmp_path)
    await bot.start(env=env)
    try:
        await bot.informed("UANON", "UREADER")
        before = scrape(metrics_port)
        names = {name for name, _ in before}
        for name, labels in before:
            bare = name.removeprefix("undersigned_")
            assert not any(word in bare for word in ("sign", "withdraw", "consent", "campaign"))
            assert "quiet" not in dict(labels).values() and "UANON" not in dict(labels).values()
        assert {"undersigned_requests_total", "undersigned_leading"} <= names

        with Watcher(metrics_port) as watcher:
            await asyncio.sleep(1.0)
            t0 = time.monotonic()
            _, status, _ = await bot.command("/petition", "status quiet", user="UREADER")
            assert "of 100" in blocks_text(status)
            await asyncio.sleep(1.5)
            t1 = time.monotonic()
            _, signed, _ = await bot.command("/sign", "quiet anonymously", user="UANON")
            assert "anonymously" in blocks_text(signed), signed
            await asyncio.sleep(1.5)
            t2 = time.monotonic()
        around_status = watcher.moved(t0 - 0.3, t1 - 0.3)
        around_signature = watcher.moved(t1 - 0.3, t2)  # from a scrape before it
        # Every figure moved by as much around the signature as around the status.
        assert around_signature == around_status, (around_signature, around_status)
        assert around_signature[("undersigned_requests_total", (("platform", "slack"),))] == 1
        assert not any(name.endswith("_sum") for name, _ in around_signature)
    finally:
        await bot.stop()
        await fake.stop()


def test_metrics_are_off_unless_asked_and_local_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime.config import Settings

    monkeypatch.delenv("UNDERSIGNED_METRICS_PORT", raising=False)
    monkeypatch.delenv("UNDERSIGNED_METRICS_HOST", raising=False)
    assert Settings().metrics_port is None
    assert Settings().metrics_host == "127.0.0.1"


async def test_the_metrics_server_binds_where_it_is_told_and_nowhere_else() -> None:
    from runtime.config import Settings
    from runtime.metrics import MetricsServer

    port = free_port()
    server = MetricsServer(Settings().metrics_host, port)
    await server.start()
    try:
        assert server.addresses == [("127.0.0.1", port)]
        scraped = await asyncio.to_thread(scrape, port)
        assert any(name == "undersigned_leading" for name, _ in scraped)
        with socket.socket() as taken, pytest.raises(OSError, match="UNDERSIGNED_METRICS_PORT"):
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            await MetricsServer("127.0.0.1", taken.getsockname()[1]).start()
    finally:
        await server.stop()
