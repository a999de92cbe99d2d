"""One-time evaluation links: issued when a case completes or terminates, used once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Case, EvaluationLink
from models.enums import EvaluationChannel
from models.keys import parse_key

LINK_VALID_DAYS = 30


def issue_link(case: Case, now: dt.datetime) -> EvaluationLink:
    """Give the case its evaluation link (once; a case that has one keeps it)."""
    if case.evaluation_link is None:
        case.evaluation_link = EvaluationLink(
            nonce=secrets.token_hex(16), created_at=now, expires_at=now + dt.timedelta(days=LINK_VALID_DAYS)
        )
    return case.evaluation_link


def open_link(case: Case, now: dt.datetime) -> EvaluationLink | None:
    """The case's link while the applicant can still use it: unused, unexpired, and no rating of
    the applicant's own on file (a paper form typed in by staff leaves the link open)."""
    link = case.evaluation_link
    if link is None or link.used_at is not None or link.expires_at < now:
        return None
    if any(e.channel != EvaluationChannel.PAPER for e in case.evaluations):
        return None
    return link


def _signature(link_id: int, nonce: str, secret: bytes) -> str:
    return hmac.new(secret, f"evaluation:{link_id}:{nonce}".encode(), hashlib.sha256).hexdigest()[:40]


def token_for(link: EvaluationLink, secret: bytes) -> str:
    """The public token of a saved link: '<id>-<signature>'."""
    return f"{link.id}-{_signature(link.id, link.nonce, secret)}"


def find_link(session: Session, token: str, secret: bytes) -> EvaluationLink | None:
    """The link a token names, or None for an unknown or forged token."""
    raw_id, _, signature = token.partition("-")
    link_id = parse_key(raw_id)
    if link_id is None or len(signature) != 40:
        return None
    link = session.get(EvaluationLink, link_id)
    if link is None or not hmac.compare_digest(signature, _signature(link.id, link.nonce, secret)):
        return None
    return link


def claim_link(session: Session, link: EvaluationLink, now: dt.datetime) -> bool:
    """Mark the link used, if nobody has yet; False when another request (on any server) got there first.

    One conditional UPDATE in the caller's transaction: the row lock it takes makes a second
    submission wait for the first to commit or roll back, and then find used_at set. The caller
    commits together with the evaluation, or rolls back and the link is open again.
    """
    claimed = session.execute(
        update(EvaluationLink)
        .where(EvaluationLink.id == link.id, EvaluationLink.used_at.is_(None), EvaluationLink.expires_at >= now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(link, ["used_at"])
    return claimed == 1
