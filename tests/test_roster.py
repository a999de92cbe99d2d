"""代办员公示: the printable roster per center, within scope, and the agents' photos behind it.

Expected text comes from the plan (二(二) free service, 二(三) 吃拿卡要 and supervision) and the issue
(name, 工号, photo, items, the center's phone, the 12345 line), and the demo centers' own records.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import select

from extensions import db
from models import Agent, AgentPhoto, AuditLog, Center
from tests.builders import center
from tests.scope_cases import form_of, sign_in

XIASHAN = "峡山街道便民服务中心"
DONGSHAN = "东山社区便民服务站"
TAOXI = "桃溪社区便民服务站"
CHENDIAN = "陈店镇便民服务中心"


def _image(kind: str, size=(60, 80), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def _agent_at(name: str) -> Agent:
    return db.session.scalar(
        select(Agent).join(Agent.center).where(Center.name == name, Agent.active.is_(True)).order_by(Agent.staff_no)
    )


def _client(app, username: str):
    client = app.test_client()
    sign_in(client, username)
    return client


def _upload(client, agent: Agent, data: bytes, filename: str, **changes):
    form = form_of(client, f"/admin/agent/edit/?id={agent.id}")
    for key, value in changes.items():
        form.setlist(key, [value])
    payload = {key: form.getlist(key) for key in form}
    payload = {key: values if len(values) > 1 else values[0] for key, values in payload.items()}
    payload["photo_upload"] = (io.BytesIO(data), filename)
    return client.post(
        f"/admin/agent/edit/?id={agent.id}", data=payload, content_type="multipart/form-data", follow_redirects=False
    )


def _photo_rows(agent_id: int) -> list[AuditLog]:
    return db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "agent_photo", AuditLog.object_id == str(agent_id))
        .order_by(AuditLog.id)
    ).all()


# --- the notice ------------------------------------------------------------------------------
def test_a_town_admin_prints_a_village_roster_with_names_staff_numbers_items_and_the_supervision_lines(demo_app):
    station = center(DONGSHAN)
    agents = db.session.scalars(select(Agent).where(Agent.center_id == station.id, Agent.active.is_(True))).all()
    assert agents, "the demo station has agents"
    body = _client(demo_app, "xiashan_admin").get(f"/admin/roster/?center={station.id}").get_data(as_text=True)
    assert f"{DONGSHAN}</h1>" in body and "帮办代办员公示" in body
    for agent in agents:
        assert f'<td class="col-name agent-name">{agent.name}</td>' in body
        assert f'<td class="col-no">{agent.staff_no}</td>' in body
        for item in agent.items:
            assert item.name in body
    # Plan 二(二), 二(三) and the supervision lines the issue names.
    assert "除法律、法规明确规定必须由企业和群众缴纳的费用外，帮办代办服务一律免费" in body
    assert "严禁“吃、拿、卡、要”" in body
    assert "12345（政务服务便民热线）" in body
    assert station.phone in body
    assert f"{XIASHAN}　{center(XIASHAN).phone}" in body  # the town that supervises the station
    assert body.count('<div class="photo-placeholder">暂无照片</div>') == len(agents)


def test_an_agent_off_duty_is_not_on_the_notice(demo_app):
    agent = _agent_at(XIASHAN)
    agent.active = False
    db.session.commit()
    body = _client(demo_app, "xiashan_admin").get("/admin/roster/").get_data(as_text=True)
    assert f"{XIASHAN}</h1>" in body  # the menu opens the login's own center
    assert agent.staff_no not in body


@pytest.mark.parametrize(
    ("username", "target", "expected"),
    [
        ("qu_admin", CHENDIAN, 200),
        ("qu_admin", DONGSHAN, 200),
        ("xiashan_admin", XIASHAN, 200),
        ("xiashan_admin", TAOXI, 200),
        ("xiashan_admin", CHENDIAN, 404),
        ("xiashan_admin", "文光社区便民服务站", 404),
        ("xiashan_dongshan", DONGSHAN, 200),
        ("xiashan_dongshan", TAOXI, 404),
        ("xiashan_dongshan", XIASHAN, 404),
        ("chendian_wenguang", DONGSHAN, 404),
    ],
)
def test_each_login_prints_only_the_rosters_of_its_scope(demo_app, username, target, expected):
    response = _client(demo_app, username).get(f"/admin/roster/?center={center(target).id}")
    assert response.status_code == expected
    if expected == 200:
        assert f"{target}</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["abc", "-1", "99999999999999999999", "１"])
def test_a_malformed_center_is_not_found(demo_app, raw):
    assert _client(demo_app, "qu_admin").get(f"/admin/roster/?center={raw}").status_code == 404


def test_the_center_picker_offers_only_the_scope(demo_app):
    body = _client(demo_app, "xiashan_admin").get("/admin/roster/").get_data(as_text=True)
    picker = body.split('id="roster-center"', 1)[1].split("</select>", 1)[0]
    town = center(XIASHAN)
    expected = {town.id} | {c.id for c in town.children}
    offered = {int(v) for v in re.findall(r'value="(\d+)"', picker)}
    assert offered == expected


def test_the_print_stylesheet_hides_the_console_and_sets_a4(demo_app):
    client = _client(demo_app, "xiashan_admin")
    body = client.get("/admin/roster/").get_data(as_text=True)
    assert "/static/print.css" in body
    css = client.get("/static/print.css").get_data(as_text=True)
    assert "@page { size: A4 portrait" in css and "min-width: 0 !important" in css
    printed = css.split("@media print", 1)[1]
    assert ".navbar" in printed and ".no-print" in printed and "display: none" in printed


# --- photos ----------------------------------------------------------------------------------
def test_a_text_file_renamed_jpg_is_refused_in_chinese_and_the_form_keeps_what_was_typed(demo_app):
    agent = _agent_at(XIASHAN)
    client = _client(demo_app, "xiashan_admin")
    response = _upload(client, agent, "这不是照片，只是一段文字".encode(), "photo.jpg", phone="13800138000")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "照片只接受 JPEG 或 PNG 图片(按文件内容识别，仅修改扩展名无效)" in body
    assert 'value="13800138000"' in body  # what was typed stays in the form
    assert db.session.get(AgentPhoto, agent.id) is None
    assert db.session.get(Agent, agent.id).phone != "13800138000"
    assert _photo_rows(agent.id) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "照片文件已损坏或不是有效的 JPEG/PNG 图片"),
        (b"GIF89a" + b"\x00" * 64, "照片只接受 JPEG 或 PNG 图片"),
        (b"\xff\xd8\xff" + b"\x00" * (1024 * 1024), "照片不能超过 1 MB"),
    ],
    ids=["png-header-only", "gif", "too-big"],
)
def test_a_damaged_foreign_or_oversized_file_is_refused(demo_app, data, message):
    agent = _agent_at(XIASHAN)
    response = _upload(_client(demo_app, "xiashan_admin"), agent, data, "photo.png")
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.get(AgentPhoto, agent.id) is None


def test_a_png_is_stored_served_replaced_and_removed_with_an_audit_row_each_time(demo_app):
    agent = _agent_at(DONGSHAN)
    client = _client(demo_app, "xiashan_admin")
    png = _image("PNG")
    assert _upload(client, agent, png, "照片.jpg").status_code == 302  # the name does not matter, the bytes do
    stored = db.session.get(AgentPhoto, agent.id)
    assert (stored.content_type, stored.size, stored.data) == ("image/png", len(png), png)

    served = client.get(f"/admin/agent/photo/?id={agent.id}")
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data == png
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    roster = client.get(f"/admin/roster/?center={agent.center_id}").get_data(as_text=True)
    assert f'src="/admin/agent/photo/?id={agent.id}&amp;v=' in roster

    jpeg = _image("JPEG", colour=(10, 90, 200))
    assert _upload(client, agent, jpeg, "new.png").status_code == 302
    assert client.get(f"/admin/agent/photo/?id={agent.id}").mimetype == "image/jpeg"

    form = form_of(client, f"/admin/agent/edit/?id={agent.id}")
    form.setlist("photo_remove", ["y"])
    assert client.post(f"/admin/agent/edit/?id={agent.id}", data=form).status_code == 302
    assert db.session.get(AgentPhoto, agent.id) is None
    assert client.get(f"/admin/agent/photo/?id={agent.id}").status_code == 404

    rows = _photo_rows(agent.id)
    assert [r.event for r in rows] == ["create", "update", "delete"]
    assert all(r.username == "xiashan_admin" for r in rows)
    created, updated = json.loads(rows[0].changes), json.loads(rows[1].changes)
    assert created["content_type"] == "image/png" and created["data"] == f"({len(png)}字节)"
    assert updated["content_type"] == ["image/png", "image/jpeg"] and len(updated["sha256"][1]) == 64
    assert "\\x89PNG" not in rows[0].changes  # the image itself never enters the log


@pytest.mark.parametrize(
    ("username", "expected"),
    [("qu_admin", 200), ("qu_audit", 200), ("xiashan_admin", 200), ("xiashan_dongshan", 200),
     ("xiashan_taoxi", 404), ("chendian_admin", 404), ("chendian_wenguang", 404)],
)  # fmt: skip
def test_a_photo_is_served_only_within_scope(demo_app, username, expected):
    agent = _agent_at(DONGSHAN)
    client = _client(demo_app, "xiashan_admin")
    assert _upload(client, agent, _image("PNG"), "a.png").status_code == 302
    response = _client(demo_app, username).get(f"/admin/agent/photo/?id={agent.id}")
    assert response.status_code == expected
    if expected == 404:
        assert b"PNG" not in response.data


def test_a_village_clerk_cannot_change_an_agents_photo(demo_app):
    agent = _agent_at(DONGSHAN)
    client = _client(demo_app, "xiashan_dongshan")
    response = client.post(
        f"/admin/agent/edit/?id={agent.id}",
        data={"photo_upload": (io.BytesIO(_image("PNG")), "a.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert db.session.get(AgentPhoto, agent.id) is None


def test_a_new_agent_can_be_created_with_a_photo_and_the_form_offers_no_removal(demo_app):
    client = _client(demo_app, "xiashan_admin")
    form = form_of(client, "/admin/agent/new/")
    assert "photo_remove" not in form and "删除现有照片" not in client.get("/admin/agent/new/").get_data(as_text=True)
    town = center(XIASHAN)
    payload = {
        "staff_no": "CN9901",
        "name": "林晓彤",
        "center": str(town.id),
        "phone": "13800138001",
        "active": "y",
        "photo_upload": (io.BytesIO(_image("JPEG")), "lin.jpg"),
    }
    assert client.post("/admin/agent/new/", data=payload, content_type="multipart/form-data").status_code == 302
    agent = db.session.scalar(select(Agent).where(Agent.staff_no == "CN9901"))
    assert agent.photo.content_type == "image/jpeg"
    assert [r.event for r in _photo_rows(agent.id)] == ["create"]
    roster = client.get(f"/admin/roster/?center={town.id}").get_data(as_text=True)
    assert '<td class="col-name agent-name">林晓彤</td>' in roster and "CN9901" in roster
