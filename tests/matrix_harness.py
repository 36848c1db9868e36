"""A real Synapse homeserver for the Matrix tests, and real matrix-nio clients for the people.

Synapse (PyPI `matrix-synapse`) lives in its own virtual environment, `.synapse/` beside the
project (`.ci/run` makes it; `UNDERSIGNED_SYNAPSE_PYTHON` names another), so its pinned
dependencies never meet ours. It runs on 127.0.0.1 with SQLite, started once per test
session; users are registered with the shared secret (`/_synapse/admin/v1/register`), each
test its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.slack_harness import free_port

ROOT = Path(__file__).resolve().parent.parent
SERVER = "localhost"


def synapse_python() -> str | None:
    named = os.environ.get("UNDERSIGNED_SYNAPSE_PYTHON")
    if named:
        return named
    local = ROOT / ".synapse" / "bin" / "python"
    return str(local) if local.exists() else None


OVERRIDES = """
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
trusted_key_servers: []
suppress_key_server_warning: true
report_stats: false
enable_metrics: false
presence:
  enabled: false
registration_shared_secret: "{secret}"
log_config: "{log_config}"
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
  per_issuer: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_admin_redaction: {{per_second: 1000, burst_count: 1000}}
"""

LOG_CONFIG = """
version: 1
formatters:
  plain: {{format: '%(asctime)s %(name)s %(levelname)s %(message)s'}}
handlers:
  file: {{class: logging.FileHandler, filename: '{path}', formatter: plain}}
root: {{level: WARNING, handlers: [file]}}
disable_existing_loggers: false
"""


@dataclass
class Homeserver:
    url: str
    secret: str
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    async def register(self, name: str, password: str = "pw-for-tests") -> str:
        """A new user, by the shared secret; returns the full user id."""
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{self.url}/_synapse/admin/v1/register") as resp:
                nonce = (await resp.json())["nonce"]
            mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
            fields = [nonce.encode(), name.encode(), password.encode(), b"notadmin"]
            mac.update(b"\x00".join(fields))
            body = {
                "nonce": nonce,
                "username": name,
                "password": password,
                "admin": False,
                "mac": mac.hexdigest(),
            }
            async with http.post(f"{self.url}/_synapse/admin/v1/register", json=body) as resp:
                data = await resp.json()
                assert resp.status == 200, data
                return str(data["user_id"])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_synapse(directory: Path, python: str) -> Homeserver:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "homeserver.yaml"
    subprocess.run(
        [python, "-m", "synapse.app.homeserver", "--server-name", SERVER, "--config-path",
         str(config), "--generate-config", "--report-stats=no", "--data-directory",
         str(directory)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port, secret = free_port(), secrets.token_hex(16)
    log_config = directory / "log.yaml"
    log_config.write_text(LOG_CONFIG.format(path=directory / "synapse.log"))
    override = directory / "override.yaml"
    override.write_text(OVERRIDES.format(port=port, secret=secret, log_config=log_config))
    process = subprocess.Popen(
        [python, "-m", "synapse.app.homeserver", "-c", str(config), "-c", str(override)],
        cwd=directory,
        stdout=(directory / "stdout").open("wb"),
        stderr=subprocess.STDOUT,
    )
    hs = Homeserver(f"http://127.0.0.1:{port}", secret, directory, process)
    deadline = time.monotonic() + 90
    import urllib.request

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((directory / "stdout").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{hs.url}/_matrix/client/versions", timeout=2):
                return hs
        except OSError:
            time.sleep(0.2)
    hs.stop()
    raise RuntimeError("Synapse did not start within 90 seconds")


@dataclass
class Person:
    """A real matrix-nio client with encryption, syncing in the background: it joins the
    rooms it is invited to and keeps every message it receives, decrypted."""

    client: Any
    user_id: str
    messages: list[tuple[str, Any]] = field(default_factory=list)  # (room id, event)
    redactions: list[tuple[str, Any]] = field(default_factory=list)
    waiting: list[tuple[str, Any]] = field(default_factory=list)  # not decrypted (yet)
    task: asyncio.Task[None] | None = None
    auto_join: bool = True  # False: invitations are only noted, in `invites`
    invites: list[str] = field(default_factory=list)

    @classmethod
    async def log_in(
        cls, hs: Homeserver, name: str, store: Path, *, auto_join: bool = True
    ) -> Person:
        from nio import AsyncClient, AsyncClientConfig

        user_id = await hs.register(name)
        store.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(
            hs.url,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        response = await client.login("pw-for-tests", device_name=f"{name}'s phone")
        assert getattr(response, "access_token", None), response
        person = cls(client, user_id, auto_join=auto_join)
        await person._start()
        return person

    async def _start(self) -> None:
        from nio import (
            InviteMemberEvent,
            MegolmEvent,
            RedactionEvent,
            RoomMessageNotice,
            RoomMessageText,
            SyncResponse,
        )

        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        await client.sync(timeout=0, full_state=True)

        async def on_invite(room: Any, event: Any) -> None:
            if event.state_key == client.user_id and event.membership == "invite":
                self.invites.append(room.room_id)
                if self.auto_join:
                    await client.join(room.room_id)

        async def on_message(room: Any, event: Any) -> None:
            self.messages.append((room.room_id, event))

        async def on_redaction(room: Any, event: Any) -> None:
            self.redactions.append((room.room_id, event))

        async def on_undecrypted(room: Any, event: Any) -> None:
            self.waiting.append((room.room_id, event))

        async def on_sync(response: Any) -> None:
            """As Element does: a message whose key came late is decrypted when it comes."""
            for item in list(self.waiting):
                room_id, event = item
                try:
                    decrypted = client.decrypt_event(event)
                except Exception:
                    continue
                self.waiting.remove(item)
                self.messages.append((room_id, decrypted))

        client.add_event_callback(on_invite, InviteMemberEvent)
        client.add_event_callback(on_message, (RoomMessageText, RoomMessageNotice))
        client.add_event_callback(on_redaction, RedactionEvent)
        client.add_event_callback(on_undecrypted, MegolmEvent)
        client.add_response_callback(on_sync, SyncResponse)
        self.task = asyncio.get_running_loop().create_task(
            client.sync_forever(timeout=1_000, loop_sleep_time=50)
        )

    async def say(self, room_id: str, text: str, **content: Any) -> str:
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text, **content},
            ignore_unverified_devices=True,
        )
        assert getattr(response, "event_id", None), response
        return str(response.event_id)

    async def new_room(
        self,
        *invite: str,
        encrypted: bool = True,
        direct: bool = False,
        moderators: tuple[str, ...] = (),
    ) -> str:
        from nio import RoomCreateResponse, RoomPreset
        from nio.event_builders import EnableEncryptionBuilder

        created = await self.client.room_create(
            invite=list(invite),
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            initial_state=[EnableEncryptionBuilder().as_dict()] if encrypted else [],
            power_level_override={
                "users": {m: 50 for m in moderators}  # the creator has all power already
            }
            if moderators
            else None,
        )
        assert isinstance(created, RoomCreateResponse), created
        await wait_for(lambda: created.room_id in self.client.rooms)
        return str(created.room_id)

    def from_(self, sender: str, room_id: str | None = None) -> list[Any]:
        """The decrypted messages `sender` sent (in one room, or anywhere)."""
        return [
            e
            for r, e in self.messages
            if getattr(e, "sender", None) == sender and (room_id is None or r == room_id)
        ]

    def texts(self, sender: str, room_id: str | None = None) -> list[str]:
        return [str(getattr(e, "body", "")) for e in self.from_(sender, room_id)]

    def direct_rooms_with(self, user_id: str) -> list[str]:
        return [
            room_id
            for room_id, room in self.client.rooms.items()
            if set(room.users) == {self.user_id, user_id}
        ]

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


async def wait_for(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def python_for_synapse() -> str:
    return synapse_python() or sys.executable
