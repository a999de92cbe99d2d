"""Scope with CSRF protection on, as in production: the CSRF tests log in with the token, as a browser does."""

from __future__ import annotations

import re

from sqlalchemy import select

from extensions import db
from models import Case
from tests.builders import DEMO_PASSWORD
from tests.scope_cases import NOT_FOUND, center_named, csv_rows, form_of, ids_of, record_at, row_of, visible_ids

# ---------------------------------------------------------------------------------------------
# With CSRF protection on, as in production
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _token(body: str) -> str:
    match = _TOKEN.search(body)
    assert match, "no csrf token on the page"
    return match.group(1) or match.group(2)


def _csrf_login(app, username: str):
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


class TestWithCsrfOn:
    def test_an_in_scope_edit_with_the_token_saves_and_an_out_of_scope_one_does_not(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        own = record_at("case", center_named("文光社区便民服务站"), "chendian_wenguang", True)
        foreign = record_at("case", center_named("东山社区便民服务站"), "chendian_wenguang", False)
        foreign_before = row_of(Case, foreign.id)

        payload = form_of(client, f"/admin/case/edit/?id={own.id}")
        assert payload.get("csrf_token")
        payload.setlist("summary", ["带令牌的修改"])
        assert client.post(f"/admin/case/edit/?id={own.id}", data=payload).status_code == 302
        assert row_of(Case, own.id)["summary"] == "带令牌的修改"

        token = _token(client.get("/admin/case/").get_data(as_text=True))
        payload.setlist("csrf_token", [token])
        payload.setlist("summary", ["越权修改"])
        response = client.post(f"/admin/case/edit/?id={foreign.id}", data=payload, follow_redirects=True)
        body = response.get_data(as_text=True)
        assert NOT_FOUND in body and foreign.number not in body
        assert row_of(Case, foreign.id) == foreign_before

        response = client.post(
            f"/admin/case/reveal/?id={foreign.id}", data={"reason": "越权", "csrf_token": token}, follow_redirects=True
        )
        assert NOT_FOUND in response.get_data(as_text=True)

    def test_posts_without_the_token_are_refused(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        own = record_at("case", center_named("文光社区便民服务站"), "chendian_wenguang", True)
        payload = form_of(client, f"/admin/case/edit/?id={own.id}")
        payload.pop("csrf_token")
        payload.setlist("summary", ["无令牌的修改"])
        before, cases = row_of(Case, own.id), ids_of(Case)
        posts = {
            "edit": (f"/admin/case/edit/?id={own.id}", payload),
            "create": ("/admin/case/new/", {"center": own.center_id, "mode": "on_site"}),
            "delete": ("/admin/case/delete/", {"id": own.id}),
            "action": ("/admin/case/action/", {"action": "delete", "rowid": own.id}),
            "export": ("/admin/case/export-masked/", {"format": "csv"}),
            "reveal": (f"/admin/case/reveal/?id={own.id}", {"reason": "核对身份"}),
            "find-by-id": ("/admin/case/find-by-id/", {"id_number": own.applicant.id_number or ""}),
        }
        got = {name: client.post(url, data=data).status_code for name, (url, data) in posts.items()}
        assert got == {name: 400 for name in posts}
        assert row_of(Case, own.id) == before and ids_of(Case) == cases

    def test_the_export_with_the_token_holds_only_the_station(self, demo_app_csrf):
        client = _csrf_login(demo_app_csrf, "chendian_wenguang")
        token = _token(client.get("/admin/case/").get_data(as_text=True))
        rows = csv_rows(client.post("/admin/case/export-masked/", data={"format": "csv", "csrf_token": token}))
        expected = set(
            db.session.scalars(select(Case.number).where(Case.id.in_(visible_ids(Case, "chendian_wenguang"))))
        )
        assert {r[0] for r in rows[1:]} == expected
