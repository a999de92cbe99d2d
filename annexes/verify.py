"""Verification tokens printed as a QR code on every form: '<case id>-<annex>-<yyyymmdd>-<signature>'.

The signature binds the case id and number, the form and the printing date to the app's secret, so
a forged or altered token is refused; the public page shows only what the form's header shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Case
from models.keys import parse_key

SIGNATURE_LENGTH = 24


def _signature(case_id: int, case_number: str, annex: int, day: str, secret: bytes) -> str:
    message = f"annex:{case_id}:{case_number}:{annex}:{day}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


def verify_token(case: Case, annex: int, printed_on: dt.date, secret: bytes) -> str:
    day = printed_on.strftime("%Y%m%d")
    return f"{case.id}-{annex}-{day}-{_signature(case.id, case.number, annex, day, secret)}"


@dataclass(frozen=True)
class Verified:
    case: Case
    annex: int
    printed_on: dt.date


def check_token(session: Session, token: str, secret: bytes) -> Verified | None:
    """The form a token names, or None when it is malformed, forged or its case is gone."""
    parts = token.split("-")
    if len(parts) != 4:
        return None
    case_id, annex, day, signature = parse_key(parts[0]), parse_key(parts[1]), parts[2], parts[3]
    if case_id is None or annex is None or not 1 <= annex <= 6 or len(signature) != SIGNATURE_LENGTH:
        return None
    if not (len(day) == 8 and day.isascii() and day.isdigit()):
        return None
    try:
        printed_on = dt.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return None
    case = session.get(Case, case_id)
    if case is None:
        return None
    if not hmac.compare_digest(signature, _signature(case.id, case.number, annex, day, secret)):
        return None
    return Verified(case=case, annex=annex, printed_on=printed_on)
