"""The command line in this environment, and waiting for what it started."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

EXE = shutil.which("undersigned", path=str(Path(sys.executable).parent)) or "undersigned"


def wait_until_healthy(proc: subprocess.Popen[str], port: int, seconds: float = 30) -> None:
    """Until the started command answers /healthz (it must not have exited meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                assert r.status == 200
                return
        except OSError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "it never served /healthz"
            time.sleep(0.2)
