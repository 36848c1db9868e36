"""A REPL where each line is typed as in chat; `@NAME ` at the start acts as another user."""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Callable
from typing import TextIO

from adapters.console.render import render
from adapters.console.sender import ConsoleSender
from bot import bus
from bot.domain.identity import Actor, Place
from bot.domain.messages import _, language_of, speaking
from bot.domain.replies import Reply
from bot.service import Service
from runtime.dispatcher import Dispatcher

PLATFORM = "console"
WORKSPACE = "local"
_NAME = re.compile(r"^@([\w.-]{1,64})$")


def named(token: str) -> str | None:
    """`@erin` names erin: at the console a person's name is their id (`@erin /sign …`)."""
    found = _NAME.match(token)
    return f"{PLATFORM}:{WORKSPACE}:{found.group(1)}" if found else None


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "you"


class ConsoleSession:
    """Pushes a line in and pops the reply: used by the REPL and by tests."""

    def __init__(
        self, service: Service, user: str | None = None, language: str | None = None
    ) -> None:
        self.service = service
        self.user = user or default_user()
        self.language = language  # what every person at this terminal reads

    def actor_for(self, name: str) -> Actor:
        return Actor(PLATFORM, WORKSPACE, name, name, locale=self.language, names=named)

    async def push(self, line: str) -> Reply | None:
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        name = self.user
        if line.startswith("@"):
            head, _space, rest = line.partition(" ")
            name, line = head[1:] or self.user, rest.strip()
            if not line:
                return None
        place = Place(PLATFORM, WORKSPACE, "terminal")
        return await bus.handle_line(self.service.ctx, self.actor_for(name), line, place)


def terminal_language(environ: dict[str, str]) -> str | None:
    """The terminal's language, as gettext reads it: LANGUAGE, LC_ALL, LC_MESSAGES, LANG."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for tag in (environ.get(name) or "").split(":"):
            found = language_of(tag)
            if found:
                return found
    return None


async def run_console(
    service: Service,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    language: str | None = None,
) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    session = ConsoleSession(service, language=language)
    interactive = stdin.isatty()
    if interactive:
        with speaking(language):
            stdout.write(
                _(
                    "Undersigned console. You are @{user}; start a line with @NAME to act as "
                    "someone else. Try /petition help. Ctrl-D to quit.",
                    user=session.user,
                )
                + "\n"
            )
    # A pipe runs no schedule: what a command queued for this terminal (a milestone post, a
    # pledge's result to each pledger) is printed right after that command's reply, in order.
    inline = None if interactive else Dispatcher(service.ctx, {PLATFORM: ConsoleSender(stdout)})
    loop = asyncio.get_running_loop()
    read = _line_editor(stdin, stdout) if interactive else None
    try:
        await _serve_lines(session, stdin, stdout, read, inline, loop)
    finally:
        if read is not None:
            _forget_history()


def _line_editor(stdin: TextIO, stdout: TextIO) -> Callable[[str], str] | None:
    """At a terminal: line editing and a history of this session (arrow keys, Ctrl-R), through
    the standard library's readline. The history is never written to a file: its lines hold
    letters, names and who signed anonymously (`@dave /sign walkout anonymous`)."""
    if stdin is not sys.stdin or stdout is not sys.stdout:
        return None
    try:
        import readline
    except ImportError:  # a Python built without it: plain lines, as from a pipe
        return None
    readline.set_history_length(1000)

    def read(prompt: str) -> str:
        try:
            return input(prompt) + "\n"
        except EOFError:
            return ""

    return read


def _forget_history() -> None:
    import readline

    readline.clear_history()


async def _serve_lines(
    session: ConsoleSession,
    stdin: TextIO,
    stdout: TextIO,
    read: Callable[[str], str] | None,
    inline: Dispatcher | None,
    loop: asyncio.AbstractEventLoop,
) -> None:
    interactive = stdin.isatty()

    async def next_line(prompt: str) -> str:
        if read is not None:
            return await loop.run_in_executor(None, read, prompt)
        if interactive:
            stdout.write(prompt)
            stdout.flush()
        return await loop.run_in_executor(None, stdin.readline)

    while True:
        line = await next_line(f"{session.user}> ")
        if not line:
            break
        while line.rstrip("\r\n").endswith("\\"):  # a backslash at the end: the line goes on
            more = await next_line("... ")
            line = line.rstrip("\r\n")[:-1] + "\n" + (more or "")
            if not more:
                break
        if line.strip() in {"quit", "exit", "/quit", "/exit"}:
            break
        reply = await session.push(line)
        if reply is not None:
            if not interactive:
                stdout.write(f"> {line.strip()}\n")
            stdout.write(render(reply) + "\n\n")
            stdout.flush()
            if inline is not None:
                await inline.run_once()
