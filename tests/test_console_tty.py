"""The console at a real terminal (a pseudo-terminal): arrow keys edit and recall lines instead
of typing `^[[A`, and the history is of this session only: no file keeps it (its lines name
who signed anonymously)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.slack_harness import EXE, clean_env

UP = "\x1b[A"
LEFT = "\x1b[D"


def _read_until(fd: int, wanted: str, seen: list[str], seconds: float = 30, after: int = 0) -> None:
    """Read until `wanted` appears past the first `after` characters read."""
    deadline = time.monotonic() + seconds
    while wanted not in "".join(seen)[after:]:
        assert time.monotonic() < deadline, f"never saw {wanted!r} in {''.join(seen)[-800:]!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.append(os.read(fd, 65536).decode(errors="replace"))
            except OSError:
                break


def test_arrow_keys_recall_and_edit_lines_and_no_history_file_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(tmp_path / "bot.db")
    env.update(HOME=str(home), TERM="xterm", USER="ann", LOGNAME="ann")
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [EXE, "console"], stdin=terminal, stdout=terminal, stderr=terminal, env=env,
        cwd=tmp_path, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    seen: list[str] = []

    def say(line: str, answer: str) -> None:
        """Type at the prompt, and wait for the answer and the next prompt."""
        mark = len("".join(seen))
        os.write(controller, line.encode())
        _read_until(controller, answer, seen, after=mark)
        _read_until(controller, "ann> ", seen, after=mark)

    try:
        _read_until(controller, "ann> ", seen)
        say('/petition new walkout title:"Walk out" goal:10 Out.\r', "Created the petition")
        say("@dave /sign walkout anonymous\r", "anonymously")
        say("/petition status walkot\r", "walkot")
        mark = len("".join(seen))
        # Up recalls the mistyped line; Left once and a `u` mend it into `walkout`.
        say(UP + LEFT + "u\r", "of 10")
        assert "^[[A" not in "".join(seen)[mark:]
        os.write(controller, b"\x04")  # Ctrl-D at the prompt
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    assert proc.returncode == 0
    assert "^[[A" not in "".join(seen)
    assert sorted(p.name for p in home.iterdir()) == []  # no history file, no other trace
    assert not any("history" in p.name for p in tmp_path.iterdir())
