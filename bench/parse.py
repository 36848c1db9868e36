"""How parsing time grows with the length of a command full of options.

`/sign walkout role:a role:a …` used to cost time in proportion to the square of its length
(each option re-scanned and re-sliced the rest of the text), so one 1 MB command stalled the
event loop for seconds. The reference in the same run is that old algorithm, kept here.
A linear parser takes about 8 times as long for 8 times the text; a quadratic one about 64.

    .venv/bin/python -m bench.parse
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bot import commands as cmd
from bot.commands.grammar import _options
from bot.domain.errors import UserError

SIZES = (2_000, 8_000, 32_000, 128_000)  # options; the largest is about 1 MB (uncapped here)
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}


def _old_next_word(text: str) -> tuple[str, str]:
    text = text.lstrip()
    for i, ch in enumerate(text):
        if ch.isspace():
            return text[:i], text[i:].lstrip()
    return text, ""


def old_options(text: str, keys: set[str]) -> tuple[dict[str, str], str]:
    """The option reader before the single-pass one (for comparison only)."""
    options: dict[str, str] = {}
    while True:
        head = text.lstrip()
        colon = head.find(":")
        key = head[:colon].lower() if colon > 0 else ""
        if not key or key not in keys or any(ch.isspace() for ch in head[:colon]):
            return options, text.strip()
        rest = head[colon + 1 :]
        if rest[:1] in _QUOTES:
            end = rest.find(_QUOTES[rest[0]], 1)
            options[key], text = rest[1:end], rest[end + 1 :].lstrip()
        else:
            options[key], text = _old_next_word(rest)


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    sizes = parser.parse_args().sizes
    print("| options | characters | new parser ms | old parser ms | old / new |")
    print("|---------|------------|---------------|---------------|-----------|")
    first_new = first_old = 0.0
    for n in sizes:
        text = "role:a " * n + "I'm in"
        new = best_of(5, lambda text=text: _options(text, {"role", "as"}, ""))
        old = best_of(1, lambda text=text: old_options(text, {"role", "as"}))
        first_new, first_old = first_new or new, first_old or old
        print(f"| {n:,} | {len(text):,} | {new * 1000:.2f} | {old * 1000:.1f} | {old / new:,.0f} |")
    growth = sizes[-1] // sizes[0]
    print(
        f"\n{growth}× the text: new parser {new / first_new:.1f}× the time, "
        f"old parser {old / first_old:.1f}× (linear ≈ {growth}, quadratic ≈ {growth**2})"
    )
    refused = best_of(5, lambda: _refuse("walkout " + "role:a " * 150_000))
    print(f"a 1 MB command is refused in {refused * 1000:.2f} ms (before any parsing)")


def _refuse(args: str) -> None:
    try:
        cmd.parse("/sign", args)
    except UserError:
        return
    raise AssertionError("a 1 MB command was accepted")


if __name__ == "__main__":
    main()
