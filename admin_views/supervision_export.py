"""The evaluation, follow-up and complaint registers (台账): columns read as plain rows a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import aliased

from admin_views.case_export import Record, iso, town_name
from admin_views.pii import ExportMixin, id_batches, in_batch
from extensions import db
from lifecycle.register import NO, YES, followup_timeliness
from models import Case, Center, Complaint, Evaluation, FollowUp, ServiceItem, User
from models.case import case_item
from models.enums import ComplaintChannel, EvaluationChannel, FollowUpStatus, Mode, Rating, label
from models.evaluation import RATING_LABELS
from models.identifiers import mask_phone
from models.time import beijing_date, format_beijing, today_beijing

# The five items of 附件6 评价表 after 总体评价, in the form's wording and order; 总体评价 follows them.
_ITEMS = [name for name in RATING_LABELS if name != "overall"]


def _case_columns(parent):
    """The case's number, mode and holding center (with its town) beside each row."""
    return (
        Case.id.label("case_id"),
        Case.number,
        Case.mode,
        Center.name.label("center"),
        Center.tier,
        parent.name.label("parent"),
    )


def _with_case(statement, parent, case_id):
    return (
        statement.join(Case, Case.id == case_id)
        .join(Center, Center.id == Case.center_id)
        .outerjoin(parent, parent.id == Center.parent_id)
    )


def _rating(value: int | None) -> str:
    return label(Rating(value)) if value is not None else ""


def _followup_status(value: str | None) -> str:
    return label(FollowUpStatus(value)) if value else ""


EVALUATION_EXPORT_COLUMNS = [
    ("案件编号", lambda r: r["number"]),
    ("受理机构", lambda r: r["center"]),
    ("所属镇(街道)", town_name),
    ("申请事项", lambda r: "、".join(r["items"])),
    ("服务方式", lambda r: label(Mode(r["mode"]))),
    ("评价渠道", lambda r: label(EvaluationChannel(r["channel"]))),
    *[(RATING_LABELS[name], lambda r, name=name: _rating(r[name])) for name in _ITEMS],
    (RATING_LABELS["overall"], lambda r: _rating(r["overall"])),
    ("是否有索要财物/吃拿卡要", lambda r: YES if r["asked_for_anything"] else NO),
    # A paper form stops counting once the applicant rated the case through the link.
    ("计入评价结果", lambda r: YES if r["counted"] else NO),
    ("评价日期", lambda r: iso(beijing_date(r["created_at"]))),
    ("差评回访", lambda r: _followup_status(r["followup"])),
]


class EvaluationExportMixin(ExportMixin):
    """The evaluation register: two queries per batch (the evaluations with their case, center and
    follow-up; the cases' items), whatever the batch's size."""

    export_title = "服务评价台账"
    export_columns = EVALUATION_EXPORT_COLUMNS

    def export_records(self, query, batch_rows: int) -> Iterator[list[Record]]:
        for ids in id_batches(query, Evaluation.id, batch_rows):
            yield self._records(ids)

    def _records(self, ids: list[int]) -> list[Record]:
        parent = aliased(Center)
        statement = select(
            Evaluation.id,
            *[getattr(Evaluation, name) for name in RATING_LABELS],
            Evaluation.asked_for_anything,
            Evaluation.channel,
            Evaluation.counted,
            Evaluation.created_at,
            *_case_columns(parent),
            FollowUp.status.label("followup"),
        )
        statement = _with_case(statement, parent, Evaluation.case_id).outerjoin(
            FollowUp, FollowUp.evaluation_id == Evaluation.id
        )
        rows = db.session.execute(statement.where(in_batch(Evaluation.id, ids))).mappings()
        records = {row["id"]: {**row, "items": []} for row in rows}
        _add_items(records.values())
        return [records[key] for key in ids if key in records]


def _add_items(records) -> None:
    """Case.items of each record's case, in the model's order: one query for the batch."""
    by_case: dict[int, list[Record]] = {}
    for record in records:
        by_case.setdefault(record["case_id"], []).append(record)
    if not by_case:
        return
    items = db.session.execute(
        select(case_item.c.case_id, ServiceItem.name)
        .join(ServiceItem, ServiceItem.id == case_item.c.item_id)
        .where(in_batch(case_item.c.case_id, list(by_case)))
        .order_by(case_item.c.case_id, ServiceItem.id)
    )
    for case_id, name in items:
        for record in by_case[case_id]:
            record["items"].append(name)


def _followup_source(record: Record) -> str:
    if record["evaluation_channel"]:
        return f"差评({label(EvaluationChannel(record['evaluation_channel']))})"
    return f"投诉({label(ComplaintChannel(record['complaint_channel']))})"


FOLLOWUP_EXPORT_COLUMNS = [
    ("案件编号", lambda r: r["number"]),
    ("受理机构", lambda r: r["center"]),
    ("所属镇(街道)", town_name),
    ("来源", _followup_source),
    ("回访责任人", lambda r: r["assignee_name"] or r["assignee_username"] or ""),
    ("回访状态", lambda r: _followup_status(r["status"])),
    ("办理期限", lambda r: iso(r["due_date"])),
    ("回访时间", lambda r: format_beijing(r["callback_at"])),
    ("整改情况", lambda r: r["rectification"] or ""),
    ("反馈结果", lambda r: r["feedback"] or ""),
    ("办结日期", lambda r: iso(r["closed_date"])),
    ("按期情况", lambda r: followup_timeliness(r["status"], r["due_date"], r["closed_date"], r["today"])),
]


class FollowUpExportMixin(ExportMixin):
    """The follow-up register (差评与投诉回访): one query per batch, whatever its size."""

    export_title = "回访台账"
    export_columns = FOLLOWUP_EXPORT_COLUMNS

    def export_records(self, query, batch_rows: int) -> Iterator[list[Record]]:
        today = today_beijing()
        for ids in id_batches(query, FollowUp.id, batch_rows):
            yield self._records(ids, today)

    def _records(self, ids: list[int], today) -> list[Record]:
        parent = aliased(Center)
        statement = select(
            FollowUp.id,
            FollowUp.status,
            FollowUp.due_date,
            FollowUp.callback_at,
            FollowUp.rectification,
            FollowUp.feedback,
            FollowUp.closed_date,
            Evaluation.channel.label("evaluation_channel"),
            Complaint.channel.label("complaint_channel"),
            User.full_name.label("assignee_name"),
            User.username.label("assignee_username"),
            *_case_columns(parent),
        )
        statement = (
            _with_case(statement, parent, FollowUp.case_id)
            .outerjoin(Evaluation, Evaluation.id == FollowUp.evaluation_id)
            .outerjoin(Complaint, Complaint.id == FollowUp.complaint_id)
            .outerjoin(User, User.id == FollowUp.assignee_id)
        )
        rows = db.session.execute(statement.where(in_batch(FollowUp.id, ids))).mappings()
        records = {row["id"]: {**row, "today": today} for row in rows}
        return [records[key] for key in ids if key in records]


COMPLAINT_EXPORT_COLUMNS = [
    ("案件编号", lambda r: r["number"]),
    ("受理机构", lambda r: r["center"]),
    ("所属镇(街道)", town_name),
    ("投诉渠道", lambda r: label(ComplaintChannel(r["channel"]))),
    ("工单编号", lambda r: r["reference"] or ""),
    ("投诉人", lambda r: r["complainant_name"] or ""),
    ("投诉人电话", lambda r: mask_phone(r["complainant_phone"])),
    ("投诉内容", lambda r: r["content"]),
    ("收到时间", lambda r: format_beijing(r["received_at"])),
    ("回访状态", lambda r: _followup_status(r["followup"])),
]


class ComplaintExportMixin(ExportMixin):
    """The complaint register: one query per batch; the complainant's phone masked unless revealed."""

    export_title = "投诉台账"
    export_columns = COMPLAINT_EXPORT_COLUMNS
    export_full_columns = {"投诉人电话": lambda r: r["complainant_phone"] or ""}

    def export_records(self, query, batch_rows: int) -> Iterator[list[Record]]:
        for ids in id_batches(query, Complaint.id, batch_rows):
            yield self._records(ids)

    def _records(self, ids: list[int]) -> list[Record]:
        parent = aliased(Center)
        statement = select(
            Complaint.id,
            Complaint.channel,
            Complaint.reference,
            Complaint.complainant_name,
            Complaint.complainant_phone,
            Complaint.content,
            Complaint.received_at,
            FollowUp.status.label("followup"),
            *_case_columns(parent),
        )
        statement = _with_case(statement, parent, Complaint.case_id).outerjoin(
            FollowUp, FollowUp.complaint_id == Complaint.id
        )
        rows = db.session.execute(statement.where(in_batch(Complaint.id, ids))).mappings()
        records = {row["id"]: dict(row) for row in rows}
        return [records[key] for key in ids if key in records]
