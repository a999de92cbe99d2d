"""Validation rules every write must pass: hierarchy, stationing, identity, free service."""

from decimal import Decimal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from lifecycle.errors import RuleError
from lifecycle.supervision import complaint_errors, evaluation_error
from models import Agent, Applicant, Case, Center, Complaint, Evaluation, HolidayDay, HolidayYear, ServiceItem, User
from models.enums import ApplicantKind, IdType, Mode, Role, Tier
from models.identifiers import credit_code_error, id_number_error, phone_error
from models.time import today_beijing

# The parent tier each tier must hang under (plan 一: 区、镇(街道)、村(社区) three tiers).
_PARENT_TIER = {Tier.DISTRICT: None, Tier.TOWN: Tier.DISTRICT, Tier.VILLAGE: Tier.TOWN}
_CHECKSUM_ID_TYPES = {IdType.RESIDENT_ID, IdType.HK_MACAO_TAIWAN_RESIDENCE, IdType.FOREIGN_PERMANENT}


def center_errors(session: Session, center: Center) -> dict[str, str]:
    """The district center has no parent and is unique; towns hang under it, villages under towns."""
    errors: dict[str, str] = {}
    if center.tier not in {t.value for t in Tier}:
        return {"tier": "请选择机构层级"}
    expected = _PARENT_TIER[Tier(center.tier)]
    parent = center.parent
    if expected is None:
        if parent is not None:
            errors["parent"] = "区级服务中心不能有上级机构"
        others = select(func.count()).select_from(Center).where(Center.tier == Tier.DISTRICT.value)
        if center.id is not None:
            others = others.where(Center.id != center.id)
        if session.scalar(others):
            errors["tier"] = "全区只能有一个区级政务服务中心"
    elif parent is None:
        errors["parent"] = "镇(街道)便民服务中心须隶属区级中心，村(社区)便民服务站须隶属镇(街道)中心"
    elif parent.tier != expected.value:
        if center.tier == Tier.VILLAGE:
            errors["parent"] = "村(社区)便民服务站只能设在镇(街道)便民服务中心之下，不能设在村(社区)之下"
        else:
            errors["parent"] = "镇(街道)便民服务中心只能隶属区级政务服务中心"
    tier_changed = center.id is not None and inspect(center).attrs.tier.history.has_changes()
    if tier_changed and center.tier != Tier.VILLAGE:
        # A tier change must not strand the children under a now-wrong parent.
        child_tier = {Tier.DISTRICT: Tier.TOWN, Tier.TOWN: Tier.VILLAGE}[Tier(center.tier)]
        if any(child.tier != child_tier.value for child in center.children):
            errors["tier"] = "该机构下已有下级机构，层级不能改为当前选择"
    if tier_changed and center.tier == Tier.VILLAGE and center.children:
        errors["tier"] = "该机构下已有下级机构，不能改为村(社区)级"
    if center.phone and phone_error(center.phone):
        errors["phone"] = phone_error(center.phone)
    return errors


def service_item_errors(item: ServiceItem) -> dict[str, str]:
    """A statutory fee needs its legal basis; the service itself is free (plan 二(二))."""
    errors: dict[str, str] = {}
    if item.time_limit_days is None or item.time_limit_days < 1:
        errors["time_limit_days"] = "法定办结时限应为不少于1个工作日"
    if item.fee_amount is not None and item.fee_amount < 0:
        errors["fee_amount"] = "收费金额不能为负数"
    if item.fee_amount and not (item.fee_basis or "").strip():
        errors["fee_basis"] = "只有法律法规明确规定的费用才能收取，请填写收费依据"
    return errors


def agent_errors(agent: Agent) -> dict[str, str]:
    errors: dict[str, str] = {}
    if agent.phone and phone_error(agent.phone):
        errors["phone"] = phone_error(agent.phone)
    if agent.center is not None:
        foreign = [i.name for i in agent.items if not i.is_stationed_at(agent.center)]
        if foreign:
            errors["items"] = f"以下事项未进驻{agent.center.name}，代办员不能承接：{'、'.join(foreign)}"
    return errors


def applicant_errors(applicant: Applicant) -> dict[str, str]:
    """Persons carry a GB 11643 ID number, organizations a GB 32100 credit code."""
    errors: dict[str, str] = {}
    if not (applicant.name or "").strip():
        errors["name"] = "请填写申请人姓名或单位名称"
    if not applicant.phone or phone_error(applicant.phone):
        errors["phone"] = phone_error(applicant.phone or "") or "请填写联系电话"
    if applicant.kind == ApplicantKind.PERSON:
        if not applicant.id_type:
            errors["id_type"] = "请选择证件类型"
        if not applicant.id_number:
            errors["id_number"] = "请填写证件号码"
        elif applicant.id_type in {t.value for t in _CHECKSUM_ID_TYPES}:
            message = id_number_error(applicant.id_number)
            if message:
                errors["id_number"] = message
    elif applicant.kind == ApplicantKind.ORGANIZATION:
        if not applicant.credit_code:
            errors["credit_code"] = "请填写统一社会信用代码"
        elif credit_code_error(applicant.credit_code):
            errors["credit_code"] = credit_code_error(applicant.credit_code)
        if not applicant.contact_name:
            errors["contact_name"] = "请填写经办人姓名"
        if applicant.contact_id_number and id_number_error(applicant.contact_id_number):
            errors["contact_id_number"] = "经办人" + id_number_error(applicant.contact_id_number)
        if applicant.contact_phone and phone_error(applicant.contact_phone):
            errors["contact_phone"] = phone_error(applicant.contact_phone)
    else:
        errors["kind"] = "请选择申请人类型"
    return errors


def case_errors(case: Case) -> dict[str, str]:
    """Items must be stationed at the receiving center (plan 三(二)); only statutory fees."""
    errors: dict[str, str] = {}
    center = case.center
    if not case.items:
        errors["items"] = "请至少选择一个申请事项"
    elif center is not None:
        foreign = [i.name for i in case.items if not i.is_stationed_at(center)]
        if foreign:
            errors["items"] = f"以下事项未进驻{center.name}，本机构不能受理：{'、'.join(foreign)}"
    if case.agent is not None and center is not None and case.agent.center_id != center.id:
        errors["agent"] = f"代办员{case.agent.name}不属于{center.name}"
    if case.agent is not None and not case.agent.active:
        errors["agent"] = f"代办员{case.agent.name}已停用"
    if case.mode == Mode.DELEGATED and not case.delegation_scope:
        errors["delegation_scope"] = "委托代办须选择代办类型(全程代办/部分环节代办)"
    if case.mode == Mode.REMOTE and not case.remote_channel:
        errors["remote_channel"] = "远程帮办须选择远程方式(电话/视频/网上申报指导)"
    if case.mode == Mode.DOOR_TO_DOOR and not (case.visit_address or "").strip():
        errors["visit_address"] = "上门帮办须填写上门地址"
    if case.received_date and _received_date_set(case) and case.received_date > today_beijing():
        # A case is received on the day the clerk registers it, never ahead (plan 二(四) 全程留痕).
        errors["received_date"] = f"受理日期不能晚于今天（北京时间{today_beijing():%Y年%m月%d日}）"
    if case.promised_date and case.received_date and case.promised_date < case.received_date:
        errors["promised_date"] = "承诺办结日期不能早于受理日期"
    fee_errors = [fee_error(case, fee) for fee in case.fees]
    fee_errors = [e for e in fee_errors if e]
    if fee_errors:
        errors["fees"] = "；".join(fee_errors)
    return errors


def _received_date_set(case: Case) -> bool:
    """The date is being written now: a new case, or an edit that changes it (old rows are not re-judged)."""
    state = inspect(case)
    return state.transient or state.pending or state.attrs.received_date.history.has_changes()


def fee_error(case: Case, fee) -> str | None:
    item = fee.item
    if item is None:
        return "收费须对应一个申请事项"
    if item not in case.items:
        return f"收费事项“{item.name}”不在本件申请事项中"
    if not item.has_fee:
        return f"“{item.name}”没有法定收费，帮办代办服务一律免费"
    if not (fee.legal_basis or "").strip():
        return f"“{item.name}”的收费须写明法律法规依据"
    if fee.amount is None or fee.amount <= Decimal(0):
        return "收费金额须大于0"
    if fee.amount > item.fee_amount:
        return f"“{item.name}”收费不能超过法定标准{item.fee_amount}元"
    return None


def user_errors(user: User) -> dict[str, str]:
    """District admins and auditors work district-wide; the others belong to a center of their tier."""
    errors: dict[str, str] = {}
    center = user.center
    if user.role == Role.TOWN_ADMIN and (center is None or center.tier != Tier.TOWN):
        errors["center"] = "镇街管理员须指定所属镇(街道)便民服务中心"
    if user.role == Role.VILLAGE_OPERATOR and (center is None or center.tier != Tier.VILLAGE):
        errors["center"] = "村居帮办员须指定所属村(社区)便民服务站"
    if user.role in (Role.DISTRICT_ADMIN, Role.AUDITOR) and center is not None and center.tier != Tier.DISTRICT:
        errors["center"] = "区级管理员和审计员只能属于区级政务服务中心"
    return errors


def evaluation_errors(evaluation: Evaluation) -> dict[str, str]:
    """Only a closed case is evaluated, once per channel; a paper form is entered by a staff member
    other than the handling station, under its reference; a bad review never stands without its follow-up."""
    case = evaluation.case
    if case is None:
        return {"case": "请选择被评价的案件"}
    if evaluation.id is None:  # once stored, only its `counted` flag ever changes (by the lifecycle)
        problem = evaluation_error(case, evaluation.channel, evaluation.entered_by, evaluation.paper_ref, evaluation)
        if problem:
            return {"paper_ref" if problem == "请填写纸质评价表编号" else "case": problem}
    if evaluation.is_bad and evaluation.followup is None:
        return {"overall": "差评须同时生成回访工单"}
    return {}


def holiday_year_errors(year: HolidayYear) -> dict[str, str]:
    """A year is confirmed only with the State Council notice it was entered from."""
    errors: dict[str, str] = {}
    if year.year is None or not 2000 <= year.year <= 2100:
        errors["year"] = "请填写2000至2100之间的年份"
    if year.confirmed and not (year.notice_ref or "").strip():
        errors["notice_ref"] = "确认年度安排须填写国务院办公厅通知文号"
    return errors


def holiday_day_errors(day: HolidayDay) -> dict[str, str]:
    """A worked day in exchange (调休上班) is a Saturday or Sunday; every day has a name."""
    errors: dict[str, str] = {}
    if not (day.name or "").strip():
        errors["name"] = "请填写节日名称，如：春节、国庆节调休"
    if day.day is not None and day.is_workday and day.day.weekday() < 5:
        errors["is_workday"] = "调休上班日应为周六或周日；周一至周五本来就是工作日"
    return errors


def errors_for(session: Session, obj: object) -> dict[str, str]:
    """All rule violations of one object, keyed by field name."""
    if isinstance(obj, Center):
        return center_errors(session, obj)
    if isinstance(obj, ServiceItem):
        return service_item_errors(obj)
    if isinstance(obj, Agent):
        return agent_errors(obj)
    if isinstance(obj, Applicant):
        return applicant_errors(obj)
    if isinstance(obj, Case):
        return case_errors(obj)
    if isinstance(obj, User):
        return user_errors(obj)
    if isinstance(obj, Evaluation):
        return evaluation_errors(obj)
    if isinstance(obj, HolidayYear):
        return holiday_year_errors(obj)
    if isinstance(obj, HolidayDay):
        return holiday_day_errors(obj)
    if isinstance(obj, Complaint):
        return complaint_errors({c: getattr(obj, c) for c in ("channel", "content", "complainant_phone", "reference")})
    return {}


def check(session: Session, obj: object) -> None:
    """Raise RuleError if the object breaks a rule."""
    errors = errors_for(session, obj)
    if errors:
        raise RuleError(errors)
