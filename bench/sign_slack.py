"""Signed Slack `/sign` requests over real HTTP against `undersigned serve`, from this process.

Reports requests/s at concurrency 64, and the ack latency p50/p99/max at 300 requests/s offered
(open loop: requests leave on schedule whether or not earlier ones were answered). Reference in
the same run: `GET /healthz` on the same server, the ceiling of the HTTP stack alone.

    .venv/bin/python -m bench.sign_slack [--requests N] [--database URL] [--instances 1 2]

A fake Slack Web API runs in its own process (bolt calls auth.test, the bot calls users.info).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.common import fresh_database, median, percentile, table
from tests.fakes.slack import form, interaction_form, sign
from tests.slack_harness import EXE, SECRET, create_campaign, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
FAKE = """
import asyncio, sys
from tests.fakes.slack import FakeSlack
async def main():
    fake = FakeSlack(); await fake.start(); print(fake.port, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def payload(i: int, response_url: str, text: str = "bench") -> str:
    return form(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": f"UB{i:07d}",
            "user_name": f"signer{i}",
            "command": "/sign",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": f"t{i}",
        }
    )


def not_now(i: int, response_url: str) -> str:
    """Signer i's "Not now" after the safety notice: a first signature on Slack records
    nothing until the person has chosen, so the bench lets everyone choose first (untimed)."""
    user = f"UB{i:07d}"
    return interaction_form(
        {
            "type": "block_actions",
            "api_app_id": "A1",
            "token": "legacy",
            "team": {"id": "T1", "domain": "bench"},
            "user": {"id": user, "username": user, "name": user, "team_id": "T1"},
            "channel": {"id": "C1", "name": "general"},
            "trigger_id": f"c{i}",
            "response_url": response_url,
            "actions": [
                {
                    "action_id": "undersigned.not_now",
                    "block_id": "b",
                    "value": "bench",
                    "type": "button",
                }
            ],
        }
    )


async def start_instances(
    n: int, env: dict[str, str]
) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    procs, urls = [], []
    for _ in range(n):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [EXE, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    async with aiohttp.ClientSession() as http:
        for url, proc in zip(urls, procs, strict=True):
            await wait_healthy(http, url, proc, timeout=60)
    return procs, urls


async def closed_loop(urls: list[str], bodies: list[str] | None, n: int, concurrency: int) -> float:
    """Requests/s with `concurrency` requests in flight; bodies None means GET /healthz."""
    counter = iter(range(n))
    targets = itertools.cycle(urls)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in counter:
                base = next(targets)
                if bodies is None:
                    async with http.get(base + "/healthz") as resp:
                        assert resp.status == 200
                        await resp.read()
                else:
                    async with http.post(
                        base + "/slack/events", data=bodies[i], headers=sign(SECRET, bodies[i])
                    ) as resp:
                        assert resp.status == 200, resp.status
                        await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started)


async def open_loop(urls: list[str], bodies: list[str], rate: float) -> list[float]:
    """Send at a fixed rate; return each request's ack latency, sorted."""
    latencies: list[float] = []
    targets = itertools.cycle(urls)
    connector = aiohttp.TCPConnector(limit=2000)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(body: str, base: str) -> None:
            started = time.perf_counter()
            async with http.post(
                base + "/slack/events", data=body, headers=sign(SECRET, body)
            ) as resp:
                body_text = await resp.text()
                assert resp.status == 200, (resp.status, body_text[:200])
            latencies.append(time.perf_counter() - started)

        tasks = []
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, next(targets))))
        await asyncio.gather(*tasks)
    return sorted(latencies)


async def measure(instances: int, database: str | None, n: int, fake_port: int) -> list[list[str]]:
    db, url = await fresh_database(database)
    await db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "UNDERSIGNED_SECRET_KEY": "bench",
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    create_campaign(env, ROOT, "bench", "Bench", 1_000_000)
    procs, urls = await start_instances(instances, env)
    response_url = f"http://127.0.0.1:{fake_port}/respond/bench"
    try:
        choices = [not_now(i, response_url) for i in range(n + 3000)]
        await closed_loop(urls, choices, len(choices), 64)
        # The choices are recorded (and answered through response_url) after their
        # acknowledgement: let that backlog drain before measuring.
        await asyncio.sleep(2 + len(choices) / 500)
        health = await closed_loop(urls, None, 4000, 64)
        bodies = [payload(i, response_url) for i in range(n)]
        rps = await closed_loop(urls, bodies, n, 64)
        offered = [payload(n + i, response_url) for i in range(3000)]
        latencies = await open_loop(urls, offered, 300.0)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    label = f"{backend}, {instances} instance{'s' if instances > 1 else ''}"
    return [
        [f"{label}: GET /healthz (reference)", f"{health:,.0f}", "", "", "", "1.00"],
        [
            f"{label}: /sign",
            f"{rps:,.0f}",
            f"{median(latencies) * 1000:.0f}",
            f"{percentile(latencies, 99) * 1000:.0f}",
            f"{latencies[-1] * 1000:.0f}",
            f"{rps / health:.2f}",
        ],
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--database", default=None, help="postgresql://… (default: new SQLite)")
    parser.add_argument("--instances", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    fake = subprocess.Popen([sys.executable, "-c", FAKE], cwd=ROOT, stdout=subprocess.PIPE)
    assert fake.stdout is not None
    fake_port = int(fake.stdout.readline())
    rows: list[list[str]] = []
    try:
        for instances in args.instances:
            rows += await measure(instances, args.database, args.requests, fake_port)
    finally:
        fake.terminate()
    print(
        table(
            [
                "server",
                "requests/s (64 in flight)",
                "p50 ms @300/s",
                "p99 ms @300/s",
                "max ms @300/s",
                "ratio",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
