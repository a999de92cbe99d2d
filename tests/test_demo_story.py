"""The demo data lived the plan's order (三(三)4): registered, papers signed at acceptance, result
recorded and its slip signed before closing, and every step told in the progress log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from extensions import db
from models import Case, CaseLog
from models.enums import Mode, Status
from tests.builders import login_as

PAPERS = "签订代办服务委托协议及承诺书"
# The four service modes as the plan names them (domain.md 1.9: 现场/远程/上门帮办, 委托代办).
MODE_NAMES = {"on_site": "现场帮办", "remote": "远程帮办", "door_to_door": "上门帮办", "delegated": "委托代办"}


@pytest.fixture
def cases(demo_app):
    return db.session.scalars(
        select(Case).options(selectinload(Case.logs), selectinload(Case.materials)).order_by(Case.id)
    ).all()


def _story(case: Case) -> list[CaseLog]:
    return sorted(case.logs, key=lambda entry: (entry.at, entry.id))


def _entry(case: Case, prefix: str) -> CaseLog | None:
    return next((entry for entry in _story(case) if entry.content.startswith(prefix)), None)


def test_no_start_entry_merely_repeats_its_label(cases):
    starts = [entry.content for case in cases for entry in case.logs if entry.content.startswith("开始办理")]
    assert starts, "the demo has cases that were started"
    assert "开始办理：开始办理" not in starts
    assert all(content.startswith("开始办理：") and "接手办理" in content for content in starts)


def test_every_case_opens_its_log_with_its_registration(cases):
    for case in cases:
        first = _story(case)[0]
        assert first.content.startswith(f"登记：{case.origin_center.name}登记{MODE_NAMES[case.mode]}"), (
            case.number,
            first.content,
        )


def test_delegated_cases_are_accepted_only_after_their_papers_are_signed(cases):
    accepted = [c for c in cases if c.mode == Mode.DELEGATED and _entry(c, "受理：")]
    assert len(accepted) > 20
    for case in accepted:
        papers, acceptance = _entry(case, PAPERS), _entry(case, "受理：")
        assert papers is not None and papers.at <= acceptance.at, case.number
        assert acceptance.content.startswith("受理：申请表、承诺书已确认，委托协议已签订；"), case.number
        assert case.application_confirmed and case.undertaking_confirmed and case.agreement_signed


def test_completed_delegated_cases_had_their_result_recorded_and_the_slip_signed_before_closing(cases):
    completed = [c for c in cases if c.mode == Mode.DELEGATED and c.status in (Status.COMPLETED, Status.ARCHIVED)]
    assert len(completed) > 20
    for case in completed:
        closing = _entry(case, "确认办结：")
        recorded = _entry(case, "登记办理结果：")
        assert closing is not None and recorded is not None, case.number
        assert case.result_recorded_at is not None and case.result_recorded_at <= closing.at, case.number
        assert recorded.at <= closing.at and case.completion_signed, case.number
        assert case.materials_return_method in ("in_person", "post", "none_held"), case.number


def test_assisted_cases_record_their_result_before_completing_and_sign_no_slip(cases):
    completed = [c for c in cases if c.mode != Mode.DELEGATED and c.status in (Status.COMPLETED, Status.ARCHIVED)]
    assert len(completed) > 20
    for case in completed:
        assert case.result_recorded_at is not None and case.result_recorded_at <= _entry(case, "确认办结：").at
        assert not case.completion_signed


def test_terminated_cases_were_recorded_then_signed_or_truthfully_unreachable(client, cases):
    terminated = [c for c in cases if c.status == Status.TERMINATED]
    unreachable = [c for c in terminated if c.materials_return_method == "unreachable"]
    assert terminated and unreachable and len(unreachable) < len(terminated)
    for case in terminated:
        assert case.termination_recorded_at is not None
        assert case.termination_recorded_at <= _entry(case, "确认终止：").at, case.number
        originals = [m for m in case.materials if m.form == "original" and m.received]
        if case in unreachable:
            assert not case.termination_signed and not any(m.returned for m in originals), case.number
            assert not case.evaluations, case.number  # nobody reached them to ask
        else:
            assert case.termination_signed and all(m.returned for m in originals), case.number
    case = unreachable[0]
    login_as(client, "qu_admin")
    page = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "委托人无法联系，未签收（原件由本机构保管）" in page and "无法联系，材料由本机构保管" in page


def test_home_visits_are_booked_in_office_hours_beijing_time_and_shown_so(client, cases):
    # An appointment is Beijing wall-clock time, as the clerk types it; office hours are 08:30-17:00.
    visits = [c for c in cases if c.mode == Mode.DOOR_TO_DOOR]
    assert visits
    for case in visits:
        assert "08:30" <= f"{case.visit_at:%H:%M}" <= "17:00", (case.number, case.visit_at)
    case = visits[0]
    login_as(client, "qu_admin")
    page = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert f'上门时间</dt><dd class="col-8">{case.visit_at:%Y-%m-%d %H:%M}</dd>' in page


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }


def test_seeding_the_demo_again_adds_nothing_not_even_an_audit_row(demo_app):
    before = _row_counts()
    assert before["case"] == 340 and before["audit_log"] > 1000
    result = demo_app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "演示数据就绪：机构 51，部门 11，事项 33，代办员 40，申请人 180，案件 340，评价 202" in result.output
    db.session.expire_all()
    assert _row_counts() == before
