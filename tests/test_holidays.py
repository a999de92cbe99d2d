"""Years the holiday library does not cover: the bureau's table, assumed promised dates shown as
such on the page, the register and the printed forms, and their recount once the year is confirmed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Agent, AuditLog, Case, CaseLog, CaseMaterial, Center, HolidayDay, HolidayYear
from seed.holidays import seed_holidays
from tests import pdftext
from tests.builders import login_as, make_applicant, make_item, valid_id_number

XIASHAN = "峡山街道便民服务中心"
NOTE = "按周一至周五推算，待节假日安排公布后复核"

# 2027 as the regulation fixes it (domain.md section 7), the lunar dates looked up by hand:
# 春节 = 除夕 02-05 and 正月初一至初三 02-06..02-08; 清明 04-05; 端午 06-09; 中秋 09-15.
STATUTORY_2027 = {
    dt.date(2027, 1, 1): "元旦",
    dt.date(2027, 2, 5): "春节",
    dt.date(2027, 2, 6): "春节",
    dt.date(2027, 2, 7): "春节",
    dt.date(2027, 2, 8): "春节",
    dt.date(2027, 4, 5): "清明节",
    dt.date(2027, 5, 1): "劳动节",
    dt.date(2027, 5, 2): "劳动节",
    dt.date(2027, 6, 9): "端午节",
    dt.date(2027, 9, 15): "中秋节",
    dt.date(2027, 10, 1): "国庆节",
    dt.date(2027, 10, 2): "国庆节",
    dt.date(2027, 10, 3): "国庆节",
}


def _client(demo_app, username: str):
    client = demo_app.test_client()
    login_as(client, username)
    return client


def _xiashan() -> Center:
    return db.session.scalar(select(Center).where(Center.name == XIASHAN))


@pytest.fixture
def five_day_item(demo_app):
    item = make_item([_xiashan()], code="T-HOL-5", name="测试五日事项", time_limit_days=5)
    db.session.commit()
    return item


@pytest.fixture
def applicant(demo_app):
    person = make_applicant(_xiashan(), name="林晓华", id_number=valid_id_number(seq="917"))
    db.session.commit()
    return person


def _case_created_on_new_years_eve_eve(client, item, applicant) -> Case:
    response = client.post(
        "/admin/case/new/",
        data={
            "center": _xiashan().id,
            "mode": "on_site",
            "items": [item.id],
            "applicant": applicant.id,
            "received_date": "2026-12-30",
            "promised_date": "2030-01-01",  # not a form field any more: ignored
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.scalar(select(Case).where(Case.applicant_id == applicant.id))


def test_2027_is_seeded_with_its_statutory_days_unconfirmed_and_seeding_again_changes_nothing(demo_app):
    year = db.session.get(HolidayYear, 2027)
    assert year is not None and year.confirmed is False
    days = db.session.scalars(
        select(HolidayDay).where(HolidayDay.day.between(dt.date(2027, 1, 1), dt.date(2027, 12, 31)))
    )
    assert {d.day: d.name for d in days} == STATUTORY_2027
    assert seed_holidays(db.session) == []
    result = demo_app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and "节假日表：已是最新" in result.output
    assert db.session.scalar(select(func.count()).select_from(HolidayDay)) == len(STATUTORY_2027)


def test_the_promised_date_is_not_a_form_field_and_a_posted_one_is_ignored(
    demo_app, five_day_item, applicant, travel_to
):
    travel_to("2026-12-30 10:00")
    client = _client(demo_app, "xiashan_admin")
    form = client.get("/admin/case/new/").get_data(as_text=True)
    assert 'name="received_date"' in form and 'name="promised_date"' not in form
    case = _case_created_on_new_years_eve_eve(client, five_day_item, applicant)
    # Wed 12-30 + 5 working days: 12-31, (01-01 元旦 and the weekend off), 01-04, 01-05, 01-06, 01-07.
    assert case.promised_date == dt.date(2027, 1, 7) and case.promised_assumed is True
    edit = client.get(f"/admin/case/edit/?id={case.id}").get_data(as_text=True)
    assert 'name="promised_date"' not in edit


def test_an_assumed_date_is_said_so_on_the_case_page_and_in_the_register(demo_app, five_day_item, applicant, travel_to):
    travel_to("2026-12-30 10:00")
    client = _client(demo_app, "xiashan_admin")
    case = _case_created_on_new_years_eve_eve(client, five_day_item, applicant)
    page = client.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "2027-01-07" in page and NOTE in page
    listing = client.get("/admin/case/?flt0_promised_assumed_assumedfilter=1").get_data(as_text=True)
    assert case.number in listing and "(推算)" in listing and f'title="{NOTE}"' in listing
    assert case.number not in client.get("/admin/case/?flt0_promised_assumed_assumedfilter=0").get_data(as_text=True)


def _delegated_case(item, applicant, received: dt.date) -> Case:
    center = _xiashan()
    agent = db.session.scalar(select(Agent).where(Agent.center_id == center.id, Agent.active.is_(True)).limit(1))
    agent.items = [*agent.items, item]
    case = Case(
        center=center,
        mode="delegated",
        applicant=applicant,
        agent=agent,
        delegation_scope="whole",
        received_date=received,
    )
    case.items = [item]
    case.materials = [CaseMaterial(name="居民身份证", form="original", copies=1, received=True)]
    db.session.add(case)
    db.session.commit()
    assert case.promised_date is None  # a delegated case's clock starts at acceptance
    return case


def _accept(client, case: Case):
    return client.post(
        f"/admin/case/transition/accept/?id={case.id}",
        data={"application_confirmed": "y", "undertaking_confirmed": "y", "agreement_signed": "y"},
    )


def test_accepting_a_case_received_in_january_2027_starts_the_clock_on_the_receipt_date(
    demo_app, five_day_item, applicant, travel_to
):
    travel_to("2027-01-25 10:00")
    case = _delegated_case(five_day_item, applicant, dt.date(2027, 1, 25))
    client = _client(demo_app, "xiashan_admin")
    response = _accept(client, case)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    case = db.session.get(Case, case.id)
    # Mon 01-25 + 5: 01-26, 01-27, 01-28, 01-29, 02-01 (no 2027 holiday in between).
    assert case.status == "accepted" and case.promised_date == dt.date(2027, 2, 1) and case.promised_assumed


def test_the_printed_forms_carry_the_caveat_of_an_assumed_date(demo_app, five_day_item, applicant, travel_to):
    travel_to("2026-12-30 10:00")
    case = _delegated_case(five_day_item, applicant, dt.date(2026, 12, 30))
    client = _client(demo_app, "xiashan_admin")
    assert _accept(client, case).status_code == 302
    case = db.session.get(Case, case.id)
    assert case.promised_date == dt.date(2027, 1, 7) and case.promised_assumed
    for number in (1, 3):
        response = client.get(f"/admin/case/annex/{number}/?id={case.id}")
        assert response.status_code == 200
        text = pdftext.text(response.get_data())
        assert "2027年01月07日（" + NOTE + "）" in text, number


def test_a_rule_broken_inside_a_transition_is_a_refusal_not_a_server_error(demo_app):
    case = db.session.scalar(
        select(Case)
        .join(Case.center)
        .where(Center.name == XIASHAN, Case.status == "in_progress", Case.agent_id.is_not(None))
        .limit(1)
    )
    case.agent.active = False
    db.session.commit()
    client = _client(demo_app, "xiashan_admin")
    response = client.post(
        f"/admin/case/transition/suspend/?id={case.id}",
        data={"reason": "等待申请人补正材料", "resume_expected_on": "2099-01-05"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "“中止”未执行" in body and "已停用" in body
    assert db.session.get(Case, case.id).status == "in_progress"


def test_only_the_district_admin_edits_the_holiday_table(demo_app):
    town = _client(demo_app, "xiashan_admin")
    assert town.get("/admin/holiday_day/new/").status_code == 403
    assert (
        town.post("/admin/holiday_day/new/", data={"day": "2027-01-02", "is_workday": "y", "name": "调休"}).status_code
        == 403
    )
    assert town.post("/admin/holiday_year/edit/?id=2027", data={"confirmed": "y", "notice_ref": "x"}).status_code == 403
    assert db.session.get(HolidayDay, dt.date(2027, 1, 2)) is None
    assert db.session.get(HolidayYear, 2027).confirmed is False
    auditor = _client(demo_app, "qu_audit").get("/admin/holiday_day/?sort=0").get_data(as_text=True)
    assert "春节" in auditor and "/admin/holiday_day/new/" not in auditor

    district = _client(demo_app, "qu_admin")
    body = district.post(
        "/admin/holiday_day/new/", data={"day": "2027-01-04", "is_workday": "y", "name": "调休"}
    ).get_data(as_text=True)
    assert "调休上班日应为周六或周日" in body and db.session.get(HolidayDay, dt.date(2027, 1, 4)) is None
    response = district.post(
        "/admin/holiday_day/new/", data={"day": "2027-01-02", "is_workday": "y", "name": "元旦调休"}
    )
    assert response.status_code == 302
    assert db.session.get(HolidayDay, dt.date(2027, 1, 2)).is_workday is True
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.event == "create",
                AuditLog.object_type == "holiday_day",
                AuditLog.object_id == "2027-01-02",
                AuditLog.username == "qu_admin",
            )
        )
        == 1
    )


def test_confirming_2027_and_recomputing_moves_the_assumed_dates_and_clears_the_flag(
    demo_app, five_day_item, applicant, travel_to
):
    travel_to("2026-12-30 10:00")
    district = _client(demo_app, "qu_admin")
    case = _case_created_on_new_years_eve_eve(district, five_day_item, applicant)
    assert case.promised_date == dt.date(2027, 1, 7)
    extended = db.session.scalar(
        select(Case).where(Case.status == "in_progress", Case.id != case.id, Case.promised_date.is_not(None)).limit(1)
    )
    extended.promised_assumed = extended.extended = True
    db.session.commit()

    page = district.get("/admin/holiday_year/").get_data(as_text=True)
    assert "承诺办结日期为推算" in page and "重新计算推算的承诺办结日期" in page
    assert "重新计算" not in _client(demo_app, "xiashan_admin").get("/admin/holiday_year/").get_data(as_text=True)
    assert _client(demo_app, "xiashan_admin").post("/admin/holiday_year/recompute/").status_code == 403

    district.post("/admin/holiday_day/new/", data={"day": "2027-01-02", "is_workday": "y", "name": "元旦调休"})
    version = db.session.get(HolidayYear, 2027).version  # the edit form carries it (stale forms are refused)
    body = district.post(
        "/admin/holiday_year/edit/?id=2027", data={"confirmed": "y", "notice_ref": "", "version": version}
    ).get_data(as_text=True)
    assert "确认年度安排须填写国务院办公厅通知文号" in body
    assert db.session.get(HolidayYear, 2027).confirmed is False
    response = district.post(
        "/admin/holiday_year/edit/?id=2027",
        data={"confirmed": "y", "notice_ref": "国办发明电〔2026〕9号", "version": version},
    )
    assert response.status_code == 302 and db.session.get(HolidayYear, 2027).confirmed is True

    body = district.post("/admin/holiday_year/recompute/", follow_redirects=True).get_data(as_text=True)
    assert "复核完成" in body
    assert f"{case.number}：承诺办结日期由2027-01-07改为2027-01-06" in body
    assert f"{extended.number} 未重算：承诺日期由批准的延期确定" in body
    case = db.session.get(Case, case.id)
    # With Saturday 01-02 worked: 12-31, 01-02, 01-04, 01-05, 01-06.
    assert case.promised_date == dt.date(2027, 1, 6) and case.promised_assumed is False
    logs = db.session.scalars(select(CaseLog.content).where(CaseLog.case_id == case.id)).all()
    assert "承诺办结日期复核：按已确认的节假日安排，由2027-01-07改为2027-01-06" in logs
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.event == "promise_recompute", AuditLog.object_id == str(case.id))
        )
        == 1
    )
    assert db.session.get(Case, extended.id).promised_assumed is True
    assert NOTE not in district.get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
