"""Who may see which rows: the one scoping function every read and write path calls."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from models import (
    CENTER_COPIES,
    Agent,
    Applicant,
    ApplicantCenter,
    AuditLog,
    Case,
    CaseTally,
    Center,
    ExportJob,
    User,
)
from models.enums import DISTRICT_WIDE_ROLES, STAFF_ROLES, Role


def is_district_wide(user: User) -> bool:
    return user.role in DISTRICT_WIDE_ROLES


def visible_center_ids(user: User) -> list[int] | None:
    """Centers whose records the user may see; None means the whole district."""
    if is_district_wide(user):
        return None
    if user.center is None:
        return []
    if user.role == Role.TOWN_ADMIN:
        return [user.center.id] + [c.id for c in user.center.children]
    return [user.center.id]


def may_change_anything(user: User) -> bool:
    """Staff change records; the auditor reads everything and changes nothing."""
    return user.role in STAFF_ROLES


def changeable_case_center_ids(user: User) -> list[int] | None:
    """Centers whose cases `user` may change; None means the whole district.

    The one statement of the write rule for cases: only the center now holding a case (or an
    ancestor's admin) changes it, never the center it was handed up from (首问负责 is read-only).
    scope_clause(Case, write=True) and can_change_case are both built from it.
    """
    if not may_change_anything(user):
        return []
    return visible_center_ids(user)


def scope_clause(model: type, user: User, write: bool = False) -> ColumnElement[bool]:
    """A WHERE clause limiting `model` rows to what `user` may see, or with `write` may change.

    A case handed up the tiers stays readable by the center that first received it (首问负责)
    but only the center now holding it may change it.
    """
    if write and not may_change_anything(user):
        return false()
    if model is Case and write:
        changeable = changeable_case_center_ids(user)
        return true() if changeable is None else Case.center_id.in_(changeable)
    ids = visible_center_ids(user)
    if ids is None:
        return true()
    if model is Case:
        return or_(Case.center_id.in_(ids), Case.origin_center_id.in_(ids))
    if model is Center:
        return Center.id.in_(ids)
    if model is Agent:
        return Agent.center_id.in_(ids)
    if model is Applicant:
        # A probe of the derived key table (models/applicant_center.py) per applicant row, rather than
        # asking the case table. A page walks applicants in order and probes each: SQLite built the
        # whole key list of a town (94,000 applicants, 35 ms) for `IN (keys)` before the first row.
        keys = exists().where(ApplicantCenter.applicant_id == Applicant.id, ApplicantCenter.center_id.in_(ids))
        return keys.where(ApplicantCenter.can_change) if write else keys
    if model in CENTER_COPIES:
        # Records about a case follow the case, the write flag included: a center that handed a
        # case up still reads its supervision records but no longer changes them. The case's
        # centers are copied onto these rows (models/case_centers.py), so no join to the case.
        if write:
            return model.center_id.in_(changeable_case_center_ids(user))
        return or_(model.center_id.in_(ids), model.origin_center_id.in_(ids))
    if model is ExportJob:
        return ExportJob.user_id == user.id  # a batch export belongs to whoever asked for it
    if model in (User, AuditLog):
        return false()
    # Reference data (service items, departments) is district-wide and readable by every login.
    return true()


def scope_parts(model: type, user: User) -> list[ColumnElement[bool]] | None:
    """scope_clause(model, user) for reading, as disjoint conditions whose rows add up to it; None: all rows.

    For cases, the records carrying a case's centers and the case tally: the rows held by the
    user's centers, and those first received there (首问负责) and since handed up out of them.
    Counted one part at a time, each is a range of an index that leads with its center column (the
    home page's partial indexes for the second); counted as one OR, SQLite reads every matching
    row instead (issue 11).
    tests/test_large_lists.py checks that the parts add up to the clause for every demo login.
    """
    if model is Applicant and (ids := visible_center_ids(user)) is not None:
        # Counted from the key table's center range: one list of keys, cheaper than a probe per
        # applicant when the login sees few of them (a station: 16 ms against 186 ms on SQLite).
        return [Applicant.id.in_(select(ApplicantCenter.applicant_id).where(ApplicantCenter.center_id.in_(ids)))]
    if model not in (Case, CaseTally, *CENTER_COPIES):
        return [scope_clause(model, user)]
    ids = visible_center_ids(user)
    if ids is None:
        return None
    return [
        model.center_id.in_(ids),
        and_(model.origin_center_id.in_(ids), model.origin_center_id != model.center_id, model.center_id.not_in(ids)),
    ]


def can_change_case(user: User, case: Case) -> bool:
    """scope_clause(Case, user, write=True) evaluated on one loaded case, without a query."""
    changeable = changeable_case_center_ids(user)
    return changeable is None or case.center_id in changeable
