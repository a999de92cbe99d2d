"""Writes a planned demo data set: reference rows looked up by natural key first, cases lived through lifecycle/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle.deadlines import add_working_days
from lifecycle.errors import TransitionError
from lifecycle.supervision import (
    DEFAULT_FOLLOWUP_WORKING_DAYS,
    advance_followup,
    paper_entry_refusal,
    record_complaint,
    record_evaluation,
    responsible_admin,
)
from lifecycle.transitions import transition
from models import (
    Agent,
    AgentTraining,
    Applicant,
    Case,
    CaseFee,
    CaseLog,
    CaseMaterial,
    Center,
    Complaint,
    Department,
    Evaluation,
    EvaluationLink,
    ServiceItem,
    ServiceItemMaterial,
    User,
)
from models.enums import (
    AppealOutcome,
    ApplicantKind,
    EvaluationChannel,
    IdType,
    MaterialForm,
    Mode,
    Rating,
    ResultDelivery,
    ReturnMethod,
    Role,
    Status,
    Tier,
)
from models.evaluation import RATING_FIELDS
from models.time import beijing_date
from seed.data.cases import COMPLAINTS, FOLLOWUP_ORDER, HAND_OFFS, REFERENCE_DATE
from seed.data.items import DEPARTMENTS, ITEMS
from seed.data.people import DEMO_PASSWORD, DEMO_USERS
from seed.plan import CaseSpec, EvaluationSpec, Plan, is_unreachable, stationed_codes


def seed_centers(session: Session, plan: Plan) -> dict[str, Center]:
    centers = {c.name: c for c in session.scalars(select(Center))}
    for tier in (Tier.DISTRICT.value, Tier.TOWN.value, Tier.VILLAGE.value):
        for spec in plan.centers:
            if spec.tier != tier or spec.name in centers:
                continue
            center = Center(
                tier=spec.tier,
                name=spec.name,
                parent=centers[spec.parent] if spec.parent else None,
                address=spec.address,
                phone=spec.phone,
                hotline=spec.hotline,
            )
            session.add(center)
            centers[spec.name] = center
        session.flush()
    return centers


def seed_departments(session: Session) -> dict[str, Department]:
    departments = {d.name: d for d in session.scalars(select(Department))}
    for name, _short, contact, phone in DEPARTMENTS:
        if name not in departments:
            departments[name] = Department(name=name, contact=contact, phone=phone)
            session.add(departments[name])
    session.flush()
    return departments


def seed_items(
    session: Session, plan: Plan, centers: dict[str, Center], departments: dict[str, Department]
) -> dict[str, ServiceItem]:
    items = {i.code: i for i in session.scalars(select(ServiceItem))}
    for spec in ITEMS:
        if spec.code in items:
            continue
        item = ServiceItem(
            code=spec.code,
            name=spec.name,
            department=departments[spec.department],
            time_limit_days=spec.days,
            fee_amount=Decimal(spec.fee) if spec.fee else None,
            fee_basis=spec.fee_basis,
            online_declarable=spec.online,
            in_person_verification=spec.in_person,
            notes=spec.notes,
        )
        item.materials = [ServiceItemMaterial(name=n, form=f, copies=c) for n, f, c in spec.materials]
        session.add(item)
        items[spec.code] = item
    session.flush()
    for center_spec in plan.centers:
        center = centers[center_spec.name]
        for code in stationed_codes(center_spec):
            if not items[code].is_stationed_at(center):
                items[code].centers.append(center)
    session.flush()
    return items


def seed_users(session: Session, centers: dict[str, Center]) -> dict[str, User]:
    users = {u.username: u for u in session.scalars(select(User))}
    for username, role, center_name, full_name in DEMO_USERS:
        if username in users:
            continue
        user = User(username=username, role=role, center=centers[center_name], full_name=full_name)
        user.set_password(DEMO_PASSWORD)
        session.add(user)
        users[username] = user
    session.flush()
    return users


def seed_agents(
    session: Session, plan: Plan, centers: dict[str, Center], items: dict[str, ServiceItem]
) -> dict[str, Agent]:
    agents = {a.staff_no: a for a in session.scalars(select(Agent))}
    for spec in plan.agents:
        if spec.staff_no in agents:
            continue
        agent = Agent(
            name=spec.name, staff_no=spec.staff_no, center=centers[spec.center], phone=spec.phone, active=spec.active
        )
        agent.items = [items[c] for c in spec.items]
        agent.trainings = [AgentTraining(date=d, topic=t, hours=Decimal(h)) for d, t, h in spec.trainings]
        session.add(agent)
        agents[spec.staff_no] = agent
    session.flush()
    return agents


def seed_applicants(session: Session, plan: Plan, centers: dict[str, Center]) -> dict[str, Applicant]:
    existing: dict[str, Applicant] = {}
    for applicant in session.scalars(select(Applicant)):
        key = applicant.credit_code if applicant.kind == ApplicantKind.ORGANIZATION.value else applicant.id_number
        if key:
            existing.setdefault(key, applicant)
    for spec in plan.applicants:
        if spec.key in existing:
            continue
        values: dict[str, object] = {
            "kind": spec.kind,
            "center": centers[spec.center],
            "name": spec.name,
            "phone": spec.phone,
            "address": spec.address,
        }
        if spec.kind == ApplicantKind.PERSON.value:
            values.update(
                gender=spec.gender,
                id_type=IdType.RESIDENT_ID.value,
                id_number=spec.key,
                is_elderly=spec.is_elderly,
                is_disabled=spec.is_disabled,
                is_pregnant=spec.is_pregnant,
                has_limited_mobility=spec.has_limited_mobility,
            )
        else:
            values.update(
                credit_code=spec.key,
                legal_representative=spec.legal_representative,
                contact_name=spec.contact_name,
                contact_id_number=spec.contact_id_number,
                contact_phone=spec.contact_phone,
                contact_title=spec.contact_title,
            )
        applicant = Applicant(**values)
        session.add(applicant)
        existing[spec.key] = applicant
    session.flush()
    return existing


# Fields a case carries from its application; outcomes (completion, termination) come from transitions.
_APPLICATION_FIELDS = (
    "summary",
    "remote_channel",
    "tracking_in",
    "visit_address",
    "visit_at",
    "delegation_scope",
    "result_delivery",
    "delivery_address",
)
# The transitions that take a new case to each planned status.
_DELEGATED_PATH = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.IN_PROGRESS: ["accept", "start"],
    Status.SUSPENDED: ["accept", "start", "suspend"],
    Status.COMPLETED: ["accept", "start", "record_result", "complete"],
    Status.TERMINATED: ["accept", "start", "record_termination", "terminate"],
    Status.REJECTED: ["reject"],
    Status.ARCHIVED: ["accept", "start", "record_result", "complete", "archive"],
}
_ASSISTED_PATH = {
    Status.REGISTERED: [],
    Status.IN_PROGRESS: ["start"],
    Status.COMPLETED: ["start", "record_result", "complete"],
    Status.ARCHIVED: ["start", "record_result", "complete", "archive"],
}


def _noon(day: dt.date) -> dt.datetime:
    """10:00 Beijing time on `day`, as the naive UTC the columns store."""
    return dt.datetime.combine(day, dt.time(2, 0))


def _actor_for(center: Center, users: dict[str, User]) -> User:
    """The demo login that would do the work: the station's operator, the town's admin, else the district."""
    by_center = {u.center_id: u for u in users.values() if u.role in (Role.VILLAGE_OPERATOR, Role.TOWN_ADMIN)}
    for candidate in (center, center.parent):
        if candidate is not None and candidate.id in by_center:
            return by_center[candidate.id]
    return users["qu_admin"]


def _return_method(spec: CaseSpec) -> tuple[ReturnMethod | None, str | None]:
    """How the planned originals went back, and the note on the slip."""
    originals = [m for m in spec.materials if m.form == MaterialForm.ORIGINAL and m.received]
    if spec.mode != Mode.DELEGATED:
        return None, None
    if is_unreachable(spec):
        return ReturnMethod.UNREACHABLE, "多次电话联系委托人未果，材料由本机构登记保管，委托人可凭有效证件领取"
    if not originals:
        return ReturnMethod.NONE_HELD, None
    if spec.fields.get("result_delivery") == ResultDelivery.POST:
        return ReturnMethod.POST, f"随办理结果一并寄回，运单号{spec.fields.get('tracking_out')}"
    return ReturnMethod.IN_PERSON, None


# A clerk suspending a case names when it should resume: two working weeks for a supplement.
SUSPENSION_WORKING_DAYS = 10


def _step_data(name: str, spec: CaseSpec, at: dt.datetime) -> dict[str, object]:
    fields = spec.fields
    method, note = _return_method(spec)
    if name == "accept":
        return {"application_confirmed": True, "undertaking_confirmed": True, "agreement_signed": True}
    if name == "reject":
        return {"reason": str(fields.get("rejection") or "不符合受理条件")}
    if name == "suspend":
        return {
            "reason": f"等待申请人补正{fields.get('missing') or '材料'}",
            "resume_expected_on": add_working_days(beijing_date(at), SUSPENSION_WORKING_DAYS),
        }
    if name == "record_result":
        return {
            "completion_result": fields.get("completion_result") or "已办结",
            "result_delivery": fields.get("result_delivery"),
            "tracking_out": fields.get("tracking_out"),
            "handover_note": fields.get("handover_note"),
            "materials_return_method": method.value if method else None,
            "materials_return_note": note,
        }
    if name == "complete":
        return {"completion_signed": spec.mode == Mode.DELEGATED, "materials_returned": True}
    if name == "record_termination":
        return {
            "termination_reason": fields["termination_reason"],
            "termination_text": fields["termination_text"],
            "materials_return_method": method.value if method else None,
            "materials_return_note": note,
        }
    if name == "terminate":
        unreachable = method == ReturnMethod.UNREACHABLE
        return {"termination_signed": not unreachable, "materials_returned": not unreachable}
    return {}


def _step_times(spec: CaseSpec, path: list[str], evaluated_at: dt.datetime | None) -> list[dt.datetime]:
    """When each step happened, in the plan's order and consistent with the planned progress log.

    Acceptance follows the signing of the papers; the result is recorded once the department's
    decision is in; the case is closed after the last entry of its story (the slip signed).
    """
    story = [entry for entry in spec.logs if not entry.content.startswith("案卷整理归档")]
    first = story[0].at if story else _noon(spec.received_date)
    last = story[-1].at if story else first
    papers = next((e.at for e in story if e.content.startswith("签订代办服务委托协议")), None)
    decided = next((e.at for e in story if "审批通过" in e.content), None)
    closed = spec.fields.get("closed_date")
    step = dt.timedelta(seconds=30)
    times: list[dt.datetime] = []
    previous = first
    for n, name in enumerate(path):
        if name == "accept":
            at = (papers or first) + step
        elif name == "start":
            at = previous + step
        elif name == "record_result":
            at = max((decided or last) + step, previous + step)
        elif name == "record_termination":
            at = max(last + step, previous + step)
        elif name in ("complete", "terminate"):
            at = max(last + 2 * step, previous + step)
        elif name == "reject" and closed:
            at = max(_noon(closed), first + dt.timedelta(minutes=30 + n))
        elif name == "archive":
            base = evaluated_at + dt.timedelta(days=1) if evaluated_at else _noon(closed) + dt.timedelta(days=8)
            at = min(base, _noon(REFERENCE_DATE))
        else:
            at = max(first + dt.timedelta(minutes=20 * (n + 1)), previous + step)
        times.append(at)
        previous = at
    return times


def seed_cases(
    session: Session,
    plan: Plan,
    centers: dict[str, Center],
    items: dict[str, ServiceItem],
    agents: dict[str, Agent],
    applicants: dict[str, Applicant],
    departments: dict[str, Department],
    users: dict[str, User],
) -> None:
    """Write each planned case as it would have been lived: registered, then driven by transitions."""
    existing = set(
        session.execute(select(Case.applicant_id, Case.origin_center_id, Case.received_date, Case.mode)).all()
    )
    open_at_village = 0
    for spec in sorted(plan.cases, key=lambda c: (c.received_date, c.fields["created_at"])):
        center = centers[spec.center]
        applicant = applicants[spec.applicant]
        if (applicant.id, center.id, spec.received_date, spec.mode) in existing:
            continue
        case_items = [items[c] for c in spec.items]
        if not all(item.is_stationed_at(center) for item in case_items):
            continue  # someone has since withdrawn the item from this center
        agent = agents.get(spec.agent) if spec.agent else None
        if agent is not None and (not agent.active or agent.center_id != center.id):
            agent = None
        case = Case(
            center=center,
            mode=spec.mode,
            applicant=applicant,
            agent=agent,
            received_date=spec.received_date,
            created_at=spec.fields["created_at"],
            **{k: v for k, v in spec.fields.items() if k in _APPLICATION_FIELDS},
        )
        case.items = case_items
        case.materials = [
            CaseMaterial(name=m.name, form=m.form, copies=m.copies, received=m.received, custody=m.custody)
            for m in spec.materials
        ]
        author = agent.name if agent else "窗口工作人员"
        case.logs = [
            CaseLog(
                at=log.at,
                agent=agent,
                department=departments[log.department] if log.department else None,
                content=log.content,
                author=author,
            )
            for log in spec.logs
        ]
        case.fees = [
            CaseFee(item=items[code], amount=items[code].fee_amount, legal_basis=items[code].fee_basis)
            for code in spec.fees
        ]
        session.add(case)
        session.commit()
        existing.add((applicant.id, center.id, spec.received_date, spec.mode))
        _live(session, case, spec, users)
        actor = _actor_for(center, users)
        if (
            case.status in (Status.SUBMITTED, Status.REGISTERED)
            and center.tier == Tier.VILLAGE
            and actor.role != Role.DISTRICT_ADMIN
        ):
            open_at_village += 1
            if open_at_village % 2 or open_at_village > 2 * HAND_OFFS:
                continue
            transition(
                session,
                case,
                "hand_off",
                actor,
                {"reason": "本站无法办结，按首问负责转镇(街道)便民服务中心兜底办理"},
                at=max(log.at for log in case.logs) + dt.timedelta(hours=1),
            )


def _live(session: Session, case: Case, spec: CaseSpec, users: dict[str, User]) -> None:
    """Drive the case along its planned path; stop quietly where a guard says the path cannot go on."""
    paths = _DELEGATED_PATH if spec.mode == Mode.DELEGATED else _ASSISTED_PATH
    path = paths[Status(spec.status)]
    # An applicant nobody can reach fills in no evaluation form.
    evaluation = None if is_unreachable(spec) else spec.evaluation
    evaluated_at = evaluation.created_at if evaluation is not None else None
    actor = _actor_for(case.center, users)
    for name, at in zip(path, _step_times(spec, path, evaluated_at), strict=True):
        if name == "archive" and evaluation is not None:
            _evaluate(session, case, evaluation, users)
        try:
            transition(session, case, name, actor, _step_data(name, spec, at), at=at)
        except TransitionError:
            return
    if evaluation is not None and case.evaluation is None and case.status in (Status.COMPLETED, Status.TERMINATED):
        _evaluate(session, case, evaluation, users)


def _evaluate(session: Session, case: Case, spec: EvaluationSpec, users: dict[str, User]) -> None:
    """Record the planned evaluation; a bad one opens its follow-up, which is then worked as planned."""
    values = {
        "asked_for_anything": spec.asked_for_anything,
        "comment": spec.comment,
        "consent_callback": spec.consent_callback,
        "evaluator_name": spec.evaluator_name,
        "evaluator_phone": spec.evaluator_phone,
        **spec.ratings,
    }
    if case.evaluation_link is not None and spec.channel == EvaluationChannel.LINK:
        case.evaluation_link.used_at = spec.created_at
    clerk = _paper_clerk(session, case, users) if spec.channel == EvaluationChannel.PAPER else None
    evaluation = record_evaluation(
        session,
        case,
        values,
        spec.channel,
        DEFAULT_FOLLOWUP_WORKING_DAYS,
        at=spec.created_at,
        entered_by=clerk,
        paper_ref=_paper_ref(case) if clerk is not None else None,
    )
    plan = spec.followup
    if evaluation.followup is None or plan is None:
        return
    actor = evaluation.followup.assignee or users["qu_admin"]
    start = plan.callback_at or spec.created_at + dt.timedelta(days=1)
    if plan.appeal_outcome != AppealOutcome.NONE:
        advance_followup(
            session,
            evaluation.followup,
            "appeal",
            actor,
            {"appeal_outcome": plan.appeal_outcome, "appeal_reason": plan.appeal_reason},
            at=start,
        )
        return
    steps = [
        ("call_back", {"callback_record": plan.callback_record}),
        ("rectify", {"rectification": plan.rectification}),
        ("give_feedback", {"feedback": plan.feedback}),
        ("close", {}),
    ][: FOLLOWUP_ORDER.index(plan.status)]
    for offset, (name, data) in enumerate(steps):
        at = _noon(plan.closed_date) if name == "close" and plan.closed_date else start + dt.timedelta(days=offset)
        advance_followup(session, evaluation.followup, name, actor, data, at=at)


def _paper_clerk(session: Session, case: Case, users: dict[str, User]) -> User:
    """Who types in a paper 评价表: the town admin above a village station, else the district admin."""
    clerk = responsible_admin(session, case)
    if clerk is None or paper_entry_refusal(clerk, case):
        clerk = users["qu_admin"]
    return clerk


def _paper_ref(case: Case) -> str:
    return f"PJ-{case.number}"


# --- paper beside link; complaints ----------------------------------------------------------------
def seed_paper_then_link(session: Session) -> None:
    """One case where staff typed in the paper 评价表 and the applicant then rated through the link:
    the applicant's own rating counts, the paper one is kept uncounted."""
    both = (
        select(Evaluation.case_id)
        .where(Evaluation.channel == EvaluationChannel.LINK.value)
        .where(Evaluation.case_id.in_(select(Evaluation.case_id).where(Evaluation.channel == "paper")))
    )
    if session.scalar(both.limit(1)) is not None:
        return
    candidates = session.scalars(
        select(Evaluation)
        .join(Evaluation.case)
        .where(
            Evaluation.channel == EvaluationChannel.PAPER.value,
            Evaluation.overall == Rating.SATISFIED.value,
            Case.status == Status.COMPLETED.value,
            Case.evaluation_link.has(EvaluationLink.used_at.is_(None)),
        )
        .order_by(Case.id)
    )
    for paper in candidates:
        at = paper.created_at + dt.timedelta(days=1, hours=3)
        link = paper.case.evaluation_link
        if link.expires_at <= at:
            continue
        link.used_at = at
        values = {key: 5 for key in RATING_FIELDS}
        values.update(comment="代办员全程跟进，扫码再评一次", consent_callback=True, evaluator_name="申请人本人")
        record_evaluation(
            session, paper.case, values, EvaluationChannel.LINK.value, DEFAULT_FOLLOWUP_WORKING_DAYS, at=at
        )
        return


def seed_complaints(session: Session, users: dict[str, User]) -> None:
    """A few complaints from 12345, 好差评 and the window, their follow-ups worked to various steps."""
    seeded = {c.content for c in session.scalars(select(Complaint))}
    for spec in COMPLAINTS:
        if spec.content in seeded:
            continue
        case = session.scalar(
            select(Case)
            .join(Case.center)
            .where(
                Center.name == spec.center,
                Case.status.in_([s.value for s in spec.statuses]),
                ~Case.complaints.any(),
            )
            .order_by(Case.id)
            .limit(1)
        )
        if case is None:
            continue
        clerk = responsible_admin(session, case) or users["qu_admin"]
        received = _noon(REFERENCE_DATE - dt.timedelta(days=spec.days_ago))
        values = {
            "channel": spec.channel.value,
            "reference": spec.reference,
            "complainant_name": spec.name,
            "complainant_phone": spec.phone,
            "content": spec.content,
            "received_at": received,
        }
        complaint = record_complaint(session, case, values, clerk, DEFAULT_FOLLOWUP_WORKING_DAYS, at=received)
        followup = complaint.followup
        actor = followup.assignee or users["qu_admin"]
        steps = [
            ("call_back", "callback_record"),
            ("rectify", "rectification"),
            ("give_feedback", "feedback"),
            ("close", None),
        ][: FOLLOWUP_ORDER.index(spec.reach.value)]
        records = iter(spec.records)
        for offset, (name, key) in enumerate(steps, start=1):
            data = {key: next(records)} if key else {}
            advance_followup(session, followup, name, actor, data, at=received + dt.timedelta(days=offset))
