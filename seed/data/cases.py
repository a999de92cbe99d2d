"""The shape of the case load: its time window, how modes and statuses are weighted, and the texts its story is told in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.enums import ComplaintChannel, FollowUpStatus, Mode, RemoteChannel, Status, TerminationReason, Tier

REFERENCE_DATE = dt.date(2026, 11, 20)
CASE_WINDOW_DAYS = 240
CASE_COUNT = 340
MAX_LOGS = 6

MODE_WEIGHTS: dict[str, dict[Mode, int]] = {
    Tier.DISTRICT.value: {Mode.ON_SITE: 30, Mode.REMOTE: 22, Mode.DOOR_TO_DOOR: 8, Mode.DELEGATED: 40},
    Tier.TOWN.value: {Mode.ON_SITE: 30, Mode.REMOTE: 20, Mode.DOOR_TO_DOOR: 15, Mode.DELEGATED: 35},
    Tier.VILLAGE.value: {Mode.ON_SITE: 35, Mode.REMOTE: 15, Mode.DOOR_TO_DOOR: 25, Mode.DELEGATED: 25},
    "village_without_agent": {Mode.ON_SITE: 55, Mode.REMOTE: 25, Mode.DOOR_TO_DOOR: 20},
}

# (maximum age in calendar days, status weights); newer cases are mostly still open.
# fmt: off
DELEGATED_STATUS_WEIGHTS: list[tuple[int, dict[Status, int]]] = [
    (7, {Status.SUBMITTED: 35, Status.ACCEPTED: 25, Status.IN_PROGRESS: 25, Status.REJECTED: 15}),
    (30, {Status.SUBMITTED: 12, Status.ACCEPTED: 12, Status.IN_PROGRESS: 28, Status.SUSPENDED: 15,
          Status.COMPLETED: 23, Status.TERMINATED: 5, Status.REJECTED: 5}),
    (90, {Status.IN_PROGRESS: 8, Status.SUSPENDED: 7, Status.COMPLETED: 50, Status.TERMINATED: 10,
          Status.REJECTED: 5, Status.ARCHIVED: 20}),
    (10_000, {Status.IN_PROGRESS: 2, Status.SUSPENDED: 3, Status.COMPLETED: 30, Status.TERMINATED: 10,
              Status.REJECTED: 5, Status.ARCHIVED: 50}),
]
# fmt: on
ASSISTED_STATUS_WEIGHTS: list[tuple[int, dict[Status, int]]] = [
    (7, {Status.REGISTERED: 40, Status.IN_PROGRESS: 30, Status.COMPLETED: 30}),
    (30, {Status.REGISTERED: 5, Status.IN_PROGRESS: 25, Status.COMPLETED: 70}),
    (90, {Status.IN_PROGRESS: 4, Status.COMPLETED: 66, Status.ARCHIVED: 30}),
    (10_000, {Status.IN_PROGRESS: 1, Status.COMPLETED: 34, Status.ARCHIVED: 65}),
]
EVALUATED_STATUSES = {Status.COMPLETED, Status.ARCHIVED, Status.TERMINATED}
EVALUATED_SHARE = 0.7
BAD_REVIEW_SHARE = 0.12

REMOTE_CHANNEL_TEXT = {
    RemoteChannel.PHONE: "电话联系申请人",
    RemoteChannel.VIDEO: "视频连线申请人",
    RemoteChannel.ONLINE: "远程指导申请人登录广东政务服务网",
}

# reason -> (weight, termination text; {dept} and {item} are filled in)
TERMINATIONS: dict[TerminationReason, tuple[int, str]] = {
    TerminationReason.WITHDRAWN: (30, "委托人来电表示已自行到窗口办理，申请终止委托"),
    TerminationReason.MATERIALS_NOT_SUPPLIED: (25, "一次性告知后委托人超过15个工作日未补齐材料，多次电话联系未果"),
    TerminationReason.NOT_ELIGIBLE: (20, "经{dept}审查，申请人不符合{item}的法定条件，作出不予许可决定"),
    TerminationReason.OUT_OF_SCOPE: (8, "经核实，{item}须申请人本人到场办理，不属于代办范围"),
    TerminationReason.FALSE_MATERIALS: (5, "经{dept}核查，委托人提供的证明材料与实际情况不符"),
    TerminationReason.POLICY_CHANGE: (5, "因政策调整，{item}改为线上全程办理，按规定终止代办"),
    TerminationReason.NON_COOPERATION: (4, "委托人要求代办员代签本人须亲笔签署的文书，经解释仍坚持，按规定终止"),
    TerminationReason.FORCE_MAJEURE: (3, "委托人因病去世，家属申请终止委托"),
}
REJECTIONS = [
    "申请人户籍不在本辖区，不符合{item}的受理条件",
    "{item}须申请人本人到场办理，不属于代办范围",
    "申请人暂不能提供有效身份证明，材料与申请事项不符",
]

CHECK_TEMPLATES = ["联系{dept}核对{check}", "与{dept}窗口沟通{check}，确认无需补正"]
PROGRESS_TEMPLATES = {
    Mode.ON_SITE: [
        "协助申请人填写{item}申请表并核对材料",
        "陪同申请人到{dept}窗口提交材料",
        "协助申请人在自助终端完成网上申报",
    ],
    Mode.REMOTE: ["指导申请人通过粤省事填报{item}申请", "电话告知申请人审核进度"],
    Mode.DOOR_TO_DOOR: ["将上门收取的材料递交{dept}窗口", "电话告知申请人办理进度"],
    Mode.DELEGATED: [
        "代为向{dept}窗口递交申请材料，取得受理回执",
        "电话告知委托人办理进度",
        "跟进{dept}审核进度，督促按时办结",
    ],
}

GOOD_COMMENTS = [
    "代办员热情周到，全程不用跑腿",
    "上门服务很贴心，老人家不用出门了，感谢！",
    "办事效率高，材料一次就讲清楚了",
    "进度随时告知，很放心",
    "工作人员很耐心，讲解清楚",
    "在村里就能办，省了去镇上的时间",
]
# theme -> (comment, low dimension, callback record, rectification, feedback)
BAD_REVIEWS: list[tuple[str, str, str, str, str]] = [
    (
        "办理时间超过承诺时限，也没有提前说明原因",
        "efficiency",
        "回访评价人，了解到因部门审核退回补正导致延期，代办员未及时告知",
        "对代办员进行提醒谈话，要求每个环节的办理进度当天电话告知委托人",
        "已电话向评价人说明延期原因及整改措施，评价人表示理解",
    ),
    (
        "材料跑了两趟，第一次没有一次性讲清楚",
        "competence",
        "评价人反映第一次咨询时未告知需提供户口簿原件",
        "组织窗口人员重新学习一次性告知清单，更新事项材料清单",
        "已向评价人致歉并说明整改情况",
    ),
    (
        "代办员态度冷淡，问几句就不耐烦",
        "attitude",
        "回访核实，当日窗口排队人数较多，代办员答复简单生硬",
        "对代办员进行批评教育，纳入月度考核",
        "已向评价人反馈处理结果，评价人表示接受",
    ),
    (
        "打了好几次电话都没人接，不知道办到哪一步",
        "communication",
        "核实代办员外出跑件期间未及时回电",
        "要求代办员公开工作手机，未接来电须在2小时内回电",
        "已反馈，评价人表示满意",
    ),
]
ASKED_REVIEW: tuple[str, str, str, str] = (
    "代办员暗示办好了要请喝茶",
    "回访评价人核实情况，评价人表示代办员办结时曾暗示要请喝茶，未实际收受财物",
    "经核查属实，对代办员进行诫勉谈话并调整岗位，在全区帮办代办队伍中通报",
    "已向评价人反馈处理结果并致歉，评价人表示认可",
)
# Follow-ups older than two weeks take these statuses in turn: most closed, a few still stuck.
OLDER_FOLLOWUP_STATUSES = [
    FollowUpStatus.CLOSED, FollowUpStatus.FEEDBACK_GIVEN, FollowUpStatus.CLOSED, FollowUpStatus.RECTIFIED,
    FollowUpStatus.CLOSED, FollowUpStatus.CALLED_BACK, FollowUpStatus.CLOSED, FollowUpStatus.FEEDBACK_GIVEN,
]  # fmt: skip
MISTAKEN_APPEAL = (
    "回访时评价人表示对服务满意，系在评价器上误将“非常满意”点选为“非常不满意”",
    "经回访核实系误评，申诉复核通过，不计入差评统计",
    "已向评价人说明复核结果",
)


# Open village cases passed up to their town (三(一) 兜底): every other one, at most this many.
HAND_OFFS = 6
FOLLOWUP_ORDER = ["open", "called_back", "rectified", "feedback_given", "closed"]


@dataclass(frozen=True)
class ComplaintSpec:
    reference: str
    channel: ComplaintChannel
    center: str
    statuses: tuple[Status, ...]
    name: str
    phone: str
    content: str
    days_ago: int
    reach: FollowUpStatus
    records: tuple[str, ...] = ()


COMPLAINTS = [
    ComplaintSpec(
        "GD12345-20261116-0127",
        ComplaintChannel.HOTLINE_12345,
        "峡山街道便民服务中心",
        (Status.IN_PROGRESS, Status.ACCEPTED),
        "陈女士",
        "13502761234",
        "反映委托代办后一周未收到任何办理进度告知，拨打代办员电话多次无人接听。",
        4,
        FollowUpStatus.CALLED_BACK,
        ("电话联系投诉人，核实代办员外出送件未及时回电，已当面致歉并告知当前进度",),
    ),
    ComplaintSpec(
        "HCP-440514-2026-000318",
        ComplaintChannel.HAOCHAPING,
        "东山社区便民服务站",
        (Status.COMPLETED, Status.ARCHIVED),
        "林先生",
        "13760541188",
        "好差评系统差评工单：窗口要求重复提交已在申请时提供的营业执照复印件。",
        30,
        FollowUpStatus.CLOSED,
        (
            "电话回访投诉人，确认情况属实",
            "经调查，窗口人员未核对已收材料清单；已组织全员学习“一次性告知”要求，材料清单改为当场签收",
            "已电话向投诉人反馈调查结果和整改措施，投诉人表示认可",
        ),
    ),
    ComplaintSpec(
        "GD12345-20261105-0342",
        ComplaintChannel.HOTLINE_12345,
        "文光社区便民服务站",
        (Status.COMPLETED, Status.TERMINATED, Status.ARCHIVED),
        "黄先生",
        "0754-87654321",
        "代办员要求申请人自行前往区不动产登记中心补交材料，与委托代办承诺不符。",
        12,
        FollowUpStatus.RECTIFIED,
        (
            "回访投诉人，了解补交材料经过",
            "经调查，补交材料须申请人本人现场签字确认，代办员未解释清楚；已向投诉人说明依据并对代办员提醒谈话",
        ),
    ),
    ComplaintSpec(
        "HCP-440514-2026-000355",
        ComplaintChannel.HAOCHAPING,
        "陈店镇便民服务中心",
        (Status.COMPLETED, Status.ARCHIVED),
        "",
        "",
        "好差评系统差评工单：办结后约定邮寄的证照迟迟未收到。",
        2,
        FollowUpStatus.OPEN,
    ),
    ComplaintSpec(
        "",
        ComplaintChannel.ON_SITE,
        "潮南区政务服务中心",
        (Status.COMPLETED, Status.IN_PROGRESS),
        "郑女士",
        "13926781020",
        "到区中心现场反映：取号后等候一个多小时未叫号，无人解释原因。",
        8,
        FollowUpStatus.FEEDBACK_GIVEN,
        (
            "当场接待投诉人并记录",
            "经调查，当日系统故障导致叫号中断约40分钟，未及时广播说明；已增设故障时人工叫号和现场告知流程",
            "已电话向投诉人反馈原因和改进措施并致歉",
        ),
    ),
]
