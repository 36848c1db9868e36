"""Signing and withdrawing: the informed choice before a first signature, the signature
itself (one group-committed write), and the reply only the signer sees.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import commands as cmd
from bot.context import Context
from bot.domain import sign_wording as wording
from bot.domain.campaigns import (
    Campaign,
    Kind,
    ensure_open,
    ensure_signable,
)
from bot.domain.identity import Actor, Place
from bot.domain.messages import (
    N_,
    _,
)
from bot.domain.messages import current as current_language
from bot.domain.notices import before_first_signature, needs_notice
from bot.domain.public_log import new_receipt, receipt_leaf, show_receipt
from bot.domain.replies import (
    Reply,
    SignedPublicly,
    consent_actions,
    error_reply,
)
from bot.domain.settling import SignOutcome, SignRequest
from bot.domain.text import (
    COMMENT_MAX,
    ROLE_MAX,
    clean,
    clean_display_name,
)
from bot.domain.values import changed
from bot.handlers import common
from bot.releases import release_if_due
from bot.signing import notices_batch, sign_batch
from bot.withdrawing import withdraw
from storage import repository as repo
from storage.database import Tx

log = logging.getLogger(__name__)


async def sign(
    ctx: Context,
    actor: Actor,
    command: cmd.Sign,
    place: Place | None = None,
    *,
    consented: bool = False,
) -> Reply:
    slug, anonymous, role, comment = command.slug, command.anonymous, command.role, command.comment
    usage = cmd.usage("sign")
    role = clean(role, field="role", limit=ROLE_MAX, usage=usage)
    comment = clean(comment, field="comment", limit=COMMENT_MAX, multiline=True, usage=usage)
    campaign_id, campaign_slug = await common.campaign_ref(ctx, slug, usage)
    person_hash = ctx.key.person_hash(actor) if needs_notice(actor.platform) else None
    if person_hash is not None and not consented and not await common.chosen(ctx, person_hash):
        owner = ctx.key.signer_hash(campaign_id, actor)  # per campaign: unlinkable
        notice = await inform_first(
            ctx, actor.platform, campaign_id, owner, anonymous, role, comment
        )
        if actor.locale_withheld:
            notice = replace(
                notice, text=f"{notice.text}\n{wording.language_hint(notice.slug, ctx.language)}"
            )
        return notice
    # Shown once to the signer, kept by nobody: only its hash goes into the public log.
    receipt = new_receipt()
    signer_hash = ctx.key.signer_hash(campaign_id, actor)
    request = SignRequest(
        campaign_id=campaign_id,
        signer_hash=signer_hash,
        key_id=ctx.key.key_id,
        person_hash=person_hash if consented else None,
        anonymous=anonymous,
        platform=actor.platform,
        workspace=actor.workspace,
        user_id=actor.user_id,
        display_name=clean_display_name(actor.display_name, actor.user_id),
        role=role,
        comment=comment,
        now=ctx.clock(),
        language=current_language(),
        steps=ctx.steps if ctx.steps.immediate else None,
        tz=ctx.tz,
        leaf=receipt_leaf(campaign_slug, receipt),
        tag=ctx.key.pending_tag(signer_hash),
    )
    outcome = await ctx.db.write_batched(sign_batch, request)
    return sign_reply(ctx, actor, outcome, receipt)


async def inform_first(
    ctx: Context,
    platform: str,
    campaign_id: int,
    owner: str,
    anonymous: bool,
    role: str | None,
    comment: str | None,
) -> Reply:
    """A first signature on this platform: record nothing, say what others can see, and
    offer the choices. What they typed waits in a draft while they read: no identity,
    only its owner's keyed hash for this campaign (as a signature's: two drafts of one
    person in two campaigns can't be linked). An anonymous-only notice with nothing typed
    stores nothing at all: its buttons carry the marker `ANONYMOUS_DRAFT` alone."""
    campaign = await common.campaign_of(ctx, campaign_id)
    ensure_signable(campaign, ctx.clock(), N_("sign it"))
    draft = cmd.ANONYMOUS_DRAFT if anonymous else None
    if role or comment:
        now = ctx.clock()
        draft = await ctx.db.write(
            lambda conn: repo.add_draft(
                conn,
                campaign_id,
                owner,
                role,
                comment,
                now,
                anonymous_only=anonymous,
                id_prefix=cmd.ANONYMOUS_DRAFT if anonymous else "",
            )
        )
    return Reply(
        text=before_first_signature(
            platform, wording.who_sees_your_name(campaign), anonymous_only=anonymous
        ),
        actions=consent_actions(campaign.slug, draft, anonymous_only=anonymous),
        slug=campaign.slug,
    )


async def consent(
    ctx: Context, actor: Actor, command: cmd.Consent, place: Place | None = None
) -> Reply:
    """The informed choice: sign as chosen, with what they typed, or record only that
    they have read the notice."""
    slug, choice, draft = command.slug, command.choice, command.draft
    person_hash = ctx.key.person_hash(actor)
    typed: tuple[str | None, str | None, bool] | None = (None, None, False)
    owner = ""
    if draft == cmd.ANONYMOUS_DRAFT:  # an anonymous-only notice, nothing typed or stored
        typed, draft = (None, None, True), None
    elif draft is not None:
        campaign_id = await common.campaign_id(ctx, slug, cmd.usage("sign"))
        owner = ctx.key.signer_hash(campaign_id, actor)
        typed = await ctx.db.read(lambda conn: repo.find_draft(conn, draft, owner, campaign_id))
        if typed is None and choice == "not-now":
            # Someone else's draft, another campaign's, or gone: nothing is changed.
            return error_reply(
                _(
                    "That choice isn't yours or has expired; nothing was changed. Type "
                    "`/sign {slug}` to sign.",
                    slug=slug,
                )
            )
    if typed is not None and typed[2] and choice == "named":
        return error_reply(
            _(
                "You asked to sign anonymously, so this can't sign with your name; nothing "
                "was signed. Type `/sign {slug}` to sign with your name.",
                slug=slug,
            )
        )
    if choice == "not-now":
        return await _not_now(ctx, person_hash, slug, draft, owner)
    if typed is None and not await has_signed(ctx, actor, slug):
        return error_reply(
            _(
                "That choice has expired, and nothing was signed. Type `/sign {slug}` again "
                "(with your role or comment, if you had one).",
                slug=slug,
            )
        )
    role, comment, _anonymous_only = typed or (None, None, False)
    reply = await sign(
        ctx, actor, cmd.Sign(slug, choice == "anonymous", role, comment), consented=True
    )
    if draft is not None and not reply.error:
        await ctx.db.write(lambda conn: repo.delete_draft(conn, draft, owner))
    ctx.choices.add(person_hash)
    return reply


async def _not_now(
    ctx: Context, person_hash: str, slug: str, draft: str | None, owner: str
) -> Reply:
    """Record only that the notice was read (and drop what was typed): nothing is signed."""
    await ctx.db.write_batched(notices_batch, (person_hash, ctx.clock(), draft, owner))
    ctx.choices.add(person_hash)
    return Reply(
        text=_(
            "Nothing was signed. When you're ready: `/sign {slug}`, or "
            "`/sign {slug} anonymous` to leave your name out. You won't see the notice "
            "again; `/petition safety` shows it.",
            slug=slug,
        )
    )


async def has_signed(ctx: Context, actor: Actor, slug: str) -> bool:
    campaign_id = await common.campaign_id(ctx, slug, cmd.usage("sign"))
    signer = ctx.key.signer_hash(campaign_id, actor)
    found = await ctx.db.read(lambda conn: repo.find_signature(conn, campaign_id, signer))
    return found is not None


def sign_reply(
    ctx: Context, actor: Actor, outcome: SignOutcome, receipt: bytes | None = None
) -> Reply:
    exact = outcome.campaign
    campaign = exact.public(ctx.clock())  # the public count: never what waits with them
    tally = common.quick_tally(ctx, campaign)
    if not outcome.signed:
        text = wording.already_signed(campaign, outcome.signed_at, outcome.anonymous, ctx.tz)
        return Reply(text=text, tally=tally, slug=campaign.slug)
    name = clean_display_name(actor.display_name, actor.user_id)
    lines = [wording.thanks(campaign, name, outcome.anonymous)]
    # Said from what the signer may see: the public count and their own signature.
    mine = changed(campaign, count=campaign.count + (0 if outcome.released else 1))
    follows = wording.what_follows(mine, exact.goal, outcome.just_succeeded, outcome.anonymous)
    if follows:
        lines.append(follows)
    if not outcome.anonymous:
        lines.append(wording.who_sees_your_name(campaign))
    elif actor.locale_withheld:
        lines.append(wording.language_hint(campaign.slug, ctx.language))
    steps = common.next_step_sentence(ctx, campaign, counted=True)
    lines += [steps] if steps else []
    lines.append(_("Changed your mind? `/unsign {slug}` while it's open.", slug=campaign.slug))
    if receipt is not None:
        published = exact.published_at is not None and bool(ctx.public_url)
        log_page = f"{common.page_address(ctx, campaign.slug)}/log" if published else None
        lines.append(wording.receipt(show_receipt(receipt), log_page))
    return Reply(
        text="\n".join(lines),
        tally=tally,
        slug=campaign.slug,
        events=() if outcome.anonymous else (SignedPublicly(campaign.slug),),
    )


async def unsign(
    ctx: Context, actor: Actor, command: cmd.Unsign, place: Place | None = None
) -> Reply:
    slug = command.slug
    target = await common.resolve(ctx, slug, cmd.usage("unsign"), only_open=False)

    signer = ctx.key.signer_hash(target.id, actor)
    now = ctx.clock()

    def op(conn: Tx) -> Campaign | None:
        campaign = repo.campaign_by_id(conn, target.id, lock=True)
        existing = repo.find_signature(conn, campaign.id, signer)
        if campaign.key_retired and existing is None:
            # The new key finds nobody; a named signature is found by its account, an
            # anonymous one can't be: say why, not "you never signed".
            named = repo.named_signatures_of(
                conn, [campaign.id], actor.platform, actor.workspace, actor.user_id
            )
            if not named:
                ensure_signable(campaign, now, N_("withdraw from it"))
            existing = named[0]
        if existing is None:
            return None
        ensure_open(campaign, now, N_("withdraw from it"))  # a retired one: theirs to withdraw
        withdraw(conn, ctx.key, campaign.id, existing.id)
        changed = repo.campaign_by_id(conn, campaign.id)
        if ctx.steps.immediate:
            changed = release_if_due(conn, changed, ctx.steps, now, ctx.tz)
        return changed

    exact = await ctx.db.write(op)
    campaign = exact.public(now) if exact is not None else None
    if campaign is None:
        return Reply(
            text=_(
                "You haven't signed **{title}**, so there is nothing to withdraw.",
                title=target.title,
            ),
            error=True,
        )
    text = _("Your signature on **{title}** is withdrawn and deleted.", title=campaign.title)
    if campaign.kind is Kind.PLEDGE and campaign.succeeded_at is not None:
        text += " " + _("The pledge had already succeeded; that stays true.")
    return Reply(
        text=text,
        tally=await common.tally(ctx, campaign),
    )


async def refresh_signer_name(ctx: Context, actor: Actor, slug: str) -> None:
    """A better display name arrived after the ack (e.g. Slack's real name): put it on the
    public signature just made. Batched like signing, and an indexed update."""
    campaign_id = await common.campaign_id(ctx, slug, cmd.usage("sign"))
    rename = (
        campaign_id,
        ctx.key.signer_hash(campaign_id, actor),
        clean_display_name(actor.display_name, actor.user_id),
    )
    await ctx.db.write_batched(repo.rename_signatures, rename)
