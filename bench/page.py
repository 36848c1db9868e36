"""The public page under load, against the real `undersigned serve` with 100,000 signatures.

Reports requests/s at 64 in flight for `GET /c/SLUG.json` and `GET /c/SLUG`, against
`GET /healthz` on the same server in the same run (targets: JSON ≥ 0.5, page ≥ 0.3 of it); the
chart's render time (SVG and PNG) in this process; and Slack `/sign` ack latency at 50/s with
and without the page loaded at 500 requests/s in the background (a letter going viral must not
slow signing).

    .venv/bin/python -m bench.page [--signatures 100000] [--requests 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time

import aiohttp

from adapters.web import charts
from bench.common import ORGANIZER, fresh_database, median, percentile, service_with_campaign, table
from bench.sign_slack import FAKE, ROOT, closed_loop, not_now, open_loop, payload, start_instances
from bench.status import bulk_sign
from bot import views
from tests.slack_harness import SECRET

LETTERS = {"plain": "Letter", "pathological": "**_" * 6666}  # 19,998 characters


async def get_loop(url: str, n: int, concurrency: int = 64) -> float:
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for _ in counter:
                async with http.get(url) as resp:
                    assert resp.status == 200, resp.status
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started)


async def background_load(url: str, rate: float, stop: asyncio.Event) -> int:
    """GET the page and its JSON at `rate` per second until stopped (open loop)."""
    sent = 0
    paths = itertools.cycle(["/c/bench", "/c/bench.json"])
    connector = aiohttp.TCPConnector(limit=2000)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(path: str) -> None:
            async with http.get(url + path) as resp:
                await resp.read()

        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        while not stop.is_set():
            delay = start + sent / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(next(paths)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.gather(*tasks, return_exceptions=True)
    return sent


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--signs", type=int, default=1000, help="/sign requests at 50/s, twice")
    parser.add_argument(
        "--letter",
        choices=sorted(LETTERS),
        default="plain",
        help="pathological: 20,000 characters of `**_` (the costliest markdown we know)",
    )
    args = parser.parse_args()

    db, url = await fresh_database(None)
    service = await service_with_campaign(db, "bench", text=LETTERS[args.letter])
    await bulk_sign(service, "bench", args.signatures)
    await service.handle(ORGANIZER, "/petition", "publish bench")
    facts = await views.public(service.ctx, "bench")
    assert facts is not None
    renders = []
    for render in (charts.svg, charts.png):
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            render(facts)
            samples.append(time.perf_counter() - started)
        renders.append((render.__name__, sorted(samples)))
    await db.close()

    fake = subprocess.Popen([sys.executable, "-c", FAKE], cwd=ROOT, stdout=subprocess.PIPE)
    assert fake.stdout is not None
    fake_port = int(fake.stdout.readline().split()[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "UNDERSIGNED_SECRET_KEY": "bench-key",
            "UNDERSIGNED_LOG_KEY": "22" * 32,
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{fake_port}/api/",
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    procs, urls = await start_instances(1, env)
    base = urls[0]
    response_url = f"http://127.0.0.1:{fake_port}/respond/bench"
    try:
        health = await get_loop(base + "/healthz", args.requests)
        data = await get_loop(base + "/c/bench.json", args.requests)
        page = await get_loop(base + "/c/bench", args.requests)
        # Signing: everyone chooses first (untimed), then /sign at 50/s, quiet and under load.
        n = args.signs
        choices = [not_now(10_000_000 + i, response_url) for i in range(2 * n)]
        await closed_loop(urls, choices, len(choices), 64)
        await asyncio.sleep(4)
        quiet = await open_loop(
            urls, [payload(10_000_000 + i, response_url) for i in range(n)], 50.0
        )
        stop = asyncio.Event()
        load = asyncio.create_task(background_load(base, 500.0, stop))
        await asyncio.sleep(1)
        loaded = await open_loop(
            urls, [payload(10_000_000 + n + i, response_url) for i in range(n)], 50.0
        )
        stop.set()
        sent = await load
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)
        fake.terminate()

    print(
        table(
            ["GET, 64 in flight", "requests/s", "ratio to /healthz"],
            [
                ["/healthz (reference)", f"{health:,.0f}", "1.00"],
                ["/c/SLUG.json", f"{data:,.0f}", f"{data / health:.2f}"],
                ["/c/SLUG", f"{page:,.0f}", f"{page / health:.2f}"],
            ],
        )
    )
    print()
    print(
        table(
            ["chart render", "p50 ms", "p99 ms"],
            [
                [name, f"{median(s) * 1000:.2f}", f"{percentile(s, 99) * 1000:.2f}"]
                for name, s in renders
            ],
        )
    )
    print()
    print(
        table(
            ["/sign at 50/s", "p50 ms", "p99 ms", "max ms"],
            [
                [label, *(f"{v * 1000:.0f}" for v in (median(s), percentile(s, 99), s[-1]))]
                for label, s in (
                    ("quiet", quiet),
                    (f"page + JSON at 500/s ({sent:,} sent)", loaded),
                )
            ],
        )
    )
    print(f"\n({args.signatures:,} signatures, {args.letter} letter; one run, this machine)")


if __name__ == "__main__":
    asyncio.run(main())
