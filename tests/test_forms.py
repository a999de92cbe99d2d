"""Bad input through the console: a Chinese message next to the field, and nothing saved."""

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Applicant, Case, Center, ServiceItem
from models.enums import Role, Tier
from tests.builders import login_as, make_applicant, make_center, make_district, make_item, make_user


@pytest.fixture
def world(app):
    district = make_district()
    town = make_center(district, Tier.TOWN, "陈店镇便民服务中心")
    village = make_center(town, Tier.VILLAGE, "文光社区便民服务站")
    district_item = make_item([district], code="Q-1", name="企业设立登记")
    village_item = make_item([district, town, village], code="C-1", name="社会保障卡申领")
    applicant = make_applicant(village)
    make_user("qu_admin", Role.DISTRICT_ADMIN, district)
    db.session.commit()
    client = app.test_client()
    login_as(client, "qu_admin")
    return {
        "client": client,
        "district": district,
        "town": town,
        "village": village,
        "district_item": district_item,
        "village_item": village_item,
        "applicant": applicant,
    }


def _field_error(body: str, message: str) -> bool:
    """Flask-Admin renders field errors in an invalid-feedback block under the field."""
    return message in body and "invalid-feedback" in body


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def case_form(world, **overrides) -> dict:
    """The new-case form of an on-site case at the village station, as a clerk fills it in."""
    data = {
        "center": world["village"].id,
        "mode": "on_site",
        "items": [world["village_item"].id],
        "applicant": world["applicant"].id,
        "received_date": "2026-11-20",
    }
    data.update(overrides)
    return data


def test_bad_id_check_digit_is_reported_next_to_the_field(world):
    before = _count(Applicant)
    response = world["client"].post(
        "/admin/applicant/new/",
        data={
            "kind": "person",
            "center": world["village"].id,
            "name": "郑某某",
            "gender": "male",
            "id_type": "resident_id",
            "id_number": "440514198001011233",
            "phone": "13800138000",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _field_error(body, "身份证号码校验位不正确")
    assert "郑某某" in body  # the clerk's input is kept in the form
    assert _count(Applicant) == before


def test_bad_credit_code_is_reported(world):
    before = _count(Applicant)
    body = (
        world["client"]
        .post(
            "/admin/applicant/new/",
            data={
                "kind": "organization",
                "center": world["village"].id,
                "name": "潮南区某针织厂",
                "credit_code": "91440514MA4W00011B",
                "phone": "0754-87654321",
                "contact_name": "许经办",
            },
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, "统一社会信用代码校验位不正确")
    assert _count(Applicant) == before


def test_bad_phone_is_reported(world):
    body = (
        world["client"]
        .post(
            "/admin/applicant/new/",
            data={
                "kind": "person",
                "center": world["village"].id,
                "name": "郑某某",
                "gender": "male",
                "id_type": "resident_id",
                "id_number": "440514198001011232",
                "phone": "12345678901",
            },
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, "请输入11位手机号码")


def test_good_applicant_is_saved_with_normalised_values(world):
    response = world["client"].post(
        "/admin/applicant/new/",
        data={
            "kind": "person",
            "center": world["village"].id,
            "name": "郑好人",
            "gender": "female",
            "id_type": "resident_id",
            "id_number": "11010519491231002x",
            "phone": "+86 138 0013 8000",
        },
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(Applicant).where(Applicant.name == "郑好人"))
    assert saved.id_number == "11010519491231002X"
    assert saved.phone == "13800138000"


def test_item_not_stationed_at_the_center_is_reported(world):
    before = _count(Case)
    body = (
        world["client"]
        .post(
            "/admin/case/new/",
            data=case_form(world, items=[world["district_item"].id]),
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, "以下事项未进驻文光社区便民服务站，本机构不能受理：企业设立登记")
    assert _count(Case) == before


def test_a_valid_case_is_saved_with_number_and_deadline(world):
    response = world["client"].post(
        "/admin/case/new/",
        data=case_form(world),
    )
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    assert case.number == "CN-C-20261120-0001"
    assert case.promised_date is not None


def test_fee_without_legal_basis_is_reported(world):
    before = _count(ServiceItem)
    body = (
        world["client"]
        .post(
            "/admin/service_item/new/",
            data={
                "code": "Q-9",
                "name": "某收费事项",
                "department": world["district_item"].department_id,
                "time_limit_days": "5",
                "fee_amount": "20",
                "fee_basis": "",
            },
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, "请填写收费依据")
    assert _count(ServiceItem) == before


def test_a_village_under_a_village_is_reported(world):
    before = _count(Center)
    body = (
        world["client"]
        .post(
            "/admin/center/new/",
            data={
                "tier": "village",
                "parent": world["village"].id,
                "name": "某村便民服务站",
            },
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, "不能设在村(社区)之下")
    assert _count(Center) == before


def test_every_write_through_the_console_is_audited(world):
    from models import AuditLog

    world["client"].post("/admin/department/new/", data={"name": "区退役军人事务局"})
    row = db.session.scalar(
        select(AuditLog).where(
            AuditLog.object_type == "department",
            AuditLog.event == "create",
            AuditLog.changes.contains("区退役军人事务局"),
        )
    )
    assert row is not None and row.username == "qu_admin" and "区退役军人事务局" in row.changes


def test_the_audit_row_of_a_create_names_the_new_record(world):
    from models import AuditLog, Department

    world["client"].post("/admin/department/new/", data={"name": "区城市管理和综合执法局"})
    created = db.session.scalar(select(Department).where(Department.name == "区城市管理和综合执法局"))
    row = db.session.scalar(
        select(AuditLog).where(
            AuditLog.object_type == "department", AuditLog.event == "create", AuditLog.object_id == str(created.id)
        )
    )
    assert row is not None and row.summary == "区城市管理和综合执法局"


def test_an_edit_is_audited_with_old_and_new_values_and_personal_data_masked(world):
    from models import AuditLog

    applicant = world["applicant"]
    response = world["client"].post(
        f"/admin/applicant/edit/?id={applicant.id}",
        data={
            "kind": "person",
            "center": world["village"].id,
            "name": applicant.name,
            "gender": "male",
            "id_type": "resident_id",
            "id_number": applicant.id_number,
            "phone": "13912345678",
            "version": applicant.version,
        },
    )
    assert response.status_code == 302
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "applicant", AuditLog.event == "update"))
    assert row.username == "qu_admin"
    assert '"phone": ["138****8000", "139****5678"]' in row.changes
    assert "13912345678" not in row.changes


def test_an_unexpected_save_error_is_reported_in_chinese(world, monkeypatch):
    from admin_views.reference import DepartmentView

    def broken(self, form, model, is_created):
        raise RuntimeError("boom")

    monkeypatch.setattr(DepartmentView, "on_model_change", broken)
    body = world["client"].post("/admin/department/new/", data={"name": "区测试局"}).get_data(as_text=True)
    assert "保存失败：系统内部错误" in body and "Failed to" not in body


def test_a_received_date_after_today_is_refused_next_to_the_field(world):
    import datetime as dt

    from models.time import today_beijing

    tomorrow = today_beijing() + dt.timedelta(days=1)
    before = _count(Case)
    body = (
        world["client"]
        .post(
            "/admin/case/new/",
            data=case_form(world, received_date=tomorrow.isoformat()),
        )
        .get_data(as_text=True)
    )
    assert _field_error(body, f"受理日期不能晚于今天（北京时间{today_beijing():%Y年%m月%d日}）")
    assert _count(Case) == before


def test_a_received_date_moved_after_today_on_edit_is_refused_and_the_old_date_kept(world):
    import datetime as dt

    from models.time import today_beijing

    client = world["client"]
    client.post(
        "/admin/case/new/",
        data=case_form(world),
    )
    case = db.session.scalar(select(Case))
    form = client.get(f"/admin/case/edit/?id={case.id}").get_data(as_text=True)
    assert "受理日期" in form
    body = client.post(
        f"/admin/case/edit/?id={case.id}",
        data={
            "items": [world["village_item"].id],
            "applicant": world["applicant"].id,
            "received_date": (today_beijing() + dt.timedelta(days=3)).isoformat(),
            "version": case.version,
        },
    ).get_data(as_text=True)
    assert _field_error(body, "受理日期不能晚于今天")
    db.session.expire_all()
    assert db.session.get(Case, case.id).received_date == dt.date(2026, 11, 20)


def test_a_case_registered_in_the_console_opens_its_log_with_the_registration(world):
    world["client"].post(
        "/admin/case/new/",
        data=case_form(world),
    )
    case = db.session.scalar(select(Case))
    assert [entry.content for entry in case.logs] == [
        "登记：文光社区便民服务站登记现场帮办（已登记），申请事项：社会保障卡申领"
    ]
    assert case.logs[0].author == "qu_admin"
    page = world["client"].get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "登记：文光社区便民服务站登记现场帮办（已登记）" in page
