"""Hostile input from outside: keys beyond 64 bits, Unicode digits, huge pages and searches.

Every console and public URL is taken from the app's url_map, so an endpoint added later is
covered without editing this file (a new kind of path argument fails the test until it gets a
sample value below). Each is called by every role with each bad key in every place a key can
arrive: the `id`/`ids` query arguments, the posted `id`/`ids`/`rowid`/`list_form_pk` fields,
every list action, the path (`<int:number>`, `<token>`), the list's page, page size, sort and
every filter, and the ajax lookups' offset and limit. Nothing may answer 500; an error status
carries a Chinese page. The URLs the issue named are then checked for the exact answer.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for
from flask_admin.model import BaseModelView
from sqlalchemy import func, select

from extensions import db
from lifecycle.supervision import STEPS
from lifecycle.transitions import TRANSITIONS
from models import Applicant, Case, Center, ExportJob, User
from models.enums import ExportFormat
from tests.builders import login_as

# The matrix below runs the first two through every URL; all of them go through the named URLs.
BAD_KEYS = [
    "99999999999999999999999",  # beyond 64 bits
    "9223372036854775808",  # 2**63: one past PostgreSQL's bigint
    "²",  # "²".isdigit() is True, int("²") raises
    "١",  # Arabic-Indic one: int() reads it as 1, a key must not
    "-1",
]
ROLE_LOGINS = {
    "district_admin": "qu_admin",
    "auditor": "qu_audit",
    "town_admin": "xiashan_admin",
    "village_operator": "xiashan_dongshan",
}
LONG_SEARCH = "a" * 60_000
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# A sample for every kind of path argument; a new one fails test_every_path_argument_has_a_sample.
PATH_SAMPLES = {
    "step": {"case.transition_view": next(iter(TRANSITIONS)), "followup.step_view": next(iter(STEPS))},
    "export_type": {None: "csv"},
    "number": {None: "1"},
    "file_format": {None: "xlsx"},
}
SKIPPED = {"static", "admin.static", "auth.logout", "auth.login", "index"}


def _sample(endpoint: str, argument: str) -> str:
    samples = PATH_SAMPLES[argument]
    return samples.get(endpoint, samples.get(None))


def _console_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED and not rule.endpoint.startswith("public.")
    ]


def _path(rule, overrides: dict[str, str] | None = None) -> str:
    values = {name: _sample(rule.endpoint, name) for name in rule.arguments}
    values.update(overrides or {})
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
    return path


def _model_views(app) -> list[BaseModelView]:
    admin = app.extensions["admin"][0]
    return [view for view in admin._views if isinstance(view, BaseModelView)]


def _requests(app, bad: str):
    """(method, url, form) for every place a key or a number can arrive from outside."""
    for rule in _console_rules(app):
        methods = rule.methods - {"HEAD", "OPTIONS"}
        for argument in rule.arguments & {"number"}:
            yield "GET", _path(rule, {argument: bad}), None
        path = _path(rule)
        if "GET" in methods:
            yield "GET", f"{path}?id={bad}&ids={bad}", None
        if "POST" in methods:
            form = {"id": bad, "ids": bad, "rowid": bad, "list_form_pk": bad, "reason": "核对", "content": "记录"}
            yield "POST", f"{path}?id={bad}&ids={bad}", form
    for view in _model_views(app):
        base = url_for(f"{view.endpoint}.index_view")
        for name in ("page", "page_size", "sort", "desc"):
            yield "GET", f"{base}?{name}={bad}", None
        for index, flt in enumerate(view._filters or []):
            yield "GET", f"{base}?flt0_{view.get_filter_arg(index, flt)}={bad}", None
        for action_name, _ in view._actions:
            yield "POST", url_for(f"{view.endpoint}.action_view"), {"action": action_name, "rowid": [bad, "1"]}
        lookup = url_for(f"{view.endpoint}.ajax_lookup")
        for ref in view._form_ajax_refs or {}:
            yield "GET", f"{lookup}?name={ref}&query=a&offset={bad}&limit={bad}", None


def _check(client, method: str, url: str, form: dict | None) -> str | None:
    """None when the answer is acceptable, else what went wrong (TESTING lets a 500's exception through)."""
    try:
        response = client.open(url, method=method, data=form)
    except Exception as exc:
        db.session.rollback()
        return f"{method} {url} {form or ''} -> {type(exc).__name__}: {str(exc)[:120]}"
    if response.status_code >= 500:
        return f"{method} {url} {form or ''} -> {response.status_code}"
    if response.status_code >= 400 and not CHINESE.search(response.get_data(as_text=True)):
        return f"{method} {url} -> {response.status_code} without a Chinese message"
    return None


def test_every_path_argument_has_a_sample(demo_app):
    for rule in _console_rules(demo_app):
        for argument in rule.arguments:
            assert argument in PATH_SAMPLES, f"{rule.rule}: add a sample value for <{argument}> to PATH_SAMPLES"


@pytest.mark.parametrize("bad", [BAD_KEYS[0], BAD_KEYS[2]])
@pytest.mark.parametrize("role", sorted(ROLE_LOGINS))
def test_no_console_url_answers_500_to_a_bad_key(demo_app, client, role, bad):
    login_as(client, ROLE_LOGINS[role])
    with demo_app.test_request_context():
        requests = list(_requests(demo_app, bad))
    failures = [problem for request in requests if (problem := _check(client, *request))]
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("role", sorted(ROLE_LOGINS))
def test_a_huge_search_gets_a_chinese_message_on_every_list(demo_app, client, role):
    login_as(client, ROLE_LOGINS[role])
    with demo_app.test_request_context():
        lists = [
            (view, url_for(f"{view.endpoint}.index_view"), url_for(f"{view.endpoint}.ajax_lookup"))
            for view in _model_views(demo_app)
        ]
    for view, index, lookup_url in lists:
        response = client.get(f"{index}?search={LONG_SEARCH}", follow_redirects=True)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 403), (view.endpoint, response.status_code)
        if response.status_code == 200 and view.column_searchable_list:
            assert "搜索内容过长" in body, view.endpoint
        for ref in view._form_ajax_refs or {}:
            lookup = client.get(f"{lookup_url}?name={ref}&query={LONG_SEARCH}")
            assert lookup.status_code in (200, 400, 403), (view.endpoint, ref, lookup.status_code)


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775807", "²", "-3"])
def test_an_absurd_page_number_shows_a_normal_list(client, page):
    login_as(client, "qu_admin")
    response = client.get(f"/admin/case/?page={page}")
    assert response.status_code == 200
    assert "案件台账" in response.get_data(as_text=True)


# --- the URLs the issue named, and the answer each gives ------------------------------------------


def _case_id() -> int:
    return db.session.scalar(select(Case.id).join(Case.center).where(Case.mode == "delegated").limit(1))


NAMED_GET = [
    "/admin/case/details/?id={bad}",
    "/admin/case/edit/?id={bad}",
    "/admin/applicant/details/?id={bad}",
    "/admin/applicant/edit/?id={bad}",
    "/admin/followup/details/?id={bad}",
    "/admin/followup/edit/?id={bad}",
    "/admin/case/transition/accept/?id={bad}",
    "/admin/case/transition/accept/?ids={bad}",
    "/admin/case/annex/1/?id={bad}",
    "/admin/export_job/details/?id={bad}",
    "/admin/export_job/progress/?id={bad}",
    "/admin/export_job/download/?id={bad}",
]
NAMED_POST = [
    "/admin/case/reveal/?id={bad}",
    "/admin/case/log/?id={bad}",
    "/admin/followup/step/call_back/?id={bad}",
    "/admin/export_job/cancel/?id={bad}",
]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_named_console_urls_say_the_record_does_not_exist(client, bad):
    login_as(client, "qu_admin")
    for method, urls in (("GET", NAMED_GET), ("POST", NAMED_POST)):
        for template in urls:
            url = template.format(bad=bad)
            response = client.open(
                url, method=method, data={"reason": "核对", "content": "记录"}, follow_redirects=True
            )
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 400, 404), (url, response.status_code)
            assert "记录不存在" in body or "不在您的管辖范围" in body, (url, body[:300])


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_a_bad_annex_number_is_refused(client, bad):
    login_as(client, "qu_admin")
    response = client.get(f"/admin/case/annex/{bad}/?id={_case_id()}", follow_redirects=True)
    assert response.status_code in (200, 404)
    body = response.get_data(as_text=True)
    assert "记录不存在" in body or "附件" in body


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_public_links_with_a_bad_key_say_the_link_is_invalid(demo_app, bad):
    client = demo_app.test_client()
    tokens = {
        "/e/{}": [f"{bad}-{'0' * 40}", f"{bad}-"],
        "/verify/{}": [f"{bad}-1-20260101-{'0' * 24}", f"1-{bad}-20260101-{'0' * 24}", f"1-1-{bad}-{'0' * 24}"],
    }
    for template, values in tokens.items():
        for token in values:
            for method in ("GET", "POST") if template.startswith("/e/") else ("GET",):
                response = client.open(template.format(token), method=method)
                body = response.get_data(as_text=True)
                assert response.status_code == 404, (template, token, method, response.status_code)
                assert "链接无效" in body or "无法核验" in body


def test_unicode_digits_never_name_a_record(client):
    """int("١") is 1: a key that reads as a record's id in another script still finds nothing."""
    login_as(client, "qu_admin")
    first = db.session.scalar(select(Case.id).order_by(Case.id).limit(1))
    arabic = "".join(chr(0x0660 + int(d)) for d in str(first))
    body = client.get(f"/admin/case/details/?id={arabic}", follow_redirects=True).get_data(as_text=True)
    number = db.session.get(Case, first).number
    assert number not in body and "记录不存在" in body


def test_a_key_is_ascii_digits_only(client):
    """int() also reads " 7", "+7", "7_0" and "7\\n"; a key from outside is plain digits or nothing."""
    login_as(client, "qu_admin")
    owner = db.session.scalar(select(User).where(User.username == "qu_admin"))
    job = ExportJob(user=owner, format=ExportFormat.ZIP.value, annexes="1", total=0)
    db.session.add(job)
    db.session.commit()
    assert client.get(f"/admin/export_job/progress/?id={job.id}").status_code == 200
    for key in (f" {job.id}", f"+{job.id}", f"{job.id}_0", f"{job.id}\n", f"{job.id}.0"):
        response = client.get("/admin/export_job/progress/", query_string={"id": key})
        assert response.status_code == 404, repr(key)
        assert "记录不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "4405141980010112²X", "身份证号码前17位应为数字"),
        ("id_number", "44051419800101123" + "٣", "身份证号码前17位应为数字"),
        ("phone", "138" + "٠" * 8, "请输入11位手机号码"),
    ],
)
def test_unicode_digits_in_personal_numbers_get_a_field_message(client, field, value, message):
    login_as(client, "xiashan_dongshan")
    station = db.session.scalar(select(Center).where(Center.name == "东山社区便民服务站"))
    data = {
        "kind": "person",
        "center": station.id,
        "name": "郑某某",
        "gender": "male",
        "id_type": "resident_id",
        "id_number": "440514198001011232",
        "phone": "13800138000",
    }
    data[field] = value
    before = db.session.scalar(select(func.count()).select_from(Applicant))
    response = client.post("/admin/applicant/new/", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and message in body, body[:500]
    assert db.session.scalar(select(func.count()).select_from(Applicant)) == before
