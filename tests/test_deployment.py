"""The image and the compose file, as a union would deploy them: no Docker engine here, so the
compose file is checked against the Compose Specification's schema and resolved as `docker
compose config` would (variables from .env), its rules are checked, and the image's command
lines (`serve`, `run`, and the HEALTHCHECK's `undersigned health`) are run as the containers
would run them, on PostgreSQL with the keys read from secret files."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import time
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dotenv import dotenv_values

from tests.conftest import PG_URL, reset_postgres
from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.slack_harness import (
    EXE,
    SECRET,
    SlackBot,
    blocks_text,
    clean_env,
    free_port,
)

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
OURS = ("serve", "run")


class ComposeError(Exception):
    """What `docker compose` itself would stop with."""


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error} (":" also treats an empty value as unset)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expression = match.group("braced") or match.group("plain")
        name, op, rest = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?]?)(.*)", expression).groups()
        value = env.get(name)
        missing = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and missing:
            raise ComposeError(f"required variable {name} is missing a value: {rest}")
        if op.endswith("-") and missing:
            return rest
        return value or ""

    return _VARIABLE.sub(one, value)


def resolved(env: dict[str, str]) -> dict[str, Any]:
    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, env)
        if isinstance(node, list):
            return [walk(n) for n in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return node

    return walk(yaml.safe_load(COMPOSE.read_text()))


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile():
        if word == "ENV":
            env.update(dict(shlex.split(part)[0].split("=", 1) for part in shlex.split(rest)))
    return env


def operator_env() -> dict[str, str]:
    """A copied .env.example with the database password filled in, as docs/operating.md says."""
    values = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    return {**values, "POSTGRES_PASSWORD": "0f3c9a"}


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(
        (
            resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
        ).read_text()
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    document = resolved(operator_env())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors
    broken = json.loads(json.dumps(document))
    broken["services"]["run"]["restart"] = ["always"]
    assert list(validator.iter_errors(broken))  # the schema does catch a mistake


def test_a_copied_env_example_asks_for_the_database_password_by_name() -> None:
    copied = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    assert "POSTGRES_PASSWORD" in copied  # the template lists it, empty
    with pytest.raises(ComposeError, match="POSTGRES_PASSWORD"):
        resolved(copied)


def test_the_deployment_keeps_keys_data_and_the_matrix_store_apart() -> None:
    compose = resolved(operator_env())
    services = compose["services"]
    assert {"postgres", "serve", "run", "proxy"} <= set(services)
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
    assert services["serve"]["deploy"]["replicas"] >= 2
    assert services["run"]["command"] == ["undersigned", "run"]
    serve = services["serve"]["command"]
    assert serve[:2] == ["undersigned", "serve"]
    port = serve[serve.index("--port") + 1]
    proxy = services["proxy"]["command"]
    assert proxy[proxy.index("--to") + 1] == f"serve:{port}"
    assert any(p.endswith(f":{port}") for p in services["proxy"]["ports"])
    assert "ports" not in services["serve"] and "ports" not in services["run"]  # via proxy only

    # No password is written in the file: it comes from .env.
    raw = yaml.safe_load(COMPOSE.read_text())
    assert raw["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    password = operator_env()["POSTGRES_PASSWORD"]
    assert password not in COMPOSE.read_text()

    matrix_store = image_env()["MATRIX_STORE"]
    declared_volumes = set(compose["volumes"])
    for name in OURS:
        service = services[name]
        env = service["environment"]
        assert (
            env["DATABASE_URL"] == f"postgresql://undersigned:{password}@postgres:5432/undersigned"
        )
        assert service["env_file"] == ".env" or service["env_file"] == [".env"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert set(mounts.values()) <= declared_volumes
        # The keys come from secrets, never from a volume that backups or a database share.
        for setting, secret in (
            ("UNDERSIGNED_KEY_FILE", "signer_key"),
            ("UNDERSIGNED_LOG_KEY_FILE", "log_key"),
        ):
            assert env[setting] == f"/run/secrets/{secret}", setting
            assert secret in service["secrets"]
            assert compose["secrets"][secret]["file"].startswith("./secrets/")
            assert not any(env[setting].startswith(path) for path in mounts), setting
        assert mounts["/data"] != "pgdata"
    run_mounts = {v.split(":")[1]: v.split(":")[0] for v in services["run"]["volumes"]}
    assert run_mounts[matrix_store] == "matrix-store"  # the device's keys in their own volume
    # What the process sees: the image's ENV, then every line of .env (empty ones too, which
    # override the image's), then the service's `environment`.
    seen = {**image_env(), **operator_env(), **services["run"]["environment"]}
    assert seen["MATRIX_STORE"] == matrix_store
    assert seen["UNDERSIGNED_HEARTBEAT_FILE"] == image_env()["UNDERSIGNED_HEARTBEAT_FILE"]
    serve_check = services["serve"]["healthcheck"]["test"]
    assert serve_check == ["CMD", "undersigned", "health", "--port", port]
    assert matrix_store not in {v.split(":")[1] for v in services["serve"]["volumes"]}
    assert len(set(run_mounts.values())) == len(run_mounts)
    assert services["postgres"]["healthcheck"]["test"]


def test_the_image_checks_health_in_every_mode_as_its_own_user() -> None:
    steps = dockerfile()
    words = dict(steps)  # the last of each
    assert json.loads(words["HEALTHCHECK"].split("CMD", 1)[1]) == ["undersigned", "health"]
    assert json.loads(words["CMD"]) == ["undersigned", "run"]
    assert words["USER"] not in ("root", "0")
    env = image_env()
    assert json.loads(words["VOLUME"]) == ["/data"]  # no anonymous Matrix store per `serve`
    made = next(rest for word, rest in steps if word == "RUN")
    for path in ("/data", env["MATRIX_STORE"]):  # owned by the user: a new volume is writable
        assert re.search(rf"mkdir [^&]*{re.escape(path)}", made), path
        assert re.search(rf"chown {words['USER']} [^&]*{re.escape(path)}", made), path
    assert words["WORKDIR"] == "/data"
    copied = {rest.split()[0] for word, rest in steps if word == "COPY"}
    for package in ("bot", "adapters", "storage", "runtime"):
        assert package in copied


def _service_env(
    service: dict[str, Any], tmp: Path, secret_files: dict[str, Path], port: int, extra: dict
) -> dict[str, str]:
    """The environment a container of `service` would have, here: the image's ENV, .env, the
    service's `environment`; container paths mapped into `tmp`."""
    env = clean_env(tmp / "unused.db")
    for name in list(env):
        if name.startswith(("UNDERSIGNED_", "DATABASE_")):
            del env[name]
    env.update(image_env())
    env.update(operator_env())  # env_file passes its empty lines too: they override the image
    env.update(service["environment"])
    env.update(extra)
    assert PG_URL
    env["DATABASE_URL"] = PG_URL  # `postgres:5432` is this machine's test database
    for setting in ("UNDERSIGNED_KEY_FILE", "UNDERSIGNED_LOG_KEY_FILE"):
        env[setting] = str(secret_files[Path(env[setting]).name])
    env["MATRIX_STORE"] = str(tmp / "matrix-store")
    env["UNDERSIGNED_HEARTBEAT_FILE"] = str(tmp / f"heartbeat-{port}")
    env["UNDERSIGNED_HTTP_HOST"] = "127.0.0.1"
    env["UNDERSIGNED_HTTP_PORT"] = str(port)
    env["UNDERSIGNED_RATE_LIMIT_PER_MINUTE"] = "0"
    return env


def _health(
    env: dict[str, str], cwd: Path, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A HEALTHCHECK command line (the image's unless given), as Docker runs it."""
    command = command or json.loads(dict(dockerfile())["HEALTHCHECK"].split("CMD", 1)[1])
    assert command[0] == "undersigned"
    return subprocess.run(
        [EXE, *command[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
async def test_the_composed_commands_start_on_secrets_and_pass_the_healthcheck(
    tmp_path: Path,
) -> None:
    assert PG_URL
    await reset_postgres(PG_URL)
    compose = resolved(operator_env())
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    files = {}
    for name, spec in compose["secrets"].items():  # as docs/operating.md says: openssl rand -hex 32
        path = secrets_dir / Path(spec["file"]).name
        path.write_text(secrets.token_hex(32) + "\n")
        files[name] = path
    data = tmp_path / "data"
    data.mkdir()
    fake = FakeSlack()
    await fake.start()
    slack = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "UNDERSIGNED_COUNT_WINDOW_MINUTES": "0",
        "UNDERSIGNED_COUNT_STEP": "1",
    }
    started: list[tuple[subprocess.Popen[bytes], dict[str, str], int]] = []
    bots: list[SlackBot] = []
    checks: list[list[str]] = []
    try:
        for name, copies in (("serve", compose["services"]["serve"]["deploy"]["replicas"]),
                             ("run", 1)):  # fmt: skip
            service = compose["services"][name]
            for _ in range(copies):
                port = free_port()
                env = _service_env(service, tmp_path, files, port, slack)
                command = [
                    EXE if part == "undersigned" else str(port) if part == "3000" else part
                    for part in service["command"]
                ]
                command = [c if c != "0.0.0.0" else "127.0.0.1" for c in command]
                err = (tmp_path / f"{name}-{port}.log").open("wb")
                proc = subprocess.Popen(command, env=env, cwd=data, stderr=err)
                check = service.get("healthcheck", {}).get("test", ["CMD", "undersigned", "health"])
                checks.append([str(port) if c == "3000" else c for c in check[1:]])
                started.append((proc, env, port))
                bot = SlackBot(fake, tmp_path)
                bot.port, bot.url, bot.proc = port, f"http://127.0.0.1:{port}", proc
                bots.append(bot)
        import aiohttp

        from tests.slack_harness import wait_healthy

        for bot in bots:
            bot.http = aiohttp.ClientSession()
            await wait_healthy(bot.http, bot.url, bot.proc, timeout=60)
        for (_proc, env, _port), check in zip(started, checks, strict=True):
            checked = await asyncio.to_thread(_health, env, data, check)
            assert checked.returncode == 0 and checked.stdout.strip() == "ok", checked

        first, second, runner = bots
        organizer = await first.command("/petition", 'new walkout title:"Walk out" goal:10 Out.')
        assert organizer[0] == 200
        await first.informed("UANN")
        _, data_signed, _ = await first.command("/sign", "walkout", user="UANN")
        assert "you signed" in blocks_text(data_signed), data_signed
        _, status, _ = await second.command("/petition", "status walkout", user="UBOB")
        assert "*1* of 10" in blocks_text(status)  # one database behind both
        _, status, _ = await runner.command("/petition", "status walkout", user="UCAROL")
        assert "*1* of 10" in blocks_text(status)

        async def leaders() -> list[bool]:
            found = []
            for bot in bots:
                assert bot.http is not None
                async with bot.http.get(bot.url + "/readyz") as answer:
                    facts = await answer.json()
                    assert answer.status == 200 and facts["version"], facts
                    found.append(facts["leader"])
            return found

        deadline = time.monotonic() + 30
        while sum(await leaders()) != 1:  # one instance runs the schedule
            assert time.monotonic() < deadline, await leaders()
            await asyncio.sleep(0.5)
    finally:
        for bot in bots:
            if bot.http is not None:
                await bot.http.close()
        for proc, _, _ in started:
            proc.terminate()
        for proc, _, _ in started:
            proc.wait(20)
        await fake.stop()
    proc, env, port = started[-1]
    gone = _health(env, data)
    assert gone.returncode == 1 and "does not answer" in gone.stderr, gone
    for log in tmp_path.glob("*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()
    # The kept log heads land in the data volume when the key's folder is a read-only secret.
    assert not any(p.name.endswith(".heads.json") for p in secrets_dir.iterdir()) or os.access(
        secrets_dir, os.W_OK
    )


async def test_with_no_port_the_healthcheck_reads_the_heartbeat(tmp_path: Path) -> None:
    """Discord alone opens no port: `undersigned health` reads the heartbeat, and says when
    the bot is gone or stuck. `serve` beside it leaves Discord and the schedule to `run`."""
    fake = FakeDiscord()
    await fake.start()
    env = clean_env(tmp_path / "bot.db")
    del env["UNDERSIGNED_HTTP_HOST"], env["UNDERSIGNED_HTTP_PORT"]
    beat = tmp_path / "heartbeat"
    env.update(
        DISCORD_TOKEN="fake-token",
        DISCORD_GUILD_IDS=GUILD_ID,
        DISCORD_API_URL=fake.api_url,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        UNDERSIGNED_HEARTBEAT_FILE=str(beat),
    )
    assert _health(env, tmp_path).returncode == 1  # nothing runs yet
    proc = subprocess.Popen(
        [EXE, "run"], env=env, cwd=tmp_path, stderr=(tmp_path / "run.log").open("wb")
    )
    try:
        await asyncio.wait_for(fake.ready.wait(), 30)
        deadline = time.monotonic() + 20
        while not beat.exists():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        alive = _health(env, tmp_path)
        assert alive.returncode == 0 and alive.stdout.strip() == "ok", alive
        with pytest.raises(OSError):  # and no port was opened for it
            urllib.request.urlopen("http://127.0.0.1:3000/healthz", timeout=2)

        # `serve` with Discord configured: Slack and pages only; Discord stays `run`'s.
        port = free_port()
        serve_env = {**env, "UNDERSIGNED_HEARTBEAT_FILE": str(tmp_path / "serve-beat")}
        connections = len(fake.calls_matching("GET", r"/gateway"))
        server = subprocess.Popen(
            [EXE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=serve_env,
            cwd=tmp_path,
            stderr=(tmp_path / "serve.log").open("wb"),
        )
        try:
            from tests.cli_paths import wait_until_healthy

            await asyncio.to_thread(wait_until_healthy, server, port)  # type: ignore[arg-type]
            checked = subprocess.run(
                [EXE, "health", "--port", str(port)], env=serve_env, cwd=tmp_path,
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert checked.returncode == 0, checked
        finally:
            server.terminate()
            server.wait(20)
        assert len(fake.calls_matching("GET", r"/gateway")) == connections
        assert "left to `undersigned run`" in (tmp_path / "serve.log").read_text()

        proc.send_signal(signal.SIGSTOP)  # the process stops turning
        try:
            old = time.time() - 120
            os.utime(beat, (old, old))
            stuck = _health(env, tmp_path)
        finally:
            proc.send_signal(signal.SIGCONT)
        assert stuck.returncode == 1 and "stuck" in stuck.stderr, stuck
    finally:
        proc.terminate()
        proc.wait(20)
        await fake.stop()
    gone = _health(env, tmp_path)
    assert gone.returncode == 1 and "not running" in gone.stderr, gone
    assert not beat.exists()
    assert "Traceback" not in (tmp_path / "run.log").read_text()
