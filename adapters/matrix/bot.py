"""The matrix-nio client: `!` commands in, core calls, encrypted messages out.

Matrix has no slash commands and no buttons for bots. A command is a message that starts with
`!` (`!sign walkout`, `!petition help`). What only one person should see goes to an encrypted
direct message between the bot and that person (the bot opens it); a signing command typed in
a shared room is answered there, and redacted in the room when the bot may. The safety notice
before a first signature is answered with a word in the DM (`named`, `anonymous`, `not now`).

The encryption keys live in the store (MATRIX_STORE), with the session (device id and token)
beside them, so a restart is the same device with the same keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    WhoamiResponse,
)
from nio.event_builders import EnableEncryptionBuilder

from adapters.interaction import AfterAck, post_and_remember
from adapters.matrix import render
from adapters.refresher import AnnouncementRefresher
from bot import commands as cmd
from bot.domain.identity import Actor, Place
from bot.domain.messages import LANGUAGES, _, speaking
from bot.domain.replies import Announced, Reply, Visibility, our_failure
from bot.service import Announcement, Service
from runtime.dispatcher import rate_limited
from runtime.metrics import received

log = logging.getLogger(__name__)
PLATFORM = "matrix"
COMMANDS = ("sign", "unsign", "forget-me", "petition")
SIGNING = ("sign", "unsign", "forget-me")  # what nobody else should see typed
MESSAGE_MAX = 30_000  # characters read of a message: above the core's limit, which says so
MODERATOR = 50  # the power level that may tell the bot to leave a room
WAITING_MAX = 20  # private replies kept for someone who has not joined their DM yet
PENDING_FOR = 3_600.0  # seconds a safety notice's answer is awaited


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    store: Path
    password: str | None = None
    access_token: str | None = None
    device_name: str = "Undersigned"
    allowed_servers: frozenset[str] = field(default_factory=frozenset)


def server_of(matrix_id: str) -> str:
    """`example.org` of `@ann:example.org` or `!room:example.org`."""
    return matrix_id.partition(":")[2].lower()


_USER_ID = re.compile(r"^@[a-z0-9._=/+-]{1,200}:[A-Za-z0-9.:\[\]-]{1,250}$")


def named(token: str) -> str | None:
    """`@erin:example.org`, a Matrix user id typed (or pasted from a pill) as it is."""
    return f"{PLATFORM}:{server_of(token)}:{token}" if _USER_ID.match(token) else None


def _command_parts(body: str) -> tuple[str, str]:
    """`!sign walkout anonymous` → ("sign", "walkout anonymous"); any whitespace after the
    word (a newline, a no-break space) ends it, the same way for every check."""
    parts = body[1:].split(maxsplit=1)
    return (parts[0].lower() if parts else ""), (parts[1] if len(parts) > 1 else "")


def _bounded(per_person: dict[str, Any], most: int = 10_000) -> None:
    """State kept per person stays bounded: past `most`, the oldest entry goes."""
    if len(per_person) > most:
        per_person.pop(next(iter(per_person)))


@dataclass(frozen=True)
class Held:
    """A signing command from a shared room, waiting for its person to join their DM."""

    room: MatrixRoom
    event: RoomMessageText
    word: str
    args: str
    redacted: bool


HELD_MAX = 5  # signing commands held per person until they join their DM


class MatrixError(Exception):
    """The homeserver refused what the bot needs (login, sending)."""


def _answers() -> dict[str, str]:
    """The words that answer the safety notice, in every language we speak."""
    words: dict[str, str] = {}
    for language in LANGUAGES:
        with speaking(language):
            named, anonymous, not_now = (
                w.strip().lower() for w in _("named|anonymous|not now").split("|")
            )
        words |= {named: "named", anonymous: "anonymous", not_now: "not-now"}
    return words


class UndersignedMatrix:
    def __init__(
        self, service: Service, config: MatrixConfig, *, refresh_interval: float = 3.0
    ) -> None:
        self.service = service
        self.config = config
        self.client: AsyncClient | None = None
        self.refresher = AnnouncementRefresher(service, PLATFORM, self._edit, refresh_interval)
        self.work = AfterAck(limit=1_000, workers=8)
        self._sync: asyncio.Task[None] | None = None
        self._started = 0.0
        self._dms: dict[str, str] = {}  # user id → the direct room with them
        self._opened: set[str] = set()  # direct rooms the bot created (the person invited)
        self._waiting: dict[str, list[dict[str, Any]]] = {}  # user → replies until they join
        # user → signing commands typed in a shared room, run only once they have joined their
        # DM: a signature is never counted while its answer (the receipt) could not reach them
        # (held in memory, a restart would lose the receipt of a counted signature).
        self._held: dict[str, list[Held]] = {}
        self._pending: dict[str, tuple[str, str | None, float]] = {}  # user → (slug, token, at)
        self._answers = _answers()
        self._creators: dict[str, set[str]] = {}  # room id → who created it
        self.ready = asyncio.Event()

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        store = self.config.store
        store.mkdir(parents=True, exist_ok=True)
        os.chmod(store, 0o700)  # the encryption keys: only this user may read them
        client = AsyncClient(
            self.config.homeserver,
            self.config.user_id,
            store_path=str(store),
            config=AsyncClientConfig(
                encryption_enabled=True,
                store_sync_tokens=True,
                max_limit_exceeded=0,  # a rate limit comes back to the outbox as RetryAfter
                max_timeouts=2,
                request_timeout=30,
            ),
        )
        self.client = client
        await self._log_in(client)
        if client.should_upload_keys:
            await client.keys_upload()
        self._started = time.time()
        client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        first = await client.sync(timeout=0, full_state=True)
        if isinstance(first, SyncResponse):
            await self._on_sync(first)  # response callbacks run only in sync_forever
        client.add_event_callback(self._on_create, RoomCreateEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_member, RoomMemberEvent)  # type: ignore[arg-type]
        client.add_event_callback(self._on_message, RoomMessageText)  # type: ignore[arg-type]
        client.add_event_callback(self._on_undecryptable, MegolmEvent)  # type: ignore[arg-type]
        for room_id, room in list(client.invited_rooms.items()):  # invited while we were away
            inviter = room.inviter
            self._submit(lambda r=room_id, i=inviter: self._consider_invite(r, i))
        self._sync = asyncio.get_running_loop().create_task(self._sync_forever(client))
        self.refresher.start()
        self.ready.set()
        log.info("Matrix connected as %s (device %s)", client.user_id, client.device_id)

    async def stop(self) -> None:
        await self.refresher.stop()
        await self.work.stop()
        if self._sync is not None:
            self._sync.cancel()
            await asyncio.gather(self._sync, return_exceptions=True)
        if self.client is not None:
            await self.client.close()

    async def _sync_forever(self, client: AsyncClient) -> None:
        while True:
            try:
                await client.sync_forever(timeout=30_000, loop_sleep_time=100)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Matrix sync failed; retrying in 5 seconds")
                await asyncio.sleep(5)

    async def _log_in(self, client: AsyncClient) -> None:
        """The same device on every start: the session saved beside the keys, else a token
        (its device asked of the homeserver), else a password login that is then saved."""
        session = self.config.store / "session.json"
        if session.exists():
            saved = json.loads(session.read_text())
            if saved.get("user_id") == self.config.user_id:
                client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
                return
        if self.config.access_token:
            client.access_token = self.config.access_token
            who = await client.whoami()
            if not isinstance(who, WhoamiResponse) or not who.device_id:
                raise MatrixError(f"MATRIX_ACCESS_TOKEN was refused: {who}")
            client.restore_login(who.user_id, who.device_id, self.config.access_token)
        else:
            response = await client.login(
                self.config.password or "", device_name=self.config.device_name
            )
            if not isinstance(response, LoginResponse):
                raise MatrixError(f"Matrix login failed: {getattr(response, 'message', response)}")
        session.write_text(
            json.dumps(
                {
                    "user_id": client.user_id,
                    "device_id": client.device_id,
                    "access_token": client.access_token,
                }
            )
        )
        os.chmod(session, 0o600)

    # ---- events -------------------------------------------------------------------------

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        client = self._client()
        if event.state_key == client.user_id and event.membership == "invite":
            sender = event.sender
            self._submit(lambda: self._consider_invite(room.room_id, sender))

    async def _consider_invite(self, room_id: str, inviter: str | None) -> None:
        """Join when invited by someone of an allowed homeserver; otherwise decline."""
        client = self._client()
        if inviter and server_of(inviter) in self.config.allowed_servers:
            await client.join(room_id)
            log.info("joined a Matrix room on an invitation from %s", server_of(inviter))
        else:
            await client.room_leave(room_id)
            log.info("declined a Matrix invitation from %s", server_of(inviter or ":?"))

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        """Kicked or left: forget the room. A person leaving our DM ends that DM."""
        client = self._client()
        who = event.state_key
        if event.membership == "join" and who != client.user_id:
            if not self._is_direct(room, who):
                return
            held = self._held.pop(who, None)  # [] : a command is finding their DM right now
            replies = self._waiting.pop(who, [])
            if held is not None or replies:
                self._dms[who] = room.room_id
                self._submit(lambda: self._joined(room.room_id, replies, held or []))
            elif event.prev_membership == "invite" and self._recent(event):
                # A DM we opened before a restart: whatever it was opened for is gone, and a
                # signing command typed then was never run (nothing counted). Say so.
                with speaking(None):
                    note = _(
                        "If you wrote me a command that got no answer, nothing was recorded: "
                        "send it again here, where only you see the answer."
                    )
                self._submit(lambda: self.send(room.room_id, render.message(note, notice=True)))
            return
        if event.membership not in ("leave", "ban"):
            return
        if event.state_key == client.user_id:  # kicked, banned or gone: nothing of it kept
            self._dms = {u: r for u, r in self._dms.items() if r != room.room_id}
            self._opened.discard(room.room_id)
        elif self._dms.get(event.state_key) == room.room_id:
            del self._dms[event.state_key]
            self._opened.discard(room.room_id)
            self._submit(lambda: client.room_leave(room.room_id))

    async def _on_sync(self, response: SyncResponse) -> None:
        """Who created each room (its state, not its timeline, often carries that): in room
        version 12 creators outrank every power level, and are not listed in them."""
        for room_id, info in response.rooms.join.items():
            for event in info.state:
                if isinstance(event, RoomCreateEvent):
                    self._created(room_id, event)

    async def _on_create(self, room: MatrixRoom, event: RoomCreateEvent) -> None:
        """The same from the timeline, before any message after it is handled."""
        self._created(room.room_id, event)

    def _created(self, room_id: str, event: RoomCreateEvent) -> None:
        extra = event.source.get("content", {}).get("additional_creators")
        listed = extra if event.room_version == "12" and isinstance(extra, list) else []
        self._creators[room_id] = {event.sender, *(x for x in listed if isinstance(x, str))}

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if self._recent(event):
            log.warning("a Matrix message could not be decrypted yet; asking for its key")
            try:
                await self._client().request_room_key(event)
            except Exception as exc:  # already requested, or the sender's device is gone
                log.info("room key request not sent (%s)", type(exc).__name__)

    def _recent(self, event: Any) -> bool:
        """Only what was said since we started (a minute's grace): never old history."""
        return event.server_timestamp / 1000 >= self._started - 60

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        client = self._client()
        if event.sender == client.user_id or not self._recent(event):
            return
        body = (event.body or "")[:MESSAGE_MAX].strip()
        direct = self._is_direct(room, event.sender)
        if direct:
            self._dms[event.sender] = room.room_id  # where they write to us is their DM
        if body.startswith("!"):
            word, args = _command_parts(body)
            if word in COMMANDS or word == "leave" or direct:  # other bots' `!` stay theirs
                received(PLATFORM)  # every command and answer together, never signing apart
                self._submit(lambda: self._command(room, event, word, args, direct))
        elif direct and event.sender in self._pending:
            choice = self._answers.get(" ".join(body.lower().split()).strip(".!"))
            if choice is not None:
                received(PLATFORM)
                self._submit(lambda: self._consent(room, event, choice))

    def _submit(self, work: Callable[[], Awaitable[object]]) -> None:
        """Off the sync loop (it must keep receiving), bounded like every after-ack work."""

        async def guarded() -> None:
            try:
                await work()
            except Exception:
                log.exception("a Matrix command failed")

        self.work.submit(guarded)

    # ---- commands -----------------------------------------------------------------------

    def actor(self, room: MatrixRoom, user_id: str) -> Actor:
        """(matrix, the user's homeserver, the full user id), named as the room names them."""
        return Actor(
            PLATFORM, server_of(user_id), user_id, room.user_name(user_id) or user_id, names=named
        )

    async def _command(
        self, room: MatrixRoom, event: RoomMessageText, word: str, args: str, direct: bool
    ) -> None:
        if word == "leave":
            await self._leave(room, event)
            return
        redacted = None
        if not direct and word in SIGNING:  # removed first: seen as briefly as we can
            redacted = await self._redact(room, event)
            # Marked before the DM is found or opened: a join meanwhile is theirs, not one
            # after a restart (no "nothing was recorded" note for a command about to run).
            held = self._held.setdefault(event.sender, [])
            _bounded(self._held)
            dm = self._client().rooms.get(await self.direct_room(event.sender))
            if dm is None or event.sender in dm.invited_users or event.sender not in dm.users:
                held.append(Held(room, event, word, args, redacted))
                del held[:-HELD_MAX]
                self._held[event.sender] = held
                return
            if not held and self._held.get(event.sender) is held:
                del self._held[event.sender]
        await self._run(room, event, word, args, redacted, direct)

    async def _run(
        self,
        room: MatrixRoom,
        event: RoomMessageText,
        word: str,
        args: str,
        redacted: bool | None,
        direct: bool = False,
    ) -> None:
        """The command through the core; its answer to the room or to the person's DM."""
        actor = self.actor(room, event.sender)
        # Room version 12 ids name no server: the room's workspace is then Matrix itself.
        place = Place(PLATFORM, server_of(room.room_id) or PLATFORM, room.room_id)
        try:
            reply = await self.service.handle(actor, f"/{word}", args.strip(), place)
        except Exception:
            log.exception("Matrix command failed")
            reply = Reply(text=our_failure(), error=True)
        if await self._announce(room, reply):
            return
        if reply.visibility is Visibility.CHANNEL and not direct:
            await self.send(room.room_id, render.content_of(reply))
            return
        messages = render.messages_of(reply)
        if redacted is not None:
            with speaking(reply.locale):
                note = (
                    _(
                        "You typed that in a shared room, and people there saw it before I "
                        "removed it. To sign unseen, write to me here."
                    )
                    if redacted
                    else _(
                        "You typed that in a shared room, where people can see it (I may not "
                        "remove messages there). To sign unseen, write to me here."
                    )
                )
            messages.append(render.message(note, notice=True))
        if any(a.kind in render.CONSENT for a in reply.actions):  # before: a quick answer
            first = next(a for a in reply.actions if a.kind in render.CONSENT)
            self._pending[event.sender] = (first.slug, first.token, time.monotonic())
            _bounded(self._pending)
        await self.to_person(event.sender, messages)

    async def _joined(self, room_id: str, replies: list[dict[str, Any]], held: list[Held]) -> None:
        """Their DM is joined: what waited for it goes, then the held commands run."""
        await self.send_all(room_id, replies)
        for command in held:
            await self._run(
                command.room, command.event, command.word, command.args, command.redacted
            )

    async def _consent(self, room: MatrixRoom, event: RoomMessageText, choice: str) -> None:
        pending = self._pending.pop(event.sender, None)
        if pending is None or time.monotonic() - pending[2] > PENDING_FOR:
            return  # answered already, or long ago: a new `!sign` asks again
        slug, token, _at = pending
        actor = self.actor(room, event.sender)
        reply = await self.service.run(actor, cmd.Consent(slug, choice, token))
        await self.to_person(event.sender, render.messages_of(reply))

    async def _announce(self, room: MatrixRoom, reply: Reply) -> bool:
        """`!petition post`: the announcement in the room, its tally kept live."""
        if reply.event(Announced) is None:
            return False

        async def post() -> str:
            return await self.send(room.room_id, render.content_of(reply))

        return await post_and_remember(self.service, reply, post)

    async def _leave(self, room: MatrixRoom, event: RoomMessageText) -> None:
        """`!leave`, from a moderator of the room: say so, and go."""
        level = room.power_levels.get_user_level(event.sender)
        if event.sender in self._creators.get(room.room_id, set()):  # room version 12
            level = max(level, MODERATOR)
        with speaking(None):
            if level < MODERATOR:
                text = _("Only the room's moderators can ask me to leave.")
                await self.to_person(event.sender, [render.message(text, notice=True)])
                return
            text = _("Leaving this room, as a moderator asked. Campaigns and signatures stay.")
        await self.send(room.room_id, render.message(text, notice=True))
        await self._client().room_leave(room.room_id)

    async def _redact(self, room: MatrixRoom, event: RoomMessageText) -> bool:
        client = self._client()
        if not room.power_levels.can_user_redact(client.user_id):
            return False
        response = await client.room_redact(room.room_id, event.event_id, reason="Undersigned")
        return getattr(response, "event_id", None) is not None

    # ---- sending ------------------------------------------------------------------------

    def _client(self) -> AsyncClient:
        assert self.client is not None, "not started"
        return self.client

    def _is_direct(self, room: MatrixRoom, user_id: str) -> bool:
        """An encrypted room of only the bot and this person: where what only they should see
        is said. Both joined, or the person invited to a room the bot opened for them; a room
        someone else made with the person merely invited is not theirs (its maker could
        join again and read). An unencrypted one is a shared room: its answers go to an
        encrypted one the bot opens, so "only you see this" stays true."""
        if not room.encrypted or room.member_count > 2 or room.join_rule != "invite":
            return False  # a room anyone may join is never private, however few are in it
        me = self._client().user_id
        invited = set(room.invited_users)
        joined = set(room.users) - invited
        if joined == {me, user_id} and not invited:
            return True
        return room.room_id in self._opened and joined == {me} and invited == {user_id}

    async def send(self, room_id: str, content: dict[str, Any]) -> str:
        """Send to a room (encrypted where the room is); a rate limit raises RetryAfter."""
        client = self._client()
        room = client.rooms.get(room_id)
        if room is not None and room.encrypted and client.should_query_keys:
            await client.keys_query()  # a person met first in this room: learn their devices
        response = await client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        if isinstance(response, RoomSendResponse):
            return str(response.event_id)
        if getattr(response, "status_code", None) == "M_LIMIT_EXCEEDED":
            after = (getattr(response, "retry_after_ms", None) or 1000) / 1000
            raise rate_limited(str(after))
        raise MatrixError(f"could not send to a Matrix room: {getattr(response, 'message', '')}")

    async def to_person(
        self, user_id: str, messages: list[dict[str, Any]], *, keep: bool = True
    ) -> bool:
        """What only this person should see: only into their encrypted direct room (checked
        again now), and only once they have joined it (its key reaches members' devices;
        sent while they are merely invited, they could never read it). Until they join, the
        replies wait here (`keep`, at most WAITING_MAX) and go when they do; False then."""
        room_id = await self.direct_room(user_id)
        room = self._client().rooms[room_id]
        if not self._is_direct(room, user_id):
            raise MatrixError("refusing to send a private reply into a room that is not a DM")
        if user_id in room.invited_users or user_id not in room.users:
            if keep:
                waiting = self._waiting.setdefault(user_id, [])
                waiting.extend(messages)
                del waiting[:-WAITING_MAX]
                _bounded(self._waiting)
            return False
        await self.send_all(room_id, messages)
        return True

    async def send_all(self, room_id: str, messages: list[dict[str, Any]]) -> None:
        for content in messages:
            await self.send(room_id, content)

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct room with this person: known, found, or opened now."""
        client = self._client()
        known = self._dms.get(user_id)
        if known and known in client.rooms and self._is_direct(client.rooms[known], user_id):
            return known
        for room_id, room in client.rooms.items():
            if self._is_direct(room, user_id):
                self._dms[user_id] = room_id
                return room_id
        created = await client.room_create(
            is_direct=True,
            invite=[user_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[EnableEncryptionBuilder().as_dict()],
        )
        if not isinstance(created, RoomCreateResponse):
            raise MatrixError(f"could not open a direct room: {getattr(created, 'message', '')}")
        # Until a sync brought its state: nio knows the room from the create response, but
        # would send unencrypted until it has seen the room's m.room.encryption.
        for _attempt in range(200):
            room = client.rooms.get(created.room_id)
            if room is not None and room.encrypted and user_id in room.users:
                break
            await asyncio.sleep(0.05)
        else:
            raise MatrixError("the new direct room's encryption did not arrive")
        self._opened.add(created.room_id)
        self._dms[user_id] = created.room_id
        return created.room_id

    async def _edit(self, announcement: Announcement, reply: Reply) -> None:
        """The refresher's update: the announcement edited in place (`m.replace`)."""
        content = render.content_of(reply)
        await self.send(
            announcement.channel, render.edit_of(announcement.message_id or "", content)
        )
