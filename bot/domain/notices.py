"""What Undersigned tells a person before their first signature on a platform, in plain words.

The same facts as SECURITY.md, short enough to read in twenty seconds, shown before anything is
recorded: a tool whose promise is safety informs before it stores.
"""

from __future__ import annotations

from bot.domain.messages import N_, _, ngettext

LOCAL_PLATFORMS = {"console", "cli"}


def _owners(platform: str) -> str:
    if platform == "slack":
        return _(
            "Slack workspace owners can export channel messages (announcements, reminders, "
            "names shown there) and may be able to see that you used a command, but not this "
            "reply, which only you can see."
        )
    if platform == "discord":
        return _(
            "Server admins can read every channel (announcements, reminders, names shown "
            "there) and Discord can see that you used a command, but nobody else sees this "
            "reply."
        )
    if platform == "matrix":
        return _(
            "The admins of a room's homeservers can see who is in it and when messages are sent; "
            "in an encrypted room they cannot read what is said. This reply is in an encrypted "
            "direct message between you and the bot."
        )
    return _(
        "Whoever runs this workspace can read its channels and may see that you used a command."
    )


def _stored() -> str:
    return _(
        "**With your name**, Undersigned stores your name, account and any role or comment you "
        "typed. **Anonymously**, it stores no name, no account and no workspace: only a keyed "
        "fingerprint (so you count once and can withdraw), the day, and your role or comment "
        "if you typed one. Your signature is never a chat message."
    )


def needs_notice(platform: str) -> bool:
    """False on this machine's own console: nobody else runs that workspace."""
    return platform not in LOCAL_PLATFORMS


def before_first_signature(platform: str, names_rule: str, anonymous_only: bool) -> str:
    """The notice a first-time signer reads before choosing; nothing is recorded yet."""
    choose = (
        _("You asked to sign anonymously: press **Sign anonymously**, or **Not now**.")
        if anonymous_only
        else _("Choose **Sign with my name**, **Sign anonymously** or **Not now**.")
    )
    return "\n".join(
        (
            _(
                "**Before your first signature here: what others can see.** Nothing is "
                "recorded yet."
            ),
            _owners(platform),
            _stored(),
            _("In this campaign: {rule}", rule=names_rule),
            choose + " " + _("You won't be asked again. More: `/petition safety`."),
        )
    )


def counts_in_batches(window_minutes: int, batch: int = 3) -> str:
    """Why counts others see move in steps (bot/domain/steps.py), and the rule they follow."""
    rest = _(
        "A signature withdrawn before its step is never shown, so signing and then "
        "withdrawing doesn't help fill a group. Closing a campaign releases nothing: its final "
        "count, result and list of names follow at the next midnight. A pledge's success "
        "appears only with the step that reveals it. The reply you get says at once that you "
        "are counted."
    )
    if window_minutes <= 0:
        head = ngettext(
            "Counts that others see (the channel, the public page, status, exports, "
            "organizers included) move in steps, so nobody watching them can tell when one "
            "person signed: signatures and withdrawals, named and anonymous alike, each move "
            "only in groups of at least {n}, and whatever is left is counted at midnight.",
            "Counts that others see (the channel, the public page, status, exports, "
            "organizers included) move in steps, so nobody watching them can tell when one "
            "person signed: signatures and withdrawals, named and anonymous alike, each move "
            "only in groups of at least {n}, and whatever is left is counted at midnight.",
            batch,
        )
        return f"{head} {rest}"
    head = ngettext(
        "Counts that others see (the channel, the public page, status, exports, organizers "
        "included) move in steps, so nobody watching them can tell when one person signed: "
        "signatures and withdrawals, named and anonymous alike, each move only in groups of "
        "at least {batch}, at most every {n} minute, and whatever is left is counted at "
        "midnight.",
        "Counts that others see (the channel, the public page, status, exports, organizers "
        "included) move in steps, so nobody watching them can tell when one person signed: "
        "signatures and withdrawals, named and anonymous alike, each move only in groups of "
        "at least {batch}, at most every {n} minutes, and whatever is left is counted at "
        "midnight.",
        window_minutes,
        batch=batch,
    )
    return f"{head} {rest}"


def safety_explanation(platform: str, window_minutes: int = 15, batch: int = 3) -> str:
    """`/petition safety`: the same facts, with what remains and how to reduce it."""
    return "\n".join(
        (
            _("**How safe is signing here?**"),
            _owners(platform),
            _stored(),
            _(
                "Names are shown only where a campaign shows them: `public` campaigns list "
                "named signers, `sealed` ones (the default for pledges) hide every name, from "
                "the organizers too, until the goal is reached in time, and `count-only` ones "
                "never show names in chat. Anonymous signers are never named anywhere, exports "
                "included."
            ),
            counts_in_batches(window_minutes, batch),
            _(
                "`/sign mine` shows what you signed and how; `/unsign CAMPAIGN` withdraws; "
                "`/forget-me` deletes everything of yours."
            ),
            _(
                "Replies only you see speak your language; what a channel sees speaks the "
                "campaign's. An anonymous signature's reply is in the campaign's language, "
                "because asking Slack for yours would leave a trace; add `lang:de` (or en, fr, "
                "es, pt_BR) to choose."
            ),
        )
    )


def after_installation(workspace_name: str) -> str:
    """Sent to whoever added the app to a workspace: what this deployment now keeps about it,
    and who else shares it."""
    return "\n".join(
        (
            _(
                "**Undersigned is now in {workspace}.** What it keeps about this workspace: its "
                "name and id, and the bot's access token, encrypted (a copy of the database "
                "alone cannot act as the bot). It stores nothing from your channels: only "
                "campaigns, the signatures people choose to make, and where a campaign was "
                "announced.",
                workspace=workspace_name,
            ),
            _(
                "This deployment may serve other workspaces too. A campaign posted in several of "
                "them has one tally; `/petition status` says how many signatures came from each "
                "workspace, grouping any with fewer than 5, and never shows an anonymous "
                "signer's workspace. Whoever runs the deployment can see every campaign it "
                "holds, never who signed anonymously."
            ),
            _(
                "Removing the app deletes its token at once and stops its announcements and "
                "reminders here; signatures already made stay counted, because they are the "
                "signers' own statements (a signer can withdraw with `/unsign` whenever the app "
                "is here again)."
            ),
        )
    )


# ---- the "Add to Slack" pages (what a person installing the app reads) --------------------
# Marked here, translated where the page is rendered (in the browser's language).
INSTALL_TITLE = N_("Add Undersigned to Slack")
INSTALL_BODY = N_(
    "Undersigned lets people in your workspace sign open letters and pledges, with their name "
    "or anonymously. Adding it gives it a bot token for your workspace, stored encrypted. It "
    "looks at a channel's recent messages only to find its own posts, and never tells anyone "
    "who signed anonymously."
)
INSTALL_BUTTON = N_("Add to Slack")
INSTALLED_TITLE = N_("Undersigned is installed")
INSTALLED_BODY = N_(
    "Undersigned is now in {workspace}. You will find a message from it in Slack explaining what "
    "it keeps. Try /petition help in any channel."
)
INSTALL_FAILED_TITLE = N_("Undersigned was not installed")
INSTALL_FAILED_BODY = {
    "access_denied": N_("The installation was cancelled in Slack. Nothing was stored."),
    "invalid_browser": N_(
        "This link was opened in another browser than the one that started the installation, "
        "or it expired. Start again from the install page."
    ),
    "invalid_state": N_("This installation link was already used or has expired. Start again."),
    "storage_error": N_("Slack agreed, but the token could not be stored. Please try again."),
    "workspace_not_allowed": N_(
        "This Undersigned serves a fixed list of workspaces, and this one is not on it. Nothing "
        "was kept. Ask whoever runs it to add your workspace."
    ),
}
INSTALL_FAILED_DEFAULT = N_(
    "Slack did not confirm the installation. Nothing was stored. Start again."
)
INSTALL_AGAIN = N_("Start again")
