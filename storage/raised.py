"""How a write says what it changed: it raises a domain event on its connection.

The events ride on the connection's `info` for the length of one transaction; the database
takes them when that transaction commits (and drops them with a rolled-back savepoint), so a
subscriber only ever hears of what is true in the database.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from bot.domain.events import Event

_KEY = "undersigned.raised"


def raise_event(conn: Connection, event: Event) -> None:
    conn.info.setdefault(_KEY, []).append(event)


def raised_so_far(conn: Connection) -> int:
    return len(conn.info.get(_KEY, ()))


def drop_since(conn: Connection, mark: int) -> None:
    """A savepoint rolled back: what it raised never happened."""
    del conn.info.get(_KEY, [])[mark:]


def take(conn: Connection) -> list[Event]:
    """Every event raised since the last take (the transaction's), once each, in order."""
    found = conn.info.pop(_KEY, [])
    return list(dict.fromkeys(found))
