"""Cases (帮办代办件) with their items, progress log, materials and statutory fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    event,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.agent import Agent
from models.applicant import Applicant
from models.case_centers import CaseCenters
from models.center import Center
from models.department import Department
from models.enums import (
    DelegationScope,
    ExtensionStatus,
    MaterialForm,
    Mode,
    RemoteChannel,
    ResultDelivery,
    ReturnMethod,
    Status,
    TerminationReason,
    check_in,
    label,
)
from models.service_item import ServiceItem
from models.time import utcnow

case_item = Table(
    "case_item",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("service_item.id"), primary_key=True, index=True),
)


# The 已延期 filter's condition as each database is sent it (the filter compares with true, which
# SQLite receives as 1): SQLite uses a partial index only when the query repeats its predicate.
EXTENDED = {"postgresql": "extended", "sqlite": "extended = 1"}


class Case(db.Model):
    __tablename__ = "case"
    __table_args__ = (
        CheckConstraint(check_in("mode", Mode), name="mode"),
        CheckConstraint(check_in("status", Status), name="status"),
        CheckConstraint(
            "remote_channel IS NULL OR " + check_in("remote_channel", RemoteChannel), name="remote_channel"
        ),
        CheckConstraint(
            "delegation_scope IS NULL OR " + check_in("delegation_scope", DelegationScope),
            name="delegation_scope",
        ),
        CheckConstraint(
            "result_delivery IS NULL OR " + check_in("result_delivery", ResultDelivery), name="result_delivery"
        ),
        CheckConstraint(
            "termination_reason IS NULL OR " + check_in("termination_reason", TerminationReason),
            name="termination_reason",
        ),
        CheckConstraint(
            "materials_return_method IS NULL OR " + check_in("materials_return_method", ReturnMethod),
            name="materials_return_method",
        ),
        # The default list order (newest first, id as tie-breaker) and the scoped list both use these.
        # The scope's centers ride along, so a scoped page is read from the index alone.
        Index("ix_case_received_date_id", "received_date", "id", "center_id", "origin_center_id"),
        # A center's cases by status (the status and deadline filters), and the same for the center
        # that first received them (the scope's other half, 首问负责).
        Index("ix_case_center_id_status_received_date", "center_id", "status", "received_date", "id"),
        Index("ix_case_origin_center_id_status_received_date", "origin_center_id", "status", "received_date", "id"),
        # A center's cases in the register's order (the center filter, and the first scope part's count).
        Index("ix_case_center_id_received_date_id", "center_id", "received_date", "id"),
        # 已延期: the few extended cases in the register's order, and by either center for the
        # scope parts' counts. SQLite keeps no statistics of how rare `extended` is, so only
        # indexes holding nothing else steer it off a center's every row.
        Index(
            "ix_case_extended_received_date_id",
            "received_date",
            "id",
            "center_id",
            "origin_center_id",
            postgresql_where=text(EXTENDED["postgresql"]),
            sqlite_where=text(EXTENDED["sqlite"]),
        ),
        Index(
            "ix_case_extended_center_id",
            "center_id",
            "received_date",
            "id",
            postgresql_where=text(EXTENDED["postgresql"]),
            sqlite_where=text(EXTENDED["sqlite"]),
        ),
        Index(
            "ix_case_extended_origin_center_id",
            "origin_center_id",
            "center_id",
            postgresql_where=text(EXTENDED["postgresql"]),
            sqlite_where=text(EXTENDED["sqlite"]),
        ),
        # A center's cases by service mode: the mode filter's count, one scope part at a time.
        Index("ix_case_center_id_mode", "center_id", "mode", "received_date", "id"),
        # Sorting the register by applicant walks this index instead of joining the applicant table.
        Index("ix_case_applicant_name_id", "applicant_name", "id", "center_id", "origin_center_id"),
        # 已超期 / 即将超期: running statuses against the promised date (filter and home page).
        Index("ix_case_status_promised_date", "status", "promised_date"),
        # The home page's cases closed in a period (办结, 终止, 按时; lifecycle/statistics.py), by
        # center and month, read from the index alone: every column those counts look at.
        Index(
            "ix_case_closed_date_figures",
            "closed_date",
            "status",
            "center_id",
            "origin_center_id",
            "promised_date",
            "received_date",
            "result_recorded_at",
            "termination_recorded_at",
        ),
        # The home page of a town or village login counts its cases by status and overdue from the
        # index alone: its own centers' cases here, the few it handed up in the partial index below.
        Index("ix_case_center_id_status_promised_date_id", "center_id", "status", "promised_date", "id"),
        Index(
            "ix_case_handed_up",
            "origin_center_id",
            "center_id",
            "status",
            "promised_date",
            "id",
            postgresql_where=text("origin_center_id <> center_id"),
            sqlite_where=text("origin_center_id <> center_id"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    # The center that first received the case keeps read access after a hand-off (首问负责).
    origin_center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicant.id"), index=True)
    # A copy of applicant.name, kept in step on every save (sync_applicant_name below), so that the
    # register sorts and searches by applicant on its own indexes (models/search.py).
    applicant_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    delegation_scope: Mapped[str | None] = mapped_column(String(16))
    received_date: Mapped[dt.date]  # indexed with the id by ix_case_received_date_id
    promised_date: Mapped[dt.date | None] = mapped_column(index=True)
    # The promised date was counted on a year whose holiday notice is not out yet (Monday-Friday
    # plus the statutory days); it is to be rechecked once the notice is entered.
    promised_assumed: Mapped[bool] = mapped_column(default=False, server_default=text("false"), index=True)
    # An approved extension (延期) set the promised date; acceptance does not recompute it.
    extended: Mapped[bool] = mapped_column(default=False, server_default=text("false"), index=True)
    closed_date: Mapped[dt.date | None] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(Text, default="")

    remote_channel: Mapped[str | None] = mapped_column(String(16))
    tracking_in: Mapped[str | None] = mapped_column(String(40))
    tracking_out: Mapped[str | None] = mapped_column(String(40))
    visit_address: Mapped[str | None] = mapped_column(String(200))
    # The appointment as agreed with the applicant: Beijing wall-clock time, entered and shown as typed
    # (unlike the *_at audit times, which are naive UTC).
    visit_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # the visit calendar reads a month by it

    result_delivery: Mapped[str | None] = mapped_column(String(16))
    delivery_address: Mapped[str | None] = mapped_column(String(200))
    completion_result: Mapped[str | None] = mapped_column(String(200))
    completion_signed: Mapped[bool] = mapped_column(default=False)
    handover_note: Mapped[str | None] = mapped_column(Text)
    termination_reason: Mapped[str | None] = mapped_column(String(32))
    termination_text: Mapped[str | None] = mapped_column(Text)
    # Plan 三(三)4: the result (or the termination) is recorded and its slip printed for the
    # applicant's signature before the case is closed; these say when that was done.
    result_recorded_at: Mapped[dt.datetime | None]
    termination_recorded_at: Mapped[dt.datetime | None]
    termination_signed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    materials_return_method: Mapped[str | None] = mapped_column(String(24))
    materials_return_note: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    # Acceptance of a delegated case (plan 三(三)4): application and undertaking confirmed,
    # entrustment agreement signed.
    application_confirmed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    undertaking_confirmed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    agreement_signed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # The clock stops while a case is suspended; resuming extends the promised date.
    suspended_on: Mapped[dt.date | None]
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    # When the clerk expects to resume (the 中止单 of DB3205/T 1077 names a 中止期限): the calendar shows
    # it, and a suspension past it stands out. Cleared on resumption; the clock itself is unaffected.
    resume_expected_on: Mapped[dt.date | None]

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    center: Mapped[Center] = relationship(foreign_keys=[center_id])
    origin_center: Mapped[Center] = relationship(foreign_keys=[origin_center_id])
    applicant: Mapped[Applicant] = relationship()
    agent: Mapped[Agent | None] = relationship()
    items: Mapped[list[ServiceItem]] = relationship(secondary=case_item, order_by="ServiceItem.id")
    logs: Mapped[list[CaseLog]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseLog.at"
    )
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMaterial.id"
    )
    fees: Mapped[list[CaseFee]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseFee.id"
    )
    evaluations: Mapped[list[Evaluation]] = relationship(  # noqa: F821
        back_populates="case", order_by="Evaluation.id"
    )
    # The evaluation that counts: the applicant's own where both it and a paper form exist.
    evaluation: Mapped[Evaluation | None] = relationship(  # noqa: F821
        primaryjoin="and_(Case.id == Evaluation.case_id, Evaluation.counted)", viewonly=True, uselist=False
    )
    complaints: Mapped[list[Complaint]] = relationship(  # noqa: F821
        back_populates="case", order_by="Complaint.id"
    )
    extensions: Mapped[list[CaseExtension]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseExtension.id"
    )
    handoffs: Mapped[list[CaseHandoff]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseHandoff.at"
    )
    evaluation_link: Mapped[EvaluationLink | None] = relationship(back_populates="case")  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def return_method_label(self) -> str:
        return label(ReturnMethod(self.materials_return_method)) if self.materials_return_method else ""

    @property
    def mode_label(self) -> str:
        return label(Mode(self.mode))

    @property
    def status_label(self) -> str:
        return label(Status(self.status))

    @property
    def departments(self) -> list[Department]:
        """Departments involved: those handling the items plus those contacted in the log."""
        seen: dict[int, Department] = {}
        for item in self.items:
            seen.setdefault(item.department.id, item.department)
        for entry in self.logs:
            if entry.department is not None:
                seen.setdefault(entry.department.id, entry.department)
        return list(seen.values())

    def __str__(self) -> str:
        return self.number


class CaseLog(db.Model):
    """One step in a case's progress log (时间, 代办员, 联系部门, 内容)."""

    __tablename__ = "case_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(32), default="")

    case: Mapped[Case] = relationship(back_populates="logs")
    agent: Mapped[Agent | None] = relationship()
    department: Mapped[Department | None] = relationship()

    def __str__(self) -> str:
        return self.content[:30]


class CaseHandoff(db.Model):
    """A hand-off up the tiers (转办): who passed the case from which center to which, and why."""

    __tablename__ = "case_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    from_center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    to_center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(32), default="")

    case: Mapped[Case] = relationship(back_populates="handoffs")
    from_center: Mapped[Center] = relationship(foreign_keys=[from_center_id])
    to_center: Mapped[Center] = relationship(foreign_keys=[to_center_id])

    def __str__(self) -> str:
        return f"{self.from_center} → {self.to_center}"


class CaseMaterial(db.Model):
    """A material handed over by the applicant, tracked until it is returned."""

    __tablename__ = "case_material"
    __table_args__ = (CheckConstraint(check_in("form", MaterialForm), name="form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    form: Mapped[str] = mapped_column(String(16), default=MaterialForm.ORIGINAL.value)
    copies: Mapped[int] = mapped_column(default=1)
    received: Mapped[bool] = mapped_column(default=True)
    custody: Mapped[str] = mapped_column(String(100), default="")
    returned: Mapped[bool] = mapped_column(default=False)
    returned_date: Mapped[dt.date | None]

    case: Mapped[Case] = relationship(back_populates="materials")

    def __str__(self) -> str:
        return self.name


class CaseFee(db.Model):
    """A statutory fee paid by the applicant; the service itself is free (plan 二(二))."""

    __tablename__ = "case_fee"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    legal_basis: Mapped[str] = mapped_column(String(200))
    paid_by_applicant: Mapped[bool] = mapped_column(default=True)

    case: Mapped[Case] = relationship(back_populates="fees")
    item: Mapped[ServiceItem] = relationship()

    def __str__(self) -> str:
        return f"{self.item} {self.amount}元"


class CaseExtension(CaseCenters, db.Model):
    """A request to move a case's promised date (延期), and the admin's decision on it."""

    __tablename__ = "case_extension"
    __table_args__ = (
        CheckConstraint(check_in("status", ExtensionStatus), name="status"),
        # The list's order with the scope's centers (models/case_centers.py), and each scope part.
        Index("ix_case_extension_requested_at_id_centers", "requested_at", "id", "center_id", "origin_center_id"),
        Index("ix_case_extension_center_id", "center_id"),
        Index("ix_case_extension_origin_center_id", "origin_center_id", "center_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text)
    old_date: Mapped[dt.date | None]
    new_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.PENDING.value, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(back_populates="extensions")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return label(ExtensionStatus(self.status))

    def __str__(self) -> str:
        return f"{self.case} 延期至{self.new_date}"


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _copy_applicant_name(mapper, connection, case: Case) -> None:
    """The case's applicant_name is its applicant's name, read from the row being pointed at."""
    if case.applicant_id is not None:
        case.applicant_name = connection.scalar(select(Applicant.name).where(Applicant.id == case.applicant_id))


@event.listens_for(Applicant, "after_update")
def _rename_in_cases(mapper, connection, applicant: Applicant) -> None:
    """A renamed applicant is renamed in its cases' copies too, in the same transaction."""
    connection.execute(
        update(Case.__table__)
        .where(Case.__table__.c.applicant_id == applicant.id, Case.__table__.c.applicant_name != applicant.name)
        .values(applicant_name=applicant.name)
    )
