"""Metrics in Prometheus' text format, on their own port (UNDERSIGNED_METRICS_PORT).

A metric is a public figure to whoever scrapes it, every second if they like. So nothing here
tells signing apart from any other command: requests and acknowledgement times count every
command of a platform together, steps count what the public figures already show, and no
figure is kept per campaign. Counters that move with one signature alone must never be added.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot import __version__
from storage.database import FAILURES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.core import Metric

log = logging.getLogger(__name__)
disable_created_metrics()  # a `_created` series per label says nothing an operator needs
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

REQUESTS = Counter(
    "undersigned_requests",
    "Commands, button presses and forms received, every kind together, by platform",
    ["platform"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "undersigned_ack_seconds",
    "Time from receiving a command (any kind) to acknowledging it, by platform",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
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
    ACK_SECONDS.labels(platform).observe(seconds)


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
