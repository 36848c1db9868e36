"""The group-commit writer's recovery paths, on the real database(s): a transient error is run
again on its own; a batch that fails is split so one bad item fails alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from bot.domain.errors import StorageUnavailable
from storage.database import Database


async def test_a_transient_error_is_retried_and_the_caller_gets_the_value(db: Database) -> None:
    attempts: list[int] = []

    def flaky(conn: Connection) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("UPDATE …", {}, Exception("database is locked"))
        return int(conn.execute(text("SELECT 41 + 1")).scalar_one())

    assert await db.write(flaky) == 42
    assert len(attempts) == 2


async def test_a_lasting_error_reaches_the_caller_after_a_few_tries(db: Database) -> None:
    attempts: list[int] = []

    def stuck(_conn: Connection) -> None:
        attempts.append(1)
        raise OperationalError("UPDATE …", {}, Exception("deadlock detected"))

    with pytest.raises(StorageUnavailable) as raised:  # said plainly, never the driver's words
        await db.write(stuck)
    assert 2 <= len(attempts) <= 5
    assert "deadlock" not in raised.value.message and "UPDATE" not in raised.value.message


async def test_a_failing_batch_is_split_so_only_the_bad_item_fails(db: Database) -> None:
    calls: list[list[str]] = []

    def shout(conn: Connection, items: list[str]) -> list[Any]:
        calls.append(list(items))
        conn.execute(text("SELECT 1"))
        if "poison" in items:
            raise ValueError("one bad item spoils the statement")
        return [item.upper() for item in items]

    results = await asyncio.gather(
        *(db.write_batched(shout, item) for item in ["ann", "poison", "cat"]),
        return_exceptions=True,
    )
    assert results[0] == "ANN" and results[2] == "CAT"
    assert isinstance(results[1], ValueError)
    assert calls[0] == ["ann", "poison", "cat"]  # tried together first
    assert sorted(map(tuple, calls[1:])) == [("ann",), ("cat",), ("poison",)]


async def test_every_kind_of_write_of_a_commit_shares_one_transaction(db: Database) -> None:
    """Signatures, "not now"s and plain ops queued together commit together, once; a kind
    that fails there is run again on its own and spoils no other."""
    await db.write(lambda conn: conn.execute(text("CREATE TABLE IF NOT EXISTS t (v TEXT)")))
    transactions: list[Any] = []  # kept alive, so no two share an id

    def insert(conn: Connection, items: list[str]) -> list[Any]:
        transactions.append(conn.get_transaction())
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": v} for v in items])
        return [None] * len(items)

    def other(conn: Connection, items: list[str]) -> list[Any]:
        transactions.append(conn.get_transaction())
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": v.upper()} for v in items])
        return [None] * len(items)

    def broken(conn: Connection, items: list[str]) -> list[Any]:
        conn.execute(text("INSERT INTO t (v) VALUES ('never')"))
        raise ValueError("this kind fails")

    results = await asyncio.gather(
        db.write_batched(insert, "a"),
        db.write_batched(other, "b"),
        db.write_batched(broken, "c"),
        db.write_batched(insert, "d"),
        return_exceptions=True,
    )
    assert results[:2] == [None, None] and results[3] is None
    assert isinstance(results[2], ValueError)
    assert len({id(t) for t in transactions}) == 1  # one transaction, one commit, both kinds
    rows = await db.read(lambda conn: sorted(r[0] for r in conn.execute(text("SELECT v FROM t"))))
    assert rows == ["B", "a", "d"]  # the failing kind left nothing behind
