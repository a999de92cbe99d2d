"""Personal information: masked everywhere, revealed only with a reason, exported masked and audited."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from extensions import db
from models import Applicant, AuditLog, Case, Center
from tests.builders import login_as


@pytest.fixture
def person_case():
    return db.session.scalar(
        select(Case).join(Case.applicant).where(Applicant.kind == "person").order_by(Case.id).limit(1)
    )


@pytest.fixture
def admin(client):
    login_as(client, "qu_admin")
    return client


def test_lists_and_details_show_masked_numbers_only(admin, person_case):
    applicant = person_case.applicant
    # Known numbers, so that the masked forms below are written out by hand: an ID number keeps its
    # first 6 and last 4 digits, a mobile its first 3 and last 4 (security-notes: display masking).
    applicant.id_number, applicant.gender, applicant.phone = "440514197612030454", "male", "13912345678"
    db.session.commit()
    pages = [
        "/admin/applicant/",
        f"/admin/applicant/details/?id={applicant.id}",
        f"/admin/case/details/?id={person_case.id}",
        f"/admin/applicant/?search={applicant.name}",
    ]
    for url in pages:
        body = admin.get(url).get_data(as_text=True)
        assert applicant.id_number not in body, url
        assert applicant.phone not in body, url
    details = admin.get(f"/admin/case/details/?id={person_case.id}").get_data(as_text=True)
    assert "440514********0454" in details
    assert "139****5678" in details


def test_reveal_needs_a_reason_and_is_audited(admin, person_case):
    applicant = person_case.applicant
    refused = admin.post(f"/admin/case/reveal/?id={person_case.id}", data={"reason": ""}, follow_redirects=True)
    assert applicant.id_number not in refused.get_data(as_text=True)
    assert "请填写查看完整信息的理由" in refused.get_data(as_text=True)

    shown = admin.post(f"/admin/case/reveal/?id={person_case.id}", data={"reason": "核对身份后办理"})
    body = shown.get_data(as_text=True)
    assert applicant.id_number in body and applicant.phone in body
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "reveal"))
    assert row.username == "qu_admin" and row.object_id == str(person_case.id) and "核对身份后办理" in row.summary
    # Back on the page without a reveal, the numbers are masked again.
    again = admin.get(f"/admin/case/details/?id={person_case.id}").get_data(as_text=True)
    assert applicant.id_number not in again


def test_reveal_of_an_out_of_scope_case_shows_nothing(client):
    login_as(client, "chendian_wenguang")
    foreign = db.session.scalar(select(Case).where(Case.center.has(name="东山社区便民服务站")).limit(1))
    response = client.post(f"/admin/case/reveal/?id={foreign.id}", data={"reason": "试图越权"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "记录不存在" in body and foreign.applicant.id_number not in body
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.event == "reveal")) == 0


def test_a_full_id_number_finds_its_cases_without_entering_the_url(admin, person_case):
    number = person_case.applicant.id_number
    response = admin.post("/admin/case/find-by-id/", data={"id_number": number.lower()})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert number not in location and number.lower() not in location
    body = admin.get(location).get_data(as_text=True)
    expected = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.applicant_id == person_case.applicant_id)
    )
    assert f"列表 ({expected})" in body and person_case.number in body
    assert db.session.scalar(select(AuditLog).where(AuditLog.event == "search_id"))


def test_the_id_lookup_stays_in_scope(client, person_case):
    login_as(client, "chendian_wenguang")
    foreign = db.session.scalar(select(Applicant).where(Applicant.center.has(name="东山社区便民服务站")).limit(1))
    response = client.post("/admin/case/find-by-id/", data={"id_number": foreign.id_number}, follow_redirects=True)
    assert "未找到该证件号码" in response.get_data(as_text=True)


def _export(client, url, file_format):
    return client.post(url, data={"format": file_format})


def test_csv_export_has_a_bom_masked_numbers_and_is_audited(admin):
    response = _export(admin, "/admin/case/export-masked/?flt0_status_filterequal=completed", "csv")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    completed = db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "completed"))
    assert text.count("\n") == completed + 1
    assert "案件编号" in text and "已办结" in text and "办理中" not in text
    for applicant in db.session.scalars(select(Applicant).where(Applicant.kind == "person").limit(20)):
        assert applicant.id_number not in text and applicant.phone not in text
    row = db.session.scalar(select(AuditLog).where(AuditLog.event == "export"))
    assert row.username == "qu_admin" and f'"rows": {completed}' in row.changes and "status_filterequal" in row.changes


def test_xlsx_export_opens_and_holds_the_filtered_rows(admin):
    response = _export(admin, "/admin/applicant/export-masked/?flt0_kind_filterequal=organization", "xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    organizations = db.session.scalar(
        select(func.count()).select_from(Applicant).where(Applicant.kind == "organization")
    )
    assert rows[0][0] == "姓名/单位名称" and len(rows) == organizations + 1


def test_export_is_post_only(admin):
    assert admin.get("/admin/case/export-masked/").status_code == 405
    assert admin.get("/admin/case/export/csv/").status_code == 403


def test_export_cells_are_neutralised_against_formula_injection(admin, person_case):
    applicant = person_case.applicant
    applicant.address = '=HYPERLINK("http://evil")'
    applicant.name = "@SUM(A1)"
    db.session.commit()
    text = _export(admin, f"/admin/applicant/export-masked/?flt0_id_intinlistfilter={applicant.id}", "csv").data.decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_export_is_capped(admin, monkeypatch):
    from admin_views.case import CaseView

    monkeypatch.setattr(CaseView, "export_max", 10)
    response = _export(admin, "/admin/case/export-masked/", "csv")
    assert response.data.decode("utf-8-sig").count("\n") == 11


def test_a_village_export_holds_only_its_station(client):
    login_as(client, "xiashan_dongshan")
    text = _export(client, "/admin/case/export-masked/", "csv").data.decode("utf-8-sig")
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    own = db.session.scalars(
        select(Case.number).where((Case.center_id == station.id) | (Case.origin_center_id == station.id))
    ).all()
    assert text.count("\n") == len(own) + 1
    other = db.session.scalar(select(Case.number).where(Case.center.has(name="文光社区便民服务站")).limit(1))
    assert other not in text


def test_html_typed_into_a_field_shows_as_text(admin, person_case):
    applicant = person_case.applicant
    applicant.address = '<script>alert(1)</script><img src="x" onerror="alert(2)">'
    db.session.commit()
    body = admin.get(f"/admin/case/details/?id={person_case.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    listing = admin.get(f"/admin/applicant/?flt0_id_intinlistfilter={applicant.id}").get_data(as_text=True)
    assert '<img src="x"' not in listing


# --- formula injection: every prefix, every column, both formats, read back as a spreadsheet would ---

# OWASP's formula starters, and the same behind leading blanks: LibreOffice's "trim spaces"
# CSV import option removes those before it evaluates the cell.
FORMULA_PREFIXES = ["=", "+", "-", "@", "\t", "\r", " =", "\u3000+", "\n@", "\x01="]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _taint(case: Case, prefix: str) -> dict[str, str]:
    """Put `prefix` in front of every free-text value the case and applicant exports show."""
    applicant = case.applicant
    targets = [
        (applicant, "name"),
        (applicant, "address"),
        (applicant, "contact_name"),
        (case.center, "name"),
        (case.agent, "name"),
        (case.items[0], "name"),
        (case.items[0].department, "name"),
    ]
    if case.center.town is not None and case.center.town is not case.center:
        targets.append((case.center.town, "name"))
    for obj, attribute in targets:
        setattr(obj, attribute, prefix + (getattr(obj, attribute) or "某某"))
    db.session.commit()
    return {"applicant": applicant.id}


def _csv_rows(data: bytes) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_cells(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


TAINTED_COLUMNS = {
    "case": ["受理机构", "所属镇(街道)", "申请事项", "办理部门", "申请人", "代办员"],
    "applicant": ["姓名/单位名称", "地址", "经办人", "登记机构"],
}


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES, ids=repr)
def test_no_exported_cell_can_start_a_formula(admin, prefix):
    case = db.session.scalar(
        select(Case)
        .join(Case.applicant)
        .where(Applicant.kind == "person", Case.agent_id.is_not(None), Case.center.has(Center.tier == "village"))
        .order_by(Case.id)
        .limit(1)
    )
    applicant_id = _taint(case, prefix)["applicant"]
    exports = {
        "case": f"/admin/case/export-masked/?flt0_applicant_id_intinlistfilter={applicant_id}",
        "applicant": f"/admin/applicant/export-masked/?flt0_id_intinlistfilter={applicant_id}",
    }
    for name, url in exports.items():
        csv_rows = _csv_rows(_export(admin, url, "csv").data)
        xlsx_rows = _xlsx_cells(_export(admin, url, "xlsx").data)
        header = csv_rows[0]
        assert len(csv_rows) > 1 and [c.value for c in xlsx_rows[0]] == header
        # The tainted case's own row (the applicant may have other cases, at other centers).
        key = header.index("案件编号") if name == "case" else 0
        (mine,) = [i for i, row in enumerate(csv_rows) if i and (name != "case" or row[key] == case.number)]
        for column in TAINTED_COLUMNS[name]:
            index = header.index(column)
            text = csv_rows[mine][index]
            assert text.startswith("'" + prefix.lstrip("\x01")), (name, column, text)
            cell = xlsx_rows[mine][index]
            assert cell.data_type == "s" and cell.value.startswith("'"), (name, column, cell.value)
        for row in csv_rows[1:]:
            for value in row:
                assert not value.lstrip().startswith(TRIGGERS), (name, value)
        for row in xlsx_rows[1:]:
            for cell in row:
                assert cell.data_type != "f", (name, cell.value)
                assert cell.value is None or not str(cell.value).lstrip().startswith(TRIGGERS), (name, cell.value)


def test_values_that_are_not_text_are_neutralised_too():
    from decimal import Decimal

    from admin_views.pii import _csv_bytes, _xlsx_bytes, neutralise

    class Label:
        def __str__(self) -> str:
            return "=HYPERLINK(1)"

    values = [-3, Decimal("-1.50"), Label(), None, 42]
    expected = ["'-3", "'-1.50", "'=HYPERLINK(1)", "", "42"]
    assert [neutralise(v) for v in values] == expected
    assert _csv_rows(_csv_bytes(["a", "b", "c", "d", "e"], [values]))[1] == expected
    cells = _xlsx_cells(_xlsx_bytes("t", ["a", "b", "c", "d", "e"], [values]))[1]
    assert [c.value for c in cells[:3]] == expected[:3] and all(c.data_type != "f" for c in cells)
