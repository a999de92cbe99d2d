"""Plain builders for test data and a login helper."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select

from extensions import db
from models import Applicant, Case, Center, Department, ServiceItem, User
from models.enums import ApplicantKind, IdType, Mode, Role, Tier
from models.identifiers import id_check_char

DEMO_PASSWORD = "Chaonan#2024"


def login_as(client, username: str, password: str = DEMO_PASSWORD):
    """Log the test client in through the real login form."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def valid_id_number(birth: str = "19800101", seq: str = "123", area: str = "440514") -> str:
    first17 = area + birth + seq
    return first17 + id_check_char(first17)


def center(name: str) -> Center:
    return db.session.scalar(select(Center).where(Center.name == name))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def make_district(**overrides) -> Center:
    values = {"tier": Tier.DISTRICT.value, "name": "潮南区政务服务中心", "hotline": "12345"}
    values.update(overrides)
    obj = Center(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def make_center(parent: Center, tier: Tier, name: str) -> Center:
    obj = Center(tier=tier.value, parent=parent, name=name)
    db.session.add(obj)
    db.session.flush()
    return obj


def make_item(centers: list[Center], **overrides) -> ServiceItem:
    department = db.session.scalar(select(Department).limit(1))
    if department is None:
        department = Department(name="区人力资源和社会保障局")
        db.session.add(department)
    values = {
        "code": f"T-{len(centers)}-{overrides.get('name', 'x')}",
        "name": "社会保障卡申领",
        "department": department,
        "time_limit_days": 5,
    }
    values.update(overrides)
    item = ServiceItem(**values)
    item.centers = list(centers)
    db.session.add(item)
    db.session.flush()
    return item


def make_applicant(at: Center, **overrides) -> Applicant:
    values = {
        "kind": ApplicantKind.PERSON.value,
        "center": at,
        "name": "陈晓明",
        "gender": "male",
        "id_type": IdType.RESIDENT_ID.value,
        "id_number": valid_id_number(),
        "phone": "13800138000",
    }
    values.update(overrides)
    obj = Applicant(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def make_case(at: Center, items: list[ServiceItem], applicant: Applicant, **overrides) -> Case:
    values = {"center": at, "mode": Mode.ON_SITE.value, "applicant": applicant, "received_date": dt.date(2026, 9, 28)}
    values.update(overrides)
    case = Case(**values)
    case.items = list(items)
    db.session.add(case)
    db.session.flush()
    return case


_HASHES: dict[str, str] = {}


def make_user(username: str, role: Role, at: Center | None, password: str = DEMO_PASSWORD) -> User:
    obj = User(username=username, role=role.value, center=at)
    # argon2id is deliberately slow; hash each test password once per run.
    if password not in _HASHES:
        obj.set_password(password)
        _HASHES[password] = obj.password_hash
    obj.password_hash = _HASHES[password]
    db.session.add(obj)
    db.session.flush()
    return obj


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` on a fresh view of the database (other processes write it) until true or `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        db.session.expire_all()
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
