"""Console adapter: the whole bot in a terminal, no platform or token needed."""

from adapters.console.render import render
from adapters.console.repl import ConsoleSession, run_console

__all__ = ["ConsoleSession", "render", "run_console"]
