"""The demo case load planned as plain data: each case's path, materials, progress log and evaluation."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict

from lifecycle.deadlines import add_working_days, is_workday
from lifecycle.transitions import ENDED
from models.enums import (
    AppealOutcome,
    ApplicantKind,
    DelegationScope,
    EvaluationChannel,
    FollowUpStatus,
    MaterialForm,
    Mode,
    RemoteChannel,
    ResultDelivery,
    Status,
    TerminationReason,
    Tier,
    label,
)
from models.time import to_beijing
from seed.data.cases import (
    ASKED_REVIEW,
    ASSISTED_STATUS_WEIGHTS,
    BAD_REVIEW_SHARE,
    BAD_REVIEWS,
    CASE_WINDOW_DAYS,
    CHECK_TEMPLATES,
    DELEGATED_STATUS_WEIGHTS,
    EVALUATED_SHARE,
    EVALUATED_STATUSES,
    GOOD_COMMENTS,
    MAX_LOGS,
    MISTAKEN_APPEAL,
    MODE_WEIGHTS,
    OLDER_FOLLOWUP_STATUSES,
    PROGRESS_TEMPLATES,
    REFERENCE_DATE,
    REJECTIONS,
    REMOTE_CHANNEL_TEXT,
    TERMINATIONS,
)
from seed.data.items import DEPARTMENTS, ITEMS, ItemSpec
from seed.data.places import FEATURED_VILLAGES, TOWN_WEIGHTS
from seed.plan import (
    AgentSpec,
    ApplicantSpec,
    CaseSpec,
    CenterSpec,
    EvaluationSpec,
    FollowUpSpec,
    LogSpec,
    MaterialSpec,
    is_unreachable,
    office_time,
    pick,
    serves,
    stationed_codes,
    workday_on_or_before,
)


class CasePlanner:
    """Draws the case list; all choices come from one fixed-seed generator."""

    def __init__(
        self, rng: random.Random, centers: list[CenterSpec], agents: list[AgentSpec], applicants: list[ApplicantSpec]
    ) -> None:
        self.rng = rng
        self.centers = centers
        self.items = {i.code: i for i in ITEMS}
        self.dept_short = {name: short for name, short, _c, _p in DEPARTMENTS}
        self.agents: dict[str, list[AgentSpec]] = defaultdict(list)
        for agent in agents:
            if agent.active:
                self.agents[agent.center].append(agent)
        self.persons_by_town: dict[str, list[ApplicantSpec]] = defaultdict(list)
        self.persons_by_center: dict[str, list[ApplicantSpec]] = defaultdict(list)
        self.orgs_by_town: dict[str, list[ApplicantSpec]] = defaultdict(list)
        self.persons = [a for a in applicants if a.kind == ApplicantKind.PERSON.value]
        self.orgs = [a for a in applicants if a.kind == ApplicantKind.ORGANIZATION.value]
        for a in self.persons:
            self.persons_by_town[a.town].append(a)
            self.persons_by_center[a.center].append(a)
        for a in self.orgs:
            self.orgs_by_town[a.town].append(a)
        self.weights = [self._center_weight(c) for c in centers]
        self.older_followups = itertools.cycle(OLDER_FOLLOWUP_STATUSES)

    def _center_weight(self, center: CenterSpec) -> int:
        if center.tier == Tier.DISTRICT.value:
            return 60
        if center.tier == Tier.TOWN.value:
            return TOWN_WEIGHTS[center.town]
        if center.name in FEATURED_VILLAGES:
            return FEATURED_VILLAGES[center.name]
        return 8 if self.agents.get(center.name) else 2

    # -- choosing who, what and when ----------------------------------------------------------

    def _applicant(self, center: CenterSpec, mode: str, want_org: bool) -> ApplicantSpec:
        rng = self.rng
        if want_org:
            pool = self.orgs if center.tier == Tier.DISTRICT.value else self.orgs_by_town[center.town]
            if pool:
                return rng.choice(pool)
        if center.tier == Tier.DISTRICT.value:
            pool = self.persons_by_town["峡山街道"] if rng.random() < 0.5 else self.persons
        elif center.tier == Tier.VILLAGE.value and self.persons_by_center[center.name] and rng.random() < 0.5:
            pool = self.persons_by_center[center.name]
        else:
            pool = self.persons_by_town[center.town]
        if mode == Mode.DOOR_TO_DOOR:
            special = [a for a in pool if a.special]
            if special and rng.random() < 0.8:
                pool = special
        return rng.choice(pool)

    def _items(self, candidates: list[str], center: CenterSpec, applicant: ApplicantSpec) -> list[str]:
        """One or two items the applicant can apply for; empty if the center has none for them."""
        usable = [c for c in candidates if serves(self.items[c], applicant)]
        if not usable:
            usable = [c for c in stationed_codes(center) if serves(self.items[c], applicant)]
        count = 2 if len(usable) >= 2 and self.rng.random() < 0.18 else 1
        return sorted(self.rng.sample(usable, min(count, len(usable))))

    def _received_date(self) -> dt.date:
        # The service has grown over the window, so recent days receive more cases.
        days_ago = min(int(self.rng.triangular(0, CASE_WINDOW_DAYS, 0)), CASE_WINDOW_DAYS - 1)
        day = REFERENCE_DATE - dt.timedelta(days=days_ago)
        return workday_on_or_before(day)

    def _status(self, mode: str, age: int) -> Status:
        table = DELEGATED_STATUS_WEIGHTS if mode == Mode.DELEGATED else ASSISTED_STATUS_WEIGHTS
        for limit, weights in table:
            if age <= limit:
                return pick(self.rng, weights)
        raise AssertionError("status table must cover every age")

    def _closed_date(self, status: Status, received: dt.date, days: int) -> dt.date | None:
        rng = self.rng
        if status == Status.REJECTED:
            closed = add_working_days(received, rng.randint(0, 2))
        elif status == Status.TERMINATED:
            closed = add_working_days(received, rng.randint(2, days + 5))
        elif status in (Status.COMPLETED, Status.ARCHIVED):
            if rng.random() < 0.9:
                closed = add_working_days(received, rng.randint(days // 3, days))
            else:
                closed = add_working_days(received, days + rng.randint(1, 5))
        else:
            return None
        return min(closed, REFERENCE_DATE)

    # -- building one case --------------------------------------------------------------------

    def plan(self, count: int) -> list[CaseSpec]:
        specs: list[CaseSpec] = []
        seen: set[tuple[str, str, dt.date, str]] = set()
        while len(specs) < count:
            spec = self._one()
            key = (spec.applicant, spec.center, spec.received_date, spec.mode)
            if key in seen:
                continue
            seen.add(key)
            specs.append(spec)
        self._plan_evaluations(specs)
        return specs

    def _one(self) -> CaseSpec:
        rng = self.rng
        center = rng.choices(self.centers, weights=self.weights)[0]
        agents = self.agents.get(center.name, [])
        mode_key = center.tier if agents or center.tier != Tier.VILLAGE.value else "village_without_agent"
        mode = pick(rng, MODE_WEIGHTS[mode_key]).value
        agent = rng.choice(agents) if agents else None
        candidates = agent.items if agent else stationed_codes(center)
        org_items = [c for c in candidates if self.items[c].audience != "person"]
        want_org = (
            center.tier != Tier.VILLAGE.value and mode != Mode.DOOR_TO_DOOR and bool(org_items) and rng.random() < 0.22
        )
        applicant = self._applicant(center, mode, want_org)
        codes = self._items(candidates, center, applicant)
        if not codes:
            applicant = self._applicant(center, mode, want_org=False)
            codes = self._items(candidates, center, applicant)
        items = [self.items[c] for c in codes]
        days = max(i.days for i in items)
        received = self._received_date()
        status = self._status(mode, (REFERENCE_DATE - received).days)
        if status not in ENDED and add_working_days(received, days) < REFERENCE_DATE and rng.random() < 0.75:
            # Most open cases are still within their promised time; the rest show up as overdue.
            received = workday_on_or_before(REFERENCE_DATE - dt.timedelta(days=rng.randint(0, days * 7 // 5)))
        closed = self._closed_date(status, received, days)
        spec = CaseSpec(
            center=center.name,
            mode=mode,
            status=status.value,
            applicant=applicant.key,
            agent=agent.staff_no if agent else None,
            items=codes,
            received_date=received,
        )
        spec.fields["closed_date"] = closed
        self._fill_mode_fields(spec, applicant, received)
        self._fill_outcome(spec, applicant, items, status, closed)
        spec.materials = self._materials(spec, items, status)
        spec.logs = self._logs(spec, items, status, closed)
        # Registered a few minutes before the first entry of its story (the registration entry itself).
        spec.fields["created_at"] = spec.logs[0].at - dt.timedelta(minutes=5)
        if status in (Status.IN_PROGRESS, Status.COMPLETED, Status.ARCHIVED):
            spec.fees = [i.code for i in items if i.fee]
        return spec

    def _fill_mode_fields(self, spec: CaseSpec, applicant: ApplicantSpec, received: dt.date) -> None:
        rng = self.rng
        if spec.mode == Mode.REMOTE:
            channel = pick(rng, {RemoteChannel.PHONE: 4, RemoteChannel.VIDEO: 3, RemoteChannel.ONLINE: 3})
            spec.fields["remote_channel"] = channel.value
            if rng.random() < 0.5:
                spec.fields["tracking_in"] = f"EMS11{rng.randint(0, 10**11 - 1):011d}"
        elif spec.mode == Mode.DOOR_TO_DOOR:
            spec.fields["visit_address"] = applicant.address
            visit_day = min(add_working_days(received, rng.randint(0, 2)), spec.fields["closed_date"] or REFERENCE_DATE)
            # An appointment is Beijing wall-clock time (models/case.py), office_time gives UTC.
            spec.fields["visit_at"] = to_beijing(office_time(rng, visit_day, 60, 480)).replace(tzinfo=None)
        elif spec.mode == Mode.DELEGATED:
            spec.fields["delegation_scope"] = pick(rng, {DelegationScope.WHOLE: 7, DelegationScope.PARTIAL: 3}).value

    def _fill_outcome(
        self, spec: CaseSpec, applicant: ApplicantSpec, items: list[ItemSpec], status: Status, closed: dt.date | None
    ) -> None:
        rng = self.rng
        item_names = "、".join(i.name for i in items)
        mode_label = label(Mode(spec.mode))
        who = "委托人" if spec.mode == Mode.DELEGATED else "申请人"
        summary = f"{mode_label}：为{who}{applicant.name}办理{item_names}"
        dept = self.dept_short[items[0].department]
        if status in (Status.COMPLETED, Status.ARCHIVED):
            spec.fields["completion_result"] = "；".join(i.result for i in items)[:200]
            delivery = self._delivery(spec)
            spec.fields["result_delivery"] = delivery.value
            if delivery == ResultDelivery.POST:
                spec.fields["delivery_address"] = applicant.address
                spec.fields["tracking_out"] = f"EMS11{rng.randint(0, 10**11 - 1):011d}"
            if spec.mode == Mode.DELEGATED:
                spec.fields["completion_signed"] = True
                originals = len({m[0] for i in items for m in i.materials if m[1] == MaterialForm.ORIGINAL})
                spec.fields["handover_note"] = (
                    f"向{who}{applicant.evaluator[0]}移交办理结果及原件{originals}份，逐项核对后签收"
                )
        elif status == Status.TERMINATED:
            reasons = {
                r: w for r, (w, _t) in TERMINATIONS.items() if r != TerminationReason.OUT_OF_SCOPE or items[0].in_person
            }
            reason = pick(rng, reasons)
            spec.fields["termination_reason"] = reason.value
            spec.fields["termination_text"] = TERMINATIONS[reason][1].format(dept=dept, item=items[0].name)
            summary += f"；{label(reason)}，已终止委托"
        elif status == Status.REJECTED:
            reasons = [r for r in REJECTIONS if "本人到场" not in r or items[0].in_person]
            reason = rng.choice(reasons).format(item=items[0].name)
            spec.fields["rejection"] = reason
            summary += f"；经审查，{reason}，不予受理，已一次性说明理由并退还材料"
        elif status == Status.SUSPENDED:
            missing = rng.choice([m[0] for i in items for m in i.materials])
            spec.fields["missing"] = missing
            summary += f"；因需补正{missing}暂时中止，待补正后续办"
        spec.fields["summary"] = summary

    def _delivery(self, spec: CaseSpec) -> ResultDelivery:
        rng = self.rng
        if spec.mode == Mode.ON_SITE:
            return ResultDelivery.WINDOW
        if spec.mode == Mode.REMOTE:
            return pick(rng, {ResultDelivery.POST: 6, ResultDelivery.WINDOW: 4})
        if spec.mode == Mode.DOOR_TO_DOOR:
            if spec.agent is None:
                return pick(rng, {ResultDelivery.POST: 1, ResultDelivery.WINDOW: 1})
            return pick(rng, {ResultDelivery.AGENT: 7, ResultDelivery.POST: 3})
        return pick(rng, {ResultDelivery.AGENT: 40, ResultDelivery.WINDOW: 35, ResultDelivery.POST: 25})

    def _materials(self, spec: CaseSpec, items: list[ItemSpec], status: Status) -> list[MaterialSpec]:
        rng = self.rng
        online_only = spec.mode == Mode.REMOTE and not spec.fields.get("tracking_in")
        seen: set[tuple[str, str]] = set()
        materials: list[MaterialSpec] = []
        holder = "代办员保管" if spec.agent else "窗口工作人员保管"
        if spec.mode == Mode.DOOR_TO_DOOR:
            holder = "上门收取，" + holder
        elif spec.mode == Mode.REMOTE:
            holder = "邮寄收取，" + holder
        for item in items:
            dept = self.dept_short[item.department]
            for name, form, copies in item.materials:
                if (name, form) in seen:
                    continue
                seen.add((name, form))
                original = form == MaterialForm.ORIGINAL
                material = MaterialSpec(name, form, copies, True, holder)
                if status == Status.SUBMITTED:
                    material.received, material.custody = False, ""
                elif spec.mode == Mode.ON_SITE:
                    material.custody = "窗口核验后当场退还" if original else f"已提交{dept}窗口"
                elif online_only:
                    # Uploaded as scans during online guidance; the paper original never left the applicant.
                    material.custody = "网上申报上传电子件" + ("，原件由申请人自行保管" if original else "")
                elif status == Status.TERMINATED and is_unreachable(spec):
                    material.custody = "无法联系委托人，由本机构保管"
                elif status in (Status.TERMINATED, Status.REJECTED):
                    material.custody = "已退还委托人签收"
                elif status in (Status.COMPLETED, Status.ARCHIVED):
                    if original:
                        back = (
                            "已邮寄退还申请人"
                            if spec.fields.get("result_delivery") == ResultDelivery.POST
                            else "已退还申请人签收"
                        )
                        material.custody = back
                    else:
                        material.custody = f"已提交{dept}"
                elif status == Status.SUSPENDED:
                    material.custody = holder + "(待补正)"
                elif status == Status.IN_PROGRESS and (not original or rng.random() < 0.5):
                    material.custody = f"已提交{dept}"
                materials.append(material)
        return materials

    def _logs(self, spec: CaseSpec, items: list[ItemSpec], status: Status, closed: dt.date | None) -> list[LogSpec]:
        rng = self.rng
        item = items[0]
        dept_name = item.department
        dept = self.dept_short[dept_name]
        item_names = "、".join(i.name for i in items)
        received = spec.received_date
        end = closed or REFERENCE_DATE
        mode = spec.mode
        fmt = {"dept": dept, "item": item.name, "check": item.check}

        # (day, content, department involved): opening entries, progress entries, closing entries
        opening: list[tuple[dt.date, str, str | None]] = []
        progress: list[tuple[dt.date, str, str | None]] = []
        closing: list[tuple[dt.date, str, str | None]] = []
        if mode == Mode.ON_SITE:
            opening.append((received, f"现场帮办：引导申请人取号，一次性告知{item_names}所需材料及办理时限", None))
        elif mode == Mode.REMOTE:
            channel = REMOTE_CHANNEL_TEXT[RemoteChannel(spec.fields["remote_channel"])]
            opening.append((received, f"远程帮办：{channel}，一次性告知{item_names}所需材料", None))
            if spec.fields.get("tracking_in"):
                opening.append(
                    (
                        min(received + dt.timedelta(days=2), end),
                        f"收到申请人邮寄的申请材料，运单号{spec.fields['tracking_in']}",
                        None,
                    )
                )
        elif mode == Mode.DOOR_TO_DOOR:
            opening.append((received, f"受理上门帮办预约，一次性告知{item_names}所需材料", None))
            visit: dt.datetime = spec.fields["visit_at"]
            opening.append((visit.date(), f"上门至{spec.fields['visit_address']}，为申请人核验材料、代填申请表", None))
        else:
            opening.append((received, f"收到代办申请，一次性告知{item_names}所需材料及承诺办结时限", None))
            if status == Status.SUBMITTED:
                opening.append(
                    (
                        min(received + dt.timedelta(days=1), REFERENCE_DATE),
                        "电话联系委托人，约定签订委托协议及材料交接时间",
                        None,
                    )
                )
            elif status != Status.REJECTED:
                originals = sum(1 for m in spec.materials if m.form == MaterialForm.ORIGINAL)
                copies = len(spec.materials) - originals
                opening.append(
                    (received, f"签订代办服务委托协议及承诺书，接收原件{originals}份、复印件{copies}份", None)
                )

        if status == Status.REGISTERED:
            closing.append((received, f"登记帮办需求，等待申请人补齐{item.materials[0][0]}", None))
        elif status == Status.SUSPENDED:
            closing.append(
                (
                    end,
                    f"材料需补正：已一次性告知{'委托人' if mode == Mode.DELEGATED else '申请人'}"
                    f"补充{spec.fields['missing']}，案件中止，待补正后续办",
                    dept_name,
                )
            )
        elif status == Status.REJECTED:
            closing.append(
                (end, f"经审查，{spec.fields['rejection']}，不予受理，已一次性说明理由并退还材料", dept_name)
            )
        elif status == Status.TERMINATED:
            reason = TerminationReason(spec.fields["termination_reason"])
            handback = "委托人无法联系，原件由本机构保管" if is_unreachable(spec) else "退还全部材料"
            closing.append(
                (end, f"{label(reason)}：{spec.fields['termination_text']}；办理终止委托手续，{handback}", None)
            )
        elif status in (Status.COMPLETED, Status.ARCHIVED):
            closing.append((end, f"{dept}审批通过：{spec.fields['completion_result']}", dept_name))
            delivery = spec.fields["result_delivery"]
            if delivery == ResultDelivery.POST:
                text = f"办理结果及原件已通过EMS寄回申请人，运单号{spec.fields['tracking_out']}"
            elif delivery == ResultDelivery.AGENT:
                text = "代办员将办理结果送达申请人"
                if any(m.form == MaterialForm.ORIGINAL for m in spec.materials):
                    text += "，原件全部退还"
            else:
                text = "通知申请人到窗口领取办理结果，已领取"
            if mode == Mode.DELEGATED:
                text += "，委托人签收办结单"
            closing.append((end, text, None))
            if status == Status.ARCHIVED:
                archived = min(end + dt.timedelta(days=rng.randint(3, 15)), REFERENCE_DATE)
                closing.append((archived, "案卷整理归档(一件一档)", None))

        if status not in (Status.SUBMITTED, Status.REGISTERED, Status.REJECTED):
            templates = [*PROGRESS_TEMPLATES[Mode(mode)], rng.choice(CHECK_TEMPLATES)]
            wanted = {Status.ACCEPTED: 1, Status.SUSPENDED: 1}.get(status, rng.randint(1, 2))
            room = MAX_LOGS - len(opening) - len(closing)
            start = max(day for day, _c, _d in opening)
            for template in rng.sample(templates, max(0, min(wanted, room, len(templates)))):
                day = start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))
                while not is_workday(day) and day < end:
                    day += dt.timedelta(days=1)
                progress.append((day, template.format(**fmt), dept_name if "{dept}" in template else None))

        steps = opening + progress + closing
        logs: list[LogSpec] = []
        previous: dt.datetime | None = None
        for day, content, department in sorted(steps, key=lambda s: s[0]):
            at = office_time(rng, day)
            if previous is not None and at <= previous:
                at = previous + dt.timedelta(minutes=rng.randint(5, 90))
            logs.append(LogSpec(at, content, department))
            previous = at
        return logs

    # -- evaluations and follow-ups -------------------------------------------------------------

    def _plan_evaluations(self, specs: list[CaseSpec]) -> None:
        rng = self.rng
        # Closed cases can be evaluated, except where the principal has died (the file is simply closed).
        closed = [
            n
            for n, s in enumerate(specs)
            if Status(s.status) in EVALUATED_STATUSES
            and s.fields.get("termination_reason") != TerminationReason.FORCE_MAJEURE
        ]
        evaluated = sorted(rng.sample(closed, round(len(closed) * EVALUATED_SHARE)))
        bad = sorted(rng.sample(evaluated, round(len(evaluated) * BAD_REVIEW_SHARE)))
        bad_set = set(bad)
        asked = set(rng.sample(bad, min(3, len(bad))))
        mistaken = set(rng.sample([n for n in bad if n not in asked], min(2, len(bad) - len(asked))))
        applicants = {a.key: a for a in self.persons + self.orgs}
        for n in evaluated:
            spec = specs[n]
            spec.evaluation = self._evaluation(
                spec, applicants[spec.applicant], n in bad_set, n in asked, n in mistaken
            )

    def _evaluation(
        self, spec: CaseSpec, applicant: ApplicantSpec, bad: bool, asked: bool, mistaken: bool
    ) -> EvaluationSpec:
        rng = self.rng
        closed: dt.date = spec.fields["closed_date"]
        day = min(closed + dt.timedelta(days=rng.randint(0, 3)), REFERENCE_DATE)
        created = office_time(rng, day)
        last_log = spec.logs[-1].at
        if created <= last_log:
            created = last_log + dt.timedelta(minutes=rng.randint(10, 120))
        dims = ("attitude", "efficiency", "competence", "communication", "integrity")
        if spec.mode == Mode.DELEGATED or spec.mode == Mode.DOOR_TO_DOOR:
            channel = pick(
                rng, {EvaluationChannel.PAPER: 6, EvaluationChannel.LINK: 3, EvaluationChannel.HAOCHAPING: 1}
            )
        elif spec.mode == Mode.REMOTE:
            channel = pick(
                rng, {EvaluationChannel.LINK: 6, EvaluationChannel.HAOCHAPING: 3, EvaluationChannel.PAPER: 1}
            )
        else:
            channel = pick(
                rng, {EvaluationChannel.HAOCHAPING: 5, EvaluationChannel.PAPER: 4, EvaluationChannel.LINK: 2}
            )
        name, phone = applicant.evaluator
        theme: tuple[str, str, str, str, str] | None = None
        if bad:
            overall = rng.choice([1, 2])
            ratings = {d: max(1, min(4, overall + rng.choice([0, 1, 1, 2]))) for d in dims}
            if asked:
                ratings["integrity"] = 1
                comment = ASKED_REVIEW[0]
            else:
                theme = rng.choice(BAD_REVIEWS)
                ratings[theme[1]] = overall
                comment = "" if mistaken else theme[0]
            consent = True
        else:
            overall = pick(rng, {5: 65, 4: 30, 3: 5})
            ratings = {d: max(3, min(5, overall + rng.choice([-1, 0, 0, 0, 1]))) for d in dims}
            comment = rng.choice(GOOD_COMMENTS) if rng.random() < 0.3 else ""
            consent = rng.random() < 0.9
        ratings["overall"] = overall
        evaluation = EvaluationSpec(ratings, asked, comment, channel.value, consent, name, phone, created)
        if bad:
            evaluation.followup = self._followup(spec, created, theme, asked, mistaken)
        return evaluation

    def _followup(
        self,
        spec: CaseSpec,
        created: dt.datetime,
        theme: tuple[str, str, str, str, str] | None,
        asked: bool,
        mistaken: bool,
    ) -> FollowUpSpec:
        rng = self.rng
        age = (REFERENCE_DATE - created.date()).days
        order = [
            FollowUpStatus.OPEN,
            FollowUpStatus.CALLED_BACK,
            FollowUpStatus.RECTIFIED,
            FollowUpStatus.FEEDBACK_GIVEN,
            FollowUpStatus.CLOSED,
        ]
        if mistaken and age >= 3:
            status = FollowUpStatus.CLOSED
        elif age < 3:
            status = FollowUpStatus.OPEN
        elif age < 7:
            status = rng.choice([FollowUpStatus.OPEN, FollowUpStatus.CALLED_BACK])
        elif age < 15:
            status = rng.choice([FollowUpStatus.CALLED_BACK, FollowUpStatus.RECTIFIED, FollowUpStatus.FEEDBACK_GIVEN])
        else:
            status = next(self.older_followups)
        rank = order.index(status)
        followup = FollowUpSpec(status.value)
        if asked:
            record, rectification, feedback = ASKED_REVIEW[1:]
        elif mistaken:
            record, rectification, feedback = MISTAKEN_APPEAL
        else:
            record, rectification, feedback = theme[2:] if theme else ("", "", "")
        if mistaken and status == FollowUpStatus.CLOSED:
            followup.appeal_outcome = AppealOutcome.MISTAKEN.value
            followup.appeal_reason = MISTAKEN_APPEAL[0]
        if rank >= 1:
            followup.callback_at = office_time(rng, created.date() + dt.timedelta(days=rng.randint(1, min(3, age))))
            followup.callback_record = record
        if rank >= 2:
            followup.rectification = rectification
        if rank >= 3:
            followup.feedback = feedback
        if rank >= 4:
            callback_day = followup.callback_at.date()
            followup.closed_date = min(callback_day + dt.timedelta(days=rng.randint(1, 10)), REFERENCE_DATE)
        return followup
