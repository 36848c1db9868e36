"""Metrics in Prometheus' text format, on their own port (UNDERSIGNED_METRICS_PORT).

A metric is a public figure to whoever scrapes it, every second if they like. So nothing here
tells signing apart from any other command: requests and acknowledgement times count every
command of a platform together, steps count what the public figures already show, and no
figure is kept per campaign. Counters that move with one signature alone must never be added.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from itertools import accumulate
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from bot import __version__
from storage.database import FAILURES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.core import Metric

log = logging.getLogger(__name__)
disable_created_metrics()  # a `_created` series per label says nothing an operator needs
# No process collector: its CPU seconds move more with a signature than with a status.
REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "undersigned_requests",
    "Commands, button presses and forms received, every kind together, by platform",
    ["platform"],
    registry=REGISTRY,
)
# Coarse buckets and no sum: with a `_sum` (or fine buckets) a scrape after each lone request
# gives its exact duration, and a signature takes a few milliseconds longer than a status.
ACK_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0)
OUTBOX_PENDING = Gauge(
    "undersigned_outbox_pending",
    "Outbox messages due now and not yet delivered, at the leader's last look",
    registry=REGISTRY,
)
OUTBOX_DELIVERED = Counter(
    "undersigned_outbox_delivered",
    "Announcements, reminders, DMs and webhook calls delivered, by platform",
    ["platform"],
    registry=REGISTRY,
)
OUTBOX_FAILED = Counter(
    "undersigned_outbox_failed",
    "Outbox messages kept as failed after their last attempt, by platform",
    ["platform"],
    registry=REGISTRY,
)
WEBHOOK_FAILURES = Counter(
    "undersigned_webhook_failures",
    "Webhook calls that failed (each attempt), of every campaign together",
    registry=REGISTRY,
)
STEPS_RELEASED = Counter(
    "undersigned_steps_released",
    "Count steps made public, of every campaign together",
    registry=REGISTRY,
)
LEADING = Gauge(
    "undersigned_leading",
    "1 while this instance runs the schedule and the outbox, else 0",
    registry=REGISTRY,
)
BUILD = Gauge("undersigned_build_info", "The running release", ["version"], registry=REGISTRY)
BUILD.labels(__version__).set(1)
for _platform in ("slack", "discord", "matrix"):  # every series exists from the start
    REQUESTS.labels(_platform)
    OUTBOX_DELIVERED.labels(_platform)
    OUTBOX_FAILED.labels(_platform)
OUTBOX_DELIVERED.labels("webhook")
OUTBOX_FAILED.labels("webhook")


class _Acks(Collector):
    """Acknowledgements per platform counted into coarse buckets, without their sum."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    def observe(self, platform: str, seconds: float) -> None:
        counts = self.counts.setdefault(platform, [0] * (len(ACK_BUCKETS) + 1))
        counts[bisect_left(ACK_BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "undersigned_ack_seconds",
            "Time to acknowledge a command (any kind), by platform, in coarse buckets",
            labels=["platform"],
        )
        for platform, counts in sorted(self.counts.items()):
            cumulative = list(accumulate(counts))
            buckets = [(str(le), float(n)) for le, n in zip(ACK_BUCKETS, cumulative, strict=False)]
            family.add_metric([platform], [*buckets, ("+Inf", float(cumulative[-1]))], None)
        yield family


ACKS = _Acks()
REGISTRY.register(ACKS)
for _platform in ("slack", "discord"):  # the platforms that acknowledge
    ACKS.counts[_platform] = [0] * (len(ACK_BUCKETS) + 1)


class _DatabaseErrors(Collector):
    """Storage counts the operations the database refused or never answered (it imports no
    metrics library); read at each scrape."""

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "undersigned_database_errors",
            "Database operations that failed because it was out of reach, locked or busy",
        )
        family.add_metric([], FAILURES.unavailable)
        yield family


REGISTRY.register(_DatabaseErrors())


def received(platform: str) -> None:
    REQUESTS.labels(platform).inc()


def acknowledged(platform: str, seconds: float) -> None:
    ACKS.observe(platform, seconds)


class _Lead:
    leading = False


def set_leading(leading: bool) -> None:
    """Said by the schedule's loop as it takes or loses the lead; /readyz and the gauge."""
    _Lead.leading = leading
    LEADING.set(1 if leading else 0)


def is_leading() -> bool:
    return _Lead.leading


def scrape() -> bytes:
    return generate_latest(REGISTRY)


class MetricsServer:
    """`GET /metrics` on its own address, apart from the public port."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(
                exc.errno,
                f"cannot serve metrics on {self.host}:{self.port}: "
                f"{(exc.strerror or str(exc)).lower()} (UNDERSIGNED_METRICS_PORT chooses another)",
            ) from None
        log.info("metrics on http://%s:%s/metrics", self.host, self.port)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens (host, port), as bound."""
        if self._runner is None:
            return []
        return [tuple(a[:2]) for a in self._runner.addresses]  # type: ignore[misc]

    @staticmethod
    async def _metrics(_request: web.Request) -> web.Response:
        response = web.Response(body=scrape())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
