"""Enumerations stored as lower-case strings, and their one Chinese label mapping."""

import enum


class Tier(enum.StrEnum):
    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"


class Role(enum.StrEnum):
    DISTRICT_ADMIN = "district_admin"
    TOWN_ADMIN = "town_admin"
    VILLAGE_OPERATOR = "village_operator"
    AUDITOR = "auditor"


# The role groups every permission check names; defined here once, beside Role.
ALL_ROLES = frozenset(Role)
# Everyone who works cases; the auditor reads everything and changes nothing.
STAFF_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.TOWN_ADMIN, Role.VILLAGE_OPERATOR})
# The administrators of a tier: they correct closed cases, appeal bad reviews, enter paper forms.
ADMIN_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.TOWN_ADMIN})
# Below the district: the staff who may hand a case up to the parent center (plan 三(一) “兜底”).
LOWER_TIER_ROLES = STAFF_ROLES - {Role.DISTRICT_ADMIN}
# Whose scope is the whole district rather than a center's subtree.
DISTRICT_WIDE_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.AUDITOR})
# Who may see full ID and phone numbers (the case page's 显示完整, a register's 含完整证件号码): the
# staff who handle the cases. The auditor reads everything masked: access to sensitive personal
# information follows the case work, not a role's reach (GB/T 35273-2020 §7.1 c, e).
REVEAL_ROLES = STAFF_ROLES


class Mode(enum.StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"
    DOOR_TO_DOOR = "door_to_door"
    DELEGATED = "delegated"


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class ApplicantKind(enum.StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class Gender(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class IdType(enum.StrEnum):
    RESIDENT_ID = "resident_id"
    HK_MACAO_TAIWAN_RESIDENCE = "hmt_residence"
    FOREIGN_PERMANENT = "foreign_permanent"
    PASSPORT = "passport"


class RemoteChannel(enum.StrEnum):
    PHONE = "phone"
    VIDEO = "video"
    ONLINE = "online"


class MaterialForm(enum.StrEnum):
    ORIGINAL = "original"
    COPY = "copy"


class DelegationScope(enum.StrEnum):
    WHOLE = "whole"
    PARTIAL = "partial"


class ResultDelivery(enum.StrEnum):
    WINDOW = "window"
    POST = "post"
    AGENT = "agent"


class TerminationReason(enum.StrEnum):
    """Termination reasons, domain.md section 1.6."""

    WITHDRAWN = "withdrawn"
    MATERIALS_NOT_SUPPLIED = "materials_not_supplied"
    FALSE_MATERIALS = "false_materials"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_SCOPE = "out_of_scope"
    POLICY_CHANGE = "policy_change"
    NON_COOPERATION = "non_cooperation"
    FORCE_MAJEURE = "force_majeure"


class ReturnMethod(enum.StrEnum):
    """How the applicant's originals went back at completion or termination (annexes 4 and 5)."""

    IN_PERSON = "in_person"
    PROXY = "proxy"
    POST = "post"
    UNREACHABLE = "unreachable"
    NONE_HELD = "none_held"


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ComplaintChannel(enum.StrEnum):
    """Where a complaint came in (plan 四(三): 好差评 and any other channel)."""

    ON_SITE = "on_site"
    PHONE = "phone"
    HOTLINE_12345 = "hotline_12345"
    HAOCHAPING = "haochaping"


class Rating(enum.IntEnum):
    """Five 好差评 levels coded 5..1; a rating of 2 or less is a bad review."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1


class EvaluationChannel(enum.StrEnum):
    PAPER = "paper"
    LINK = "link"
    HAOCHAPING = "haochaping"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    CALLED_BACK = "called_back"
    RECTIFIED = "rectified"
    FEEDBACK_GIVEN = "feedback_given"
    CLOSED = "closed"


class AppealOutcome(enum.StrEnum):
    NONE = "none"
    UPHELD = "upheld"
    MISTAKEN = "mistaken"
    MALICIOUS = "malicious"


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ExportFormat(enum.StrEnum):
    ZIP = "zip"
    MERGED = "merged"


class ExportItemState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


LABELS: dict[type[enum.Enum], dict[enum.Enum, str]] = {
    Tier: {Tier.DISTRICT: "区级", Tier.TOWN: "镇(街道)级", Tier.VILLAGE: "村(社区)级"},
    Role: {
        Role.DISTRICT_ADMIN: "区级管理员",
        Role.TOWN_ADMIN: "镇街管理员",
        Role.VILLAGE_OPERATOR: "村居帮办员",
        Role.AUDITOR: "审计员",
    },
    Mode: {
        Mode.ON_SITE: "现场帮办",
        Mode.REMOTE: "远程帮办",
        Mode.DOOR_TO_DOOR: "上门帮办",
        Mode.DELEGATED: "委托代办",
    },
    Status: {
        Status.SUBMITTED: "待受理",
        Status.REGISTERED: "已登记",
        Status.ACCEPTED: "已受理",
        Status.IN_PROGRESS: "办理中",
        Status.SUSPENDED: "已中止",
        Status.COMPLETED: "已办结",
        Status.TERMINATED: "已终止",
        Status.REJECTED: "不予受理",
        Status.ARCHIVED: "已归档",
    },
    ApplicantKind: {ApplicantKind.PERSON: "自然人", ApplicantKind.ORGANIZATION: "法人或其他组织"},
    Gender: {Gender.MALE: "男", Gender.FEMALE: "女"},
    IdType: {
        IdType.RESIDENT_ID: "居民身份证",
        IdType.HK_MACAO_TAIWAN_RESIDENCE: "港澳台居民居住证",
        IdType.FOREIGN_PERMANENT: "外国人永久居留身份证",
        IdType.PASSPORT: "护照",
    },
    RemoteChannel: {
        RemoteChannel.PHONE: "电话",
        RemoteChannel.VIDEO: "视频",
        RemoteChannel.ONLINE: "网上申报指导",
    },
    MaterialForm: {MaterialForm.ORIGINAL: "原件", MaterialForm.COPY: "复印件"},
    DelegationScope: {DelegationScope.WHOLE: "全程代办", DelegationScope.PARTIAL: "部分环节代办"},
    ResultDelivery: {
        ResultDelivery.WINDOW: "窗口领取",
        ResultDelivery.POST: "邮寄送达",
        ResultDelivery.AGENT: "代办员送达",
    },
    TerminationReason: {
        TerminationReason.WITHDRAWN: "委托人主动申请终止",
        TerminationReason.MATERIALS_NOT_SUPPLIED: "未按期补齐材料或无法联系",
        TerminationReason.FALSE_MATERIALS: "提供虚假材料或隐瞒真实情况",
        TerminationReason.NOT_ELIGIBLE: "不符合法定条件(不予受理/不予许可)",
        TerminationReason.OUT_OF_SCOPE: "事项不属于代办范围",
        TerminationReason.POLICY_CHANGE: "法律法规或政策调整",
        TerminationReason.NON_COOPERATION: "要求违规办理或不配合核查",
        TerminationReason.FORCE_MAJEURE: "不可抗力或委托人死亡、单位注销",
    },
    ReturnMethod: {
        ReturnMethod.IN_PERSON: "本人当面签收",
        ReturnMethod.PROXY: "委托他人代领签收",
        ReturnMethod.POST: "邮寄退还",
        ReturnMethod.UNREACHABLE: "无法联系，材料由本机构保管",
        ReturnMethod.NONE_HELD: "未收取原件，无需退还",
    },
    ExtensionStatus: {
        ExtensionStatus.PENDING: "待审批",
        ExtensionStatus.APPROVED: "已批准",
        ExtensionStatus.REFUSED: "未批准",
    },
    ComplaintChannel: {
        ComplaintChannel.ON_SITE: "现场",
        ComplaintChannel.PHONE: "电话",
        ComplaintChannel.HOTLINE_12345: "12345热线",
        ComplaintChannel.HAOCHAPING: "好差评系统",
    },
    Rating: {
        Rating.VERY_SATISFIED: "非常满意",
        Rating.SATISFIED: "满意",
        Rating.BASICALLY_SATISFIED: "基本满意",
        Rating.DISSATISFIED: "不满意",
        Rating.VERY_DISSATISFIED: "非常不满意",
    },
    EvaluationChannel: {
        EvaluationChannel.PAPER: "纸质评价表",
        EvaluationChannel.LINK: "一次性评价链接",
        EvaluationChannel.HAOCHAPING: "好差评系统导入",
    },
    FollowUpStatus: {
        FollowUpStatus.OPEN: "待回访",
        FollowUpStatus.CALLED_BACK: "已回访",
        FollowUpStatus.RECTIFIED: "已整改/已解释",
        FollowUpStatus.FEEDBACK_GIVEN: "已反馈",
        FollowUpStatus.CLOSED: "已办结",
    },
    ExportStatus: {
        ExportStatus.QUEUED: "排队中",
        ExportStatus.RUNNING: "生成中",
        ExportStatus.DONE: "已完成",
        ExportStatus.FAILED: "失败",
        ExportStatus.CANCELLED: "已取消",
        ExportStatus.EXPIRED: "已过期删除",
    },
    ExportFormat: {
        ExportFormat.ZIP: "ZIP压缩包(每件一个文件夹)",
        ExportFormat.MERGED: "合并PDF(按案件书签)",
    },
    ExportItemState: {
        ExportItemState.PENDING: "待处理",
        ExportItemState.RUNNING: "处理中",
        ExportItemState.DONE: "完成",
        ExportItemState.FAILED: "失败",
    },
    AppealOutcome: {
        AppealOutcome.NONE: "未申诉",
        AppealOutcome.UPHELD: "申诉不成立",
        AppealOutcome.MISTAKEN: "误评",
        AppealOutcome.MALICIOUS: "恶意差评",
    },
}


def label(member: enum.Enum | None) -> str:
    """Chinese label of an enum member; empty for None."""
    if member is None:
        return ""
    return LABELS[type(member)][member]


def choices(enum_cls: type[enum.Enum]) -> list[tuple[str, str]]:
    """(stored value, Chinese label) pairs for select fields and filters."""
    return [(str(m.value), LABELS[enum_cls][m]) for m in enum_cls]


def values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(m.value) for m in enum_cls]


def check_in(column: str, enum_cls: type[enum.Enum]) -> str:
    """SQL text of a CHECK constraint limiting a string column to the enum's values."""
    allowed = ", ".join(f"'{v}'" for v in values(enum_cls))
    return f"{column} IN ({allowed})"
