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

# The path from a new case to each state, per mode family (plan 三(三)4: the result or the
# termination is recorded, its slip signed, then the case is closed).
PATHS = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.IN_PROGRESS: ["accept", "start"],
    Status.SUSPENDED: ["accept", "start", "suspend"],
    Status.COMPLETED: ["accept", "start", "record_result", "complete"],
    Status.TERMINATED: ["accept", "record_termination", "terminate"],
    Status.REJECTED: ["reject"],
    Status.ARCHIVED: ["reject", "archive"],
}
ASSISTED_PATHS = {
    Status.REGISTERED: [],
    Status.IN_PROGRESS: ["start"],
    Status.COMPLETED: ["start", "record_result", "complete"],
    Status.ARCHIVED: ["start", "record_result", "complete", "archive"],
}
DATA = {
    "accept": {"application_confirmed": True, "undertaking_confirmed": True, "agreement_signed": True},
    "reject": {"reason": "不属于本级进驻事项"},
    "suspend": {"reason": "等待申请人补正材料", "resume_expected_on": dt.date(2099, 1, 1)},
    "record_result": {
        "completion_result": "准予许可，已发证",
        "result_delivery": "window",
        "materials_return_method": "in_person",
    },
    "complete": {"completion_signed": True, "materials_returned": True},
    "record_termination": {
        "termination_reason": "withdrawn",
        "termination_text": "申请人书面申请终止",
        "materials_return_method": "in_person",
    },
    "terminate": {"termination_signed": True, "materials_returned": True},
    "hand_off": {"reason": "本站无法办理，转镇中心兜底"},
}
# The record a closing step stands on, made first where the state allows it.
RECORD_FIRST = {"complete": "record_result", "terminate": "record_termination"}


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
        created_at=T0 - dt.timedelta(hours=1),  # registered before the steps the tests date at T0
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


# Written by hand from plan 三(三)4 and domain.md 1.9, never computed from TRANSITIONS: every
# transition against every state a case of that mode can be in (a delegated case is never
# "已登记"; an assisted one is never "待受理", "已受理", "已中止", "已终止" or "不予受理").
# (transition, from status, mode)
ALLOWED = [
    ("accept", Status.SUBMITTED, Mode.DELEGATED),
    ("reject", Status.SUBMITTED, Mode.DELEGATED),
    ("start", Status.ACCEPTED, Mode.DELEGATED),
    ("start", Status.REGISTERED, Mode.ON_SITE),
    ("suspend", Status.IN_PROGRESS, Mode.DELEGATED),
    ("resume", Status.SUSPENDED, Mode.DELEGATED),
    ("record_result", Status.IN_PROGRESS, Mode.DELEGATED),
    ("record_result", Status.IN_PROGRESS, Mode.ON_SITE),
    ("complete", Status.IN_PROGRESS, Mode.DELEGATED),
    ("complete", Status.IN_PROGRESS, Mode.ON_SITE),
    ("record_termination", Status.ACCEPTED, Mode.DELEGATED),
    ("record_termination", Status.IN_PROGRESS, Mode.DELEGATED),
    ("record_termination", Status.SUSPENDED, Mode.DELEGATED),
    ("terminate", Status.ACCEPTED, Mode.DELEGATED),
    ("terminate", Status.IN_PROGRESS, Mode.DELEGATED),
    ("terminate", Status.SUSPENDED, Mode.DELEGATED),
    ("archive", Status.COMPLETED, Mode.DELEGATED),
    ("archive", Status.TERMINATED, Mode.DELEGATED),
    ("archive", Status.REJECTED, Mode.DELEGATED),
    ("archive", Status.COMPLETED, Mode.ON_SITE),
    ("hand_off", Status.SUBMITTED, Mode.DELEGATED),
    ("hand_off", Status.ACCEPTED, Mode.DELEGATED),
    ("hand_off", Status.IN_PROGRESS, Mode.DELEGATED),
    ("hand_off", Status.SUSPENDED, Mode.DELEGATED),
    ("hand_off", Status.REGISTERED, Mode.ON_SITE),
    ("hand_off", Status.IN_PROGRESS, Mode.ON_SITE),
    # The other two assisted modes record their result and complete the same way.
    ("record_result", Status.IN_PROGRESS, Mode.REMOTE),
    ("complete", Status.IN_PROGRESS, Mode.REMOTE),
    ("record_result", Status.IN_PROGRESS, Mode.DOOR_TO_DOOR),
    ("complete", Status.IN_PROGRESS, Mode.DOOR_TO_DOOR),
]
D, S = Mode.DELEGATED, Mode.ON_SITE
FORBIDDEN = [
    # accept: only a submitted delegated case
    ("accept", Status.ACCEPTED, D), ("accept", Status.IN_PROGRESS, D), ("accept", Status.SUSPENDED, D),
    ("accept", Status.COMPLETED, D), ("accept", Status.TERMINATED, D), ("accept", Status.REJECTED, D),
    ("accept", Status.ARCHIVED, D),
    ("accept", Status.REGISTERED, S), ("accept", Status.IN_PROGRESS, S), ("accept", Status.COMPLETED, S),
    ("accept", Status.ARCHIVED, S),
    # reject: only a submitted delegated case
    ("reject", Status.ACCEPTED, D), ("reject", Status.IN_PROGRESS, D), ("reject", Status.SUSPENDED, D),
    ("reject", Status.COMPLETED, D), ("reject", Status.TERMINATED, D), ("reject", Status.REJECTED, D),
    ("reject", Status.ARCHIVED, D),
    ("reject", Status.REGISTERED, S), ("reject", Status.IN_PROGRESS, S), ("reject", Status.COMPLETED, S),
    ("reject", Status.ARCHIVED, S),
    # start: after acceptance (delegated) or registration (assisted), never again
    ("start", Status.SUBMITTED, D), ("start", Status.IN_PROGRESS, D), ("start", Status.SUSPENDED, D),
    ("start", Status.COMPLETED, D), ("start", Status.TERMINATED, D), ("start", Status.REJECTED, D),
    ("start", Status.ARCHIVED, D),
    ("start", Status.IN_PROGRESS, S), ("start", Status.COMPLETED, S), ("start", Status.ARCHIVED, S),
    # suspend: a delegated case in progress only
    ("suspend", Status.SUBMITTED, D), ("suspend", Status.ACCEPTED, D), ("suspend", Status.SUSPENDED, D),
    ("suspend", Status.COMPLETED, D), ("suspend", Status.TERMINATED, D), ("suspend", Status.REJECTED, D),
    ("suspend", Status.ARCHIVED, D),
    ("suspend", Status.REGISTERED, S), ("suspend", Status.IN_PROGRESS, S), ("suspend", Status.COMPLETED, S),
    ("suspend", Status.ARCHIVED, S),
    # resume: a suspended case only
    ("resume", Status.SUBMITTED, D), ("resume", Status.ACCEPTED, D), ("resume", Status.IN_PROGRESS, D),
    ("resume", Status.COMPLETED, D), ("resume", Status.TERMINATED, D), ("resume", Status.REJECTED, D),
    ("resume", Status.ARCHIVED, D),
    ("resume", Status.REGISTERED, S), ("resume", Status.IN_PROGRESS, S), ("resume", Status.COMPLETED, S),
    ("resume", Status.ARCHIVED, S),
    # record_result: while in progress (not before acceptance, not while suspended, not once closed)
    ("record_result", Status.SUBMITTED, D), ("record_result", Status.ACCEPTED, D),
    ("record_result", Status.SUSPENDED, D), ("record_result", Status.COMPLETED, D),
    ("record_result", Status.TERMINATED, D), ("record_result", Status.REJECTED, D),
    ("record_result", Status.ARCHIVED, D),
    ("record_result", Status.REGISTERED, S), ("record_result", Status.COMPLETED, S),
    ("record_result", Status.ARCHIVED, S),
    # complete: only from in progress; never straight from submitted or accepted
    ("complete", Status.SUBMITTED, D), ("complete", Status.ACCEPTED, D), ("complete", Status.SUSPENDED, D),
    ("complete", Status.COMPLETED, D), ("complete", Status.TERMINATED, D), ("complete", Status.REJECTED, D),
    ("complete", Status.ARCHIVED, D),
    ("complete", Status.REGISTERED, S), ("complete", Status.COMPLETED, S), ("complete", Status.ARCHIVED, S),
    # record_termination: a delegated case after acceptance and before closing; no assisted case
    ("record_termination", Status.SUBMITTED, D), ("record_termination", Status.COMPLETED, D),
    ("record_termination", Status.TERMINATED, D), ("record_termination", Status.REJECTED, D),
    ("record_termination", Status.ARCHIVED, D),
    ("record_termination", Status.REGISTERED, S), ("record_termination", Status.IN_PROGRESS, S),
    ("record_termination", Status.COMPLETED, S), ("record_termination", Status.ARCHIVED, S),
    # terminate: the same states; no assisted case (they sign no entrustment)
    ("terminate", Status.SUBMITTED, D), ("terminate", Status.COMPLETED, D), ("terminate", Status.TERMINATED, D),
    ("terminate", Status.REJECTED, D), ("terminate", Status.ARCHIVED, D),
    ("terminate", Status.REGISTERED, S), ("terminate", Status.IN_PROGRESS, S), ("terminate", Status.COMPLETED, S),
    ("terminate", Status.ARCHIVED, S),
    # archive: closed cases only, and never twice
    ("archive", Status.SUBMITTED, D), ("archive", Status.ACCEPTED, D), ("archive", Status.IN_PROGRESS, D),
    ("archive", Status.SUSPENDED, D), ("archive", Status.ARCHIVED, D),
    ("archive", Status.REGISTERED, S), ("archive", Status.IN_PROGRESS, S), ("archive", Status.ARCHIVED, S),
    # hand_off: open cases only
    ("hand_off", Status.COMPLETED, D), ("hand_off", Status.TERMINATED, D), ("hand_off", Status.REJECTED, D),
    ("hand_off", Status.ARCHIVED, D),
    ("hand_off", Status.COMPLETED, S), ("hand_off", Status.ARCHIVED, S),
]  # fmt: skip


def test_the_two_tables_cover_every_transition_in_every_reachable_state_once():
    reachable = [(s, D) for s in PATHS] + [(s, S) for s in ASSISTED_PATHS]
    grid = {(name, status, mode) for name in TRANSITIONS for status, mode in reachable}
    allowed = {row for row in ALLOWED if row[2] in (D, S)}
    assert len(FORBIDDEN) == len(set(FORBIDDEN)) and not allowed & set(FORBIDDEN)
    assert allowed | set(FORBIDDEN) == grid
    assert set(OUTCOME) == set(TRANSITIONS)


# What each allowed transition leaves behind, written by hand from domain.md 1.9 (受理 -> accepted,
# 办理 -> in_progress, 中止 -> suspended and back on 续办, 终止 -> terminated, 办结 -> completed,
# 归档 -> archived; 不予受理 closes the case as rejected): the status it moves the case to (None:
# the case keeps its status, the step only records something) and the start of the log entry the
# clerk reads.
OUTCOME = {
    "accept": (Status.ACCEPTED, "受理"),
    "reject": (Status.REJECTED, "不予受理"),
    "start": (Status.IN_PROGRESS, "开始办理"),
    "suspend": (Status.SUSPENDED, "中止"),
    "resume": (Status.IN_PROGRESS, "恢复办理"),
    "record_result": (None, "登记办理结果"),
    "complete": (Status.COMPLETED, "确认办结"),
    "record_termination": (None, "登记终止"),
    "terminate": (Status.TERMINATED, "确认终止"),
    "archive": (Status.ARCHIVED, "归档"),
    "hand_off": (None, "转办上级"),
}


def _ids(rows):
    return [f"{n}-{s.value}-{m.value}" for n, s, m in rows]


@pytest.mark.parametrize(("name", "source", "mode"), ALLOWED, ids=_ids(ALLOWED))
def test_an_allowed_transition_changes_state_logs_and_audits(world, name, source, mode):
    case = case_in(world, source, mode)
    actor = world["users"][Role.VILLAGE_OPERATOR]
    if name in RECORD_FIRST:
        transition(db.session, case, RECORD_FIRST[name], actor, DATA[RECORD_FIRST[name]], at=T0)
    logs_before = len(case.logs)
    transition(db.session, case, name, actor, DATA.get(name), at=T0 + dt.timedelta(days=10))
    db.session.expire_all()
    target, log_prefix = OUTCOME[name]
    assert case.status == (target or source).value
    assert len(case.logs) == logs_before + 1 and case.logs[-1].content.startswith(log_prefix)
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.event == "transition", AuditLog.object_id == str(case.id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    assert row.username == "xiashan_dongshan" and f'"transition": "{name}"' in row.changes


@pytest.mark.parametrize(("name", "source", "mode"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_a_transition_from_the_wrong_state_or_mode_changes_nothing(world, name, source, mode):
    case = case_in(world, source, mode)
    # Whatever a closing step stands on is in place, so only the state or the mode can refuse it.
    case.completion_result, case.result_delivery = "准予许可", "window"
    case.termination_reason, case.termination_text = "withdrawn", "申请人书面申请终止"
    case.materials_return_method = "in_person"
    case.result_recorded_at = case.termination_recorded_at = T0
    db.session.commit()
    version, logs, audits = case.version, len(case.logs), _audit_count()
    with pytest.raises(TransitionError):
        transition(db.session, case, name, world["users"][Role.VILLAGE_OPERATOR], DATA.get(name), at=T0)
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


RESULT = DATA["record_result"]
ENDING = DATA["record_termination"]
GUARDS = [
    ("accept", Status.SUBMITTED, {}, "受理前须确认"),
    ("accept", Status.SUBMITTED, {**DATA["accept"], "clear_agent": True}, "请先指派代办员"),
    ("accept", Status.SUBMITTED, {**DATA["accept"], "clear_materials": True}, "请先登记申请材料清单"),
    ("reject", Status.SUBMITTED, {"reason": " "}, "请填写原因"),
    ("suspend", Status.IN_PROGRESS, {}, "请填写原因"),
    ("suspend", Status.IN_PROGRESS, {"reason": "等待补正"}, "请填写预计恢复办理日期"),
    ("suspend", Status.IN_PROGRESS, {"reason": "等待补正", "resume_expected_on": dt.date(2020, 1, 6)}, "不能早于今天"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "completion_result": " "}, "请填写办理结果"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "result_delivery": ""}, "请选择结果交付方式"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "result_delivery": "post"}, "须填写结果寄递运单号"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "materials_return_method": ""}, "请选择原件退还方式"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "materials_return_method": "none_held"}, "不能登记为“未收取原件"),
    ("record_result", Status.IN_PROGRESS, {**RESULT, "materials_return_method": "unreachable"}, "请改为“登记终止”"),
    ("complete", Status.IN_PROGRESS, DATA["complete"], "尚未登记办理结果"),
    ("complete", Status.IN_PROGRESS, {"record": RESULT, "materials_returned": True}, "签字确认"),
    ("complete", Status.IN_PROGRESS, {"record": RESULT, "completion_signed": True}, "原件尚未退还"),
    ("record_termination", Status.IN_PROGRESS, {**ENDING, "termination_reason": "bogus"}, "终止原因"),
    ("record_termination", Status.IN_PROGRESS, {**ENDING, "termination_text": ""}, "终止说明"),
    ("record_termination", Status.IN_PROGRESS, {**ENDING, "materials_return_method": ""}, "请选择原件退还方式"),
    ("record_termination", Status.IN_PROGRESS, {**ENDING, "materials_return_method": "unreachable"}, "联系经过"),
    ("terminate", Status.IN_PROGRESS, DATA["terminate"], "尚未登记终止"),
    ("terminate", Status.IN_PROGRESS, {"record": ENDING, "materials_returned": True}, "须经委托人"),
    ("terminate", Status.IN_PROGRESS, {"record": ENDING, "termination_signed": True}, "原件尚未退还"),
    (
        "terminate",
        Status.IN_PROGRESS,
        {
            "record": {**ENDING, "materials_return_method": "unreachable", "materials_return_note": "电话未接通"},
            "termination_signed": True,
        },
        "不能同时确认委托人已签收",
    ),
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
    if "record" in data:
        operator = world["users"][Role.VILLAGE_OPERATOR]
        transition(db.session, case, RECORD_FIRST[name], operator, data.pop("record"), at=T0)
    version = case.version
    with pytest.raises(TransitionError, match=message):
        transition(db.session, case, name, world["users"][Role.VILLAGE_OPERATOR], data, at=T0)
    db.session.expire_all()
    assert case.status == source.value and case.version == version


def test_recording_the_result_keeps_the_case_in_progress_and_may_be_corrected(world):
    case = case_in(world, Status.IN_PROGRESS)
    operator = world["users"][Role.VILLAGE_OPERATOR]
    transition(db.session, case, "record_result", operator, RESULT, at=T0)
    assert case.status == Status.IN_PROGRESS and case.result_recorded_at == T0
    later = T0 + dt.timedelta(hours=1)
    corrected = {**RESULT, "completion_result": "准予许可，证件已制发", "result_delivery": "agent"}
    transition(db.session, case, "record_result", operator, corrected, at=later)
    assert (case.completion_result, case.result_delivery, case.result_recorded_at) == (
        "准予许可，证件已制发",
        "agent",
        later,
    )
    assert case.logs[-1].content == "登记办理结果：更正：准予许可，证件已制发；代办员送达；原件本人当面签收"
    # Confirming never re-asks nor overwrites the result: what was recorded is what closes.
    transition(db.session, case, "complete", operator, {**DATA["complete"], "completion_result": "别的结果"}, at=later)
    assert case.status == Status.COMPLETED and case.completion_result == "准予许可，证件已制发"
    assert case.completion_signed


def test_an_unreachable_applicant_ends_unsigned_with_the_originals_kept(world):
    case = case_in(world, Status.IN_PROGRESS)
    operator = world["users"][Role.VILLAGE_OPERATOR]
    record = {
        "termination_reason": "materials_not_supplied",
        "termination_text": "超过15个工作日未补齐材料",
        "materials_return_method": "unreachable",
        "materials_return_note": "三次电话未接通，原件存档案柜",
    }
    transition(db.session, case, "record_termination", operator, record, at=T0)
    transition(db.session, case, "terminate", operator, {}, at=T0)
    assert case.status == Status.TERMINATED and not case.termination_signed
    original = case.materials[0]
    assert not original.returned and original.custody == "无法联系委托人，由东山社区便民服务站保管"
    assert case.logs[-1].content == (
        "确认终止：未按期补齐材料或无法联系：超过15个工作日未补齐材料；"
        "委托人无法联系，终止委托单未经签收，原件由东山社区便民服务站保管"
    )


def test_nothing_held_means_nothing_to_return(world):
    case = case_in(world, Status.IN_PROGRESS)
    case.materials[0].received = False
    db.session.commit()
    operator = world["users"][Role.VILLAGE_OPERATOR]
    transition(db.session, case, "record_result", operator, {**RESULT, "materials_return_method": "none_held"}, at=T0)
    transition(db.session, case, "complete", operator, {"completion_signed": True}, at=T0)
    assert case.status == Status.COMPLETED and case.return_method_label == "未收取原件，无需退还"


def test_every_case_opens_its_log_with_its_registration(world):
    case = new_case(world)
    assert [entry.content for entry in case.logs] == [
        "登记：东山社区便民服务站登记委托代办（待受理），申请事项：社会保障卡申领"
    ]


def test_starting_says_who_took_the_case_up_and_which_department(world):
    case = case_in(world, Status.IN_PROGRESS)
    assert case.logs[-1].content == "开始办理：代办员吴少雄接手办理，联系区人力资源和社会保障局"


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
    assert names == {"suspend", "record_result", "record_termination", "hand_off"}
    assert available(case, world["users"][Role.AUDITOR]) == []
    assert available(case, world["users"]["other_town"]) == []
    district = {t.name for t in available(case, world["users"][Role.DISTRICT_ADMIN])}
    assert district == {"suspend", "record_result", "record_termination"}
    # 确认办结 appears once the result is on record (its slip can then be printed and signed).
    transition(db.session, case, "record_result", world["users"][Role.VILLAGE_OPERATOR], DATA["record_result"])
    names = {t.name for t in available(case, world["users"][Role.VILLAGE_OPERATOR])}
    assert names == {"suspend", "record_result", "complete", "record_termination", "hand_off"}


def test_a_hand_off_passes_the_case_up_and_keeps_the_first_center_reading(world):
    case = case_in(world, Status.SUBMITTED)
    village_user = world["users"][Role.VILLAGE_OPERATOR]
    transition(db.session, case, "hand_off", village_user, DATA["hand_off"], at=T0)
    assert case.center == world["town"] and case.origin_center == world["village"] and case.agent is None
    assert case.handoffs[0].from_center == world["village"] and case.handoffs[0].to_center == world["town"]
    assert case.handoffs[0].at == case.logs[-1].at == T0  # the step's time, not the clock's
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
                transition(db.session, case, "suspend", actor, DATA["suspend"])
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
