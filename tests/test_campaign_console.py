"""A whole campaign in the console, under a real pseudo-terminal, as people run one: a letter
of two paragraphs, posted, reminded, signed with names and anonymously, withdrawn, edited,
taken past its goal, closed, exported, and a signer forgotten. Each step checks what the person
at the terminal reads, in English and in German (the sentences come from the catalogs, so a
reply that skipped translation fails here)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.domain.messages import _, ngettext, speaking
from tests.slack_harness import EVERY_SIGNATURE, EXE, free_port
from tests.test_languages import _english_fragments

DEADLINE = (date.today() + timedelta(days=200)).isoformat()


class Terminal:
    """`undersigned console` on a pseudo-terminal: what a person typing there sees."""

    def __init__(self, workdir: Path, lang: str) -> None:
        master, slave = pty.openpty()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DISCORD_", "UNDERSIGNED_", "LC_", "LANG"))
        }
        env.update(
            {
                "LANG": "C.UTF-8",
                "USER": "org",
                "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
                "UNDERSIGNED_SECRET_KEY": "k",
                "UNDERSIGNED_RATE_LIMIT_PER_MINUTE": "0",
                "UNDERSIGNED_HTTP_PORT": str(free_port()),
                **EVERY_SIGNATURE,
            }
        )
        self.proc = subprocess.Popen(
            [EXE, "console", "--lang", lang],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=workdir,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.seen = ""

    def read_until(self, marker: str, timeout: float = 30) -> str:
        out = ""
        end = time.monotonic() + timeout
        while marker not in out and time.monotonic() < end:
            ready, _w, _x = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    out += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
            out = out.replace("\r", "")
        assert marker in out, f"never saw {marker!r} in {out!r}"
        self.seen += out
        return out

    def type(self, line: str) -> str:
        """Type a line; what appears until the next prompt (continuations prompt `... `)."""
        os.write(self.master, (line + "\n").encode())
        return self.read_until("... " if line.endswith("\\") else "org> ")

    def close(self) -> None:
        os.write(self.master, b"\x04")  # Ctrl-D
        try:
            self.proc.wait(20)
        finally:
            os.close(self.master)


def plain(text: str) -> str:
    return text.replace("**", "")


Step = tuple[str, Callable[[], list[str]]]


def campaign_steps(lang: str) -> list[Step]:
    title = {"en": "Walk out", "de": "Arbeitsniederlegung"}[lang]
    return [
        (
            f'/petition new walkout title:"{title}" goal:3 deadline:{DEADLINE} lang:{lang} '
            "First paragraph.\\",
            lambda: [],
        ),
        ("\\", lambda: []),
        (
            "Second paragraph.",
            lambda: [
                _("Created the petition **{title}** (`{slug}`).", title=title, slug="walkout")
            ],
        ),
        ("/petition read walkout", lambda: ["First paragraph.\n\nSecond paragraph."]),
        ("/petition post walkout", lambda: [f"== {title} =="]),
        ("/petition remind walkout daily 09:00", lambda: ["09:00"]),
        (
            "@ann /sign walkout",
            lambda: [_("Thank you, {name}: you signed **{title}**.", name="ann", title=title)],
        ),
        ("@bob /sign walkout anonymous", lambda: [_("anonymous")[:4]]),
        (
            "@ann /unsign walkout",
            lambda: [_("Your signature on **{title}** is withdrawn and deleted.", title=title)],
        ),
        (
            "/petition edit walkout The new text.",
            lambda: [_("Updated **{title}**: {changes}.", title=title, changes="")[:8]],
        ),
        ("@carl /sign walkout", lambda: []),
        (
            "@dora /sign walkout",
            lambda: [_("🎉 You are signature {count}: the goal is reached!", count="3")],
        ),
        (
            "@eve /sign walkout",
            lambda: [
                ngettext(
                    "{n} signature, past the goal of {goal}",
                    "{n} signatures, past the goal of {goal}",
                    4,
                    goal="3",
                )
            ],
        ),
        ("/petition close walkout", lambda: [_("Closed **{title}**.", title=title)]),
        ("/petition export walkout csv", lambda: ["carl,", "dora,", "eve,", "--- walkout.csv ---"]),
        ("@carl /forget-me", lambda: ["/forget-me confirm"]),
        (
            "@carl /forget-me confirm",
            lambda: [
                ngettext(
                    "Done: {n} signature deleted, and every message waiting for you.",
                    "Done: {n} signatures deleted, and every message waiting for you.",
                    1,
                )
            ],
        ),
    ]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_whole_campaign_at_the_console(tmp_path: Path, lang: str) -> None:
    terminal = Terminal(tmp_path, lang)
    try:
        terminal.read_until("org> ")
        for line, expected in campaign_steps(lang):
            shown = terminal.type(line)
            with speaking(lang):
                wanted = [plain(e) for e in expected()]
            for piece in wanted:
                assert piece in shown, (line, piece, shown)
            assert "Traceback" not in shown and "⚠" not in shown, (line, shown)
        read = terminal.seen.split("/petition read walkout", 1)[1].split("org> ", 1)[0]
        assert read.count("First paragraph.") == 1  # the letter once, not card and text
    finally:
        terminal.close()
    if lang != "en":
        english = [f for f in _english_fragments() if f in terminal.seen]
        assert not english, english[:10]
