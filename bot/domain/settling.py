"""The pure half of signing a batch: the request and its outcome, who of a batch was signed
now, who had signed before, who was the same person twice, and who was refused.

`bot/signing.py` runs the statements and hands what they found to `settle`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.domain.campaigns import Campaign, ensure_signable
from bot.domain.errors import UserError
from bot.domain.messages import N_, _, speaking
from bot.domain.steps import StepRule


@dataclass(frozen=True)
class SignRequest:
    campaign_id: int
    signer_hash: str
    key_id: str
    person_hash: str | None  # set with a first informed choice: recorded with the signature
    anonymous: bool
    platform: str
    workspace: str
    user_id: str
    display_name: str
    role: str | None
    comment: str | None
    now: datetime
    language: str = "en"  # what the signer reads, for a refusal worded in the batch
    # With no window (`UNDERSIGNED_COUNT_WINDOW_MINUTES=0`) a full batch is released here;
    # otherwise steps are released by the schedule, never by a signature.
    steps: StepRule | None = None
    tz: tzinfo = UTC
    # The public log's leaf for this signature (a hash of the receipt only the signer is
    # shown); None: a leaf nobody holds a receipt for.
    leaf: bytes | None = None
    # `SignerKey.pending_tag` of the signer: a withdrawal before the step takes the entry back.
    tag: str | None = None


@dataclass(frozen=True)
class SignOutcome:
    campaign: Campaign  # as this signature left it: `count` includes it
    signed: bool  # False: this signer had already signed
    signed_at: datetime
    anonymous: bool
    just_succeeded: bool = False

    @property
    def released(self) -> bool:
        """Was a step released with this signature (no window configured)?"""
        shown = self.campaign.shown_at
        return shown is not None and shown >= self.signed_at


def refusal(campaign: Campaign, request: SignRequest) -> UserError:
    with speaking(request.language):  # the batch runs in the writer's task, not the signer's
        try:
            ensure_signable(campaign, request.now, N_("sign it"))
        except UserError as exc:
            return exc
        return UserError(_("That signature could not be stored; please try again."))


def settle(
    campaign: Campaign,
    requests: list[SignRequest],
    indexes: list[int],
    first_of: dict[str, int],
    inserted: set[str],
    existing: dict[str, tuple[datetime, bool]],
    results: list[SignOutcome | Exception | None],
) -> list[int]:
    """The pure half: who was signed now (returned), who had signed before, who was the same
    person twice in one batch, and who was refused (their `results` are settled here)."""
    new: list[int] = []
    for i in indexes:
        signer_hash = requests[i].signer_hash
        first = requests[first_of[signer_hash]]
        if signer_hash in inserted:
            if first_of[signer_hash] == i:
                new.append(i)
            else:  # the same person twice in one batch
                results[i] = SignOutcome(campaign, False, first.now, first.anonymous)
        elif signer_hash in existing:
            at, anonymous = existing[signer_hash]
            results[i] = SignOutcome(campaign, False, at, anonymous)
        else:
            results[i] = refusal(campaign, requests[i])
    return new
