"""Every transition allowed and forbidden, by state, role, scope and guard; log and audit rows."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from extensions import db
from lifecycle.errors import ConflictError, TransitionError
from lifecycle.transitions import TRANSITIONS, available, transition
from models import Agent, AuditLog, Case, CaseLog, CaseMaterial
from models.enums import Mode, Role, Status, Tier
from tests.builders import make_applicant, make_center, make_district, make_item, make_user

# Beijing 2026-09-28 10:00, a Monday before the National Day holiday.
T0 = dt.datetime(2026, 9, 28, 2, 0)

# The path from a new case to each state, per mode family.
PATHS = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.IN_PROGRESS: ["accept", "start"],
    Status.SUSPENDED: ["accept", "start", "suspend"],
    Status.COMPLETED: ["accept", "start", "complete"],
    Status.TERMINATED: ["accept", "terminate"],
    Status.REJECTED: ["reject"],
    Status.ARCHIVED: ["reject", "archive"],
}
ASSISTED_PATHS = {
    Status.REGISTERED: [],
    Status.IN_PROGRESS: ["start"],
    Status.COMPLETED: ["start", "complete"],
}
DATA = {
    "accept": {"application_confirmed": True, "undertaking_confirmed": True, "agreement_signed": True},
    "reject": {"reason": "不属于本级进驻事项"},
    "suspend": {"reason": "等待申请人补正材料"},
    "complete": {"completion_result": "准予许可，已发证", "completion_signed": True, "materials_returned": True},
    "terminate": {
        "termination_reason": "withdrawn",
        "termination_text": "申请人书面申请终止",
        "materials_returned": True,
    },
    "hand_off": {"reason": "本站无法办理，转镇中心兜底"},
}


@pytest.fixture
def world(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "峡山街道便民服务中心")
    village = make_center(town, Tier.VILLAGE, "东山社区便民服务站")
    other_town = make_center(district, Tier.TOWN, "陈店镇便民服务中心")
    other_village = make_center(other_town, Tier.VILLAGE, "文光社区便民服务站")
    item = make_item(
        [district, town, village, other_town, other_village], code="C-1", name="社会保障卡申领", time_limit_days=5
    )
    agent = Agent(name="吴少雄", staff_no="CN0027", center=village, phone="13800138001", items=[item])
    db.session.add(agent)
    users = {
        Role.DISTRICT_ADMIN: make_user("qu_admin", Role.DISTRICT_ADMIN, district),
        Role.AUDITOR: make_user("qu_audit", Role.AUDITOR, district),
        Role.TOWN_ADMIN: make_user("xiashan_admin", Role.TOWN_ADMIN, town),
        Role.VILLAGE_OPERATOR: make_user("xiashan_dongshan", Role.VILLAGE_OPERATOR, village),
        "other_town": make_user("chendian_admin", Role.TOWN_ADMIN, other_town),
        "other_village": make_user("chendian_wenguang", Role.VILLAGE_OPERATOR, other_village),
    }
    db.session.commit()
    return {"village": village, "town": town, "district": district, "item": item, "agent": agent, "users": users}


def new_case(world, mode: Mode = Mode.DELEGATED) -> Case:
    applicant = make_applicant(world["village"])
    extra = {"delegation_scope": "whole"} if mode == Mode.DELEGATED else {}
    if mode == Mode.REMOTE:
        extra["remote_channel"] = "phone"
    if mode == Mode.DOOR_TO_DOOR:
        extra.update(visit_address="东山路12号", visit_at=dt.datetime(2026, 9, 28, 9, 0))
    case = Case(
        center=world["village"],
        mode=mode.value,
        applicant=applicant,
        agent=world["agent"],
        received_date=dt.date(2026, 9, 28),
        **extra,
    )
    case.items = [world["item"]]
    case.materials = [CaseMaterial(name="居民身份证", form="original", copies=1, received=True)]
    db.session.add(case)
    db.session.commit()
    return case


def case_in(world, status: Status, mode: Mode = Mode.DELEGATED) -> Case:
    case = new_case(world, mode)
    path = (PATHS if mode == Mode.DELEGATED else ASSISTED_PATHS)[status]
    for step in path:
        when = T0 + dt.timedelta(days=10) if step == "archive" else T0
        transition(db.session, case, step, world["users"][Role.DISTRICT_ADMIN], DATA.get(step), at=when)
    assert case.status == status
    return case


ALLOWED = [
    # (transition, from status, mode)
    ("accept", Status.SUBMITTED, Mode.DELEGATED),
    ("reject", Status.SUBMITTED, Mode.DELEGATED),
    ("start", Status.ACCEPTED, Mode.DELEGATED),
    ("start", Status.REGISTERED, Mode.ON_SITE),
    ("suspend", Status.IN_PROGRESS, Mode.DELEGATED),
    ("resume", Status.SUSPENDED, Mode.DELEGATED),
    ("complete", Status.IN_PROGRESS, Mode.DELEGATED),
    ("complete", Status.IN_PROGRESS, Mode.ON_SITE),
    ("complete", Status.IN_PROGRESS, Mode.DOOR_TO_DOOR),
    ("terminate", Status.ACCEPTED, Mode.DELEGATED),
    ("terminate", Status.IN_PROGRESS, Mode.DELEGATED),
    ("terminate", Status.SUSPENDED, Mode.DELEGATED),
    ("archive", Status.REJECTED, Mode.DELEGATED),
    ("hand_off", Status.SUBMITTED, Mode.DELEGATED),
    ("hand_off", Status.IN_PROGRESS, Mode.ON_SITE),
]


@pytest.mark.parametrize(("name", "source", "mode"), ALLOWED, ids=[f"{n}-{s.value}-{m.value}" for n, s, m in ALLOWED])
def test_an_allowed_transition_changes_state_logs_and_audits(world, name, source, mode):
    case = case_in(world, source, mode)
    actor = world["users"][Role.VILLAGE_OPERATOR]
    logs_before = len(case.logs)
    transition(db.session, case, name, actor, DATA.get(name), at=T0 + dt.timedelta(days=10))
    db.session.expire_all()
    spec = TRANSITIONS[name]
    assert case.status == (spec.target or source).value
    assert len(case.logs) == logs_before + 1 and case.logs[-1].content.startswith(spec.label)
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.event == "transition", AuditLog.object_id == str(case.id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    assert row.username == "xiashan_dongshan" and f'"transition": "{name}"' in row.changes


FORBIDDEN_BY_STATE = [
    (name, source, mode)
    for name, spec in TRANSITIONS.items()
    for mode, paths in ((Mode.DELEGATED, PATHS), (Mode.ON_SITE, ASSISTED_PATHS))
    for source in paths
    if not (source in spec.sources and mode in spec.modes) and not (name == "hand_off" and source in spec.sources)
]


@pytest.mark.parametrize(
    ("name", "source", "mode"), FORBIDDEN_BY_STATE, ids=[f"{n}-{s.value}-{m.value}" for n, s, m in FORBIDDEN_BY_STATE]
)
def test_a_transition_from_the_wrong_state_or_mode_changes_nothing(world, name, source, mode):
    case = case_in(world, source, mode)
    version, logs, audits = case.version, len(case.logs), _audit_count()
    with pytest.raises(TransitionError):
        transition(db.session, case, name, world["users"][Role.DISTRICT_ADMIN], DATA.get(name), at=T0)
    db.session.expire_all()
    assert (case.status, case.version, len(case.logs), _audit_count()) == (source.value, version, logs, audits)


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.event == "transition"))


@pytest.mark.parametrize(
    ("actor", "message"),
    [(Role.AUDITOR, "审计员不能执行"), ("other_town", "不在您的办理范围内"), ("other_village", "不在您的办理范围内")],
)
def test_roles_and_scope_are_checked(world, actor, message):
    case = case_in(world, Status.SUBMITTED)
    with pytest.raises(TransitionError, match=message):
        transition(db.session, case, "accept", world["users"][actor], DATA["accept"])
    assert case.status == Status.SUBMITTED


def test_the_district_center_cannot_hand_off_further(world):
    case = case_in(world, Status.SUBMITTED)
    with pytest.raises(TransitionError, match="转办上级"):
        transition(db.session, case, "hand_off", world["users"][Role.DISTRICT_ADMIN], DATA["hand_off"])


GUARDS = [
    ("accept", Status.SUBMITTED, {}, "受理前须确认"),
    ("accept", Status.SUBMITTED, {**DATA["accept"], "clear_agent": True}, "请先指派代办员"),
    ("accept", Status.SUBMITTED, {**DATA["accept"], "clear_materials": True}, "请先登记申请材料清单"),
    ("reject", Status.SUBMITTED, {"reason": " "}, "请填写原因"),
    ("suspend", Status.IN_PROGRESS, {}, "请填写原因"),
    ("complete", Status.IN_PROGRESS, {"completion_signed": True, "materials_returned": True}, "请填写办理结果"),
    ("complete", Status.IN_PROGRESS, {"completion_result": "准予", "materials_returned": True}, "签字确认"),
    ("complete", Status.IN_PROGRESS, {"completion_result": "准予", "completion_signed": True}, "原件尚未退还"),
    ("terminate", Status.IN_PROGRESS, {"termination_reason": "bogus", "termination_text": "x"}, "终止原因"),
    ("terminate", Status.IN_PROGRESS, {"termination_reason": "withdrawn"}, "终止说明"),
    ("terminate", Status.IN_PROGRESS, {"termination_reason": "withdrawn", "termination_text": "x"}, "原件尚未退还"),
]


@pytest.mark.parametrize(("name", "source", "data", "message"), GUARDS, ids=[f"{g[0]}-{g[3]}" for g in GUARDS])
def test_a_guard_refuses_with_a_chinese_reason_and_changes_nothing(world, name, source, data, message):
    case = case_in(world, source)
    data = dict(data)  # the parameter is shared by both backends' runs; do not consume it
    if data.pop("clear_agent", False):
        case.agent = None
        db.session.commit()
    if data.pop("clear_materials", False):
        case.materials = []
        db.session.commit()
    version = case.version
    with pytest.raises(TransitionError, match=message):
        transition(db.session, case, name, world["users"][Role.VILLAGE_OPERATOR], data, at=T0)
    db.session.expire_all()
    assert case.status == source.value and case.version == version


def test_archiving_waits_for_an_evaluation_or_seven_days(world):
    case = case_in(world, Status.COMPLETED)
    with pytest.raises(TransitionError, match="尚未评价"):
        transition(db.session, case, "archive", world["users"][Role.VILLAGE_OPERATOR], at=T0 + dt.timedelta(days=2))
    transition(db.session, case, "archive", world["users"][Role.VILLAGE_OPERATOR], at=T0 + dt.timedelta(days=8))
    assert case.status == Status.ARCHIVED


def test_completion_returns_originals_and_issues_an_evaluation_link(world):
    case = case_in(world, Status.COMPLETED)
    assert all(m.returned for m in case.materials)
    assert case.closed_date == dt.date(2026, 9, 28)
    assert case.evaluation_link is not None and case.evaluation_link.used_at is None


def test_acceptance_starts_the_clock_in_working_days(world):
    case = case_in(world, Status.ACCEPTED)
    # 5 working days from 2026-09-28: 09-29, 09-30, 10-08, 10-09 and Saturday 10-10 (adjusted workday).
    assert case.promised_date == dt.date(2026, 10, 10)


def test_suspension_stops_the_clock_and_resumption_restarts_it(world):
    case = case_in(world, Status.SUSPENDED)  # suspended on 2026-09-28, promised 10-10
    operator = world["users"][Role.VILLAGE_OPERATOR]
    # Resumed on 2026-10-09 (Beijing): 09-29, 09-30, 10-08, 10-09 were working days lost.
    transition(db.session, case, "resume", operator, at=dt.datetime(2026, 10, 9, 2, 0))
    assert case.status == Status.IN_PROGRESS and case.suspended_on is None
    assert case.promised_date == dt.date(2026, 10, 15)


def test_buttons_offered_follow_state_role_and_scope(world):
    case = case_in(world, Status.IN_PROGRESS)
    names = {t.name for t in available(case, world["users"][Role.VILLAGE_OPERATOR])}
    assert names == {"suspend", "complete", "terminate", "hand_off"}
    assert available(case, world["users"][Role.AUDITOR]) == []
    assert available(case, world["users"]["other_town"]) == []
    district = {t.name for t in available(case, world["users"][Role.DISTRICT_ADMIN])}
    assert district == {"suspend", "complete", "terminate"}


def test_a_hand_off_passes_the_case_up_and_keeps_the_first_center_reading(world):
    case = case_in(world, Status.SUBMITTED)
    village_user = world["users"][Role.VILLAGE_OPERATOR]
    transition(db.session, case, "hand_off", village_user, DATA["hand_off"], at=T0)
    assert case.center == world["town"] and case.origin_center == world["village"] and case.agent is None
    assert case.handoffs[0].from_center == world["village"] and case.handoffs[0].to_center == world["town"]
    assert "由东山社区便民服务站转办至峡山街道便民服务中心" in case.logs[-1].content
    # The village can no longer act on it; the town can.
    with pytest.raises(TransitionError, match="不在您的办理范围内"):
        transition(db.session, case, "reject", village_user, DATA["reject"])
    town_agent = Agent(
        name="庄浩然", staff_no="CN0006", center=world["town"], phone="13800138002", items=[world["item"]]
    )
    db.session.add(town_agent)
    db.session.commit()
    transition(db.session, case, "accept", world["users"][Role.TOWN_ADMIN], {**DATA["accept"], "agent": town_agent})
    assert case.status == Status.ACCEPTED and case.agent == town_agent


def test_eight_clerks_racing_on_one_case_leave_exactly_one_winner(world):
    from flask import current_app

    app = current_app._get_current_object()
    case_id = case_in(world, Status.IN_PROGRESS).id
    user_ids = [world["users"][Role.DISTRICT_ADMIN].id]
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def clerk() -> None:
        with app.app_context():
            from models import User

            case = db.session.get(Case, case_id)
            actor = db.session.get(User, user_ids[0])
            _ = (case.status, case.items, case.logs, case.materials, case.center.parent, case.agent, case.version)
            barrier.wait()
            try:
                transition(db.session, case, "suspend", actor, {"reason": "等待补正"})
                outcome = "ok"
            except ConflictError as exc:
                outcome = str(exc)
            except TransitionError as exc:
                outcome = "refused:" + str(exc)
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=clerk) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results.count("ok") == 1, results
    assert results.count("该记录已被他人修改，请刷新后重试") == 7, results
    db.session.expire_all()
    assert db.session.get(Case, case_id).status == Status.SUSPENDED
    suspends = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.event == "transition", AuditLog.object_id == str(case_id), AuditLog.changes.contains('"suspend"')
        )
    )
    assert suspends == 1
    logs = db.session.scalar(
        select(func.count()).select_from(CaseLog).where(CaseLog.case_id == case_id, CaseLog.content.startswith("中止"))
    )
    assert logs == 1
