"""`log verify` and `receipt check` against a hostile server: whatever it answers, the checker
ends in bounded time and memory with one line (exit 2: couldn't check; exit 1: the log
doesn't hold up), never a traceback, and never accepts a forged log. The server here is a
stub of the HTTP boundary (httpx's MockTransport); the real server is in test_log_cli.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import log_check
from bot.domain import merkle
from bot.domain.public_log import (
    Entry,
    EntryKind,
    Head,
    KeyChange,
    LogKey,
    receipt_leaf,
    released_text,
)

BASE = "https://letters.example.org"
URL = f"{BASE}/c/walkout"
KEY = LogKey.from_hex("33" * 32)
HEAD, PAGE = "/c/walkout/log.json", "/c/walkout/log/entries"


def honest(entries: list[Entry], key: LogKey = KEY) -> dict[str, Any]:
    """What an honest server answers for these entries."""
    from datetime import UTC, datetime

    signs = sum(e.kind is EntryKind.SIGN for e in entries)
    root = merkle.root_of([e.hash() for e in entries])
    released = released_text(datetime(2026, 11, 2, 9, 15, tzinfo=UTC))
    head = Head("walkout", len(entries), root, signs, len(entries) - signs, released)
    return {
        "tree_size": len(entries),
        "root_hash": root.hex(),
        "signatures": signs,
        "withdrawals": len(entries) - signs,
        "released": released,
        "key": key.public_hex,
        "signature": key.sign(head),
    }


def server(
    entries: list[Entry], *, head: dict[str, Any] | None = None, **override: Any
) -> Callable[[httpx.Request], httpx.Response]:
    head = head or honest(entries)

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path in override:
            found = override[path]
            return found if isinstance(found, httpx.Response) else httpx.Response(200, json=found)
        if path == "/c/walkout/log.json":
            return httpx.Response(200, json=head)
        if path == "/c/walkout.json":
            return httpx.Response(
                200, json={"signatures": head["signatures"] - head["withdrawals"]}
            )
        if path == "/c/walkout/log/entries":
            a, b = int(request.url.params["start"]), int(request.url.params["end"])
            page = [e.as_json() for e in entries[a:b]]
            return httpx.Response(200, json={"start": a, "entries": page})
        if path == "/c/walkout/log/consistency":  # as an honest server proves it
            m, n = int(request.url.params["first"]), int(request.url.params["second"])
            hashes = [e.hash() for e in entries]

            def node(level: int, index: int) -> bytes:
                return merkle.root_of(hashes[index << level : (index + 1) << level])

            proof = merkle.consistency_proof(m, n, node)
            return httpx.Response(200, json={"proof": [h.hex() for h in proof]})
        return httpx.Response(404)

    return answer


def fetcher(answer: Callable[[httpx.Request], httpx.Response]) -> log_check.Fetcher:
    return log_check.Fetcher(httpx.Client(transport=httpx.MockTransport(answer)))


ENTRIES = [Entry(EntryKind.SIGN, bytes([i]) * 32) for i in range(5)] + [
    Entry(EntryKind.WITHDRAW, b"\xee" * 32)
]


def verify(answer: Any, tmp_path: Path, **kwargs: Any) -> log_check.SignedHead:
    return log_check.verify_log(
        URL, tmp_path / "heads.json", fetch=fetcher(answer), say=lambda _: None, **kwargs
    )


def test_an_honest_log_holds_and_the_stub_is_not_too_kind(tmp_path: Path) -> None:
    assert verify(server(ENTRIES), tmp_path).head.tree_size == 6
    receipt = bytes(32)
    mine = Entry(EntryKind.SIGN, receipt_leaf("walkout", receipt))
    found = log_check.check_receipt(
        receipt.hex(), URL, fetch=fetcher(server([*ENTRIES, mine])), say=lambda _: None
    )
    assert found == 7


@pytest.mark.parametrize(
    ("what", "answer", "expected"),
    [
        ("deep JSON", {HEAD: httpx.Response(200, content=b"[" * 200_000)}, "JSON"),
        ("a huge body", {HEAD: httpx.Response(200, content=b" " * 2_000_000)}, "more"),
        ("a redirect", {HEAD: httpx.Response(302, headers={"Location": "/x"})}, "302"),
        ("a head of strings", {HEAD: {"tree_size": "6"}}, "tree_size"),
        ("a page too long", {PAGE: {"entries": [ENTRIES[0].as_json()] * 7}}, "entries"),
        ("a bad kind", {PAGE: {"entries": [{"kind": "x", "leaf": "00"}]}}, "entry 0"),
        ("a short leaf", {PAGE: {"entries": [{"kind": "sign", "leaf": "00"}]}}, "leaf"),
        ("no page count", {"/c/walkout.json": {"signatures": "5"}}, "walkout.json"),
    ],
)  # fmt: skip
def test_malformed_answers_are_one_clear_error(
    tmp_path: Path, what: str, answer: dict[str, Any], expected: str
) -> None:
    with pytest.raises(log_check.CheckError) as failed:
        verify(server(ENTRIES, **answer), tmp_path)
    assert expected in str(failed.value), what


def test_a_slow_drip_ends_in_bounded_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_check, "REQUEST_SECONDS", 0.3)

    def drip() -> Iterator[bytes]:
        while True:
            time.sleep(0.05)
            yield b" "

    started = time.monotonic()
    with pytest.raises(log_check.CheckError, match="too slowly"):
        verify(
            server(ENTRIES, **{"/c/walkout/log.json": httpx.Response(200, content=drip())}),
            tmp_path,
        )
    assert time.monotonic() - started < 2


def test_a_claim_of_endless_entries_is_refused_before_reading(tmp_path: Path) -> None:
    head = honest(ENTRIES)
    head.update(tree_size=10**12)
    head["signature"] = KEY.sign(
        Head("walkout", 10**12, bytes.fromhex(head["root_hash"]), 5, 1, head["released"])
    )
    with pytest.raises(log_check.CheckError, match="more than this checker"):
        verify(server(ENTRIES, head=head), tmp_path)


def test_forgeries_fail(tmp_path: Path) -> None:
    forged = honest(ENTRIES)
    forged["signatures"] += 1  # the count raised, the signature kept
    with pytest.raises(log_check.CheckFailed, match="signature"):
        verify(server(ENTRIES, head=forged), tmp_path)
    resigned = honest(ENTRIES, LogKey.generate())  # another key signs an honest-looking head
    verify(server(ENTRIES), tmp_path)  # the genuine head, kept
    with pytest.raises(log_check.CheckFailed, match="key changed"):
        verify(server(ENTRIES, head=resigned), tmp_path)
    # The server drops an entry and re-signs with its own key: the kept head catches it,
    # whatever proof it sends.
    fewer = [*ENTRIES[:2], *ENTRIES[3:], Entry(EntryKind.SIGN, b"\x99" * 32)]
    for proof in ([], [bytes(32).hex()]):
        lie = server(fewer, **{"/c/walkout/log/consistency": {"proof": proof}})
        with pytest.raises(log_check.CheckFailed, match="rewritten"):
            verify(lie, tmp_path, save=False)
    shrunk = server(ENTRIES[:4])
    with pytest.raises(log_check.CheckFailed, match="shrank"):
        verify(shrunk, tmp_path, save=False)
    # A page that shows another count than its log (after a second look).
    wrong = server(ENTRIES, **{"/c/walkout.json": {"signatures": 99}})
    with pytest.raises(log_check.CheckFailed, match="page shows 99"):
        verify(wrong, tmp_path / "other")


def test_a_kept_heads_file_that_is_not_ours_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "heads.json").write_text("[1, 2")
    with pytest.raises(log_check.CheckError, match="heads file"):
        verify(server(ENTRIES), tmp_path)
    (tmp_path / "heads.json").write_text(json.dumps({f"{URL}/log.json": {"tree_size": -1}}))
    with pytest.raises(log_check.CheckError, match="malformed"):
        verify(server(ENTRIES), tmp_path)


def _head_at(entries: list[Entry], key: LogKey, released: str) -> dict[str, Any]:
    head = honest(entries, key)
    head["released"] = released
    signs = head["signatures"]
    plain = Head("walkout", len(entries), bytes.fromhex(head["root_hash"]), signs,
                 len(entries) - signs, released)  # fmt: skip
    head["signature"] = key.sign(plain)
    return head


def test_a_grown_head_from_before_the_kept_one_fails(tmp_path: Path) -> None:
    verify(server(ENTRIES[:4], head=_head_at(ENTRIES[:4], KEY, "2026-11-02T09:15:00Z")), tmp_path)
    older = _head_at(ENTRIES, KEY, "2020-01-01T00:00:00Z")  # grown, but years earlier
    with pytest.raises(log_check.CheckFailed, match="older than the one you kept"):
        verify(server(ENTRIES, head=older), tmp_path, save=False)
    later = _head_at(ENTRIES, KEY, "2026-11-02T09:30:00Z")
    assert verify(server(ENTRIES, head=later), tmp_path).head.tree_size == 6


def test_a_key_change_is_followed_only_when_the_old_key_signed_it(tmp_path: Path) -> None:
    """`log change-key`: the previous key signs the change; a checker who kept a head signed
    by it follows, and says when. Unsigned, forged, or from before the kept head: refused."""
    new = LogKey.from_hex("44" * 32)
    verify(server(ENTRIES[:4], head=_head_at(ENTRIES[:4], KEY, "2026-11-02T09:15:00Z")), tmp_path)
    after = _head_at(ENTRIES, new, "2026-11-03T10:00:00Z")
    change = KeyChange(KEY.public_hex, new.public_hex, "2026-11-03T09:00:00Z")
    signed = replace(change, signature=KEY.sign_change(change))
    keys = "/c/walkout/log/keys"
    cases = {
        "no change served": {"changes": []},
        "unsigned": {"changes": [change.as_json()]},
        "signed by the new key": {
            "changes": [replace(change, signature=new.sign_change(change)).as_json()]
        },
        "before the kept head": {
            "changes": [
                (lambda c: replace(c, signature=KEY.sign_change(c)))(
                    replace(change, at="2026-11-01T00:00:00Z")
                ).as_json()
            ]
        },
    }
    for what, answer in cases.items():
        with pytest.raises(log_check.CheckFailed, match="key changed") as failed:
            verify(server(ENTRIES, head=after, **{keys: answer}), tmp_path, save=False)
        if what == "unsigned":
            assert "without the previous key's signature" in str(failed.value)
    said: list[str] = []
    log_check.verify_log(
        URL,
        tmp_path / "heads.json",
        fetch=fetcher(server(ENTRIES, head=after, **{keys: {"changes": [signed.as_json()]}})),
        say=said.append,
    )
    assert any("changed on 2026-11-03T09:00:00Z" in line and "signed by the previous key" in line
               for line in said), said  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"old": "33" * 32, "new": "44" * 32, "at": "2026-11-03T09:00:00Z", "signature": 5},
        {"old": "33" * 32, "new": "44" * 32, "at": "2026-11-03T09:00:00Z", "signature": [1]},
        {"old": "33" * 32, "new": "44" * 32, "at": "zzz\nVerified.", "signature": None},
        {"old": 7, "new": "44" * 32, "at": "2026-11-03T09:00:00Z", "signature": None},
        "not a change",
    ],
)
def test_a_malformed_key_change_is_one_clear_error(tmp_path: Path, change: Any) -> None:
    new = LogKey.from_hex("44" * 32)
    verify(server(ENTRIES[:4], head=_head_at(ENTRIES[:4], KEY, "2026-11-02T09:15:00Z")), tmp_path)
    after = _head_at(ENTRIES, new, "2026-11-03T10:00:00Z")
    answer = server(ENTRIES, head=after, **{"/c/walkout/log/keys": {"changes": [change]}})
    with pytest.raises(log_check.CheckError, match="keys"):
        verify(answer, tmp_path, save=False)


def test_a_key_change_dated_after_the_new_head_is_not_followed(tmp_path: Path) -> None:
    new = LogKey.from_hex("44" * 32)
    verify(server(ENTRIES[:4], head=_head_at(ENTRIES[:4], KEY, "2026-11-02T09:15:00Z")), tmp_path)
    after = _head_at(ENTRIES, new, "2026-11-03T10:00:00Z")
    change = KeyChange(KEY.public_hex, new.public_hex, "2099-01-01T00:00:00Z")
    signed = replace(change, signature=KEY.sign_change(change))
    answer = server(ENTRIES, head=after, **{"/c/walkout/log/keys": {"changes": [signed.as_json()]}})
    with pytest.raises(log_check.CheckFailed, match="key changed"):
        verify(answer, tmp_path, save=False)
