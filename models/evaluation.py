"""Evaluations of a case (评价表 / 好差评) and the follow-up a bad review opens."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.case_centers import CaseCenters
from models.enums import AppealOutcome, EvaluationChannel, FollowUpStatus, Rating, check_in, label
from models.time import utcnow

# The rating items of 附件6 评价表 in the form's own wording (domain.md §1.8) and order. The one
# table: the public form, the console's labels, the case page and the printed annex read it.
RATING_LABELS: dict[str, str] = {
    "overall": "总体评价",
    "attitude": "服务态度",
    "efficiency": "办事效率(是否按时)",
    "competence": "业务水平",
    "communication": "进度告知",
    "integrity": "廉洁自律",
}
RATING_FIELDS = tuple(RATING_LABELS)

# The home page's 差评 and 未办结回访 figures, as the predicates of their partial indexes. The figures'
# queries use the same text: SQLite uses a partial index only when the query's WHERE repeats the
# index's terms literally (a bound `overall <= ?` does not imply `overall <= 2`).
BAD_COUNTED = f"counted AND overall <= {Rating.DISSATISFIED.value}"  # 不满意 and 非常不满意
OPEN_FOLLOWUP = f"status <> '{FollowUpStatus.CLOSED.value}'"


class Evaluation(CaseCenters, db.Model):
    __tablename__ = "evaluation"
    __table_args__ = tuple(CheckConstraint(f"{c} BETWEEN 1 AND 5", name=f"{c}_range") for c in RATING_FIELDS) + (
        CheckConstraint(check_in("channel", EvaluationChannel), name="channel"),
        # One evaluation per channel; of a paper form and the applicant's own link, one counts.
        UniqueConstraint("case_id", "channel", name="uq_evaluation_case_channel"),
        Index(
            "uq_evaluation_counted_case",
            "case_id",
            unique=True,
            sqlite_where=text("counted"),
            postgresql_where=text("counted"),
        ),
        # The list's order with the scope's centers (models/case_centers.py) in one index.
        Index("ix_evaluation_created_at_id_centers", "created_at", "id", "center_id", "origin_center_id"),
        Index("ix_evaluation_center_id", "center_id"),
        Index("ix_evaluation_origin_center_id", "origin_center_id", "center_id"),
        # The home page's 差评 figure: counted reviews rated 2 or less, read from the index alone.
        Index(
            "ix_evaluation_bad_counted_case",
            "center_id",
            "origin_center_id",
            sqlite_where=text(BAD_COUNTED),
            postgresql_where=text(BAD_COUNTED),
        ),
        # ... and those of cases handed up from the user's centers (lifecycle/scope.py scope_parts).
        Index(
            "ix_evaluation_bad_counted_origin",
            "origin_center_id",
            "center_id",
            sqlite_where=text(BAD_COUNTED),
            postgresql_where=text(BAD_COUNTED),
        ),
        # A 好差评 row is recorded once however often its file is imported (lifecycle/haochaping.py).
        Index("uq_evaluation_haochaping_number", "haochaping_number", unique=True),
    )

    rating_labels: t.ClassVar[dict[str, str]] = RATING_LABELS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    overall: Mapped[int] = mapped_column(index=True)
    attitude: Mapped[int] = mapped_column(default=5)
    efficiency: Mapped[int] = mapped_column(default=5)
    competence: Mapped[int] = mapped_column(default=5)
    communication: Mapped[int] = mapped_column(default=5)
    integrity: Mapped[int] = mapped_column(default=5)
    # 廉洁自律: did the agent ask for money, gifts or favours (plan 二(三) "吃、拿、卡、要").
    asked_for_anything: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default=EvaluationChannel.PAPER.value, index=True)
    # Only a ticked box is consent to a call-back; nothing assumes it (PIPL art. 14).
    consent_callback: Mapped[bool] = mapped_column(default=False)
    evaluator_name: Mapped[str] = mapped_column(String(32), default="")
    evaluator_phone: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # A paper 评价表 typed in by staff: who entered it and the paper form's reference.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    paper_ref: Mapped[str | None] = mapped_column(String(40))
    # False once the applicant's own rating arrived for the same case: that one counts.
    counted: Mapped[bool] = mapped_column(default=True, server_default=text("true"), index=True)
    # Imported from the provincial 好差评 system: its 评价编号 and the channel it names (粤省事, 窗口评价器…).
    haochaping_number: Mapped[str | None] = mapped_column(String(40))
    haochaping_channel: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="evaluations")  # noqa: F821
    followup: Mapped[FollowUp | None] = relationship(back_populates="evaluation")
    entered_by: Mapped[User | None] = relationship()  # noqa: F821

    @property
    def is_bad(self) -> bool:
        """A 差评: 不满意 or 非常不满意, or anything asked for (domain.md 2.1, 2.4)."""
        return (self.overall or Rating.VERY_SATISFIED) <= Rating.DISSATISFIED or bool(self.asked_for_anything)

    @property
    def overall_label(self) -> str:
        return label(Rating(self.overall))

    @property
    def item_scores(self) -> list[tuple[str, int]]:
        """(label, score 5..1) of each rating item after 总体评价, in the form's order."""
        return [(text, getattr(self, name)) for name, text in RATING_LABELS.items() if name != "overall"]

    def __str__(self) -> str:
        return f"{self.case} {self.overall_label}"


class EvaluationLink(db.Model):
    """A one-time evaluation link. Its token is the link id plus an HMAC of the nonce under the
    app's secret key: it can be printed again on the forms, but the table alone cannot produce
    a working link."""

    __tablename__ = "evaluation_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    case: Mapped[Case] = relationship(back_populates="evaluation_link")  # noqa: F821

    def __str__(self) -> str:
        return f"评价链接-{self.case}"


class FollowUp(CaseCenters, db.Model):
    """The follow-up a bad review or a complaint opens: call-back, investigation, feedback, close."""

    __tablename__ = "followup"
    __table_args__ = (
        CheckConstraint(check_in("status", FollowUpStatus), name="status"),
        CheckConstraint(check_in("appeal_outcome", AppealOutcome), name="appeal_outcome"),
        CheckConstraint("(evaluation_id IS NULL) <> (complaint_id IS NULL)", name="one_source"),
        Index("ix_followup_due_date_id_centers", "due_date", "id", "center_id", "origin_center_id"),
        Index("ix_followup_center_id", "center_id"),
        Index("ix_followup_origin_center_id", "origin_center_id", "center_id"),
        # The home page's open follow-ups, read from the index alone, one scope part each.
        Index(
            "ix_followup_open_centers",
            "center_id",
            "origin_center_id",
            sqlite_where=text(OPEN_FOLLOWUP),
            postgresql_where=text(OPEN_FOLLOWUP),
        ),
        Index(
            "ix_followup_open_origin",
            "origin_center_id",
            "center_id",
            sqlite_where=text(OPEN_FOLLOWUP),
            postgresql_where=text(OPEN_FOLLOWUP),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation.id"), unique=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), unique=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.OPEN.value, index=True)
    due_date: Mapped[dt.date] = mapped_column(index=True)
    callback_at: Mapped[dt.datetime | None]
    callback_by: Mapped[str | None] = mapped_column(String(32))
    callback_record: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    appeal_outcome: Mapped[str] = mapped_column(String(16), default=AppealOutcome.NONE.value)
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    closed_date: Mapped[dt.date | None]
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    case: Mapped[Case] = relationship()  # noqa: F821
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="followup")
    complaint: Mapped[Complaint | None] = relationship(back_populates="followup")  # noqa: F821
    assignee: Mapped[User | None] = relationship()  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return label(FollowUpStatus(self.status))

    @property
    def source_label(self) -> str:
        return "差评" if self.evaluation_id is not None else "投诉"

    def __str__(self) -> str:
        return f"回访-{self.case}"
