"""Signed Slack `/sign` requests over real HTTP against `undersigned serve`, from this process.

Reports requests/s at concurrency 64, and the ack latency p50/p99/max at 300 requests/s offered
(open loop: requests leave on schedule whether or not earlier ones were answered). References in
the same run: `GET /healthz` on the same server (the ceiling of the HTTP stack alone), and a
bare slack-bolt app acknowledging `/sign` after one INSERT per person (`bench/bare_bolt.py`,
what a team would write without us).

    .venv/bin/python -m bench.sign_slack [--requests N] [--database URL] [--instances 1 2]
    .venv/bin/python -m bench.sign_slack --sustained     # 300/s for 60 s, 1,000/s for 10 s

A fake Slack Web API runs in its own process (bolt calls auth.test, the bot calls users.info).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.common import fresh_database, median, percentile, table
from tests.fakes.slack import form, interaction_form, sign
from tests.slack_harness import EXE, SECRET, create_campaign, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
FAKE = """
import asyncio, json, sys
from aiohttp import web
from tests.fakes.slack import FakeSlack
async def main():
    fake = FakeSlack(); await fake.start()
    async def stats(request):
        calls = {}
        for call in fake.calls:
            calls[call.method] = calls.get(call.method, 0) + 1
        return web.json_response({"responses": len(fake.responses), "calls": calls})
    app = web.Application(); app.router.add_get("/stats", stats)
    runner = web.AppRunner(app); await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0); await site.start()
    print(fake.port, site._server.sockets[0].getsockname()[1], flush=True)
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


@dataclass
class Fake:
    """The fake Slack Web API in its own process, and what it has been asked."""

    proc: subprocess.Popen[bytes]
    port: int
    stats_port: int

    @classmethod
    def start(cls) -> Fake:
        proc = subprocess.Popen([sys.executable, "-c", FAKE], cwd=ROOT, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        port, stats = (int(p) for p in proc.stdout.readline().split())
        return cls(proc, port, stats)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/respond/bench"

    async def seen(self) -> int:
        """Every call and response_url post received so far."""
        stats = f"http://127.0.0.1:{self.stats_port}/stats"
        async with aiohttp.ClientSession() as http, http.get(stats) as resp:
            found = await resp.json()
        return int(found["responses"]) + sum(found["calls"].values())

    async def drained(self, quiet: float = 0.5, limit: float = 60.0) -> float:
        """Seconds until the after-ack work stops arriving (no new call for `quiet` s)."""
        started = time.perf_counter()
        last, last_change = await self.seen(), time.perf_counter()
        while time.perf_counter() - started < limit:
            await asyncio.sleep(0.1)
            now = await self.seen()
            if now != last:
                last, last_change = now, time.perf_counter()
            elif time.perf_counter() - last_change >= quiet:
                break
        return max(0.0, last_change - started)


def undersigned_env(url: str, fake: Fake) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "UNDERSIGNED_SECRET_KEY": "bench",
            "UNDERSIGNED_LOG_KEY": "22" * 32,
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    return env


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait(20)


async def start_bare(fake: Fake, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "bench.bare_bolt", "--port", str(port)),
            *("--database", str(workdir / "bare.db"), "--api-url", fake.api_url),
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        await wait_healthy(http, url, proc, timeout=60)
    return proc, url


def stored(database: str) -> tuple[int, int]:
    """(signature rows, distinct signers) of the bench campaign: equal when none counted twice."""
    path = database.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT signer_hash) FROM signature "
            "JOIN campaign ON campaign.id = signature.campaign_id WHERE slug = 'bench'"
        ).fetchone()
        return int(rows[0]), int(rows[1])


def latency_cells(latencies: list[float]) -> list[str]:
    return [
        f"{median(latencies) * 1000:.0f}",
        f"{percentile(latencies, 99) * 1000:.0f}",
        f"{latencies[-1] * 1000:.0f}",
    ]


ROUNDS = 3


async def measure(
    instances: int, database: str | None, n: int, fake: Fake, workdir: Path
) -> list[list[str]]:
    """Undersigned and the bare app run side by side; their throughput is measured in
    alternating rounds (after-ack work drained between rounds), and the ratio is that of the
    medians, so a noisy neighbour slows both rather than one."""
    db, url = await fresh_database(database)
    await db.close()
    env = undersigned_env(url, fake)
    create_campaign(env, ROOT, "bench", "Bench", 1_000_000)
    procs, urls = await start_instances(instances, env)
    bare_proc, bare = await start_bare(fake, workdir)
    try:
        choices = [not_now(i, fake.response_url) for i in range(ROUNDS * n + 3000)]
        await closed_loop(urls, choices, len(choices), 64)
        # The choices are recorded (and answered through response_url) after their
        # acknowledgement: let that backlog drain before measuring.
        await fake.drained()
        ours_health = await closed_loop(urls, None, 4000, 64)
        bare_health = await closed_loop([bare], None, 4000, 64)
        ours_rps, bare_rps = [], []
        for r in range(ROUNDS):
            bodies = [payload(r * n + i, fake.response_url) for i in range(n)]
            bare_rps.append(await closed_loop([bare], bodies, n, 64))
            ours_rps.append(await closed_loop(urls, bodies, n, 64))
            await fake.drained()
        first = ROUNDS * n
        offered = [payload(first + i, fake.response_url) for i in range(3000)]
        bare_latencies = await open_loop([bare], offered, 300.0)
        latencies = await open_loop(urls, offered, 300.0)
    finally:
        stop([*procs, bare_proc])
    ours, theirs = median(ours_rps), median(bare_rps)
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    label = f"{backend}, {instances} instance{'s' if instances > 1 else ''}"
    spread = f" ({min(ours_rps):,.0f}–{max(ours_rps):,.0f})"
    return [
        ["bare bolt app: GET /healthz", f"{bare_health:,.0f}", "", "", "", "1.00", ""],
        [
            "bare bolt app: /sign + 1 INSERT (reference)",
            f"{theirs:,.0f} ({min(bare_rps):,.0f}–{max(bare_rps):,.0f})",
            *latency_cells(bare_latencies),
            f"{theirs / bare_health:.2f}",
            "1.00",
        ],
        [f"{label}: GET /healthz", f"{ours_health:,.0f}", "", "", "", "1.00", ""],
        [
            f"{label}: /sign",
            f"{ours:,.0f}{spread}",
            *latency_cells(latencies),
            f"{ours / ours_health:.2f}",
            f"{ours / theirs:.2f}",
        ],
    ]


SUSTAINED = ((300.0, 60.0), (1000.0, 10.0))  # requests/s offered, for seconds


async def sustained(fake: Fake, cold: bool) -> list[list[str]]:
    """300/s for 60 s, then 1,000/s for 10 s, against one instance on SQLite and against the
    bare app: ack latency, how long the after-ack work takes to drain once the burst ends,
    and whether every signature was stored once. `cold`: the instance restarts after everyone
    chose, so each signer's language is looked up (users.info) and the answer goes through
    response_url: the after-ack work a real burst brings."""
    total = int(sum(rate * seconds for rate, seconds in SUSTAINED))
    rows: list[list[str]] = []
    db, url = await fresh_database(None)
    await db.close()
    env = undersigned_env(url, fake)
    create_campaign(env, ROOT, "bench", "Bench", 10_000_000)
    procs, urls = await start_instances(1, env)
    try:
        choices = [not_now(i, fake.response_url) for i in range(total)]
        await closed_loop(urls, choices, len(choices), 64)
        await fake.drained()
        if cold:
            stop(procs)
            procs, urls = await start_instances(1, env)
        start = 0
        for rate, seconds in SUSTAINED:
            count = int(rate * seconds)
            bodies = [payload(start + i, fake.response_url) for i in range(count)]
            latencies = await open_loop(urls, bodies, rate)
            drain = await fake.drained()
            start += count
            label = (
                f"Undersigned{' (cold names)' if cold else ''}: {rate:,.0f}/s for {seconds:.0f} s"
            )
            rows.append([label, *latency_cells(latencies), f"{drain:.1f}", ""])
        kept, distinct = stored(url)
        rows[-1][-1] = f"{kept:,} rows, {distinct:,} signers" + (
            "" if kept == distinct == total else " MISMATCH"
        )
    finally:
        stop(procs)
    with tempfile.TemporaryDirectory() as workdir:
        proc, bare = await start_bare(fake, Path(workdir))
        try:
            start = 0
            for rate, seconds in SUSTAINED:
                count = int(rate * seconds)
                bodies = [payload(start + i, fake.response_url) for i in range(count)]
                latencies = await open_loop([bare], bodies, rate)
                start += count
                label = f"bare bolt app: {rate:,.0f}/s for {seconds:.0f} s"
                rows.append([label, *latency_cells(latencies), "", ""])
        finally:
            stop([proc])
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--database", default=None, help="postgresql://… (default: new SQLite)")
    parser.add_argument("--instances", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--sustained",
        action="store_true",
        help="300/s for 60 s and 1,000/s for 10 s (SQLite, one instance), warm and cold names",
    )
    args = parser.parse_args()
    fake = Fake.start()
    try:
        if args.sustained:
            rows = await sustained(fake, cold=False) + await sustained(fake, cold=True)
            print(
                table(["load", "ack p50 ms", "ack p99 ms", "ack max ms", "drain s", "stored"], rows)
            )
            return
        rows = []
        with tempfile.TemporaryDirectory() as workdir:
            for instances in args.instances:
                place = Path(workdir) / str(instances)
                place.mkdir()
                rows += await measure(instances, args.database, args.requests, fake, place)
    finally:
        fake.proc.terminate()
    print(
        table(
            [
                "server",
                "requests/s, 64 in flight (median of 3 rounds)",
                "p50 ms @300/s",
                "p99 ms @300/s",
                "max ms @300/s",
                "ratio to /healthz",
                "ratio to bare bolt",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
