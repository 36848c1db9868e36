"""Every benchmark runs, at a tiny size, on every CI run: none can break unnoticed (bench.status
and bench.parse once did, after the code they time moved). The figures are not checked here;
bench/README.md has them at full size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
TINY = {
    "memory": ["--signatures", "50"],
    "page": ["--signatures", "50", "--requests", "20", "--signs", "40"],
    "parse": ["--sizes", "100", "400"],
    "public_log": ["--entries", "50", "--requests", "20", "--proofs", "10"],
    "sign_core": ["--signers", "200", "--concurrency", "8"],
    "sign_slack": ["--requests", "60"],
    "status": ["--signatures", "50", "--rounds", "5"],
    "trace_sign": [],
}
HELPERS = {"__init__", "common", "bare_bolt"}  # run by the others, not benchmarks themselves


def test_every_benchmark_is_run_here() -> None:
    modules = {p.stem for p in BENCH.glob("*.py")} - HELPERS
    assert modules == set(TINY), "a benchmark CI does not run (add it to TINY)"


@pytest.mark.parametrize("module", sorted(TINY))
def test_the_benchmark_runs_at_a_tiny_size(module: str, tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *TINY[module]],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "|" in ran.stdout, ran.stdout[-2000:]  # it printed its table
