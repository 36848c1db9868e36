"""Withdrawing one signature, in the caller's transaction (`/unsign`, `/forget-me`).

A signature still waiting for its step is taken back out of it: it was never shown, so its
withdrawal is never shown either, and an account that signs and withdraws fills no crowd a
colleague could be released in (bot/domain/steps.py). Otherwise the withdrawal waits for its
own part of a step: a named one with its workspace, an anonymous one with nothing.
"""

from __future__ import annotations

from bot.domain.identity import SignerKey
from bot.domain.public_log import withdrawal
from storage import public_log
from storage import repository as repo
from storage.database import Tx
from storage.public_log import Pending


def withdraw(conn: Tx, key: SignerKey, campaign_id: int, signature_id: str) -> bool:
    """Delete the signature and lower the count; False if it was already gone."""
    gone = repo.delete_signature(conn, signature_id)
    if gone is None:
        return False
    repo.add_to_count(conn, campaign_id, -1)
    if not public_log.take_back(conn, campaign_id, key.pending_tag(gone.signer_hash)):
        entry = Pending(withdrawal(), gone.named, None, gone.workspace)
        public_log.add_pending(conn, campaign_id, [entry])  # tied to nothing
    return True
