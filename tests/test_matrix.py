"""Matrix against a real Synapse (tests/matrix_harness.py), driven by real matrix-nio clients:
no fake of the Matrix protocol. The bot is the real adapter on the real core and database;
the people are encrypted clients that decrypt what the bot sends them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest

from adapters.matrix import render
from adapters.matrix.bot import MatrixConfig, UndersignedMatrix
from bot.domain.identity import SignerKey
from bot.service import Service
from storage.database import Database
from tests.conftest import EVERY_SIGNATURE, person
from tests.matrix_harness import SERVER, Homeserver, Person, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:8]}"


class Rig:
    """A bot on its own database and store, and the people a test logs in."""

    def __init__(self, hs: Homeserver, tmp: Path) -> None:
        self.hs, self.tmp = hs, tmp
        self.people: list[Person] = []
        self.bots: list[UndersignedMatrix] = []
        self.db: Database | None = None
        self.service: Service | None = None
        self.bot_id = ""

    async def bot(self, allowed: frozenset[str] = frozenset({SERVER})) -> UndersignedMatrix:
        if self.db is None:
            self.db = Database(f"sqlite:///{self.tmp / 'bot.db'}")
            await self.db.migrate()
            self.service = Service(self.db, SignerKey(b"matrix-tests"), steps=EVERY_SIGNATURE)
            self.name = unique("undersigned")
            self.bot_id = await self.hs.register(self.name, "bot-password")
        assert self.service is not None
        bot = UndersignedMatrix(
            self.service,
            MatrixConfig(
                homeserver=self.hs.url,
                user_id=self.bot_id,
                store=self.tmp / "bot-store",
                password="bot-password",
                allowed_servers=allowed,
            ),
            refresh_interval=0.2,
        )
        await bot.start()
        self.bots.append(bot)
        return bot

    async def person(self, name: str, *, auto_join: bool = True) -> Person:
        who = await Person.log_in(
            self.hs, unique(name), self.tmp / f"{name}-store", auto_join=auto_join
        )
        self.people.append(who)
        return who

    async def close(self) -> None:
        for bot in self.bots:
            await bot.stop()
        for who in self.people:
            await who.close()
        if self.db is not None:
            await self.db.close()


@pytest.fixture
async def rig(synapse: Homeserver, tmp_path: Path) -> Any:
    made = Rig(synapse, tmp_path)
    yield made
    await made.close()


async def test_a_campaign_in_an_encrypted_room_signed_in_encrypted_dms(rig: Rig) -> None:
    bot = await rig.bot()
    alice, bob = await rig.person("alice"), await rig.person("bob")
    carol = await rig.person("carol")
    room = await alice.new_room(rig.bot_id, bob.user_id, moderators=(rig.bot_id,))
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await wait_for(lambda: bob.user_id in alice.client.rooms[room].users, what="bob joins")
    assert alice.client.rooms[room].encrypted

    # The organizer starts a campaign in the room: the answer comes to her, encrypted, in a DM.
    await alice.say(room, '!petition new walkout title:"Walk out" goal:3 We walk out at noon.')
    created = await wait_for(lambda: alice.direct_rooms_with(rig.bot_id), what="a DM")
    dm = created[0]
    await wait_for(lambda: any("walkout" in t for t in alice.texts(rig.bot_id, dm)), what="reply")
    assert alice.client.rooms[dm].encrypted
    got = alice.from_(rig.bot_id, dm)
    assert all(getattr(e, "decrypted", False) for e in got), got  # the test client decrypted it
    assert alice.texts(rig.bot_id, room) == []  # nothing of it in the shared room

    # She posts it: the announcement in the room, with its tally, and `!` commands to type.
    await alice.say(room, "!petition post walkout")
    posted = await wait_for(lambda: alice.from_(rig.bot_id, room), what="the announcement")
    announcement = posted[0]
    assert announcement.decrypted and "Walk out" in announcement.body
    assert "!sign walkout" in announcement.body and "/sign" not in announcement.body
    assert announcement.source["content"].get("m.mentions") == {}

    # Bob signs in the room: the bot removes his command and answers him in a DM.
    typed = await bob.say(room, "!sign walkout")
    await wait_for(
        lambda: any(r.redacts == typed for _, r in alice.redactions), what="the command redacted"
    )
    notice = await wait_for(
        lambda: [t for t in bob.texts(rig.bot_id) if "Nothing is recorded yet" in t],
        what="the safety notice",
    )
    assert "homeservers can see who is in it" in notice[0]
    assert "`named`, `anonymous` or `not now`" in notice[0]  # the words to answer with
    bob_dm = bob.direct_rooms_with(rig.bot_id)[0]
    assert bob.client.rooms[bob_dm].encrypted
    await wait_for(
        lambda: any("people there saw it before I removed it" in t for t in bob.texts(rig.bot_id)),
        what="the note that the room saw it",
    )
    await bob.say(bob_dm, "anonymous")
    await wait_for(
        lambda: any("No name or account is stored" in t for t in bob.texts(rig.bot_id, bob_dm)),
        what="bob's anonymous signature",
    )

    # Carol writes to the bot directly, so nobody sees her sign; in German, her answer counts.
    carol_dm = await carol.new_room(rig.bot_id, direct=True)
    await wait_for(lambda: rig.bot_id in carol.client.rooms[carol_dm].users, what="bot in DM")
    await carol.say(carol_dm, "!sign walkout")
    await wait_for(lambda: carol.texts(rig.bot_id, carol_dm), what="carol's notice")
    await carol.say(carol_dm, "mit Namen")
    await wait_for(
        lambda: any("you signed" in t for t in carol.texts(rig.bot_id, carol_dm)),
        what="carol signed with her name",
    )
    assert not any(r.redacts for _, r in carol.redactions)  # nothing to hide in her own DM

    # One tally with the console.
    assert rig.service is not None
    console = await rig.service.handle(person("dana"), "/sign", "walkout")
    assert not console.error, console.text
    status = await rig.service.handle(person("erin"), "/petition", "status walkout")
    assert status.tally is not None and status.tally.count == 3

    # The announcement is edited in place (`m.replace`) as the count moves.
    def edits() -> list[Any]:
        return [
            e
            for e in alice.from_(rig.bot_id, room)
            if e.source["content"].get("m.relates_to", {}).get("event_id") == announcement.event_id
        ]

    await wait_for(
        lambda: any("3 of 3" in e.source["content"]["m.new_content"]["body"] for e in edits()),
        what="the tally edited in place",
    )
    assert bot.refresher.updates >= 1


async def test_hostile_text_is_shown_as_text_and_never_pings(rig: Rig) -> None:
    await rig.bot()
    alice, bob = await rig.person("alice"), await rig.person("bob")
    room = await alice.new_room(rig.bot_id, bob.user_id, encrypted=False)
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await wait_for(lambda: bob.user_id in alice.client.rooms[room].users, what="bob joins")
    title = f"@room <b>loud</b> <a href='https://evil.example'>click</a> {bob.user_id}"
    await alice.say(
        room,
        f'!petition new evil title:"{title}" goal:5 @room <script>x</script> {bob.user_id}',
        format="org.matrix.custom.html",
        formatted_body="<a href='https://evil.example'>!petition</a>",
    )
    await wait_for(lambda: alice.direct_rooms_with(rig.bot_id), what="the creation reply")
    await wait_for(lambda: bob.from_(alice.user_id, room), what="bob sees alice's command")
    await asyncio.sleep(1)
    before = bob.client.rooms[room].unread_highlights  # alice may ping the room; the bot may not
    await alice.say(room, "!petition post evil")
    posted = await wait_for(lambda: alice.from_(rig.bot_id, room), what="the announcement")
    await wait_for(lambda: bob.from_(rig.bot_id, room), what="bob sees the announcement")
    content = posted[0].source["content"]
    assert content["m.mentions"] == {}
    assert "@room" not in content["body"] and "@\u2060room" in content["body"]
    assert bob.user_id not in content["body"]  # broken, so no client makes it a pill
    html = content["formatted_body"]
    assert "<b>" not in html and "<a " not in html and "<script" not in html
    assert "&lt;b&gt;loud&lt;/b&gt;" in html
    await asyncio.sleep(1.5)
    assert bob.client.rooms[room].unread_highlights == before  # the bot pinged nobody

    # A huge message: a friendly answer in the DM, and the bot keeps answering.
    await bob.say(room, "!sign " + "x" * 40_000)  # what a homeserver lets through (64 KiB)
    await wait_for(
        lambda: any("characters long" in t for t in bob.texts(rig.bot_id)), what="a refusal"
    )
    await bob.say(room, "!petition help")
    await wait_for(
        lambda: any("!sign" in t and "!petition" in t for t in bob.texts(rig.bot_id)),
        what="help, the Matrix way",
    )


async def test_invitations_only_from_allowed_servers_kicks_and_leave(rig: Rig) -> None:
    await rig.bot(allowed=frozenset({"elsewhere.example"}))
    alice = await rig.person("alice")
    refused = await alice.new_room(rig.bot_id)

    async def membership() -> str:
        state = await alice.client.room_get_state_event(refused, "m.room.member", rig.bot_id)
        return str(getattr(state, "content", {}).get("membership"))

    for _ in range(300):  # the homeserver's own record of the bot in that room
        if await membership() == "leave":
            break
        await asyncio.sleep(0.1)
    assert await membership() == "leave"  # declined: never joined
    await rig.bots.pop().stop()
    await rig.bot()  # now the homeserver is allowed
    room = await alice.new_room(rig.bot_id)
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await alice.say(room, "!leave")
    await wait_for(lambda: rig.bot_id not in alice.client.rooms[room].users, what="it leaves")
    assert any("Leaving this room" in t for t in alice.texts(rig.bot_id, room))


async def test_a_restart_keeps_the_device_and_its_keys(rig: Rig) -> None:
    bot = await rig.bot()
    assert bot.client is not None and bot.client.olm is not None
    device, keys = bot.client.device_id, dict(bot.client.olm.account.identity_keys)
    store = rig.tmp / "bot-store"
    assert (store.stat().st_mode & 0o777) == 0o700
    assert ((store / "session.json").stat().st_mode & 0o777) == 0o600
    await rig.bots.pop().stop()
    again = await rig.bot()
    assert again.client is not None and again.client.olm is not None
    assert again.client.device_id == device
    assert dict(again.client.olm.account.identity_keys) == keys
    alice = await rig.person("alice")
    room = await alice.new_room(rig.bot_id)
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await alice.say(room, "!petition help")
    await wait_for(lambda: alice.texts(rig.bot_id), what="an answer after the restart")
    assert all(e.decrypted for e in alice.from_(rig.bot_id))


def test_a_rate_limit_comes_back_to_the_outbox_as_retry_after() -> None:
    """`M_LIMIT_EXCEEDED` with `retry_after_ms`: the boundary (nio's response) stubbed."""
    from nio import RoomSendError

    from runtime.dispatcher import RetryAfter

    class Limited:
        user_id = "@bot:example.org"
        rooms: ClassVar[dict[str, Any]] = {}

        async def room_send(self, *args: Any, **kwargs: Any) -> Any:
            return RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=2500)

    bot = UndersignedMatrix.__new__(UndersignedMatrix)
    bot.client = Limited()  # type: ignore[assignment]
    with pytest.raises(RetryAfter) as raised:
        asyncio.run(bot.send("!room:example.org", render.message("hello")))
    assert raised.value.seconds == 2.5


def test_replies_say_commands_the_matrix_way_and_escape_what_users_typed() -> None:
    content = render.message("Type `/sign walkout` or /petition help; @room <i>hi</i> **ours**")
    assert content["body"].startswith("Type `!sign walkout` or !petition help;")
    assert "<i>" not in content["formatted_body"] and "&lt;i&gt;" in content["formatted_body"]
    assert "<strong>ours</strong>" in content["formatted_body"]
    assert "<code>!sign walkout</code>" in content["formatted_body"]
    assert content["m.mentions"] == {} and "@room" not in content["body"]
    long = render.message("x" * 100_000)
    assert len(long["body"]) <= render.BODY_LIMIT


async def test_reminders_reach_the_room_through_the_outbox(rig: Rig) -> None:
    """A reminder set in the room is posted there when it fires (the scheduler's minute is
    tested in test_scheduler.py): the core queues it, the outbox delivers it with our
    sender, encrypted like everything in that room."""
    from datetime import UTC, datetime

    from adapters.matrix.sender import MatrixSender
    from bot import jobs
    from runtime.dispatcher import Dispatcher

    bot = await rig.bot()
    alice = await rig.person("alice")
    bob = await rig.person("bob")
    room = await alice.new_room(rig.bot_id, bob.user_id)
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await alice.say(room, '!petition new strike title:"Strike" goal:10 We strike.')
    await wait_for(lambda: alice.direct_rooms_with(rig.bot_id), what="created")
    await alice.say(room, "!petition remind strike every day 09:00")
    await wait_for(lambda: any("09:00" in t for t in alice.texts(rig.bot_id)), what="reminder set")
    assert rig.service is not None
    ctx = rig.service.ctx
    definitions = await jobs.reminder_definitions(ctx)
    assert len(definitions) == 1
    assert await jobs.send_reminder(ctx, definitions[0].id, datetime.now(UTC))
    dispatcher = Dispatcher(ctx, {"matrix": MatrixSender(bot)}, base_delay=1)
    assert await dispatcher.run_once() >= 1
    for _ in range(50):
        if not dispatcher._workers:
            break
        await asyncio.sleep(0.1)
    posted = await wait_for(lambda: bob.from_(rig.bot_id, room), what="the reminder in the room")
    assert "Strike" in posted[0].body and posted[0].decrypted
    assert posted[0].source["content"]["m.mentions"] == {}


async def test_undersigned_run_serves_matrix_beside_slack_with_one_tally(
    synapse: Homeserver, tmp_path: Path
) -> None:
    """The real command line: `undersigned run` with Slack (its wire-protocol fake) and
    Matrix (the real Synapse) configured; a Slack signer and a Matrix signer, one count."""
    import subprocess

    import aiohttp

    from tests.fakes.slack import FakeSlack, button_click
    from tests.slack_harness import (
        EXE,
        SlackBot,
        blocks_text,
        bot_env,
        create_campaign,
        free_port,
        wait_healthy,
    )

    slack = FakeSlack()
    await slack.start()
    name = unique("undersigned")
    bot_id = await synapse.register(name, "bot-password")
    port = free_port()
    env = bot_env(
        slack,
        tmp_path / "bot.db",
        UNDERSIGNED_HTTP_HOST="127.0.0.1",
        UNDERSIGNED_HTTP_PORT=str(port),
        MATRIX_HOMESERVER=synapse.url,
        MATRIX_USER_ID=bot_id,
        MATRIX_PASSWORD="bot-password",
        MATRIX_ALLOWED_SERVERS=SERVER,
        UNDERSIGNED_COUNT_STEP="1",
        UNDERSIGNED_COUNT_WINDOW_MINUTES="0",
    )
    create_campaign(env, tmp_path, "both", "Both", 10)
    proc = subprocess.Popen(
        [EXE, "run"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "err").open("wb"),
    )
    bot = SlackBot(slack, tmp_path)
    bot.url, bot.port = f"http://127.0.0.1:{port}", port
    bot.http = aiohttp.ClientSession()
    ann = await Person.log_in(synapse, unique("ann"), tmp_path / "ann-store")
    try:
        await wait_healthy(bot.http, bot.url, proc)
        status, data, _ = await bot.command("/sign", "both", user="USLACK")
        assert status == 200 and "Nothing is recorded yet" in blocks_text(data)
        await bot.interact(button_click(slack, "sign_named", "both", user="USLACK"))
        await slack.wait_for(
            lambda: any("you signed" in blocks_text(r.params) for r in slack.responses)
        )
        dm = await ann.new_room(bot_id, direct=True)
        await wait_for(lambda: bot_id in ann.client.rooms[dm].users, timeout=60, what="joined")
        await ann.say(dm, "!sign both")
        await wait_for(lambda: ann.texts(bot_id, dm), what="the notice")
        await ann.say(dm, "named")
        await wait_for(lambda: any("you signed" in t for t in ann.texts(bot_id, dm)), what="signed")
        await ann.say(dm, "!petition status both")
        await wait_for(lambda: any("2 of 10" in t for t in ann.texts(bot_id, dm)), what="one tally")
        _, data, _ = await bot.command("/petition", "status both", user="UOTHER")
        assert "*2* of 10" in blocks_text(data)
        store = tmp_path / "matrix-store"  # beside the database, by default
        assert (store / "session.json").exists() and (store.stat().st_mode & 0o777) == 0o700
    finally:
        await ann.close()
        await bot.http.close()
        proc.terminate()
        proc.wait(15)
        await slack.stop()
    assert "Traceback" not in (tmp_path / "err").read_text()


async def test_a_room_someone_else_made_is_never_taken_for_a_dm(rig: Rig) -> None:
    """An organizer makes a public encrypted room, invites the bot and a signer, and leaves:
    two people are left in it, but anyone may join it again. The signer's private replies
    must go to a direct room the bot opens, never there."""
    from nio import RoomPreset
    from nio.event_builders import EnableEncryptionBuilder

    await rig.bot()
    mallory, vic = await rig.person("mallory"), await rig.person("vic")
    trap = await mallory.client.room_create(
        invite=[rig.bot_id, vic.user_id],
        preset=RoomPreset.public_chat,
        initial_state=[EnableEncryptionBuilder().as_dict()],
    )
    await wait_for(lambda: trap.room_id in mallory.client.rooms, what="the trap exists")
    room = mallory.client.rooms[trap.room_id]
    await wait_for(lambda: {rig.bot_id, vic.user_id} <= set(room.users) - set(room.invited_users),
                   what="both joined")  # fmt: skip
    await mallory.client.room_leave(trap.room_id)
    await wait_for(lambda: trap.room_id in vic.client.rooms and mallory.user_id
                   not in vic.client.rooms[trap.room_id].users, what="mallory gone")  # fmt: skip
    await vic.say(trap.room_id, "!petition help")
    answers = await wait_for(lambda: [r for r, e in vic.messages if e.sender == rig.bot_id],
                             what="an answer")  # fmt: skip
    assert trap.room_id not in answers  # nothing private in a room anyone may join
    assert vic.client.rooms[answers[0]].join_rule == "invite"
    assert vic.client.rooms[answers[0]].encrypted


def test_nothing_a_user_types_becomes_a_mention_or_a_link_even_split_by_markup() -> None:
    content = render.message("Closed **@**room** and @ali**ce:x.org** https://matrix.to/#/%40b")
    for field in ("body", "formatted_body"):
        assert "@room" not in content[field] and "@alice:x.org" not in content[field]
        assert "matrix.to/" not in content[field]


def test_long_and_non_latin_messages_and_exports_fit_a_homeserver_whole() -> None:
    import json

    from bot.domain.replies import Reply

    for text in ("я" * 6_000, "😀" * 6_000, "&" * 6_000):
        assert len(json.dumps(render.message(text))) <= render.EVENT_BUDGET
    rows = "\n".join(f"Name {i},Role {i},/sign @room **x**" for i in range(3_000))
    pieces = render.messages_of(Reply(text="Export", attachment=("walkout.csv", rows)))
    assert len(pieces) > 2 and all(len(json.dumps(p)) <= render.EVENT_BUDGET for p in pieces)
    shown = "".join(p["body"].split("\n", 1)[1] for p in pieces[1:])
    assert shown.replace("\u2060", "") == rows  # every row, unchanged (but for broken pings)
    assert "!sign" not in shown  # an export is not rewritten into commands


def test_the_command_word_is_read_one_way_for_every_check() -> None:
    from adapters.matrix.bot import _command_parts

    assert _command_parts("!sign\nwalkout anonymous") == ("sign", "walkout anonymous")
    assert _command_parts("!SIGN\u00a0walkout") == ("sign", "walkout")
    assert _command_parts("!") == ("", "")


async def test_a_signature_waits_for_its_dm_so_a_restart_loses_no_receipt(rig: Rig) -> None:
    """Signed in a shared room before joining the DM the bot opened: nothing is counted until
    the answer (the receipt) can reach them. Restarted in between, the bot has counted
    nothing, and says so when they join; signing again there counts them, once."""
    from bot.domain.identity import Actor
    from storage import repository as repo

    await rig.bot()
    alice = await rig.person("alice")
    frank = await rig.person("frank", auto_join=False)
    room = await alice.new_room(rig.bot_id, frank.user_id, moderators=(rig.bot_id,))
    await wait_for(lambda: room in frank.invites, what="frank invited to the room")
    await frank.client.join(room)
    await wait_for(lambda: rig.bot_id in alice.client.rooms[room].users, what="the bot joins")
    await alice.say(room, '!petition new walkout title:"Walk out" goal:3 We walk out.')
    await wait_for(lambda: any("walkout" in t for t in alice.texts(rig.bot_id)), what="created")
    assert rig.service is not None and rig.db is not None
    # Frank made his choice before (as after an earlier signature): no notice to wait for.
    actor = Actor("matrix", frank.user_id.split(":", 1)[1], frank.user_id, "frank")
    chosen = rig.service.ctx.key.person_hash(actor)
    await rig.db.write(lambda conn: repo.record_notices(conn, [chosen], alice_now()))

    async def count() -> int:
        status = await rig.service.handle(person("erin"), "/petition", "status walkout")
        assert status.tally is not None
        return status.tally.count

    await frank.say(room, "!sign walkout anonymous")
    dm = await wait_for(
        lambda: [r for r in frank.invites if r != room], what="the bot opens frank's DM"
    )
    await asyncio.sleep(1.0)  # time for a signature to be counted, if it were
    assert await count() == 0  # nothing counted while its answer can't reach him

    await rig.bots.pop().stop()
    await rig.bot()
    await frank.client.join(dm[0])
    await wait_for(
        lambda: any("nothing was recorded" in t for t in frank.texts(rig.bot_id, dm[0])),
        what="the note that nothing was recorded",
    )
    assert await count() == 0
    await frank.say(dm[0], "!sign walkout anonymous")
    receipt = await wait_for(
        lambda: [t for t in frank.texts(rig.bot_id, dm[0]) if "receipt" in t.lower()],
        what="frank's receipt",
    )
    assert receipt and await count() == 1


def alice_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
