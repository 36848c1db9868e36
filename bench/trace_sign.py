"""Which of our files one Slack `/sign` passes through, traced with `sys.setprofile`.

The real server (`run_adapters`: aiohttp, slack-bolt, the group-commit writer, SQLite) runs in
this process against the fake Slack Web API; one warm, signed `/sign` request is sent over HTTP
while a profiler records every call of a function in bot/, storage/, runtime/ or adapters/.
Printed: the files from the Slack listener to the INSERT (`storage.repository.insert_signatures`),
with how many of our functions each called there, then the same for the whole request (HTTP in,
ack out, and the work after the ack).

    .venv/bin/python -m bench.trace_sign
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp

from bench.sign_slack import not_now, payload
from tests.fakes.slack import FakeSlack, sign
from tests.slack_harness import SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent
OURS = tuple(str(ROOT / layer) + os.sep for layer in ("bot", "storage", "runtime", "adapters"))
LISTENER = ("adapters/slack/app.py", "SlackAdapter._on_command")
INSERT = ("storage/repository.py", "insert_signatures")


HAND_OVER = ("storage/database.py", "Database.write_batched")  # to the writer thread


def ours(frame: FrameType) -> tuple[str, str] | None:
    path = frame.f_code.co_filename
    if not path.startswith(OURS):
        return None
    return str(Path(path).relative_to(ROOT)), frame.f_code.co_qualname


class Trace:
    """Every call into our code, in order: (file, function); and the stack of our frames
    (outermost first) when the request is handed to the writer and when the INSERT runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.stacks: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.on = False

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call" or not self.on or (here := ours(frame)) is None:
            return
        self.calls.append(here)
        if here in (HAND_OVER, INSERT) and here not in self.stacks:
            stack, f = [], frame
            while f is not None:
                if (found := ours(f)) is not None:
                    stack.append(found)
                f = f.f_back
            self.stacks[here] = stack[::-1]


def table(calls: list[tuple[str, str]]) -> str:
    functions: dict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    order: list[str] = []
    for path, name in calls:
        if path not in functions:
            order.append(path)
        functions[path].add(name)
        counts[path] += 1
    lines = ["| file | functions | calls |", "| --- | --- | --- |"]
    lines += [f"| {p} | {len(functions[p])} | {counts[p]} |" for p in order]
    total_functions = sum(len(f) for f in functions.values())
    lines.append(f"| **{len(order)} files** | **{total_functions}** | **{len(calls)}** |")
    return "\n".join(lines)


async def main() -> None:
    # Set before anything starts, so the database's writer thread is traced too.
    trace = Trace()
    sys.setprofile(trace)
    threading.setprofile(trace)
    fake = FakeSlack()
    await fake.start()
    workdir = Path(tempfile.mkdtemp())
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'trace.db'}",
            "UNDERSIGNED_SECRET_KEY": "trace",
            "UNDERSIGNED_LOG_KEY": "22" * 32,
            "SLACK_BOT_TOKEN": "xoxb",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "UNDERSIGNED_LOG_LEVEL": "WARNING",
        }
    )
    from adapters.runner import run_adapters
    from bot.domain.identity import Actor
    from runtime.bootstrap import open_service
    from runtime.config import Settings

    settings = Settings()
    port = free_port()
    stop = asyncio.Event()
    async with open_service(settings) as service:
        operator = Actor("cli", "local", "operator", "Operator", operator=True)
        made = await service.handle_line(operator, '/petition new bench title:"Bench" goal:100 T')
        assert not made.error, made.text
        server = asyncio.create_task(
            run_adapters(service, settings, force_http=True, port=port, stop=stop)
        )
        url = f"http://127.0.0.1:{port}/slack/events"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

            async def post(body: str) -> int:
                async with http.post(url, data=body, headers=sign(SECRET, body)) as r:
                    await r.read()
                    return r.status

            response_url = f"http://127.0.0.1:{fake.port}/respond/trace"
            for i in range(3):  # warm: each has chosen, one has signed (caches, pools)
                assert await post(not_now(i, response_url)) == 200
            assert await post(payload(0, response_url)) == 200
            await asyncio.sleep(1.0)
            trace.on = True
            status = await post(payload(1, response_url))
            await asyncio.sleep(0.5)  # the work after the ack
            trace.on = False
            assert status == 200
        stop.set()
        await server
    await fake.stop()
    sys.setprofile(None)
    calls = trace.calls
    chain = trace.stacks[HAND_OVER] + trace.stacks[INSERT]
    files = list(dict.fromkeys(path for path, _ in chain))
    print(f"The path of `/sign` to the INSERT ({len(files)} files), outermost first:\n")
    print(" → ".join(f"{path}:{name}" for path, name in chain))
    start = calls.index(LISTENER)
    end = calls.index(INSERT, start)
    print("\nEvery call of ours from the Slack listener to the INSERT:\n")
    print(table(calls[start : end + 1]))
    print("\nThe whole request (HTTP in, ack out, work after the ack):\n")
    print(table(calls))


if __name__ == "__main__":
    asyncio.run(main())
