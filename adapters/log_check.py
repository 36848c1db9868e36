"""`undersigned log verify URL` and `undersigned receipt check RECEIPT URL`: what a stranger and
a signer run against a campaign's public log, on their own machine.

The server may be hostile: every answer is bounded in size and time, checked for shape, and
nothing it says is believed that can be recomputed (the root from the entries, the counts from
their kinds, an earlier head from the entries and the consistency proof). A receipt is looked
for among all the entries, downloaded as anyone may, so the server never learns which entry
was asked about.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.domain import merkle
from bot.domain.messages import _, number
from bot.domain.public_log import (
    PAGE_MAX,
    Entry,
    EntryKind,
    Head,
    KeyChange,
    SignedHead,
    read_receipt,
    receipt_leaf,
    signature_valid,
)

READ_SECONDS = 10.0  # the longest wait for any byte
REQUEST_SECONDS = 30.0  # the longest any one answer may take, however it drips
BODY_MAX = 1024 * 1024  # bytes of any one answer (a page of 1,000 entries is about 90 KB)
SIZE_MAX = 100_000_000  # entries this checker will read (in constant memory: it streams)
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX128 = re.compile(r"[0-9a-f]{128}")
RELEASED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
ADDRESS = re.compile(
    r"(?P<base>https?://[^/?#\s]+(?:/[^?#\s]*?)?)/c/(?P<slug>[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)"
    r"(?:\.json|/log\.json|/log|/embed)?/?(?:[?#]\S*)?"
)


class CheckError(Exception):
    """The check could not be made (address, network, a malformed answer): exit 2."""


class CheckFailed(Exception):
    """The log does not hold up (a bad signature, a rewrite, a count that differs): exit 1."""


@dataclass(frozen=True)
class Log:
    base: str
    slug: str

    @property
    def head_url(self) -> str:
        return f"{self.base}/c/{self.slug}/log.json"


def locate(url: str) -> Log:
    """The campaign a page's address (or its log's, or its JSON's) names."""
    found = ADDRESS.fullmatch(url.strip())
    if found is None:
        raise CheckError(
            _(
                "{url} is not the address of a campaign's page "
                "(like https://letters.example.org/c/walkout).",
                url=url.strip()[:200],
            )
        )
    return Log(found["base"].rstrip("/"), found["slug"])


class Fetcher:
    """GETs of JSON, each bounded in size (BODY_MAX) and in time (REQUEST_SECONDS in all, a
    slow drip of bytes included)."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=READ_SECONDS, follow_redirects=False)

    def json(self, url: str) -> Any:
        deadline = time.monotonic() + REQUEST_SECONDS
        try:
            with self.client.stream("GET", url, headers={"Accept": "application/json"}) as r:
                if r.status_code == 404:
                    raise CheckError(
                        _("{url} says there is no such public campaign (404).", url=url)
                    )
                if r.status_code != 200:
                    raise CheckError(_("{url} answered {status}.", url=url, status=r.status_code))
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > BODY_MAX:
                        raise CheckError(_("{url} sent more than this checker reads.", url=url))
                    if time.monotonic() > deadline:
                        raise CheckError(_("{url} answered too slowly.", url=url))
        except httpx.HTTPError as exc:
            raise CheckError(
                _("could not reach {url}: {reason}", url=url, reason=type(exc).__name__)
            ) from None
        try:
            return json.loads(bytes(body))
        except (ValueError, RecursionError):
            raise CheckError(_("{url} did not answer with JSON.", url=url)) from None


def _malformed(what: str) -> CheckError:
    return CheckError(_("the log's answer is malformed: {what}", what=what))


def _count(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise _malformed(what)
    return value


def _hex64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise _malformed(what)
    return bytes.fromhex(value)


def read_head(slug: str, data: Any) -> SignedHead:
    """A head as served or as kept in the heads file, checked for shape (not yet signature)."""
    if not isinstance(data, dict):
        raise _malformed("log.json")
    size = _count(data.get("tree_size"), "tree_size")
    signatures = _count(data.get("signatures"), "signatures")
    withdrawals = _count(data.get("withdrawals"), "withdrawals")
    released = data.get("released")
    if not isinstance(released, str) or not RELEASED.fullmatch(released):
        raise _malformed("released")
    key = data.get("key")
    signature = data.get("signature")
    if not isinstance(key, str) or not HEX64.fullmatch(key):
        raise _malformed("key")
    if not isinstance(signature, str) or not re.fullmatch(r"[0-9a-f]{128}", signature):
        raise _malformed("signature")
    root = _hex64(data.get("root_hash"), "root_hash")
    return SignedHead(Head(slug, size, root, signatures, withdrawals, released), key, signature)


def fetch_head(fetch: Fetcher, log: Log) -> SignedHead:
    signed = read_head(log.slug, fetch.json(log.head_url))
    if not signature_valid(signed.key, signed.head, signed.signature):
        raise CheckFailed(_("the head's signature is not valid for the key it names."))
    if signed.head.tree_size > SIZE_MAX:
        raise CheckError(
            _(
                "the log claims {n} entries, more than this checker downloads.",
                n=number(signed.head.tree_size),
            )
        )
    return signed


@dataclass
class Walk:
    """The log read entry by entry in constant memory: its root, its counts, the root and the
    counts at an earlier size (a kept head's), and where a receipt's entry is."""

    earlier: int | None = None
    looking_for: bytes | None = None
    size: int = 0
    signatures: int = 0
    frontier: list[bytes] = field(default_factory=list)
    earlier_root: bytes | None = None
    earlier_signatures: int = 0
    found: int | None = None  # 1-based

    def add(self, entry: Entry) -> None:
        _, self.frontier = merkle.append(self.size, self.frontier, [entry.hash()])
        self.size += 1
        if entry.kind is EntryKind.SIGN:
            self.signatures += 1
            if entry.leaf == self.looking_for and self.found is None:
                self.found = self.size
        if self.size == self.earlier:
            self.earlier_root = merkle.root_of_frontier(self.frontier)
            self.earlier_signatures = self.signatures

    @property
    def root(self) -> bytes:
        return merkle.root_of_frontier(self.frontier)


def walk_entries(fetch: Fetcher, log: Log, size: int, walk: Walk) -> Walk:
    if walk.earlier == 0:
        walk.earlier_root = merkle.EMPTY_ROOT
    while walk.size < size:
        start = walk.size
        end = min(start + PAGE_MAX, size)
        page = fetch.json(f"{log.base}/c/{log.slug}/log/entries?start={start}&end={end}")
        items = page.get("entries") if isinstance(page, dict) else None
        if not isinstance(items, list) or not items or len(items) > end - start:
            raise _malformed(f"entries {start}–{end - 1}")
        for item in items:
            if not isinstance(item, dict) or item.get("kind") not in ("sign", "withdraw"):
                raise _malformed(f"entry {walk.size}")
            walk.add(Entry(EntryKind(item["kind"]), _hex64(item.get("leaf"), "leaf")))
    return walk


def check_walk(signed: SignedHead, walk: Walk) -> None:
    """The entries give the signed root, and their kinds the signed counts."""
    head = signed.head
    if walk.root != head.root_hash:
        raise CheckFailed(_("the entries do not give the signed root: the log was altered."))
    if (walk.signatures, walk.size - walk.signatures) != (head.signatures, head.withdrawals):
        raise CheckFailed(
            _(
                "the head counts {signatures} signatures and {withdrawals} withdrawals; "
                "its entries hold {found} and {others}.",
                signatures=number(head.signatures),
                withdrawals=number(head.withdrawals),
                found=number(walk.signatures),
                others=number(walk.size - walk.signatures),
            )
        )


def default_heads_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "undersigned" / "log-heads.json"


def _load_heads(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise CheckError(_("{path} is not a heads file this checker wrote.", path=path)) from None
    if not isinstance(data, dict):
        raise CheckError(_("{path} is not a heads file this checker wrote.", path=path))
    return data


def _save_heads(path: Path, heads: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(heads, fh, indent=1, sort_keys=True)
    temporary.replace(path)


@dataclass(frozen=True)
class Checked:
    signed: SignedHead
    walk: Walk
    shown: int  # the count the page's JSON shows
    earlier: SignedHead | None  # the head kept from last time, checked against this one


def _check(
    log: Log,
    fetch: Fetcher,
    heads: dict[str, Any],
    looking_for: bytes | None = None,
    *,
    say: Callable[[str], None] = print,
) -> Checked:
    """What both commands check: the signed head, its entries, the page's count, and the
    growth since the head kept last time, if any (a server showing this checker another log
    than it showed before is caught here)."""
    kept = heads.get(log.head_url)
    earlier = read_head(log.slug, kept) if kept is not None else None
    for attempt in range(2):
        signed = fetch_head(fetch, log)
        size = earlier.head.tree_size if earlier is not None else None
        walk = walk_entries(fetch, log, signed.head.tree_size, Walk(size, looking_for))
        check_walk(signed, walk)
        page = fetch.json(f"{log.base}/c/{log.slug}.json")
        shown = page.get("signatures") if isinstance(page, dict) else None
        if type(shown) is not int:
            raise _malformed(f"{log.slug}.json")
        if shown != signed.head.count:  # a step between the reads? read once more
            again = fetch_head(fetch, log)
            if attempt or again.head == signed.head:
                raise CheckFailed(
                    _(
                        "the page shows {shown}, but the log adds up to {count} "
                        "({signatures} − {withdrawals}).",
                        shown=number(shown),
                        count=number(signed.head.count),
                        signatures=number(signed.head.signatures),
                        withdrawals=number(signed.head.withdrawals),
                    )
                )
            continue
        if earlier is not None:
            _check_growth(fetch, log, earlier, signed, walk, say)
        return Checked(signed, walk, shown, earlier)
    raise AssertionError("unreachable")


def verify_log(
    url: str,
    heads_file: Path,
    *,
    save: bool = True,
    fetch: Fetcher | None = None,
    say: Callable[[str], None] = print,
) -> SignedHead:
    """Everything `undersigned log verify` checks; raises CheckFailed or CheckError."""
    log = locate(url)
    fetch = fetch or Fetcher()
    heads = _load_heads(heads_file)
    checked = _check(log, fetch, heads, say=say)
    signed, head = checked.signed, checked.signed.head
    say(
        _(
            "Signed head of {slug}: {n} entries, root {root}, released {released}.",
            slug=log.slug,
            n=number(head.tree_size),
            root=head.root_hash.hex(),
            released=head.released,
        )
    )
    say(_("The signature is valid for the key {key}.", key=signed.key))
    say(_("The entries give the signed root."))
    say(
        _(
            "{signatures} signatures − {withdrawals} withdrawals or removals = {count}, "
            "the count the page shows.",
            signatures=number(head.signatures),
            withdrawals=number(head.withdrawals),
            count=number(checked.shown),
        )
    )
    if checked.earlier is None:
        say(
            _(
                "First check of this log: its head is kept in {path} for next time.",
                path=str(heads_file),
            )
        )
    else:
        say(
            _(
                "Consistent with the head you kept from {released}: {old} entries then, {n} "
                "now; nothing was removed or rewritten.",
                released=checked.earlier.head.released,
                old=number(checked.earlier.head.tree_size),
                n=number(head.tree_size),
            )
        )
    if save:
        heads[log.head_url] = signed.as_json()
        _save_heads(heads_file, heads)
    return signed


def _follow_key(
    fetch: Fetcher, log: Log, earlier: SignedHead, now: SignedHead, say: Callable[[str], None]
) -> None:
    """The key changed since the kept head: follow the server's changes from the kept key to
    today's, each signed by the key it replaced and made after the kept head, or fail."""
    try:
        answer = fetch.json(f"{log.base}/c/{log.slug}/log/keys")
    except CheckError:  # a server that names no change: the key changed unexplained
        answer = {}
    items = answer.get("changes") if isinstance(answer, dict) else None
    changes = []
    for item in items if isinstance(items, list) else []:
        shaped = isinstance(item, dict) and all(
            isinstance(item.get(k), str) and HEX64.fullmatch(item[k]) for k in ("old", "new")
        )
        at, signature = (item.get("at"), item.get("signature")) if shaped else (None, None)
        shaped = (
            shaped
            and isinstance(at, str)
            and RELEASED.fullmatch(at) is not None
            and (signature is None or (isinstance(signature, str) and HEX128.fullmatch(signature)))
        )
        if not shaped:
            raise _malformed("keys")
        changes.append(KeyChange(item["old"], item["new"], at, signature))
    key, followed = earlier.key, []
    for change in changes:
        # Only changes between the kept head and this one: a change can't be dated before
        # what the old key signed, nor after what the new key signs.
        if change.old != key or not earlier.head.released <= change.at <= now.head.released:
            continue
        if not change.endorsed():
            raise CheckFailed(
                _(
                    "the log's key changed on {at} ({old} then, {new} now) without the "
                    "previous key's signature: ask the organizers why before trusting it.",
                    at=change.at,
                    old=change.old,
                    new=change.new,
                )
            )
        key = change.new
        followed.append(change)
    if key != now.key:
        raise CheckFailed(
            _(
                "the log's key changed since the head you kept ({old} then, {new} now): "
                "ask the organizers why before trusting it.",
                old=earlier.key,
                new=now.key,
            )
        )
    for change in followed:
        say(
            _(
                "The log's key changed on {at}, from {old} to {new}, signed by the previous key.",
                at=change.at,
                old=change.old,
                new=change.new,
            )
        )


def _check_growth(
    fetch: Fetcher,
    log: Log,
    earlier: SignedHead,
    now: SignedHead,
    walk: Walk,
    say: Callable[[str], None] = print,
) -> None:
    """The log of `now` extends the one of `earlier`: by the server's consistency proof
    (RFC 9162) and by the entries themselves."""
    if earlier.key != now.key:
        _follow_key(fetch, log, earlier, now, say)
    old, new = earlier.head, now.head
    if new.released < old.released:
        raise CheckFailed(
            _(
                "the head is older than the one you kept ({released} now, {kept} then): "
                "time went backwards.",
                released=new.released,
                kept=old.released,
            )
        )
    if old.tree_size > new.tree_size:
        raise CheckFailed(
            _(
                "the log shrank from {old} entries to {n}: entries were removed.",
                old=number(old.tree_size),
                n=number(new.tree_size),
            )
        )
    answer = fetch.json(
        f"{log.base}/c/{log.slug}/log/consistency?first={old.tree_size}&second={new.tree_size}"
    )
    items = answer.get("proof") if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) > 128:
        raise _malformed("consistency proof")
    proof = [_hex64(h, "consistency proof") for h in items]
    proved = merkle.verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
    )
    if not proved or walk.earlier_root != old.root_hash:
        raise CheckFailed(
            _(
                "the log was rewritten: its first {old} entries no longer give the root of "
                "the head you kept from {released}.",
                old=number(old.tree_size),
                released=old.released,
            )
        )
    signed_then = walk.earlier_signatures
    if (signed_then, old.tree_size - signed_then) != (old.signatures, old.withdrawals):
        raise CheckFailed(_("the counts of the head you kept don't match its entries."))


def check_receipt(
    typed: str,
    url: str,
    heads_file: Path | None = None,
    *,
    fetch: Fetcher | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Where the receipt's entry is (1-based), the log checked as `log verify` checks it
    (against the head kept by `log verify`, if any, never saving one); raises CheckFailed
    when it is not there."""
    receipt = read_receipt(typed)
    if receipt is None:
        raise CheckError(
            _("A receipt is 64 characters, 0–9 and a–f. Paste it as the bot showed it.")
        )
    log = locate(url)
    fetch = fetch or Fetcher()
    heads = _load_heads(heads_file) if heads_file is not None else {}
    checked = _check(log, fetch, heads, receipt_leaf(log.slug, receipt), say=say)
    if checked.walk.found is None:
        raise CheckFailed(
            _(
                "This receipt is not in the log of {slug}. Entries are added when the public "
                "count next moves; if it has moved since you signed, check that you copied "
                "the whole receipt and the right campaign.",
                slug=log.slug,
            )
        )
    say(
        _(
            "Your signature is in the log of {slug}: it is entry {index} of {n}, and the "
            "entries give the signed root {root}.",
            index=number(checked.walk.found),
            n=number(checked.signed.head.tree_size),
            slug=log.slug,
            root=checked.signed.head.root_hash.hex(),
        )
    )
    return checked.walk.found
