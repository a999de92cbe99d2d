"""The demo data set planned as plain data (no database): centers, agents, applicants, drawn from fixed-seed generators."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from lifecycle.deadlines import is_workday
from models.enums import AppealOutcome, ApplicantKind, Gender, TerminationReason, Tier
from models.identifiers import credit_check_char, id_check_char
from seed.data.cases import REFERENCE_DATE
from seed.data.items import ITEMS, TIER_RANK, ItemSpec
from seed.data.people import (
    ADDRESS_LANES,
    AGENT_POSTS,
    CONTACT_TITLES,
    FEMALE_ELDER_NAMES,
    FEMALE_NAMES,
    INACTIVE_STAFF_NOS,
    MALE_ELDER_NAMES,
    MALE_NAMES,
    MOBILE_PREFIXES,
    ORGANIZATIONS,
    SURNAMES,
    TRAINING_HOURS,
    TRAINING_TOPICS,
)
from seed.data.places import (
    DISTRICT_ADDRESS,
    DISTRICT_CENTER_NAME,
    DISTRICT_HOTLINE,
    FEATURED_VILLAGES,
    TOWN_WEIGHTS,
    TOWNS,
)

# GB 32100 credit-code characters, and the GB 11714 weights of the organization code inside it.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


# ---------------------------------------------------------------------------------------------
# Plan data structures (pure data, built deterministically before touching the database)
# ---------------------------------------------------------------------------------------------


@dataclass
class CenterSpec:
    name: str
    tier: str
    parent: str | None
    town: str | None
    address: str
    phone: str
    hotline: str
    village: str = ""  # village name with its 社区/村 suffix, for village stations


@dataclass
class AgentSpec:
    staff_no: str
    name: str
    center: str
    phone: str
    active: bool
    items: list[str]
    trainings: list[tuple[dt.date, str, str]]


@dataclass
class ApplicantSpec:
    key: str  # ID number or credit code
    kind: str
    name: str
    center: str
    town: str
    phone: str
    address: str
    gender: str | None = None
    is_elderly: bool = False
    is_disabled: bool = False
    is_pregnant: bool = False
    has_limited_mobility: bool = False
    legal_representative: str | None = None
    contact_name: str | None = None
    contact_id_number: str | None = None
    contact_phone: str | None = None
    contact_title: str | None = None

    @property
    def special(self) -> bool:
        return self.is_elderly or self.is_disabled or self.is_pregnant or self.has_limited_mobility

    @property
    def evaluator(self) -> tuple[str, str]:
        if self.kind == ApplicantKind.ORGANIZATION.value:
            return self.contact_name or "", self.contact_phone or ""
        return self.name, self.phone


@dataclass
class MaterialSpec:
    name: str
    form: str
    copies: int
    received: bool
    custody: str


@dataclass
class LogSpec:
    at: dt.datetime
    content: str
    department: str | None


@dataclass
class FollowUpSpec:
    status: str
    callback_at: dt.datetime | None = None
    callback_record: str | None = None
    rectification: str | None = None
    feedback: str | None = None
    appeal_outcome: str = AppealOutcome.NONE.value
    appeal_reason: str | None = None
    closed_date: dt.date | None = None


@dataclass
class EvaluationSpec:
    ratings: dict[str, int]
    asked_for_anything: bool
    comment: str
    channel: str
    consent_callback: bool
    evaluator_name: str
    evaluator_phone: str
    created_at: dt.datetime
    followup: FollowUpSpec | None = None


@dataclass
class CaseSpec:
    center: str
    mode: str
    status: str
    applicant: str
    agent: str | None
    items: list[str]
    received_date: dt.date
    fields: dict[str, object] = field(default_factory=dict)
    materials: list[MaterialSpec] = field(default_factory=list)
    logs: list[LogSpec] = field(default_factory=list)
    fees: list[str] = field(default_factory=list)
    evaluation: EvaluationSpec | None = None


@dataclass
class Plan:
    centers: list[CenterSpec]
    agents: list[AgentSpec]
    applicants: list[ApplicantSpec]
    cases: list[CaseSpec]


# ---------------------------------------------------------------------------------------------
# Small deterministic generators
# ---------------------------------------------------------------------------------------------


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def _landline(rng: random.Random) -> str:
    return f"0754-8{rng.randint(1_000_000, 9_999_999)}"


def _person_name(rng: random.Random, gender: str, birth_year: int) -> str:
    surname = rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]
    if gender == Gender.MALE.value:
        given = MALE_ELDER_NAMES if birth_year < 1960 else MALE_NAMES
    else:
        given = FEMALE_ELDER_NAMES if birth_year < 1960 else FEMALE_NAMES
    return surname + rng.choice(given)


def _birth_date(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    start = dt.date(first_year, 1, 1)
    span = (dt.date(last_year, 12, 31) - start).days
    return start + dt.timedelta(days=rng.randint(0, span))


def _id_number(rng: random.Random, birth: dt.date, gender: str) -> str:
    """A GB 11643 number with the address code a Chaonan resident of that age would carry."""
    if birth.year >= 2003:
        area = "440514"
    elif birth.year >= 1993:
        area = "440582"
    else:
        area = rng.choice(["440524", "440582"])
    parity = 1 if gender == Gender.MALE.value else 0
    sequence = rng.randint(0, 49) * 20 + rng.randrange(parity, 10, 2)
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def _credit_code(rng: random.Random, type_prefix: str) -> str:
    """A GB 32100 code whose embedded GB 11714 organization code also checks out."""
    body8 = "MA" + "".join(rng.choice(_CREDIT_ALPHABET) for _ in range(6))
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body8]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    body9 = body8 + {10: "X", 11: "0"}.get(check, str(check))
    first17 = f"{type_prefix}440514{body9}"
    return first17 + credit_check_char(first17)


def workday_on_or_before(day: dt.date) -> dt.date:
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def office_time(rng: random.Random, day: dt.date, earliest: int = 30, latest: int = 540) -> dt.datetime:
    """A naive UTC timestamp in office hours (08:30-17:00 Beijing time) on the given day."""
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=rng.randint(earliest, latest))


def is_unreachable(spec: CaseSpec) -> bool:
    """A termination for materials never supplied after calls that went unanswered: no signature possible."""
    return spec.fields.get("termination_reason") == TerminationReason.MATERIALS_NOT_SUPPLIED


def pick(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def stationed_codes(center: CenterSpec) -> list[str]:
    rank = TIER_RANK[center.tier]
    return [i.code for i in ITEMS if TIER_RANK[i.tier] <= rank]


def serves(item: ItemSpec, applicant: ApplicantSpec) -> bool:
    if item.audience == "any":
        return True
    if applicant.kind == ApplicantKind.PERSON.value:
        return item.audience == "person"
    if item.audience == "org":
        return True
    return item.audience == ("sole" if applicant.key.startswith("92") else "company")


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------


def plan_centers(rng: random.Random) -> list[CenterSpec]:
    district = CenterSpec(
        name=DISTRICT_CENTER_NAME,
        tier=Tier.DISTRICT.value,
        parent=None,
        town=None,
        address=DISTRICT_ADDRESS,
        phone=_landline(rng),
        hotline=DISTRICT_HOTLINE,
    )
    centers = [district]
    for town, _roads, villages in TOWNS:
        town_center = f"{town}便民服务中心"
        office = "办事处" if town.endswith("街道") else "人民政府"
        centers.append(
            CenterSpec(
                name=town_center,
                tier=Tier.TOWN.value,
                parent=DISTRICT_CENTER_NAME,
                town=town,
                address=f"汕头市潮南区{town}{office}一楼便民服务大厅",
                phone=_landline(rng),
                hotline="12345",
            )
        )
        for village, suffix in villages:
            place = "党群服务中心" if suffix == "社区" else "村委会"
            centers.append(
                CenterSpec(
                    name=f"{village}{suffix}便民服务站",
                    tier=Tier.VILLAGE.value,
                    parent=town_center,
                    town=town,
                    address=f"汕头市潮南区{town}{village}{suffix}{place}",
                    phone=_landline(rng),
                    hotline="12345",
                    village=village + suffix,
                )
            )
    return centers


def plan_agents(rng: random.Random, centers: dict[str, CenterSpec]) -> list[AgentSpec]:
    agents: list[AgentSpec] = []
    sample_size = {Tier.DISTRICT.value: (14, 18), Tier.TOWN.value: (10, 14), Tier.VILLAGE.value: (6, 8)}
    for center_name, count in AGENT_POSTS:
        center = centers[center_name]
        codes = stationed_codes(center)
        for _ in range(count):
            staff_no = f"CN{len(agents) + 1:04d}"
            gender = rng.choice([Gender.MALE.value, Gender.FEMALE.value])
            low, high = sample_size[center.tier]
            items = sorted(rng.sample(codes, min(len(codes), rng.randint(low, high))))
            trainings = []
            for topic in sorted(rng.sample(TRAINING_TOPICS, rng.randint(1, 3))):
                day = workday_on_or_before(dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 580)))
                trainings.append((day, topic, rng.choice(TRAINING_HOURS)))
            agents.append(
                AgentSpec(
                    staff_no=staff_no,
                    name=_person_name(rng, gender, rng.randint(1975, 1998)),
                    center=center_name,
                    phone=_mobile(rng),
                    active=staff_no not in INACTIVE_STAFF_NOS,
                    items=items,
                    trainings=trainings,
                )
            )
    return agents


def _address(rng: random.Random, town: str, village: str) -> str:
    roads = next(r for t, r, _v in TOWNS if t == town)
    if roads and rng.random() < 0.5:
        detail = f"{rng.choice(roads)}{rng.randint(1, 300)}号"
    else:
        detail = rng.choice(ADDRESS_LANES).format(a=rng.randint(1, 12), b=rng.randint(1, 40))
    return f"汕头市潮南区{town}{village}{detail}"


def plan_applicants(rng: random.Random, centers: list[CenterSpec]) -> list[ApplicantSpec]:
    villages_by_town: dict[str, list[CenterSpec]] = defaultdict(list)
    for center in centers:
        if center.tier == Tier.VILLAGE.value:
            villages_by_town[center.town].append(center)
    applicants: list[ApplicantSpec] = []
    seen: set[str] = set()
    for town, count in TOWN_WEIGHTS.items():
        villages = villages_by_town[town]
        village_weights = [FEATURED_VILLAGES.get(v.name, 10) // 10 + 1 for v in villages]
        made = 0
        while made < count:
            gender = rng.choice([Gender.MALE.value, Gender.FEMALE.value])
            birth = _birth_date(rng, 1940, 1962) if rng.random() < 0.3 else _birth_date(rng, 1963, 2005)
            id_number = _id_number(rng, birth, gender)
            if id_number in seen:
                continue
            seen.add(id_number)
            made += 1
            home = rng.choices(villages, weights=village_weights)[0]
            registered_at = home.name if rng.random() < 0.7 else f"{town}便民服务中心"
            elderly = birth <= REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 60)
            disabled = rng.random() < 0.07
            age = REFERENCE_DATE.year - birth.year
            applicants.append(
                ApplicantSpec(
                    key=id_number,
                    kind=ApplicantKind.PERSON.value,
                    name=_person_name(rng, gender, birth.year),
                    center=registered_at,
                    town=town,
                    phone=_mobile(rng),
                    address=_address(rng, town, home.village),
                    gender=gender,
                    is_elderly=elderly,
                    is_disabled=disabled,
                    is_pregnant=gender == Gender.FEMALE.value and 22 <= age <= 38 and rng.random() < 0.08,
                    has_limited_mobility=(birth.year < 1950 and rng.random() < 0.4)
                    or (disabled and rng.random() < 0.5),
                )
            )
    for name, town, type_prefix, detail in ORGANIZATIONS:
        code = _credit_code(rng, type_prefix)
        legal_gender = rng.choices([Gender.MALE.value, Gender.FEMALE.value], weights=[3, 1])[0]
        legal = _person_name(rng, legal_gender, rng.randint(1960, 1992))
        if type_prefix == "92":
            contact, title, contact_gender = legal, "经营者", legal_gender
        else:
            contact_gender = rng.choice([Gender.MALE.value, Gender.FEMALE.value])
            contact = _person_name(rng, contact_gender, rng.randint(1975, 2000))
            title = "理事长" if type_prefix == "93" else rng.choice(CONTACT_TITLES)
        contact_id = _id_number(rng, _birth_date(rng, 1965, 2000), contact_gender)
        contact_phone = _mobile(rng)
        applicants.append(
            ApplicantSpec(
                key=code,
                kind=ApplicantKind.ORGANIZATION.value,
                name=name,
                center=f"{town}便民服务中心",
                town=town,
                phone=_landline(rng) if rng.random() < 0.6 else contact_phone,
                address=f"汕头市潮南区{town}{detail}",
                legal_representative=legal,
                contact_name=contact,
                contact_id_number=contact_id,
                contact_phone=contact_phone,
                contact_title=title,
            )
        )
    return applicants
