"""Starts the adapters whose credentials are configured and keeps them running until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from adapters.readiness import Readiness
from adapters.webhooks import WebhookSender
from bot.domain.messages import speak_in_this_context
from bot.domain.steps import SMALLEST_STEP
from bot.service import Service
from runtime.config import Settings
from runtime.dispatcher import Sender
from runtime.heap import settle_heap
from runtime.heartbeat import beat, default_heartbeat_file
from runtime.scheduler import lead_when_possible

if TYPE_CHECKING:
    from adapters.slack.workspaces import SlackWorkspaces

log = logging.getLogger(__name__)


class NothingToRun(Exception):
    pass


DISCORD_CONNECT_SECONDS = 60.0


def slack_configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token) or settings.slack_oauth


def discord_configured(settings: Settings) -> bool:
    return bool(settings.discord_token)


def matrix_configured(settings: Settings) -> bool:
    return bool(settings.matrix_homeserver and settings.matrix_user_id)


def any_chat_configured(settings: Settings) -> bool:
    return slack_configured(settings) or discord_configured(settings) or matrix_configured(settings)


def listens(settings: Settings, *, force_http: bool = False) -> bool:
    """Whether the HTTP port is opened. It is when something needs it: Slack over HTTP or
    "Add to Slack", `serve`, `run` with no chat platform (the public pages are then all it
    serves), a public address for the pages (UNDERSIGNED_PUBLIC_URL), or a host or port other
    than the defaults (.env.example lists the defaults, so copying it asks for nothing).
    Discord or Matrix alone, or Slack over Socket Mode, opens no port nobody asked for."""
    if force_http or settings.slack_oauth or not any_chat_configured(settings):
        return True
    if slack_configured(settings) and not settings.slack_app_token:
        return True
    fields = type(settings).model_fields
    asked = (settings.http_host, settings.http_port) != (
        fields["http_host"].default,
        fields["http_port"].default,
    )
    return bool(settings.public_url) or asked


async def run_adapters(
    service: Service,
    settings: Settings,
    *,
    force_http: bool = False,
    host: str | None = None,
    port: int | None = None,
    stop: asyncio.Event | None = None,
    http_only: bool = False,
) -> None:
    """Run Slack over Socket Mode or HTTP (whichever is configured), Discord and Matrix, until
    `stop` is set. `serve` (`http_only`) runs the HTTP side only, so several instances can share
    one address; it leads the schedule only where no platform it lacks waits on the outbox
    (with Discord or Matrix configured, their deliveries are `run`'s)."""
    stop = stop or _stop_on_signals()
    speak_in_this_context(service.ctx.language)  # Slack's and Discord's fallbacks: the server's
    if settings.count_step < SMALLEST_STEP:
        log.warning(
            "UNDERSIGNED_COUNT_STEP=%d: counts others see move with fewer than %d signatures at "
            "a time, so a watcher can time who signed; use it only for tests or a private demo",
            settings.count_step,
            SMALLEST_STEP,
        )
    async with AsyncExitStack() as stack:
        webhooks = WebhookSender(allow_private=settings.webhook_allow_private)
        stack.push_async_callback(webhooks.close)
        senders: dict[str, Sender] = {"webhook": webhooks}
        oauth = settings.slack_oauth
        from adapters.http_server import HttpServer

        http: HttpServer | None = None
        if listens(settings, force_http=force_http):  # the public pages are served there too
            http = HttpServer(host or settings.http_host, port or settings.http_port)
            http.mount_pages(service, settings.public_url)
            http.readiness = Readiness(service.db)
        service.ctx.pages_served = http is not None  # `publish` says so when nothing serves
        slack = None
        if slack_configured(settings):
            from adapters.slack.app import SlackAdapter
            from adapters.slack.install import OAuth
            from adapters.slack.sender import SlackSender

            use_socket = bool(settings.slack_app_token) and not force_http
            if not use_socket and not settings.slack_signing_secret:
                raise NothingToRun("SLACK_SIGNING_SECRET is needed to receive Slack over HTTP")
            if oauth and settings.slack_bot_token:
                log.warning(
                    "SLACK_CLIENT_ID is set: SLACK_BOT_TOKEN is ignored (each workspace "
                    "uses the token it got when it added the app)"
                )
            workspaces = _slack_workspaces(service, settings)
            stack.push_async_callback(workspaces.close)
            slack = SlackAdapter(
                service,
                workspaces,
                signing_secret=None if use_socket else settings.slack_signing_secret,
                oauth=(
                    OAuth(
                        settings.slack_client_id or "",
                        settings.slack_client_secret or "",
                        settings.slack_redirect_uri,
                        settings.allowed_workspaces,
                    )
                    if oauth
                    else None
                ),
                refresh_interval=settings.refresh_seconds,
            )
            senders["slack"] = SlackSender(workspaces)
            if http is not None:
                http.mount_slack(slack.app, settings.slack_signing_secret or "")
        if http is not None:  # before any platform connects: a taken port stops us cleanly
            await http.start()
            stack.push_async_callback(http.stop)
        if slack is not None:
            await slack.start()
            stack.push_async_callback(slack.stop)
            if use_socket:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                handler = AsyncSocketModeHandler(
                    slack.app, settings.slack_app_token, web_client=slack.client
                )
                await handler.connect_async()
                stack.push_async_callback(handler.close_async)
                log.info("Slack connected over Socket Mode")
        if not http_only and discord_configured(settings):
            discord_client = await _start_discord(service, settings, stack, stop)
            from adapters.discord.sender import DiscordSender

            senders["discord"] = DiscordSender(discord_client)
        if not http_only and matrix_configured(settings):
            senders["matrix"] = await _start_matrix(service, settings, stack)
        if settings.metrics_port is not None:
            from runtime.metrics import MetricsServer

            metrics = MetricsServer(settings.metrics_host, settings.metrics_port)
            await metrics.start()
            stack.push_async_callback(metrics.stop)
        if http is not None:
            http.ready = True
        heart = asyncio.get_running_loop().create_task(
            beat(settings.heartbeat_file or default_heartbeat_file(), stop)
        )
        stack.push_async_callback(_stopped, heart)
        settle_heap()
        background = None
        if http_only and (discord_configured(settings) or matrix_configured(settings)):
            log.info(
                "the schedule and the outbox are left to `undersigned run` (Discord or Matrix)"
            )
        else:
            background = asyncio.get_running_loop().create_task(
                lead_when_possible(
                    service,
                    senders,
                    stop,
                    grace=settings.reminder_grace,
                    retry_seconds=settings.leader_retry_seconds,
                    concurrency=settings.outbox_concurrency,
                    recount_seconds=settings.recount_minutes * 60,
                )
            )
        if settings.log_format == "json":  # every line of stderr one JSON object
            log.info("%s", _running(settings, http))
        else:
            print(_running(settings, http), file=sys.stderr, flush=True)
        await stop.wait()
        if background is not None:
            await background


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _running(settings: Settings, http: Any) -> str:
    """What `run` says once it serves (operators' words: English, like the log)."""
    where = f" Listening on http://{http.host}:{http.port}/." if http is not None else ""
    if not any_chat_configured(settings):
        return (
            "No chat platform is configured: serving the public pages of published campaigns"
            f" until stopped.{where} To chat with the bot in this terminal: undersigned console."
            " Ctrl-C to stop."
        )
    return f"Undersigned is running.{where} Ctrl-C to stop."


async def _start_matrix(service: Service, settings: Settings, stack: AsyncExitStack) -> Sender:
    """Log in (or restore the saved device), sync once, then listen; its sender for the outbox."""
    try:
        from adapters.matrix.bot import MatrixConfig, MatrixError, UndersignedMatrix
        from adapters.matrix.sender import MatrixSender
    except ImportError as exc:
        raise NothingToRun(
            "Matrix is configured but matrix-nio is not installed: "
            "pip install 'undersigned[matrix]'"
        ) from exc
    matrix = UndersignedMatrix(
        service,
        MatrixConfig(
            homeserver=settings.matrix_homeserver or "",
            user_id=settings.matrix_user_id or "",
            store=settings.matrix_store_path,
            password=settings.matrix_password,
            access_token=settings.matrix_access_token,
            device_name=settings.matrix_device_name,
            allowed_servers=settings.matrix_servers,
        ),
        refresh_interval=settings.refresh_seconds,
    )
    try:
        await matrix.start()
    except MatrixError as exc:
        await matrix.stop()
        raise NothingToRun(str(exc)) from exc
    except (TimeoutError, OSError) as exc:  # aiohttp's connection errors are OSErrors
        await matrix.stop()
        raise NothingToRun(f"could not reach MATRIX_HOMESERVER: {exc}") from exc
    stack.push_async_callback(matrix.stop)
    return MatrixSender(matrix)


def _slack_workspaces(service: Service, settings: Settings) -> SlackWorkspaces:
    """One fixed token, or the tokens workspaces got when they added the app (OAuth)."""
    from adapters.slack.app import retrying
    from adapters.slack.workspaces import SlackWorkspaces
    from storage.token_cipher import TokenCipher

    oauth = settings.slack_oauth
    return SlackWorkspaces(
        settings.slack_api_url,
        token=None if oauth else settings.slack_bot_token,
        db=service.db if oauth else None,
        cipher=TokenCipher.from_setting(settings.token_key or "") if oauth else None,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        retry_handlers=retrying(),
    )


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _start_discord(
    service: Service, settings: Settings, stack: AsyncExitStack, stop: asyncio.Event
) -> Any:
    import discord
    import yarl

    from adapters.discord.bot import UndersignedDiscord

    discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    client = UndersignedDiscord(
        service, guild_ids=settings.guild_ids, refresh_interval=settings.refresh_seconds
    )

    failed: list[NothingToRun] = []

    async def run() -> None:
        try:
            await client.start(settings.discord_token or "")
        except discord.LoginFailure:
            failed.append(
                NothingToRun(
                    "Discord refused DISCORD_TOKEN: check the bot token (Developer Portal, "
                    "your application, Bot, Reset Token)"
                )
            )
        except Exception as exc:
            if not client.is_ready():  # never connected: said at start, in one line
                failed.append(
                    NothingToRun(
                        f"could not connect to Discord ({type(exc).__name__}): check "
                        "DISCORD_TOKEN and this machine's connection to discord.com"
                    )
                )
                return
            log.exception("the Discord connection failed")
            stop.set()

    task = asyncio.get_running_loop().create_task(run(), name="discord")

    async def close() -> None:
        await client.close()
        task.cancel()

    stack.push_async_callback(close)
    log.info("Discord starting")
    # Connected (READY) or refused, before anyone is told the bot runs.
    ready = asyncio.ensure_future(client.wait_until_ready())
    await asyncio.wait(
        {ready, task}, timeout=DISCORD_CONNECT_SECONDS, return_when="FIRST_COMPLETED"
    )
    ready.cancel()
    if failed:
        raise failed[0]
    if not client.is_ready():
        raise NothingToRun(
            f"Discord did not answer within {DISCORD_CONNECT_SECONDS:.0f} seconds: check this "
            "machine's connection to discord.com"
        )
    return client
