"""`flask seed --bulk N`: N realistic cases over three years, written set-wise for benchmarking at scale.

The demo seed (seed/demo.py) lives every case through lifecycle/ one ORM object at a time: right for
340 cases, hours for a million. Here the same story is drawn as plain rows in Python (every case,
its applicant, items, progress log, materials, fees, evaluation link, evaluation, follow-up,
complaint, hand-off and one audit row) and written in chunks of CHUNK cases: executemany Core
inserts on SQLite, COPY on PostgreSQL. Nothing goes through the ORM, so what the lifecycle would
have derived is derived here by the same rules: case numbers continue each tier-day's sequence
(lifecycle/numbering.py), promised dates count working days on the same calendar
(lifecycle/deadlines.py), the progress log's first entry is the registration and each later entry
is named after its transition (lifecycle/transitions.py), and the audit rows are chained with the
same HMAC as audit.record's (audit.row_hash), the chain head updated in the same transaction.

Run it on top of `flask seed --demo` (the centers, items, agents and demo accounts), with the
console stopped: ids are handed out from the tables' current maxima. A second run adds N more.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Numeric, Table, bindparam, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

import audit
from lifecycle.deadlines import is_assumed_year, is_workday, load_calendar
from lifecycle.evaluation_links import LINK_VALID_DAYS
from lifecycle.supervision import DEFAULT_FOLLOWUP_WORKING_DAYS
from models import (
    Agent,
    Applicant,
    AuditHead,
    AuditLog,
    Case,
    CaseFee,
    CaseHandoff,
    CaseLog,
    CaseMaterial,
    Center,
    Complaint,
    Evaluation,
    EvaluationLink,
    FollowUp,
    ServiceItem,
    User,
    refresh_derived,
)
from models.audit_log import GENESIS_HASH
from models.case import case_item
from models.enums import (
    ApplicantKind,
    ComplaintChannel,
    DelegationScope,
    EvaluationChannel,
    FollowUpStatus,
    Gender,
    IdType,
    MaterialForm,
    Mode,
    RemoteChannel,
    ResultDelivery,
    ReturnMethod,
    Role,
    Status,
    TerminationReason,
    Tier,
    label,
)
from models.service_item import ServiceItemMaterial, item_center
from models.time import today_beijing, utcnow
from seed.data.cases import BAD_REVIEWS, GOOD_COMMENTS, MODE_WEIGHTS, PROGRESS_TEMPLATES, REJECTIONS, TERMINATIONS
from seed.data.items import ITEMS
from seed.data.people import ADDRESS_LANES, FEMALE_NAMES, MALE_NAMES, MOBILE_PREFIXES, SURNAMES
from seed.data.places import FEATURED_VILLAGES, TOWN_WEIGHTS
from seed.plan import _credit_code, _id_number

CHUNK = 20_000
YEARS = 3
# About 0.4 applicants per case: the rest are people and firms coming back.
NEW_APPLICANT_SHARE = 0.4
ORGANIZATION_SHARE = 0.15
HANDOFF_SHARE = 0.02
COMPLAINT_SHARE = 0.003
EVALUATED_SHARE = 0.7
BAD_REVIEW_SHARE = 0.12
# Of the follow-ups past their due date, this share is still not closed (overdue supervision).
STUCK_FOLLOWUP_SHARE = 0.15
MAX_SEQUENCE = 9999  # CN-<tier>-<yyyymmdd>-NNNN: four digits per tier and day

# (maximum age in days, status weights): young cases are mostly open, old ones closed; a few old
# ones are still running, which the console shows as overdue.
# fmt: off
DELEGATED_WEIGHTS: list[tuple[int, dict[Status, float]]] = [
    (7, {Status.SUBMITTED: 35, Status.ACCEPTED: 25, Status.IN_PROGRESS: 25, Status.REJECTED: 15}),
    (30, {Status.SUBMITTED: 8, Status.ACCEPTED: 10, Status.IN_PROGRESS: 30, Status.SUSPENDED: 12,
          Status.COMPLETED: 30, Status.TERMINATED: 5, Status.REJECTED: 5}),
    (90, {Status.IN_PROGRESS: 6, Status.SUSPENDED: 5, Status.COMPLETED: 54, Status.TERMINATED: 10,
          Status.REJECTED: 5, Status.ARCHIVED: 20}),
    (365, {Status.IN_PROGRESS: 1, Status.SUSPENDED: 1, Status.COMPLETED: 30, Status.TERMINATED: 10,
           Status.REJECTED: 5, Status.ARCHIVED: 53}),
    (100_000, {Status.IN_PROGRESS: 0.2, Status.SUSPENDED: 0.3, Status.COMPLETED: 10, Status.TERMINATED: 9,
               Status.REJECTED: 5, Status.ARCHIVED: 75.5}),
]
ASSISTED_WEIGHTS: list[tuple[int, dict[Status, float]]] = [
    (7, {Status.REGISTERED: 40, Status.IN_PROGRESS: 30, Status.COMPLETED: 30}),
    (30, {Status.REGISTERED: 4, Status.IN_PROGRESS: 24, Status.COMPLETED: 72}),
    (90, {Status.IN_PROGRESS: 3, Status.COMPLETED: 67, Status.ARCHIVED: 30}),
    (365, {Status.IN_PROGRESS: 0.6, Status.COMPLETED: 34.4, Status.ARCHIVED: 65}),
    (100_000, {Status.IN_PROGRESS: 0.1, Status.COMPLETED: 10, Status.ARCHIVED: 89.9}),
]
# fmt: on
REMOTE_CHANNELS = {RemoteChannel.PHONE: 4, RemoteChannel.VIDEO: 3, RemoteChannel.ONLINE: 3}
DELEGATION_SCOPES = {DelegationScope.WHOLE: 7, DelegationScope.PARTIAL: 3}
DELIVERIES = {ResultDelivery.AGENT: 40, ResultDelivery.WINDOW: 35, ResultDelivery.POST: 25}
TERMINATION_WEIGHTS = {reason: weight for reason, (weight, _text) in TERMINATIONS.items()}
EVALUATION_CHANNELS = {EvaluationChannel.LINK: 5, EvaluationChannel.PAPER: 3, EvaluationChannel.HAOCHAPING: 2}
COMPLAINT_CHANNELS = {
    ComplaintChannel.HOTLINE_12345: 5,
    ComplaintChannel.PHONE: 3,
    ComplaintChannel.ON_SITE: 1,
    ComplaintChannel.HAOCHAPING: 1,
}
CLOSED_BY_LINK = (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED)
HANDOFF_REASON = "本站无法办结，按首问负责转上级便民服务中心兜底办理"
COMPLAINT_TEXTS = [
    "反映代办员未按约定时间上门",
    "反映办理进度长时间无人告知",
    "反映窗口人员推诿，要求多次补交材料",
    "反映办结后原件迟迟未退还",
]
ORG_WORDS = (
    "锦泰 华辉 明丽 鸿发 泓盛 佳味 信达 宏图 美佳 顺昌 永丰 宏达 华美 恒兴 利民 兴旺 家美 深溪 荣盛 金辉".split()
)
ORG_KINDS = [
    ("针织有限公司", "91"),
    ("内衣厂", "92"),
    ("电子商行", "92"),
    ("服装有限公司", "91"),
    ("种植专业合作社", "93"),
]


def window_start(today: dt.date) -> dt.date:
    """The first day cases are received on: three years back from today."""
    return today - dt.timedelta(days=round(365.25 * YEARS)) + dt.timedelta(days=1)


class BulkSeedError(Exception):
    """The bulk seed cannot run; the message (Chinese) says why."""


# --- reference data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemRef:
    id: int
    name: str
    days: int
    department_id: int
    fee: Decimal | None
    fee_basis: str
    audience: str
    materials: tuple[tuple[str, str, int], ...]


@dataclass(eq=False)
class CenterRef:
    id: int
    name: str
    tier: str
    parent_id: int | None
    town_id: int | None
    items: list[ItemRef] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)
    actor: tuple[int | None, str, str, str] = (None, "seed", "system", "seed")  # user id, username, role, name

    @property
    def letter(self) -> str:
        return {Tier.DISTRICT: "Q", Tier.TOWN: "Z", Tier.VILLAGE: "C"}[Tier(self.tier)]


class WorkCalendar:
    """Working days from a start date on, read once, so that counting is an index lookup per case."""

    def __init__(self, session: Session, first: dt.date, last: dt.date) -> None:
        calendar = load_calendar(session)
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        self.workdays = [day for day in days if is_workday(day, calendar)]
        self.assumed_years = {year for year in range(first.year, last.year + 1) if is_assumed_year(year, calendar)}

    def add(self, start: dt.date, days: int) -> dt.date:
        """`days` working days after `start`, as lifecycle.deadlines.add_working_days counts them."""
        return self.workdays[bisect.bisect_right(self.workdays, start) + days - 1]

    def deadline(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        end = self.add(start, days)
        after = start + dt.timedelta(days=1)
        return end, any(year in self.assumed_years for year in range(after.year, end.year + 1))

    def between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        return self.workdays[bisect.bisect_left(self.workdays, first) : bisect.bisect_right(self.workdays, last)]


@dataclass
class Reference:
    centers: list[CenterRef]
    by_id: dict[int, CenterRef]
    district_admin: int | None
    town_admins: dict[int, int]

    def responsible_admin(self, center: CenterRef) -> int | None:
        """lifecycle.supervision.responsible_admin: the town's admin, else a district admin."""
        if center.town_id is not None and center.town_id in self.town_admins:
            return self.town_admins[center.town_id]
        return self.district_admin


def load_reference(session: Session) -> Reference:
    """Centers with their stationed items and active agents, and the demo accounts; refuses when missing."""
    centers = {
        c.id: CenterRef(c.id, c.name, c.tier, c.parent_id, None)
        for c in session.execute(select(Center.id, Center.name, Center.tier, Center.parent_id))
    }
    tiers = {c.tier for c in centers.values()}
    missing = []
    if not {Tier.DISTRICT, Tier.TOWN, Tier.VILLAGE} <= tiers:
        missing.append("服务机构(区、镇街、村居三级)")
    specs = {spec.code: spec for spec in ITEMS}
    materials: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for row in session.execute(
        select(
            ServiceItemMaterial.item_id, ServiceItemMaterial.name, ServiceItemMaterial.form, ServiceItemMaterial.copies
        ).order_by(ServiceItemMaterial.id)
    ):
        materials[row.item_id].append((row.name, row.form, row.copies))
    items = {}
    for row in session.execute(select(ServiceItem)).scalars():
        spec = specs.get(row.code)
        items[row.id] = ItemRef(
            row.id,
            row.name,
            row.time_limit_days,
            row.department_id,
            row.fee_amount if row.fee_amount and row.fee_amount > 0 else None,
            row.fee_basis,
            spec.audience if spec else "any",
            tuple(materials[row.id]),
        )
    for item_id, center_id in session.execute(select(item_center.c.item_id, item_center.c.center_id)):
        if center_id in centers and item_id in items:
            centers[center_id].items.append(items[item_id])
    if not any(c.items for c in centers.values()):
        missing.append("服务事项及其进驻机构")
    for row in session.execute(select(Agent.id, Agent.name, Agent.center_id).where(Agent.active.is_(True))):
        if row.center_id in centers:
            centers[row.center_id].agents.append((row.id, row.name))
    if not any(c.agents for c in centers.values()):
        missing.append("帮办代办员")
    users = session.execute(
        select(User.id, User.username, User.role, User.full_name, User.center_id)
        .where(User.active.is_(True))
        .order_by(User.id)
    ).all()
    district_admin = next((u.id for u in users if u.role == Role.DISTRICT_ADMIN), None)
    if district_admin is None:
        missing.append("区级管理员账号")
    if missing:
        raise BulkSeedError("缺少基础数据：" + "、".join(missing) + "。请先运行 flask seed --demo。")
    town_admins: dict[int, int] = {}
    for user in users:
        if user.role == Role.TOWN_ADMIN and user.center_id is not None:
            town_admins.setdefault(user.center_id, user.id)
    # Whom a center's audit rows name: its own clerk, its town's admin, else the district admin
    # (as seed/builder.py's _actor_for picks the demo login that would do the work).
    workers = {}
    for user in users:
        if user.role in (Role.VILLAGE_OPERATOR, Role.TOWN_ADMIN) and user.center_id is not None:
            workers.setdefault(user.center_id, user)
    district = next(u for u in users if u.id == district_admin)
    for center in centers.values():
        center.items.sort(key=lambda i: i.id)
        center.town_id = (
            center.id if center.tier == Tier.TOWN else center.parent_id if center.tier == Tier.VILLAGE else None
        )
        user = workers.get(center.id) or workers.get(center.parent_id) or district
        center.actor = (user.id, user.username, user.role, user.full_name or user.username)
    usable = [c for c in centers.values() if c.items]
    return Reference(usable, centers, district_admin, town_admins)


# --- drawing the cases ----------------------------------------------------------------------------
class Weighted:
    """A weighted draw with its cumulative weights computed once (random.choices recomputes them per call)."""

    def __init__(self, weights: dict) -> None:
        self.items = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> object:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


class FastRandom(random.Random):
    """randint and choice from one random() call each: the stock ones cost several calls per draw."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


_pick_cache: dict[int, Weighted] = {}


def _pick(rng: random.Random, weights: dict) -> object:
    """A weighted draw from a module-level weights table (cached by identity: pass constants only)."""
    drawn = _pick_cache.get(id(weights))
    if drawn is None:
        drawn = _pick_cache[id(weights)] = Weighted(weights)
    return drawn.draw(rng)


def _office(rng: random.Random, day: dt.date, earliest: int = 30, latest: int = 540) -> dt.datetime:
    """A naive UTC time in office hours (08:30-17:00 Beijing) on `day`."""
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=rng.randint(earliest, latest))


@dataclass
class Rows:
    """One chunk's rows, per table, in insertion order (parents first)."""

    tables: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, row: dict) -> None:
        self.tables[table].append(row)


class Ids:
    """The next id of each table, from the current maxima: bulk rows carry their ids, so children can name them."""

    def __init__(self, conn: Connection, tables: list[Table]) -> None:
        self.next = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Planner:
    """Draws cases one by one from a seeded generator, keeping applicant pools and number sequences."""

    def __init__(
        self, rng: random.Random, ref: Reference, calendar: WorkCalendar, today: dt.date, now: dt.datetime, numbers
    ) -> None:
        self.rng = rng
        self.ref = ref
        self.cal = calendar
        self.today = today
        self.now = now
        self.numbers: dict[str, int] = numbers  # prefix -> last sequence used
        self.center_draw = Weighted({c: self._weight(c) for c in ref.centers})
        self.persons: dict[int | None, list[tuple[int, str, str]]] = defaultdict(list)  # town -> (id, name, phone)
        self.orgs: dict[int | None, list[tuple[int, str, str]]] = defaultdict(list)
        self.towns = [c for c in ref.centers if c.tier == Tier.TOWN]
        self.town_draw = Weighted({c: self._weight(c) for c in self.towns})
        self.counts: dict[str, int] = defaultdict(int)

    def _weight(self, center: CenterRef) -> int:
        if center.tier == Tier.DISTRICT:
            return 60
        if center.tier == Tier.TOWN:
            return TOWN_WEIGHTS.get(center.name.removesuffix("便民服务中心"), 8)
        if center.name in FEATURED_VILLAGES:
            return FEATURED_VILLAGES[center.name]
        return 8 if center.agents else 3

    def received_dates(self, count: int) -> list[dt.date]:
        """Working days over the last three years, more of them recently (the service has grown)."""
        first = window_start(self.today)
        days = self.cal.between(first, self.today)
        span = len(days)
        out = []
        rng = self.rng
        for _ in range(count):
            # A third of the load grows linearly towards today: twice as many cases now as three years ago.
            position = span - 1 - int(span * (1 - rng.random() ** 0.5)) if rng.random() < 1 / 3 else rng.randrange(span)
            out.append(days[min(max(position, 0), span - 1)])
        out.sort()
        return out

    # -- one case ----------------------------------------------------------------------------------
    def _number(self, center: CenterRef, day: dt.date) -> str:
        prefix = f"CN-{center.letter}-{day:%Y%m%d}-"
        seq = self.numbers.get(prefix, 0) + 1
        if seq > MAX_SEQUENCE:
            raise BulkSeedError(f"{prefix}的案件编号已用完(每级每日最多{MAX_SEQUENCE}件)，请减少件数。")
        self.numbers[prefix] = seq
        return f"{prefix}{seq:04d}"

    def _status(self, mode: str, age: int) -> Status:
        table = DELEGATED_WEIGHTS if mode == Mode.DELEGATED else ASSISTED_WEIGHTS
        return next(_pick(self.rng, weights) for limit, weights in table if age <= limit)

    def _applicant(self, rows: Rows, ids: Ids, center: CenterRef, want_org: bool) -> tuple[int, str, str]:
        rng = self.rng
        town = center.town_id
        if town is None:
            town = self.town_draw.draw(rng).id
        pool = (self.orgs if want_org else self.persons)[town]
        if pool and rng.random() >= NEW_APPLICANT_SHARE:
            return rng.choice(pool)
        town_name = self.ref.by_id[town].name.removesuffix("便民服务中心")
        applicant_id = ids.take("applicant")
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        lane = rng.choice(ADDRESS_LANES).format(a=rng.randint(1, 12), b=rng.randint(1, 40))
        row = {
            "id": applicant_id,
            "center_id": center.id,
            "phone": phone,
            "address": f"汕头市潮南区{town_name}{lane}",
        }
        surname = _SURNAME_DRAW.draw(rng)
        if want_org:
            word = rng.choice(ORG_WORDS)
            kind, prefix = rng.choice(ORG_KINDS)
            name = f"汕头市潮南区{town_name.removesuffix('街道').removesuffix('镇')}{word}{kind}"
            legal = surname + rng.choice(MALE_NAMES)
            row.update(
                kind=ApplicantKind.ORGANIZATION.value,
                name=name,
                credit_code=_credit_code(rng, prefix),
                legal_representative=legal,
                contact_name=legal,
                contact_phone=phone,
                contact_title="经办人",
            )
        else:
            gender = rng.choice((Gender.MALE.value, Gender.FEMALE.value))
            birth = dt.date(rng.randint(1938, 2006), rng.randint(1, 12), rng.randint(1, 28))
            name = surname + rng.choice(MALE_NAMES if gender == Gender.MALE else FEMALE_NAMES)
            elderly = birth.year <= self.today.year - 60
            row.update(
                kind=ApplicantKind.PERSON.value,
                name=name,
                gender=gender,
                id_type=IdType.RESIDENT_ID.value,
                id_number=_id_number(rng, birth, gender),
                is_elderly=elderly,
                is_disabled=rng.random() < 0.05,
                has_limited_mobility=elderly and rng.random() < 0.2,
            )
        rows.add("applicant", row)
        entry = (applicant_id, name, phone)
        pool.append(entry)
        return entry

    def _items(self, center: CenterRef, org: bool, parent: CenterRef | None) -> list[ItemRef]:
        allowed = ("org", "company", "sole", "any") if org else ("person", "any")
        usable = [i for i in center.items if i.audience in allowed]
        if parent is not None:
            stationed = {i.id for i in parent.items}
            usable = [i for i in usable if i.id in stationed]
        if not usable:
            return []
        count = 2 if len(usable) >= 2 and self.rng.random() < 0.18 else 1
        return sorted(self.rng.sample(usable, count), key=lambda i: i.id)

    def case(self, rows: Rows, ids: Ids, received: dt.date) -> None:
        """Draw one case received on `received` and add all its rows."""
        rng, cal, today = self.rng, self.cal, self.today
        origin = self.center_draw.draw(rng)
        mode_key = origin.tier if origin.agents or origin.tier != Tier.VILLAGE else "village_without_agent"
        mode = _pick(rng, MODE_WEIGHTS[mode_key]).value
        delegated = mode == Mode.DELEGATED
        status = self._status(mode, (today - received).days)
        parent = self.ref.by_id.get(origin.parent_id) if origin.parent_id else None
        handed = parent is not None and parent.items and rng.random() < HANDOFF_SHARE / 0.88
        if handed and status == Status.REJECTED:
            handed = False  # refused at the counter that received it
        want_org = origin.tier != Tier.VILLAGE and mode != Mode.DOOR_TO_DOOR and rng.random() < ORGANIZATION_SHARE
        items = self._items(origin, want_org, parent if handed else None)
        if not items and want_org:
            want_org = False
            items = self._items(origin, False, parent if handed else None)
        if not items:
            handed = False
            items = self._items(origin, want_org, None)
        center = parent if handed else origin
        applicant_id, applicant_name, applicant_phone = self._applicant(rows, ids, origin, want_org)
        agent = rng.choice(center.agents) if center.agents else None
        if delegated and agent is None and status not in (Status.SUBMITTED, Status.REJECTED):
            status = Status.SUBMITTED  # nobody there to accept it yet (the accept guard wants an agent)
        case_id = ids.take("case")
        number = self._number(origin, received)
        days = max(i.days for i in items)
        item_names = "、".join(i.name for i in items)
        self.counts["case_" + status.value] += 1

        # When each step happened: registration on the receipt day, the rest on later working days.
        registered_at = _office(rng, received, 30, 300)
        if received == today:
            registered_at = min(registered_at, self.now - dt.timedelta(minutes=30))
        handoff_day = cal.add(received, rng.randint(0, 1)) if handed else None
        start_day = received
        if delegated and status not in (Status.SUBMITTED, Status.REJECTED):
            start_day = cal.add(received, rng.randint(0, 1))
        if handoff_day is not None:
            handoff_day = min(handoff_day, today)
            start_day = max(start_day, handoff_day)
        start_day = min(start_day, today)
        closed = None
        if status in (Status.COMPLETED, Status.ARCHIVED):
            spent = rng.randint(days // 3, days) if rng.random() < 0.9 else days + rng.randint(1, 5)
            closed = cal.add(start_day, spent) if spent else start_day
        elif status == Status.TERMINATED:
            closed = cal.add(start_day, rng.randint(2, days + 5))
        elif status == Status.REJECTED:
            closed = cal.add(received, rng.randint(0, 2)) if rng.random() < 0.7 else received
        if closed is not None:
            closed = min(closed, today)
        if status == Status.ARCHIVED and closed is not None and (today - closed).days < 8:
            status = Status.COMPLETED  # archived only once the evaluation window has passed
        promised = assumed = None
        if status not in (Status.SUBMITTED, Status.REJECTED):
            promised, assumed = cal.deadline(start_day, days)

        row = {
            "id": case_id,
            "number": number,
            "center_id": center.id,
            "origin_center_id": origin.id,
            "mode": mode,
            "status": status.value,
            "applicant_id": applicant_id,
            "applicant_name": applicant_name,
            "agent_id": agent[0] if agent else None,
            "received_date": received,
            "promised_date": promised,
            "promised_assumed": bool(assumed),
            "closed_date": closed,
            "created_at": registered_at,
        }
        who = "委托人" if delegated else "申请人"
        summary = f"{label(Mode(mode))}：为{who}{applicant_name}办理{item_names}"
        if mode == Mode.REMOTE:
            row["remote_channel"] = _pick(rng, REMOTE_CHANNELS).value
            if rng.random() < 0.5:
                row["tracking_in"] = f"EMS11{rng.randrange(10**11):011d}"
        elif mode == Mode.DOOR_TO_DOOR:
            row["visit_address"] = "上门地址：" + applicant_name + "家中"
            visit_day = min(cal.add(received, rng.randint(0, 2)), closed or today)
            # The appointment is Beijing wall-clock time (models/case.py).
            row["visit_at"] = dt.datetime.combine(visit_day, dt.time(rng.randint(9, 16), rng.choice((0, 30))))
        elif delegated:
            row["delegation_scope"] = _pick(rng, DELEGATION_SCOPES).value

        author = agent[1] if agent else center.actor[3]
        logs: list[tuple[dt.datetime, str, int | None]] = []  # (at, content, department)
        initial = "待受理" if delegated else "已登记"
        logs.append(
            (registered_at, f"登记：{origin.name}登记{label(Mode(mode))}（{initial}），申请事项：{item_names}", None)
        )
        clock = [registered_at]

        def at(day: dt.date) -> dt.datetime:
            moment = max(_office(rng, day), clock[0] + dt.timedelta(minutes=5))
            moment = min(moment, self.now - dt.timedelta(minutes=1))
            clock[0] = moment
            return moment

        if handoff_day is not None:
            when = at(handoff_day)
            logs.append((when, f"转办上级：由{origin.name}转办至{center.name}：{HANDOFF_REASON}", None))
            rows.add(
                "case_handoff",
                {
                    "id": ids.take("case_handoff"),
                    "case_id": case_id,
                    "at": when,
                    "from_center_id": origin.id,
                    "to_center_id": center.id,
                    "reason": HANDOFF_REASON,
                    "author": origin.actor[3][:32],
                },
            )
        department = items[0].department_id
        if delegated and status not in (Status.SUBMITTED, Status.REJECTED):
            row.update(application_confirmed=True, undertaking_confirmed=True, agreement_signed=True)
            logs.append(
                (
                    at(start_day),
                    f"受理：申请表、承诺书已确认，委托协议已签订；代办员{author}承办，承诺{promised}前办结",
                    None,
                )
            )
        if status == Status.SUBMITTED:
            logs.append((at(received), "收取申请材料，一次性告知所需材料清单，待审查受理", None))
        elif status == Status.REGISTERED:
            logs.append((at(received), PROGRESS_TEMPLATES[Mode(mode)][0].format(item=items[0].name, dept="部门"), None))
        elif status == Status.REJECTED:
            reason = rng.choice(REJECTIONS).format(item=items[0].name)
            row["rejection_reason"] = reason
            summary += f"；经审查，{reason}，不予受理"
            logs.append((at(closed), f"不予受理：{reason}", None))
        if status in (Status.IN_PROGRESS, Status.SUSPENDED, Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED):
            if not (status == Status.TERMINATED and rng.random() < 0.5):
                logs.append((at(start_day), f"开始办理：{author}接手办理", department))
        if status == Status.SUSPENDED:
            suspended = min(cal.add(start_day, rng.randint(1, max(days // 2, 1))), today)
            reason = f"等待申请人补正{(items[0].materials or (('材料', '', 1),))[0][0]}"
            row.update(suspended_on=suspended, suspension_reason=reason)
            logs.append((at(suspended), f"中止：{reason}(计时暂停)", None))
        return_method = note = None
        originals = delegated and any(m[1] == MaterialForm.ORIGINAL for i in items for m in i.materials)
        if status in (Status.COMPLETED, Status.ARCHIVED):
            result = "；".join(f"{i.name}已办结" for i in items)[:200]
            delivery = ResultDelivery.WINDOW if mode == Mode.ON_SITE else _pick(rng, DELIVERIES)
            if delivery == ResultDelivery.AGENT and agent is None:
                delivery = ResultDelivery.WINDOW
            row.update(completion_result=result, result_delivery=delivery.value)
            detail = f"{result}；{label(delivery)}"
            if delivery == ResultDelivery.POST:
                row["tracking_out"] = f"EMS11{rng.randrange(10**11):011d}"
                row["delivery_address"] = "邮寄至申请人登记地址"
                detail += f"（运单号{row['tracking_out']}）"
            if delegated:
                return_method = (
                    (ReturnMethod.POST if delivery == ResultDelivery.POST else ReturnMethod.IN_PERSON)
                    if originals
                    else ReturnMethod.NONE_HELD
                )
                detail += f"；原件{label(return_method)}"
                row.update(
                    completion_signed=True,
                    handover_note=f"向{who}{applicant_name}移交办理结果，逐项核对后签收",
                )
            recorded = at(closed)
            row["result_recorded_at"] = recorded
            logs.append((recorded, f"登记办理结果：{detail}", department))
            signed = "申请人已在办结单签字确认；" if delegated else ""
            logs.append((at(closed), f"确认办结：{signed}{result}", None))
        elif status == Status.TERMINATED:
            reason = _pick(rng, TERMINATION_WEIGHTS)
            words = TERMINATIONS[reason][1].format(dept="审批部门", item=items[0].name)
            unreachable = reason == TerminationReason.MATERIALS_NOT_SUPPLIED
            if unreachable:
                return_method = ReturnMethod.UNREACHABLE
                note = "多次电话联系委托人未果，材料由本机构登记保管，委托人可凭有效证件领取"
            else:
                return_method = ReturnMethod.IN_PERSON if originals else ReturnMethod.NONE_HELD
            recorded = at(closed)
            row.update(
                termination_reason=reason.value,
                termination_text=words,
                termination_recorded_at=recorded,
                termination_signed=not unreachable,
            )
            summary += f"；{label(reason)}，已终止委托"
            head = f"{label(reason)}：{words}"
            logs.append((recorded, f"登记终止：{head}；原件{label(return_method)}", None))
            tail = (
                f"委托人无法联系，终止委托单未经签收，原件由{center.name}保管"
                if unreachable
                else "委托人已签收终止委托单"
            )
            logs.append((at(closed), f"确认终止：{head}；{tail}", None))
        if return_method is not None:
            row.update(materials_return_method=return_method.value, materials_return_note=note)
        closed_at = logs[-1][0] if closed is not None else None

        # The evaluation link is issued at completion or termination; most applicants rate within a week.
        evaluated_at = None
        if status in CLOSED_BY_LINK:
            link_id = ids.take("evaluation_link")
            link = {
                "id": link_id,
                "case_id": case_id,
                "nonce": f"{rng.getrandbits(128):032x}",
                "created_at": closed_at,
                "expires_at": closed_at + dt.timedelta(days=LINK_VALID_DAYS),
                "used_at": None,
            }
            rows.add("evaluation_link", link)
            if row.get("materials_return_method") != ReturnMethod.UNREACHABLE and rng.random() < EVALUATED_SHARE:
                evaluated_at = min(closed_at + dt.timedelta(hours=rng.randint(2, 6 * 24)), self.now)
                self._evaluation(
                    rows, ids, case_id, number, center, evaluated_at, link, applicant_name, applicant_phone
                )
        if status == Status.ARCHIVED:
            base = evaluated_at + dt.timedelta(days=1) if evaluated_at else closed_at + dt.timedelta(days=8)
            logs.append((min(max(base, clock[0]), self.now), "归档：案卷整理归档(一件一档)", None))
        if rng.random() < COMPLAINT_SHARE:
            self._complaint(rows, ids, case_id, center, received, applicant_name, applicant_phone)

        # At most five entries: a long story drops its "开始办理" line (the status says it anyway);
        # only a handed-off, archived delegated case keeps six.
        if len(logs) > 5:
            logs = [entry for entry in logs if not entry[1].startswith("开始办理")]
        row["summary"] = summary
        row["updated_at"] = logs[-1][0]
        row["version"] = len(logs)
        rows.add("case", row)
        for item in items:
            rows.add("case_item", {"case_id": case_id, "item_id": item.id})
            if item.fee and status in (Status.IN_PROGRESS, Status.COMPLETED, Status.ARCHIVED):
                rows.add(
                    "case_fee",
                    {
                        "id": ids.take("case_fee"),
                        "case_id": case_id,
                        "item_id": item.id,
                        "amount": item.fee,
                        "legal_basis": item.fee_basis[:200] or "按规定收取",
                        "paid_by_applicant": True,
                    },
                )
        agent_id = agent[0] if agent else None
        for when, content, dept in logs:
            rows.add(
                "case_log",
                {
                    "id": ids.take("case_log"),
                    "case_id": case_id,
                    "at": when,
                    "agent_id": agent_id,
                    "department_id": dept,
                    "content": content,
                    "author": author[:32],
                },
            )
        if delegated:
            self._materials(rows, ids, case_id, items, status, row, closed, center)
        self._audit(rows, case_id, row, origin)

    def _materials(self, rows, ids, case_id, items, status, case_row, closed, center) -> None:
        seen = set()
        unreachable = case_row.get("materials_return_method") == ReturnMethod.UNREACHABLE
        for item in items:
            for name, form, copies in item.materials:
                if (name, form) in seen:
                    continue
                seen.add((name, form))
                original = form == MaterialForm.ORIGINAL
                material = {
                    "id": ids.take("case_material"),
                    "case_id": case_id,
                    "name": name,
                    "form": form,
                    "copies": copies,
                    "received": status != Status.SUBMITTED,
                    "custody": "" if status == Status.SUBMITTED else "代办员保管",
                    "returned": False,
                    "returned_date": None,
                }
                if status == Status.REJECTED:
                    material["custody"] = "已退还委托人签收"
                elif unreachable:
                    material["custody"] = f"无法联系委托人，由{center.name}保管"
                elif status in (Status.COMPLETED, Status.ARCHIVED, Status.TERMINATED) and original:
                    material.update(custody="已退还申请人签收", returned=True, returned_date=closed)
                elif status in (Status.COMPLETED, Status.ARCHIVED, Status.TERMINATED):
                    material["custody"] = "已随申请提交审批部门"
                rows.add("case_material", material)

    def _evaluation(self, rows, ids, case_id, number, center, when, link, name, phone) -> None:
        rng = self.rng
        channel = _pick(rng, EVALUATION_CHANNELS)
        evaluation_id = ids.take("evaluation")
        scores = {key: 5 if rng.random() < 0.7 else 4 for key in _RATING_KEYS}
        asked = False
        comment = rng.choice(GOOD_COMMENTS) if rng.random() < 0.4 else ""
        bad = rng.random() < BAD_REVIEW_SHARE
        if bad:
            theme = rng.choice(BAD_REVIEWS)
            low = rng.choice((1, 2))
            scores.update(overall=low, **{theme[1]: low})
            comment = theme[0]
            if rng.random() < 0.1:
                asked, scores["overall"], scores["integrity"] = True, 3, 1
                comment = "代办员暗示办好了要请喝茶"
        else:
            scores["overall"] = max(scores["overall"], 3)
        admin = self.ref.responsible_admin(center)
        paper = channel == EvaluationChannel.PAPER
        rows.add(
            "evaluation",
            {
                "id": evaluation_id,
                "case_id": case_id,
                **scores,
                "asked_for_anything": asked,
                "comment": comment,
                "channel": channel.value,
                "consent_callback": rng.random() < 0.6,
                "evaluator_name": name[:32],
                "evaluator_phone": phone,
                "created_at": when,
                "entered_by_id": admin if paper else None,
                "paper_ref": f"PJ-{number}" if paper else None,
                "counted": True,
            },
        )
        if channel == EvaluationChannel.LINK:
            link["used_at"] = when
        self.counts["evaluation_bad" if bad else "evaluation_good"] += 1
        if bad:
            self._followup(rows, ids, case_id, admin, when, evaluation_id=evaluation_id)

    def _followup(self, rows, ids, case_id, admin, when, evaluation_id=None, complaint_id=None) -> None:
        rng, cal = self.rng, self.cal
        opened = (when + dt.timedelta(hours=8)).date()  # the Beijing day of the bad review
        due = cal.add(opened, DEFAULT_FOLLOWUP_WORKING_DAYS)
        row = {
            "id": ids.take("followup"),
            "case_id": case_id,
            "evaluation_id": evaluation_id,
            "complaint_id": complaint_id,
            "assignee_id": admin,
            "due_date": due,
            "appeal_outcome": "none",
        }
        steps = ["open", "called_back", "rectified", "feedback_given", "closed"]
        if due >= self.today:
            reached = rng.choice(steps[:4])
        elif rng.random() < STUCK_FOLLOWUP_SHARE:
            reached = rng.choice(steps[:4])  # past its due date and still open: overdue supervision
        else:
            reached = "closed"
        depth = steps.index(reached)
        days = cal.between(opened + dt.timedelta(days=1), min(due, self.today))
        if depth >= 1:
            row["callback_at"] = min(_office(rng, days[0] if days else opened), self.now)
            row["callback_by"] = "回访专员"
            row["callback_record"] = "已电话回访评价人，核实反映情况"
        if depth >= 2:
            row["rectification"] = "对承办人员进行提醒谈话，纳入月度考核"
        if depth >= 3:
            row["feedback"] = "已向评价人反馈处理结果"
        if depth == 4:
            row["closed_date"] = rng.choice(days) if days else opened
        row["status"] = FollowUpStatus(reached).value
        self.counts["followup_" + reached] += 1
        rows.add("followup", row)

    def _complaint(self, rows, ids, case_id, center, received, name, phone) -> None:
        rng = self.rng
        channel = _pick(rng, COMPLAINT_CHANNELS)
        day = min(received + dt.timedelta(days=rng.randint(1, 40)), self.today)
        when = min(_office(rng, day), self.now)
        complaint_id = ids.take("complaint")
        admin = self.ref.responsible_admin(center)
        reference = None
        if channel == ComplaintChannel.HOTLINE_12345:
            reference = f"GD12345-{day:%Y%m%d}{rng.randrange(10**5):05d}"
        elif channel == ComplaintChannel.HAOCHAPING:
            reference = f"HCP{day:%Y%m%d}{rng.randrange(10**6):06d}"
        rows.add(
            "complaint",
            {
                "id": complaint_id,
                "case_id": case_id,
                "channel": channel.value,
                "received_at": when,
                "complainant_name": name[:32],
                "complainant_phone": phone,
                "content": rng.choice(COMPLAINT_TEXTS),
                "reference": reference,
                "entered_by_id": admin,
                "created_at": when,
                "version": 1,
            },
        )
        self._followup(rows, ids, case_id, admin, when, complaint_id=complaint_id)

    def _audit(self, rows: Rows, case_id: int, case: dict, origin: CenterRef) -> None:
        """One audit row per case, its registration (a create row, as audit._after_flush writes one)."""
        changes = {
            "number": case["number"],
            "center_id": case["origin_center_id"],
            "origin_center_id": case["origin_center_id"],
            "mode": case["mode"],
            "applicant_id": case["applicant_id"],
            "applicant_name": case["applicant_name"],
            "received_date": case["received_date"].isoformat(),
        }
        user_id, username, role, _name = origin.actor
        rows.add(
            "audit_log",
            {
                # Whole seconds: the stored value reads back identically on both backends.
                "at": case["created_at"].replace(microsecond=0),
                "user_id": user_id,
                "username": username,
                "role": role,
                "event": audit.AuditEvent.CREATE.value,
                "object_type": "case",
                "object_id": str(case_id),
                "summary": case["number"],
                "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True),
                "ip": "",
            },
        )


_SURNAME_DRAW = Weighted(SURNAMES)
_RATING_KEYS = ("overall", "attitude", "efficiency", "competence", "communication", "integrity")


# --- writing --------------------------------------------------------------------------------------
TABLES: list[Table] = [
    Applicant.__table__,
    Case.__table__,
    case_item,
    CaseHandoff.__table__,
    CaseLog.__table__,
    CaseMaterial.__table__,
    CaseFee.__table__,
    EvaluationLink.__table__,
    Evaluation.__table__,
    Complaint.__table__,
    FollowUp.__table__,
    AuditLog.__table__,
]
LABELS = {
    "applicant": "申请人",
    "case": "案件",
    "case_item": "案件事项",
    "case_handoff": "转办记录",
    "case_log": "办理过程",
    "case_material": "申请材料",
    "case_fee": "法定收费",
    "evaluation_link": "评价链接",
    "evaluation": "评价",
    "complaint": "投诉",
    "followup": "回访工单",
    "audit_log": "审计日志",
}


def _defaults(table: Table) -> dict[str, object]:
    """Every column's value when a row does not name it: the model's scalar default, else NULL.

    COPY and executemany both need every row to carry the same columns; the models' Python-side
    defaults (False flags, version 1, empty strings) are what the ORM would have written.
    """
    base: dict[str, object] = {}
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            base[column.name] = default.arg
        elif column.server_default is not None and str(column.server_default.arg) in ("false", "true", "1", ""):
            base[column.name] = {"false": False, "true": True, "1": 1, "": ""}[str(column.server_default.arg)]
        else:
            base[column.name] = None
    return base


def _sqlite_value(column) -> Callable[[object], object] | None:
    """How SQLAlchemy's SQLite dialect stores a column's Python value (its storage formats), or None to pass it as is.

    The SQLite path hands tuples to the driver directly: SQLAlchemy's per-value processing cost
    more than the inserts themselves. The formats are those SQLAlchemy writes and reads back.
    """
    kind = column.type
    if isinstance(kind, DateTime):
        return lambda v: None if v is None else v.isoformat(" ", "microseconds")
    if isinstance(kind, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    if isinstance(kind, Numeric):
        return lambda v: None if v is None else float(v)
    return None


def _row_reader(table: Table, convert: bool) -> Callable[[dict], tuple]:
    """A function turning a row dict into the table's column tuple, defaults and conversions inlined.

    Built as one lambda expression per table (as collections.namedtuple builds its classes): a
    Python loop over forty columns per row was a third of the SQLite load's time.
    """
    env: dict[str, object] = {}
    parts = []
    for n, (name, default) in enumerate(_defaults(table).items()):
        env[f"d{n}"] = default
        expr = f"row.get({name!r}, d{n})"
        converter = _sqlite_value(table.c[name]) if convert else None
        if converter is not None:
            env[f"f{n}"] = converter
            expr = f"f{n}({expr})"
        parts.append(expr)
    return eval(f"lambda row: ({', '.join(parts)},)", env)


class Writer:
    """Writes one chunk's rows: COPY on PostgreSQL, the driver's executemany on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.readers = {t.name: _row_reader(t, convert=not self.postgres) for t in TABLES}
        self.elapsed: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def write(self, table: Table, rows: list[dict]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        columns = [c.name for c in table.columns]
        names = ", ".join(f'"{c}"' for c in columns)
        reader = self.readers[table.name]
        driver = self.conn.connection.driver_connection
        if self.postgres:
            with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(reader(row))
        else:
            marks = ", ".join("?" * len(columns))
            driver.cursor().executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', map(reader, rows))
        self.elapsed[table.name] += time.perf_counter() - started
        self.counts[table.name] += len(rows)


@contextlib.contextmanager
def indexes_set_aside(conn: Connection, echo: Callable[[str], None]) -> Iterator[None]:
    """Drop the loaded tables' non-unique indexes (and SQLite's FTS triggers) for the load, then restore them.

    Building an index over a finished table is one sort; keeping seventeen indexes on `case`, and
    the trigram indexes (pg_trgm GIN, SQLite FTS5), current row by row costs several times more.
    The DDL is read back from the catalogue (pg_indexes, sqlite_master) and replayed verbatim, so
    the schema afterwards is the migrations' own; SQLite's FTS tables are rebuilt from their
    content tables. Unique indexes stay: they still catch a duplicate case number during the load.
    Restored even when the load fails.
    """
    params = {"tables": [t.name for t in TABLES], "unique": "CREATE UNIQUE%"}
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN :tables AND indexdef NOT LIKE :unique ORDER BY indexname"
        )
    else:
        query = text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
            "AND tbl_name IN :tables AND sql NOT LIKE :unique ORDER BY type, name"
        )
    saved = conn.execute(query.bindparams(bindparam("tables", expanding=True)), params).all()
    fts = sorted(
        {name.rsplit("_", 1)[0] for kind, name, _sql in saved if kind == "trigger" and name.startswith("fts_")}
    )
    for kind, name, _sql in saved:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    conn.commit()
    try:
        yield
    finally:
        tick = time.perf_counter()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for _kind, _name, sql in saved:
            conn.exec_driver_sql(sql)
        for table in fts:
            conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
        conn.commit()
        indexes = sum(kind == "index" for kind, _name, _sql in saved)
        echo(f"  重建索引 {indexes} 个、全文索引 {len(fts)} 个：{time.perf_counter() - tick:.1f} 秒")


def _chain(conn: Connection, rows: list[dict], key: bytes, first_id: int) -> None:
    """Link the chunk's audit rows onto the chain exactly as audit._append_chain does, head in step."""
    head = AuditHead.__table__
    locked = conn.execute(update(head).where(head.c.id == 1).values(row_count=head.c.row_count))
    if locked.rowcount == 0:
        conn.execute(head.insert().values(id=1, row_count=0, last_hash=GENESIS_HASH))
    prev = conn.execute(select(head.c.last_hash).where(head.c.id == 1)).scalar_one()
    for offset, row in enumerate(rows):
        row["id"] = first_id + offset
        row["prev_hash"] = prev
        row["hash"] = prev = audit.row_hash(prev, row, key)
    conn.execute(update(head).where(head.c.id == 1).values(row_count=head.c.row_count + len(rows), last_hash=prev))


def _last_numbers(conn: Connection) -> dict[str, int]:
    """The last sequence used per tier-day prefix, so bulk numbers continue after the existing ones."""
    numbers: dict[str, int] = {}
    table = Case.__table__
    prefix = func.substr(table.c.number, 1, len("CN-Q-20260101-"))
    for head, last in conn.execute(select(prefix, func.max(table.c.number)).group_by(prefix)):
        tail = last.rsplit("-", 1)[-1]
        if tail.isascii() and tail.isdigit():
            numbers[head] = int(tail)
    return numbers


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: the id sequences continue after the ids the bulk rows brought with them."""
    for table in TABLES:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )


def seed_bulk(
    session: Session, count: int, key: bytes, echo: Callable[[str], None] = print, seed: int | None = None
) -> dict[str, int]:
    """Add `count` bulk cases with everything that hangs off them; returns rows written per table."""
    if count < 1:
        raise BulkSeedError("件数须为正整数")
    today = today_beijing()
    now = utcnow().replace(microsecond=0)
    ref = load_reference(session)
    calendar = WorkCalendar(session, window_start(today) - dt.timedelta(days=10), today + dt.timedelta(days=800))
    session.commit()
    engine = session.get_bind()
    started = time.perf_counter()
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # A bigger page cache keeps the indexes' hot pages in memory during the load.
            conn.exec_driver_sql("PRAGMA cache_size = -400000")
        existing = conn.scalar(select(func.count()).select_from(Case.__table__)) or 0
        rng = FastRandom(seed if seed is not None else 20261207 + existing)
        planner = Planner(rng, ref, calendar, today, now, _last_numbers(conn))
        skip_fk_triggers = conn.dialect.name == "postgresql" and bool(
            conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        )
        conn.commit()
        days = planner.received_dates(count)
        # Worth it when the load is a good part of the table; a small top-up keeps the indexes.
        large = count * 2 >= existing
        set_aside = indexes_set_aside(conn, echo) if large else contextlib.nullcontext()
        with set_aside:
            writer = Writer(conn)
            generating = 0.0
            keyed = [t for t in TABLES if "id" in t.c and t.c.id.primary_key]
            for first in range(0, count, CHUNK):
                with conn.begin():
                    if skip_fk_triggers:
                        # PostgreSQL checks each foreign key with a trigger query per row: half the
                        # load's time. The rows are consistent by construction (their parents are
                        # read from the database or written in this chunk first; SQLite, which
                        # checks every key, loads the same rows), so the checks are skipped for the
                        # chunk's transaction; this needs a superuser, otherwise they run.
                        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                    tick = time.perf_counter()
                    ids = Ids(conn, keyed)
                    rows = Rows()
                    for day in days[first : first + CHUNK]:
                        planner.case(rows, ids, day)
                    generating += time.perf_counter() - tick
                    tick = time.perf_counter()
                    _chain(conn, rows.tables["audit_log"], key, ids.next["audit_log"])
                    writer.elapsed["audit_log"] += time.perf_counter() - tick
                    for table in TABLES:
                        writer.write(table, rows.tables.get(table.name, []))
                    if writer.postgres:
                        _reset_sequences(conn)
                done = min(first + CHUNK, count)
                echo(f"  已写入 {done:,}/{count:,} 件，累计 {time.perf_counter() - started:.1f} 秒")
        # The scope's derived keys, as the app's listeners would have written them row by row.
        tick = time.perf_counter()
        with conn.begin():
            refresh_derived(conn)
        echo(
            f"  范围键与计数(申请人—机构表、评价/回访/投诉/延期上的机构、案件计数表)：{time.perf_counter() - tick:.1f} 秒"
        )
        echo(f"生成数据(Python)：{generating:.1f} 秒")
        for table in TABLES:
            name = table.name
            echo(f"  {LABELS[name]}({name})：{writer.counts[name]:,} 行，写入 {writer.elapsed[name]:.1f} 秒")
        # Fresh statistics (and on PostgreSQL the visibility map, for index-only scans) as a DBA
        # would leave them after a bulk load; the planner otherwise guesses at a million rows.
        tick = time.perf_counter()
        if writer.postgres:
            vacuum = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in [table.name for table in TABLES] + ["applicant_center", "case_tally"]:
                vacuum.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')
            echo(f"  VACUUM ANALYZE：{time.perf_counter() - tick:.1f} 秒")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            echo(f"  ANALYZE：{time.perf_counter() - tick:.1f} 秒")
    echo(f"共用时 {time.perf_counter() - started:.1f} 秒")
    return {name: writer.counts[name] for name in LABELS} | dict(planner.counts)
