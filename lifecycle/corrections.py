"""Closed means closed: a finished case is read-only, and a wording error in it is put right only by
an audited correction (更正) from an admin above the case, with a reason, in the progress log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

import audit
from lifecycle.errors import ConflictError, committing
from lifecycle.scope import can_change_case
from lifecycle.transitions import ENDED
from models import Case, CaseLog, CaseMaterial, User
from models.enums import ADMIN_ROLES
from models.time import utcnow

# Descriptive wording only, with each column's length. What decides 按时办结 (status, received,
# promised and closed dates), the evaluation, and the mode and center are never corrected: the
# monthly statistics and the applicant's rating rest on them.
CORRECTABLE_FIELDS: dict[str, tuple[str, int | None]] = {
    "summary": ("情况摘要", None),
    "completion_result": ("办理结果", 200),
    "handover_note": ("移交说明", None),
    "termination_text": ("终止说明", None),
    "tracking_in": ("材料寄递运单号", 40),
    "tracking_out": ("结果寄递运单号", 40),
    "delivery_address": ("邮寄地址", 200),
    "visit_address": ("上门地址", 200),
}
MATERIAL_NAME_LENGTH = 100
NEVER_CORRECTED = "状态、受理日期、承诺办结日期、办结/终止日期、服务评价、服务方式和受理机构"


class CorrectionError(Exception):
    """A correction was refused; the message says why, in Chinese."""


def is_closed(case: Case) -> bool:
    """A completed, terminated, rejected or archived case: nobody edits it any more."""
    return case.status in ENDED


def closed_message(case: Case) -> str:
    return f"案件{case.number}{case.status_label}，不能再修改。文字差错请由镇(街道)或区级管理员使用“更正”。"


def can_correct(user: User, case: Case) -> bool:
    """A town admin corrects the closed cases of its town, the district admin any closed case."""
    return user.role in ADMIN_ROLES and can_change_case(user, case) and is_closed(case)


def _text(value: str | None) -> str:
    return (value or "").strip()


def correct(
    session: Session,
    case: Case,
    actor: User,
    fields: dict[str, str],
    reason: str,
    material_names: dict[int, str] | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> list[str]:
    """Correct wording on a closed case in one commit with its log entry and audit row; the labels changed.

    Raises CorrectionError (nothing changed) or ConflictError (the case changed since the page was loaded).
    """
    if expected_version is not None and case.version != expected_version:
        session.rollback()
        raise ConflictError()
    if actor.role not in ADMIN_ROLES or not can_change_case(actor, case):
        raise CorrectionError("只有本镇(街道)管理员或区级管理员可以更正已办结的案件")
    if not is_closed(case):
        raise CorrectionError("案件尚未办结，请直接编辑")
    for name in fields:
        if name not in CORRECTABLE_FIELDS:
            raise CorrectionError(f"“{name}”不能更正；{NEVER_CORRECTED}一律不能更正")
    reason = _text(reason)
    if len(reason) < 2:
        raise CorrectionError("请填写更正理由")
    changes: list[tuple[str, str, str]] = []
    updates: dict[str, str] = {}
    for name, value in fields.items():
        title, length = CORRECTABLE_FIELDS[name]
        new, old = _text(value), _text(getattr(case, name))
        if new == old:
            continue
        if length is not None and len(new) > length:
            raise CorrectionError(f"{title}不能超过{length}个字")
        changes.append((title, old, new))
        updates[name] = new
    renamed: dict[CaseMaterial, str] = {}
    materials = {m.id: m for m in case.materials}
    for material_id, value in (material_names or {}).items():
        material = materials.get(material_id)
        if material is None:
            raise CorrectionError("所更正的材料不属于本案件")
        new = _text(value)
        if not new:
            raise CorrectionError("材料名称不能为空")
        if len(new) > MATERIAL_NAME_LENGTH:
            raise CorrectionError(f"材料名称不能超过{MATERIAL_NAME_LENGTH}个字")
        if new != material.name:
            changes.append(("材料名称", material.name, new))
            renamed[material] = new
    if not changes:
        raise CorrectionError("没有需要更正的内容")
    when = at or utcnow()
    author = actor.full_name or actor.username
    with committing(session, refused=CorrectionError):
        for name, new in updates.items():
            setattr(case, name, new if new or name == "summary" else None)
        for material, new in renamed.items():
            material.name = new
        # Touching the case row moves its version even when only a material was renamed,
        # so a page loaded before the correction is stale.
        case.updated_at = when
        detail = "；".join(f"{title} {old or '(空)'}→{new or '(空)'}" for title, old, new in changes)
        case.logs.append(CaseLog(at=when, content=f"更正：{detail}；理由：{reason}", author=author))
        audit.record(
            session,
            audit.AuditEvent.CORRECTION,
            case,
            summary=f"{case.number} 更正：{'、'.join(title for title, _, _ in changes)}",
            changes={"corrected": [[title, old, new] for title, old, new in changes], "reason": reason},
            actor=actor,
        )
    return [title for title, _, _ in changes]
