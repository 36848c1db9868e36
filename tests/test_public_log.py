"""The public log (issue 27): a count anyone can check, and a receipt for each signer.

The log is read over HTTP and checked by an independent verifier (tests/log_verifier.py,
written from RFC 9162 and the formats in docs/security.md, importing none of our log code);
the Merkle hashing is held to the published RFC 6962 / RFC 9162 test vectors.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select

from bot import commands as cmd
from bot import handlers, jobs
from bot.domain import merkle
from bot.domain.identity import Actor, SignerKey
from bot.domain.public_log import Entry, EntryKind, LogKey, receipt_leaf
from bot.domain.steps import Part, StepRule
from bot.service import Service
from storage.database import Database
from storage.tables import LogPendingRow, SignatureRow
from tests import log_verifier as independent
from tests.conftest import Clock, informed, person
from tests.web_site import Site

ORG = person("org")
RECEIPT = re.compile(r"`([0-9a-f]{64})`")

# ---- RFC 6962 / RFC 9162 test vectors ------------------------------------------------------
# From transparency-dev/merkle (testonly/constants.go, proof/verify_test.go), the Certificate
# Transparency reference tree: its leaf inputs, the root of each size, and known proofs.
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (0-based index, tree size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (first, second, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def stored_tree(leaf_hashes: list[bytes], chunks: list[int]) -> merkle.NodeSource:
    """The nodes our log stores, made by appending the leaves in chunks as steps would."""
    nodes = {(0, i): h for i, h in enumerate(leaf_hashes)}
    size, frontier, at = 0, [], 0
    for chunk in [*chunks, len(leaf_hashes)]:
        batch = leaf_hashes[at : at + chunk]
        made, frontier = merkle.append(size, frontier, batch)
        nodes.update({(level, idx): h for level, idx, h in made})
        size, at = size + len(batch), at + len(batch)
    assert merkle.root_of_frontier(frontier) == merkle.root_of(leaf_hashes)
    return lambda level, idx: nodes[(level, idx)]


def test_our_hashing_matches_the_published_vectors() -> None:
    hashes = [merkle.leaf_hash(d) for d in LEAF_INPUTS]
    for size, root in enumerate(ROOTS):
        assert merkle.root_of(hashes[:size]).hex() == root
        node = stored_tree(hashes[:size], [3, 1])
        assert merkle.subtree_hash(0, size, node).hex() == root
    node = stored_tree(hashes, [2, 3])
    for index, size, path in INCLUSION:
        assert [h.hex() for h in merkle.inclusion_proof(index, size, node)] == path
        root = bytes.fromhex(ROOTS[size])
        assert merkle.verify_inclusion(
            index, size, hashes[index], [*map(bytes.fromhex, path)], root
        )
    for first, second, proof in CONSISTENCY:
        assert [h.hex() for h in merkle.consistency_proof(first, second, node)] == proof
        r1, r2 = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
        assert merkle.verify_consistency(first, second, r1, r2, [*map(bytes.fromhex, proof)])


def test_the_independent_verifier_matches_the_published_vectors_too() -> None:
    for size, root in enumerate(ROOTS):
        assert independent.mth(LEAF_INPUTS[:size]).hex() == root
    for index, size, path in INCLUSION:
        assert [h.hex() for h in independent.path(index, LEAF_INPUTS[:size])] == path
    for first, second, proof in CONSISTENCY:
        assert [h.hex() for h in independent.proof(first, LEAF_INPUTS[:second])] == proof
        if first < second:
            r1, r2 = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
            got = [bytes.fromhex(h) for h in proof]
            assert independent.verify_proof(first, second, r1, r2, got)
            assert not independent.verify_proof(first, second, r2, r1, got)  # it can fail


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=70),
    st.data(),
    st.lists(st.integers(min_value=0, max_value=9), max_size=8),
)
def test_proofs_from_stored_nodes_are_the_rfcs_whatever_the_steps(
    size: int, data: st.DataObject, chunks: list[int]
) -> None:
    inputs = [b"sign:" + bytes([i % 256, i // 256]) * 16 for i in range(size)]
    hashes = [merkle.leaf_hash(d) for d in inputs]
    node = stored_tree(hashes, chunks)
    first = data.draw(st.integers(min_value=0, max_value=size))
    proof = merkle.consistency_proof(first, size, node)
    assert proof == independent.proof(first, inputs)
    r1, r2 = independent.mth(inputs[:first]), independent.mth(inputs)
    assert merkle.verify_consistency(first, size, r1, r2, proof)
    if proof:  # a flipped bit, a dropped hash or another root: refused
        bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
        assert not merkle.verify_consistency(first, size, r1, r2, bad)
        assert not merkle.verify_consistency(first, size, r1, r2, proof[:-1])
        assert not merkle.verify_consistency(first, size, r2, r1, proof)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = merkle.inclusion_proof(index, size, node)
    assert path == independent.path(index, inputs)
    assert merkle.verify_inclusion(index, size, hashes[index], path, r2)
    assert not merkle.verify_inclusion(index, size, hashes[index - 1], path, r2) or size == 1


# ---- the log of a campaign, read over HTTP ---------------------------------------------------


def receipt_of(reply: Any) -> bytes:
    found = RECEIPT.search(reply.text)
    assert found, reply.text
    return bytes.fromhex(found[1])


async def campaign(service: Service, slug: str = "walkout", publish: bool = True) -> None:
    values = {"title": "Walk out", "goal": "50", "names": "public"}
    made = await handlers.campaigns.create(service.ctx, ORG, cmd.Create(slug, values, "We refuse."))
    assert not made.error, made.text
    if publish:
        assert not (await service.handle(ORG, "/petition", f"publish {slug}")).error


async def sign(
    service: Service, who: Actor, slug: str = "walkout", anonymous: bool = False
) -> bytes:
    await informed(service, who)
    reply = await service.handle(who, "/sign", f"{slug}{' anonymous' if anonymous else ''}")
    assert not reply.error, reply.text
    return receipt_of(reply)


async def read_log(site: Site, slug: str = "walkout") -> tuple[dict[str, Any], list[Any], int]:
    """The head, every entry and the page's count, a second later (what the public reads is
    kept for a second)."""
    clock = site.service.ctx.clock
    if isinstance(clock, Clock):
        clock.advance(seconds=1)
    status, body, _ = await site.get(f"/c/{slug}/log.json")
    assert status == 200, body
    head = json.loads(body)
    entries: list[Any] = []
    while len(entries) < head["tree_size"]:
        start = len(entries)
        status, body, _ = await site.get(
            f"/c/{slug}/log/entries?start={start}&end={head['tree_size']}"
        )
        assert status == 200, body
        page = json.loads(body)["entries"]
        assert 0 < len(page) <= 1000
        entries += page
    count = json.loads((await site.get(f"/c/{slug}.json"))[1])["signatures"]
    return head, entries, count


async def proof_between(site: Site, first: int, second: int) -> list[str]:
    status, body, _ = await site.get(f"/c/walkout/log/consistency?first={first}&second={second}")
    assert status == 200, body
    return list(json.loads(body)["proof"])


async def test_a_stranger_and_each_signer_check_the_log(service: Service, site: Site) -> None:
    await campaign(service)
    people = [Actor("slack", "TACME", f"U{n}", f"Worker {n}") for n in range(12)]
    receipts = [await sign(service, p, anonymous=n % 3 == 0) for n, p in enumerate(people[:7])]
    early, entries, count = await read_log(site)
    checked = independent.check("walkout", early, entries, count)
    assert (early["tree_size"], early["signatures"], early["withdrawals"], count) == (7, 7, 0, 7)
    # Withdrawals, forget-me and more signatures; purge after close keeps every entry.
    assert not (await service.handle(people[1], "/unsign", "walkout")).error
    assert not (await service.handle(people[2], "/forget-me", "confirm")).error
    receipts += [await sign(service, p) for p in people[7:]]
    later, entries, count = await read_log(site)
    checked = independent.check("walkout", later, entries, count)
    assert (later["signatures"], later["withdrawals"], count) == (12, 2, 10)
    independent.check_growth(early, checked, await proof_between(site, 7, later["tree_size"]))
    for receipt in receipts:  # a withdrawn signature's entry stays: nothing links them
        assert 0 <= independent.receipt_index(checked, receipt) < later["tree_size"]
    with pytest.raises(independent.Invalid):
        independent.receipt_index(checked, bytes(32))
    assert not (await service.handle(ORG, "/petition", "close walkout")).error
    assert not (await service.handle(ORG, "/petition", "purge walkout")).error
    purged, entries, count = await read_log(site)
    assert purged["tree_size"] == later["tree_size"] and count == 10
    independent.check("walkout", purged, entries, count)


async def test_tampering_with_anything_is_detected(service: Service, site: Site) -> None:
    await campaign(service)
    people = [Actor("slack", "TACME", f"U{n}", f"Worker {n}") for n in range(6)]
    for p in people:
        await sign(service, p)
    await service.handle(people[0], "/unsign", "walkout")
    head, entries, count = await read_log(site)
    independent.check("walkout", head, entries, count)  # as served: it holds
    flipped = dict(entries[2], leaf=f"{int(entries[2]['leaf'], 16) ^ 1:064x}")
    swapped = [entries[1], entries[0], *entries[2:]]
    withdrawal = next(i for i, e in enumerate(entries) if e["kind"] == "withdraw")
    relabelled = [*entries]
    relabelled[withdrawal] = dict(entries[withdrawal], kind="sign")
    forged = {**head, "signature": f"{int(head['signature'], 16) ^ 1:0128x}"}
    more = {**head, "signatures": head["signatures"] + 1}
    other_key = {**head, "key": LogKey.generate().public_hex}
    cases = {
        "an entry": (head, [*entries[:2], flipped, *entries[3:]], count),
        "the order": (head, swapped, count),
        "a kind": (head, relabelled, count),
        "one entry less": (head, entries[:-1], count),
        "the signature": (forged, entries, count),
        "a count in the head": (more, entries, count),
        "the key": (other_key, entries, count),
        "the page's count": (head, entries, count + 1),
    }
    for what, (h, e, c) in cases.items():
        with pytest.raises(independent.Invalid):
            independent.check("walkout", h, e, c)
            pytest.fail(f"tampering with {what} went unnoticed")
    # A head re-signed honestly over a rewritten log fails the consistency check.
    with pytest.raises(independent.Invalid):
        rewritten = independent.Checked("walkout", head, [b"sign:" + bytes(32)] * 6)
        independent.check_growth(head, rewritten, [])


async def test_bad_queries_are_400_and_never_a_traceback(
    service: Service, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    await campaign(service)
    await sign(service, person("ann"))
    bad = [
        "entries",
        "entries?start=0",
        "entries?start=-1&end=3",
        "entries?start=a&end=3",
        "entries?start=1&end=3",  # beyond the log (one entry)
        "entries?start=0&end=0",
        "entries?start=99999999999999999999&end=1",
        "consistency?first=2&second=1",
        "consistency?first=0&second=5",
        "consistency?first=&second=1",
        "consistency?first=1e3&second=1",
    ]
    for query in bad:
        status, body, headers = await site.get(f"/c/walkout/log/{query}")
        assert status == 400, (query, status)
        assert headers["Content-Type"].startswith("application/json")
        assert json.loads(body)["error"]
    assert "Traceback" not in caplog.text
    status, body, _ = await site.get("/c/walkout/log/entries?start=0&end=5000")
    assert status == 200 and len(json.loads(body)["entries"]) == 1


async def test_entries_of_one_step_are_in_random_order(db: Database, key: SignerKey) -> None:
    clock = Clock(datetime(2026, 11, 2, 9, 1, tzinfo=UTC))
    service = Service(db, key, clock=clock, steps=StepRule())
    await campaign(service)
    people = [Actor("slack", "TACME", f"U{n}", f"W{n}") for n in range(40)]
    receipts = [await sign(service, p, anonymous=True) for p in people]
    clock.now = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert await jobs.release_steps(service.ctx)
    site = Site(service)
    await site.start()
    try:
        head, entries, count = await read_log(site)
    finally:
        await site.stop()
    assert count == head["tree_size"] == 40
    signing_order = [receipt_leaf("walkout", r).hex() for r in receipts]
    logged = [e["leaf"] for e in entries]
    assert sorted(logged) == sorted(signing_order)
    assert logged != signing_order  # 1 in 40! that a shuffle keeps the order


async def test_a_signature_and_a_withdrawal_wait_for_company(db: Database, key: SignerKey) -> None:
    """The log shows signatures and withdrawals apart, so a step is made of entries: one
    signature and one withdrawal that cancel out are still two actions a watcher could time."""
    clock = Clock(datetime(2026, 11, 2, 9, 1, tzinfo=UTC))
    service = Service(db, key, clock=clock, steps=StepRule())
    await campaign(service)
    ann, bob = person("ann"), person("bob")
    for who in (ann, bob, person("cy")):
        await sign(service, who)
    clock.now = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert await jobs.release_steps(service.ctx)
    await sign(service, person("dee"))
    await service.handle(ann, "/unsign", "walkout")  # the count is back where it was
    for hour, minute in ((9, 30), (12, 0), (23, 45)):
        clock.now = datetime(2026, 11, 2, hour, minute, tzinfo=UTC)
        assert await jobs.release_steps(service.ctx) == [], (hour, minute)
    clock.now = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # a day boundary releases them
    assert await jobs.release_steps(service.ctx)
    site = Site(service)
    await site.start()
    try:
        head, entries, count = await read_log(site)
        independent.check("walkout", head, entries, count)
    finally:
        await site.stop()
    assert (head["signatures"], head["withdrawals"], count) == (4, 1, 3)
    assert head["released"] == "2026-11-03T00:00:00Z"


async def test_the_receipt_is_kept_nowhere_and_the_leaf_is_tied_to_no_one(
    service: Service,
) -> None:
    await campaign(service, publish=False)
    wendy = Actor("slack", "TWORK", "UWENDY", "Wendy")
    receipt = await sign(service, wendy, anonymous=True)
    await sign(service, person("nat"))  # a named one too
    leaf = receipt_leaf("walkout", receipt)

    def everything(conn: Any) -> dict[str, bytes]:
        """Every table's every cell, as bytes (raw and as text), by table."""
        meta = MetaData()
        meta.reflect(conn)
        found: dict[str, bytes] = {}
        for table in meta.sorted_tables:
            cells = [c for row in conn.execute(select(table)) for c in row]
            found[table.name] = b"\x1f".join(
                bytes(c) + bytes(c).hex().encode()
                if isinstance(c, bytes | memoryview)
                else str(c).encode()
                for c in cells
            )
        return found

    tables = await service.db.read(everything)
    for name, content in tables.items():
        for secret in (receipt, receipt.hex().encode(), receipt.hex().upper().encode()):
            assert secret not in content, f"the receipt is stored in {name}"
        if name not in ("log_entry", "log_pending"):
            assert leaf not in content and leaf.hex().encode() not in content, name
    assert leaf in tables["log_entry"] + tables["log_pending"]  # the check fails if it should
    # Where a leaf waits for its step, nothing the database alone holds ties it to a signer:
    # no signer hash, no time; its part, and a tag only the signer key links to a signature
    # (so a withdrawal before the step can take it back out), deleted with the step.
    pending = await service.db.read(
        lambda conn: list(conn.execute(select(LogPendingRow.__table__)).keys())
    )
    assert set(pending) == {"id", "campaign_id", "kind", "leaf", "named", "owner", "workspace"}
    assert "leaf" not in {c.name for c in SignatureRow.__table__.columns}  # type: ignore[attr-defined]


async def test_a_waiting_entry_is_tagged_for_the_key_holder_only_and_taken_back(
    db: Database, key: SignerKey
) -> None:
    """A signature's waiting entry carries `pending_tag(signer hash)`: the database alone
    can't link it (no signer hash, nothing unkeyed), and a withdrawal before the step takes
    the entry back out, leaving no withdrawal behind."""
    clock = Clock(datetime(2026, 11, 2, 10, 1, tzinfo=UTC))
    service = Service(db, key, clock=clock, steps=StepRule())
    await campaign(service, publish=False)
    signer = person("signer")
    await sign(service, signer, anonymous=True)
    rows = await service.db.read(
        lambda conn: conn.execute(select(LogPendingRow.__table__)).mappings().all()
    )
    hashes = await service.db.read(
        lambda conn: list(conn.execute(select(SignatureRow.signer_hash)).scalars())
    )
    assert len(rows) == 1 and len(hashes) == 1
    (row,), (signer_hash,) = rows, hashes
    assert row["owner"] == key.pending_tag(signer_hash) != signer_hash
    assert row["owner"] != hashlib.sha256(signer_hash.encode()).hexdigest()
    assert row["named"] is False or row["named"] == 0
    assert row["workspace"] is None  # anonymous: no workspace anywhere
    assert not (await service.handle(signer, "/unsign", "walkout")).error
    left = await service.db.read(
        lambda conn: conn.execute(select(LogPendingRow.__table__)).mappings().all()
    )
    assert left == []  # taken back: neither the signature nor a withdrawal waits


async def test_a_receipt_is_told_once_and_only_to_the_signer(service: Service) -> None:
    await campaign(service)
    ann = person("ann")
    await informed(service, ann)
    first = await service.handle(ann, "/sign", "walkout anonymous")
    assert RECEIPT.search(first.text) and "only you see it" in first.text
    assert first.visibility.value != "channel"
    again = await service.handle(ann, "/sign", "walkout anonymous")
    assert RECEIPT.search(again.text) is None  # not a second receipt for the same signature
    status = await service.handle(ORG, "/petition", "status walkout")
    assert RECEIPT.search(status.text) is None


async def test_recount_corrections_enter_the_log(service: Service, site: Site) -> None:
    from sqlalchemy import text

    await campaign(service)
    for n in range(3):
        await sign(service, person(f"p{n}"))
    # A signature row lost outside the count's path (an operator's DELETE): the recount
    # corrects the count, and the log follows it with an entry of its own.
    await service.db.write(
        lambda conn: conn.execute(text("DELETE FROM signature WHERE display_name = 'P0'"))
    )
    assert await jobs.recount(service.ctx)
    await jobs.release_steps(service.ctx)
    head, entries, count = await read_log(site)
    independent.check("walkout", head, entries, count)
    assert (head["signatures"], head["withdrawals"], count) == (3, 1, 2)


def test_heads_are_signed_over_the_documented_message() -> None:
    from bot.domain.public_log import Head, signature_valid

    key = LogKey.from_hex("11" * 32)
    head = Head("walkout", 3, bytes(32), 3, 0, "2026-11-02T09:15:00Z")
    message = (
        "undersigned-log-v1\nwalkout\n3\n" + "00" * 32 + "\n3\n0\n2026-11-02T09:15:00Z"
    ).encode()
    assert head.message() == message
    signature = key.sign(head)
    assert signature_valid(key.public_hex, head, signature)
    assert not signature_valid(
        key.public_hex, Head("other", 3, bytes(32), 3, 0, head.released), signature
    )
    assert not signature_valid("zz", head, signature)
    assert Entry(EntryKind.WITHDRAW, bytes(32)).leaf_input() == b"withdraw:" + bytes(32)


async def test_campaigns_signed_before_the_log_get_one(tmp_path: Any) -> None:
    """The migration gives existing campaigns a log that adds up to what they showed."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from storage.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0013")
        conn.execute(
            text(
                "INSERT INTO campaign (slug, kind, title, goal, status, names, version, "
                "signature_count, created_by, created_at, shown_count, shown_at, shown_named, "
                "published_at) VALUES ('old', 'petition', 'Old', 10, 'open', 'public', 1, 7, "
                "'x', :now, 5, :now, 0, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO text_version (campaign_id, version, text, created_by, created_at) "
                "VALUES (1, 1, 'We refuse.', 'x', :now)"
            ),
            {"now": now},
        )
        command.upgrade(alembic_config(conn), "head")
    engine.dispose()
    db = Database(url)
    try:
        service = Service(db, SignerKey(b"k"), clock=Clock(datetime(2026, 11, 2, 9, tzinfo=UTC)))
        site = Site(service)
        await site.start()
        try:
            head, entries, count = await read_log(site, "old")
            independent.check("old", head, entries, count)
            assert (head["tree_size"], count) == (5, 5)
            clock = service.ctx.clock
            assert isinstance(clock, Clock)
            clock.now = datetime(2026, 11, 3, tzinfo=UTC)  # midnight: the two waiting join
            assert await jobs.release_steps(service.ctx)
            head, entries, count = await read_log(site, "old")
            independent.check("old", head, entries, count)
            assert (head["tree_size"], count) == (7, 7)
        finally:
            await site.stop()
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("waiting", "released"),
    [
        ({Part.ANON_SIGN: 1, Part.ANON_WITHDRAW: 1}, set()),  # each alone: nothing
        ({Part.ANON_SIGN: 2, Part.NAMED_SIGN: 1}, set()),  # a named one isolates nobody
        ({Part.ANON_SIGN: 3, Part.ANON_WITHDRAW: 1}, {Part.ANON_SIGN}),  # no freeze
        ({Part.NAMED_SIGN: 3, Part.ANON_SIGN: 1}, {Part.NAMED_SIGN}),
        ({Part.ANON_WITHDRAW: 3}, {Part.ANON_WITHDRAW}),
        ({Part.ANON_SIGN: 3, Part.NAMED_WITHDRAW: 3}, {Part.ANON_SIGN, Part.NAMED_WITHDRAW}),
        ({Part.UNSORTED_SIGN: 5}, set()),  # from before an upgrade: midnight only
    ],
)
def test_a_window_step_holds_each_part_in_a_crowd(
    waiting: dict[Part, int], released: set[Part]
) -> None:
    from dataclasses import replace

    from bot.domain.campaigns import Campaign, Kind, Names, Status

    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    base = Campaign(
        1, "c", Kind.PETITION, "C", 10, None, None, None, Status.OPEN, Names.PUBLIC, 1,
        count=10, created_at=start, closed_at=None, succeeded_at=None, shown_count=10,
        shown_at=start,
    )  # fmt: skip
    moved = sum(n if p.signs else -n for p, n in waiting.items())
    now = replace(base, count=10 + moved, waiting=sum(waiting.values()))
    step = StepRule().decide(now, waiting, start + timedelta(minutes=15), UTC)
    assert (step.parts if step else set()) == released
    if step is not None:
        assert step.whole is (released == set(waiting))
    midnight = StepRule().decide(now, waiting, datetime(2026, 11, 3, tzinfo=UTC), UTC)
    assert midnight is not None and midnight.whole  # midnight: all goes


async def test_a_plant_cannot_flush_a_lone_signer_out_with_one_account(
    db: Database, key: SignerKey
) -> None:
    """The attack a reviewer found: the plant signs and withdraws in the window where one
    colleague signs anonymously. The count would move by one, and the log would show the
    plant's two entries beside one signature: the colleague, timed to the window."""
    clock = Clock(datetime(2026, 11, 2, 10, 1, tzinfo=UTC))
    service = Service(db, key, clock=clock, steps=StepRule())
    await campaign(service)
    plant, colleague = person("plant"), person("colleague")
    await sign(service, plant)
    assert not (await service.handle(plant, "/unsign", "walkout")).error
    await sign(service, colleague, anonymous=True)
    for minute in (15, 30, 45):
        clock.now = datetime(2026, 11, 2, 10, minute, tzinfo=UTC)
        assert await jobs.release_steps(service.ctx) == [], minute
    clock.now = datetime(2026, 11, 3, tzinfo=UTC)  # the day's end releases it, in the day
    assert await jobs.release_steps(service.ctx)
