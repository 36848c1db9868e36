"""What Undersigned tells a signer the first time they sign on a platform, in plain words."""

from __future__ import annotations

_COMMON = (
    "Signatures are stored by Undersigned, not in chat messages. An anonymous signature stores "
    "no name and no account: only a keyed fingerprint that stops double counting and lets you "
    "withdraw. "
)

SAFETY_NOTICE = {
    "slack": (
        "**Before you sign: how safe is this?** Slack workspace owners may be able to export "
        "messages, including messages in channels where campaigns are announced. "
        + _COMMON
        + "Commands like `/sign` and the replies only you can see are not channel messages."
    ),
    "discord": (
        "**Before you sign: how safe is this?** Server admins and Discord can see who uses "
        "bots in a server and read channel messages. "
        + _COMMON
        + "Replies marked only-you-can-see are not posted in the channel."
    ),
}

DEFAULT_NOTICE = (
    "**Before you sign: how safe is this?** Whoever runs this workspace may be able to read its "
    "messages. " + _COMMON
)


LOCAL_PLATFORMS = {"console", "cli"}


def safety_notice(platform: str) -> str | None:
    """None on this machine's own console: nobody else runs that workspace."""
    if platform in LOCAL_PLATFORMS:
        return None
    return SAFETY_NOTICE.get(platform, DEFAULT_NOTICE)
