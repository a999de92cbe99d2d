"""The Chaonan (潮南区) demo data set: centers, items, agents, applicants, cases and reviews.

Every row is derived from the module constants below and from random generators with fixed
seeds, so the planned data set is identical on every run. Rows are looked up by their natural
keys before they are created (center name, department name, item code, agent staff number,
ID number or credit code, username; for cases the applicant, center, received date and mode),
so running the seed again adds nothing.

Dates are anchored to REFERENCE_DATE rather than today, so the data set is reproducible.
Case numbers, first-receiving centers and promised dates are left to the flush-time
enforcement (lifecycle.enforcement.prepare_new_case). All people, ID numbers, credit codes,
phone numbers and company names are synthetic.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifecycle.deadlines import add_working_days, is_workday
from lifecycle.errors import TransitionError
from lifecycle.supervision import (
    DEFAULT_FOLLOWUP_WORKING_DAYS,
    RATING_FIELDS,
    advance_followup,
    paper_entry_refusal,
    record_complaint,
    record_evaluation,
    responsible_admin,
)
from lifecycle.transitions import transition
from models import (
    Agent,
    AgentTraining,
    Applicant,
    Case,
    CaseFee,
    CaseLog,
    CaseMaterial,
    Center,
    Complaint,
    Department,
    Evaluation,
    EvaluationLink,
    FollowUp,
    ServiceItem,
    ServiceItemMaterial,
    User,
)
from models.enums import (
    AppealOutcome,
    ApplicantKind,
    ComplaintChannel,
    DelegationScope,
    EvaluationChannel,
    FollowUpStatus,
    Gender,
    IdType,
    MaterialForm,
    Mode,
    Rating,
    RemoteChannel,
    ResultDelivery,
    ReturnMethod,
    Role,
    Status,
    TerminationReason,
    Tier,
    label,
)
from models.identifiers import credit_check_char, id_check_char
from seed.holidays import seed_holidays

# ---------------------------------------------------------------------------------------------
# Fixed anchors
# ---------------------------------------------------------------------------------------------

REFERENCE_DATE = dt.date(2026, 11, 20)
CASE_WINDOW_DAYS = 240
CASE_COUNT = 340
MAX_LOGS = 6

DEMO_PASSWORD = "Chaonan#2024"

DISTRICT_CENTER_NAME = "潮南区政务服务中心"

# (username, role, center name, full name)
DEMO_USERS: list[tuple[str, str, str, str]] = [
    ("qu_admin", Role.DISTRICT_ADMIN.value, DISTRICT_CENTER_NAME, "区管理员"),
    ("qu_audit", Role.AUDITOR.value, DISTRICT_CENTER_NAME, "区审计员"),
    ("xiashan_admin", Role.TOWN_ADMIN.value, "峡山街道便民服务中心", "峡山街道管理员"),
    ("chendian_admin", Role.TOWN_ADMIN.value, "陈店镇便民服务中心", "陈店镇管理员"),
    ("xiashan_dongshan", Role.VILLAGE_OPERATOR.value, "东山社区便民服务站", "东山社区帮办员"),
    ("xiashan_taoxi", Role.VILLAGE_OPERATOR.value, "桃溪社区便民服务站", "桃溪社区帮办员"),
    ("chendian_wenguang", Role.VILLAGE_OPERATOR.value, "文光社区便民服务站", "文光社区帮办员"),
]

# ---------------------------------------------------------------------------------------------
# Centers: 1 district center, 11 town/subdistrict centers, village/community stations
# ---------------------------------------------------------------------------------------------

DISTRICT_ADDRESS = "汕头市潮南区峡山街道金光南路潮南区政务服务中心"
DISTRICT_HOTLINE = "0754-87766345"

# (town, known road names, [(village, "社区" or "村"), ...]). Villages of 峡山, 陈店, 司马浦,
# 胪岗, 雷岭 and 两英 come from domain.md section 4; the others are plausible local names.
TOWNS: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]] = [
    (
        "峡山街道",
        ("广汕公路", "金光南路", "东山路", "峡溪路"),
        [("东山", "社区"), ("桃溪", "社区"), ("泗联", "社区"), ("南里", "社区"), ("西沟", "村")],
    ),
    ("井都镇", (), [("神山", "村"), ("古埕", "村"), ("钱塘", "村")]),
    ("陇田镇", (), [("田心", "社区"), ("沙陇", "社区"), ("东仙", "村")]),
    ("雷岭镇", (), [("双老", "社区"), ("东老", "村"), ("茶园", "村"), ("南溪", "村")]),
    ("成田镇", (), [("成田", "社区"), ("家美", "村"), ("大寮", "村")]),
    ("红场镇", (), [("红场", "社区"), ("大溪坝", "村"), ("林招", "村")]),
    ("胪岗镇", (), [("胪溪", "社区"), ("上厝", "社区"), ("新庆", "村"), ("泗黄", "村")]),
    ("两英镇", ("司神公路",), [("两英", "社区"), ("墙新", "社区"), ("河浦", "社区")]),
    ("仙城镇", ("陈仙公路",), [("仙城", "社区"), ("深溪", "村"), ("波美", "村")]),
    ("陈店镇", (), [("文光", "社区"), ("湖西", "社区"), ("溪口", "社区"), ("新溪西", "村")]),
    ("司马浦镇", (), [("大布上", "社区"), ("司上", "社区"), ("溪美朱", "村"), ("仙港", "村")]),
]

# Relative size of each town: residents seeded there and share of the case load.
# fmt: off
TOWN_WEIGHTS: dict[str, int] = {
    "峡山街道": 30, "陈店镇": 22, "两英镇": 20, "司马浦镇": 14, "胪岗镇": 12, "陇田镇": 12,
    "仙城镇": 10, "井都镇": 8, "成田镇": 8, "雷岭镇": 7, "红场镇": 7,
}
# fmt: on

# The demo logins work at these stations, so they get a larger share of the cases.
FEATURED_VILLAGES: dict[str, int] = {"东山社区便民服务站": 30, "桃溪社区便民服务站": 26, "文光社区便民服务站": 26}

# ---------------------------------------------------------------------------------------------
# Departments and service items
# ---------------------------------------------------------------------------------------------

# (name, short name used in custody notes and logs, contact, phone)
DEPARTMENTS: list[tuple[str, str, str, str]] = [
    ("区市场监督管理局", "区市场监管局", "登记注册股 林晓彤", "0754-87731201"),
    ("区人力资源和社会保障局", "区人社局", "社会保险股 陈泽彬", "0754-87735102"),
    ("区民政局", "区民政局", "社会救助股 郑丽纯", "0754-87736318"),
    ("区残疾人联合会", "区残联", "康复就业部 黄晓燕", "0754-87739026"),
    ("区自然资源局", "区不动产登记中心", "登记受理科 蔡伟鸿", "0754-87742287"),
    ("区住房和城乡建设局", "区住建局", "建筑业管理股 许俊杰", "0754-87745530"),
    ("区税务局", "区税务局", "纳税服务股 吴思敏", "0754-87748611"),
    ("区医疗保障局", "区医保局", "待遇保障股 马晓纯", "0754-87751172"),
    ("区公安分局户政", "区公安分局户政科", "户政科 洪耀光", "0754-87754490"),
    ("区卫生健康局", "区卫健局", "人口家庭股 姚淑敏", "0754-87757723"),
    ("区农业农村局", "区农业农村局", "农村经营管理股 周庆丰", "0754-87760385"),
]

_O = MaterialForm.ORIGINAL.value
_C = MaterialForm.COPY.value

_ID_CARD_FEE_BASIS = (
    "《中华人民共和国居民身份证法》第二十条；《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》"
    "(发改价格〔2003〕2322号)：换领、补领居民身份证工本费每证20元"
)
_PROPERTY_FEE_BASIS = (
    "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》(发改价格规〔2016〕2559号)："
    "住宅类不动产登记费每件80元"
)


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    department: str
    days: int
    tier: str  # lowest tier the item is stationed at: village, town or district
    # Who applies: person; org (any organization); company (enterprise or cooperative,
    # credit code 91/93); sole (个体工商户, credit code 92); or any.
    audience: str
    result: str  # completion result written on the 办结单
    check: str  # what the agent checks with the department
    materials: tuple[tuple[str, str, int], ...]
    online: bool = False
    in_person: bool = False
    fee: str | None = None
    fee_basis: str = ""
    notes: str = ""


# fmt: off
ITEMS: list[ItemSpec] = [
    # Village tier: simple livelihood items every station may accept.
    ItemSpec("CN-RS-001", "社会保障卡申领", "区人力资源和社会保障局", days=5, tier="village", audience="person",
             result="社会保障卡已制卡，通知申请人领取", check="参保信息及制卡照片",
             materials=(("居民身份证", _O, 1), ("近期免冠彩色证件照", _O, 1), ("社会保障卡申领登记表", _O, 1)),
             online=True),
    ItemSpec("CN-RS-002", "城乡居民养老保险参保登记", "区人力资源和社会保障局", days=1, tier="village", audience="person",
             result="已办理城乡居民养老保险参保登记", check="参保状态及缴费档次",
             materials=(("居民身份证", _O, 1), ("户口簿", _C, 1), ("城乡居民基本养老保险参保登记表", _O, 1)),
             online=True),
    ItemSpec("CN-MZ-001", "最低生活保障申请", "区民政局", days=30, tier="village", audience="person",
             result="经审核确认，准予纳入最低生活保障，自次月起发放", check="家庭经济状况核对结果",
             materials=(("最低生活保障申请书", _O, 1), ("户口簿", _C, 1), ("居民身份证", _C, 1), ("家庭经济状况核对授权书", _O, 1)),
             notes="村(社区)代收材料并入户调查，镇(街道)审核，区民政局审批"),
    ItemSpec("CN-MZ-002", "高龄老人津贴申领", "区民政局", days=10, tier="village", audience="person",
             result="已核准高龄老人津贴，按月发放", check="户籍及年龄信息",
             materials=(("居民身份证", _C, 1), ("户口簿", _C, 1), ("本人银行卡或存折", _C, 1))),
    ItemSpec("CN-CL-001", "残疾人证新办", "区残疾人联合会", days=20, tier="village", audience="person",
             result="残疾人证已核发", check="残疾评定安排",
             materials=(("残疾人证申请表", _O, 1), ("居民身份证", _C, 1), ("近期免冠彩色证件照", _O, 2), ("户口簿", _C, 1)),
             in_person=True,
             notes="须本人到指定医院进行残疾评定，行动不便的可申请上门评残"),
    ItemSpec("CN-YB-001", "医保异地就医备案", "区医疗保障局", days=1, tier="village", audience="person",
             result="异地就医备案成功，可在就医地直接结算", check="参保状态及备案地",
             materials=(("居民身份证", _C, 1), ("异地就医备案登记表", _O, 1)),
             online=True),
    ItemSpec("CN-YB-002", "城乡居民医疗保险参保登记", "区医疗保障局", days=1, tier="village", audience="person",
             result="已办理城乡居民医保参保登记", check="参保状态",
             materials=(("居民身份证", _C, 1), ("户口簿", _C, 1)),
             online=True),
    ItemSpec("CN-WJ-001", "生育登记", "区卫生健康局", days=1, tier="village", audience="person",
             result="已办理生育登记，出具生育登记服务单", check="夫妻双方户籍及婚姻信息",
             materials=(("夫妻双方居民身份证", _C, 1), ("结婚证", _C, 1)),
             online=True),
    # Town tier: also stationed at every town/subdistrict center.
    ItemSpec("CN-SJ-001", "个体工商户设立登记", "区市场监督管理局", days=3, tier="town", audience="person",
             result="准予登记，已发放营业执照", check="名称及经营范围",
             materials=(("经营者居民身份证", _O, 1), ("个体工商户登记(备案)申请书", _O, 1), ("经营场所使用证明", _C, 1)),
             online=True),
    ItemSpec("CN-SJ-002", "个体工商户变更登记", "区市场监督管理局", days=3, tier="town", audience="sole",
             result="准予变更登记，已换发营业执照", check="变更事项",
             materials=(("个体工商户变更登记申请书", _O, 1), ("营业执照正副本", _O, 1), ("经营者居民身份证", _C, 1)),
             online=True),
    ItemSpec("CN-SJ-003", "食品经营许可", "区市场监督管理局", days=10, tier="town", audience="org",
             result="准予许可，已发放食品经营许可证", check="经营场所布局及食品安全管理制度",
             materials=(("食品经营许可申请书", _O, 1), ("营业执照", _C, 1), ("经营场所平面布局图", _O, 1), ("食品安全管理制度文本", _O, 1)),
             online=True),
    ItemSpec("CN-RS-003", "城乡居民养老保险待遇申领", "区人力资源和社会保障局", days=5, tier="town", audience="person",
             result="已核定养老金待遇，自次月起按月发放", check="缴费年限",
             materials=(("居民身份证", _O, 1), ("户口簿", _C, 1), ("本人银行卡", _C, 1), ("待遇申领表", _O, 1))),
    ItemSpec("CN-RS-004", "就业登记", "区人力资源和社会保障局", days=1, tier="town", audience="person",
             result="已办理就业登记", check="就业单位及劳动合同信息",
             materials=(("居民身份证", _C, 1), ("劳动合同", _C, 1)),
             online=True),
    ItemSpec("CN-MZ-003", "特困人员救助供养申请", "区民政局", days=20, tier="town", audience="person",
             result="经审批，准予纳入特困人员救助供养", check="家庭经济状况及赡养能力",
             materials=(("特困人员救助供养申请书", _O, 1), ("居民身份证", _C, 1), ("户口簿", _C, 1), ("残疾人证或医疗诊断证明", _C, 1))),
    ItemSpec("CN-MZ-004", "临时救助申请", "区民政局", days=10, tier="town", audience="person",
             result="准予临时救助，救助金已发放", check="困难情形及医疗费用",
             materials=(("临时救助申请书", _O, 1), ("居民身份证", _C, 1), ("医疗费用票据或事故证明", _C, 1))),
    ItemSpec("CN-CL-002", "困难残疾人生活补贴和重度残疾人护理补贴申请", "区残疾人联合会", days=15, tier="town", audience="person",
             result="已核准两项补贴，按月发放", check="残疾等级及家庭经济状况",
             materials=(("补贴申请审批表", _O, 1), ("残疾人证", _C, 1), ("居民身份证", _C, 1), ("低保证明", _C, 1))),
    ItemSpec("CN-GA-001", "居民身份证换领", "区公安分局户政", days=20, tier="town", audience="person",
             result="新证已制发，通知申请人领取", check="户籍信息及相片采集",
             materials=(("原居民身份证", _O, 1), ("户口簿", _O, 1)),
             in_person=True, fee="20.00", fee_basis=_ID_CARD_FEE_BASIS,
             notes="须本人现场采集人像和指纹；行动不便的可预约上门采集"),
    ItemSpec("CN-GA-002", "居民身份证补领", "区公安分局户政", days=20, tier="town", audience="person",
             result="新证已制发，通知申请人领取", check="户籍信息",
             materials=(("户口簿", _O, 1), ("居民身份证补领申请表", _O, 1)),
             in_person=True, fee="20.00", fee_basis=_ID_CARD_FEE_BASIS),
    ItemSpec("CN-NY-001", "农村宅基地申请", "区农业农村局", days=20, tier="town", audience="person",
             result="准予使用宅基地，核发农村宅基地批准书", check="一户一宅及选址情况",
             materials=(("农村宅基地和建房(规划许可)申请表", _O, 1), ("户口簿", _C, 1), ("居民身份证", _C, 1), ("村民小组会议决议", _O, 1)),
             in_person=True),
    ItemSpec("CN-SW-001", "增值税发票领用", "区税务局", days=1, tier="town", audience="org",
             result="已完成发票领用，发票已发放", check="纳税人票种核定信息",
             materials=(("营业执照", _C, 1), ("经办人居民身份证", _O, 1), ("发票领用簿", _O, 1)),
             online=True),
    # District tier: only at the district center.
    ItemSpec("CN-SJ-004", "企业设立登记", "区市场监督管理局", days=3, tier="district", audience="person",
             result="准予设立登记，已发放营业执照", check="企业名称自主申报及经营范围",
             materials=(("公司登记(备案)申请书", _O, 1), ("公司章程", _O, 1), ("股东及法定代表人身份证明", _C, 1), ("住所使用证明", _C, 1)),
             online=True),
    ItemSpec("CN-SJ-005", "企业变更登记", "区市场监督管理局", days=3, tier="district", audience="company",
             result="准予变更登记，已换发营业执照", check="变更事项及股东会决议",
             materials=(("公司变更登记申请书", _O, 1), ("股东会决议", _O, 1), ("营业执照正副本", _O, 1)),
             online=True),
    ItemSpec("CN-SJ-006", "企业注销登记", "区市场监督管理局", days=5, tier="district", audience="company",
             result="准予注销登记", check="清税情况及公告期",
             materials=(("注销登记申请书", _O, 1), ("清算报告", _O, 1), ("清税证明", _C, 1), ("营业执照正副本", _O, 1)),
             online=True),
    ItemSpec("CN-RS-005", "单位社会保险参保登记", "区人力资源和社会保障局", days=1, tier="district", audience="org",
             result="已完成单位社会保险参保登记", check="单位登记信息",
             materials=(("营业执照", _C, 1), ("社会保险单位参保登记表", _O, 1), ("经办人居民身份证", _C, 1)),
             online=True),
    ItemSpec("CN-ZR-001", "不动产登记(转移)", "区自然资源局", days=5, tier="district", audience="any",
             result="已完成转移登记，发放不动产权证书", check="不动产登记簿记载及查封抵押情况",
             materials=(("不动产登记申请书", _O, 1), ("申请人身份证明", _C, 1), ("不动产权证书", _O, 1), ("不动产买卖合同", _O, 1)),
             in_person=True, fee="80.00", fee_basis=_PROPERTY_FEE_BASIS,
             notes="买卖双方须到场面签，代办员可代为预约、预审材料和领证"),
    ItemSpec("CN-ZR-002", "不动产登记资料查询", "区自然资源局", days=1, tier="district", audience="any",
             result="已出具不动产登记信息查询结果", check="登记簿记载信息",
             materials=(("不动产登记资料查询申请书", _O, 1), ("查询人身份证明", _C, 1)),
             online=True),
    ItemSpec("CN-ZJ-001", "建筑工程施工许可证核发", "区住房和城乡建设局", days=5, tier="district", audience="company",
             result="准予许可，已核发建筑工程施工许可证", check="施工图审查及工程质量安全监督手续",
             materials=(("建筑工程施工许可申请表", _O, 1), ("建设工程规划许可证", _C, 1), ("施工合同", _C, 1), ("资金到位承诺书", _O, 1)),
             online=True),
    ItemSpec("CN-ZJ-002", "公共租赁住房申请", "区住房和城乡建设局", days=20, tier="district", audience="person",
             result="已通过资格审核，列入公共租赁住房轮候", check="家庭住房及收入情况",
             materials=(("公共租赁住房申请表", _O, 1), ("户口簿", _C, 1), ("居民身份证", _C, 1), ("收入证明", _O, 1))),
    ItemSpec("CN-SW-002", "新办纳税人涉税事项办理", "区税务局", days=1, tier="district", audience="org",
             result="已完成新办纳税人涉税事项办理", check="登记信息确认及票种核定",
             materials=(("营业执照", _C, 1), ("法定代表人居民身份证", _C, 1), ("经办人居民身份证", _O, 1)),
             online=True),
    ItemSpec("CN-YB-003", "门诊特定病种待遇认定", "区医疗保障局", days=10, tier="district", audience="person",
             result="已认定门诊特定病种待遇", check="病历资料及诊断证明",
             materials=(("门诊特定病种待遇认定申请表", _O, 1), ("居民身份证", _C, 1), ("诊断证明及病历资料", _C, 1))),
    ItemSpec("CN-GA-003", "户口迁移(省内迁入)", "区公安分局户政", days=5, tier="district", audience="person",
             result="已办理户口迁入，发放新户口簿", check="迁入地址及落户条件",
             materials=(("户口簿", _O, 1), ("居民身份证", _O, 1), ("房屋产权证明或亲属关系证明", _C, 1)),
             in_person=True),
    ItemSpec("CN-WJ-002", "公共场所卫生许可", "区卫生健康局", days=10, tier="district", audience="org",
             result="准予许可，已发放公共场所卫生许可证", check="卫生管理制度及检测报告",
             materials=(("公共场所卫生许可申请表", _O, 1), ("营业执照", _C, 1), ("卫生检测报告", _C, 1)),
             online=True),
    ItemSpec("CN-NY-002", "农业机械购置补贴申请", "区农业农村局", days=15, tier="district", audience="any",
             result="补贴已审核通过，资金已拨付", check="机具核验及购机发票",
             materials=(("补贴申请表", _O, 1), ("购机发票", _C, 1), ("居民身份证或营业执照", _C, 1))),
]
# fmt: on

_TIER_RANK = {Tier.VILLAGE.value: 0, Tier.TOWN.value: 1, Tier.DISTRICT.value: 2}

# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------

# (center name, number of agents); staff numbers CN0001.. are handed out in this order.
# fmt: off
AGENT_POSTS: list[tuple[str, int]] = [
    (DISTRICT_CENTER_NAME, 5),
    ("峡山街道便民服务中心", 3), ("陈店镇便民服务中心", 3), ("两英镇便民服务中心", 2),
    ("司马浦镇便民服务中心", 2), ("胪岗镇便民服务中心", 2), ("陇田镇便民服务中心", 2),
    ("仙城镇便民服务中心", 2), ("成田镇便民服务中心", 2), ("井都镇便民服务中心", 1),
    ("雷岭镇便民服务中心", 1), ("红场镇便民服务中心", 1),
    ("东山社区便民服务站", 1), ("桃溪社区便民服务站", 1), ("泗联社区便民服务站", 1),
    ("文光社区便民服务站", 1), ("湖西社区便民服务站", 1), ("大布上社区便民服务站", 1),
    ("胪溪社区便民服务站", 1), ("两英社区便民服务站", 1), ("墙新社区便民服务站", 1),
    ("田心社区便民服务站", 1), ("沙陇社区便民服务站", 1), ("神山村便民服务站", 1),
    ("仙城社区便民服务站", 1), ("双老社区便民服务站", 1),
]
# fmt: on
INACTIVE_STAFF_NOS = {"CN0005"}  # transferred to another post; kept for the roster history

TRAINING_TOPICS: list[str] = [
    "帮办代办服务规范及六张表单填写",
    "政务服务好差评制度解读",
    "广东政务服务网及粤省事网上申报操作",
    "个人信息保护与保密要求",
    "适老化服务与上门帮办礼仪",
    "市场主体登记业务培训",
    "社会保险与医疗保障业务培训",
    "社会救助政策解读",
]
TRAINING_HOURS = ["2.0", "3.0", "3.5", "4.0", "8.0"]

# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

# fmt: off
SURNAMES: dict[str, int] = {
    "陈": 20, "林": 12, "郑": 10, "黄": 8, "李": 6, "张": 6, "蔡": 6, "许": 5, "吴": 5, "马": 4,
    "洪": 4, "姚": 3, "周": 3, "谢": 3, "肖": 2, "翁": 2, "庄": 2, "纪": 2, "柯": 2, "魏": 2,
    "方": 2, "杨": 2, "王": 2, "刘": 2, "郭": 2,
}
# fmt: on
MALE_NAMES = (
    "少鹏 泽鑫 锦辉 伟鸿 炳坤 俊杰 泽彬 晓东 壮涛 耀光 锐锋 宏亮 楚鸿 俊豪 育彬 "
    "泽楷 少雄 伟城 汉忠 庆丰 永强 镇涛 奕鸿 旭东 佳鑫 振华 家乐 子轩 宇航 浩然"
).split()
MALE_ELDER_NAMES = "木松 炳南 瑞发 顺兴 锦标 德荣 开泉 炳强 秋生 永华 树德 潮生".split()
FEMALE_NAMES = (
    "丽纯 晓燕 佳琪 少娜 丽娜 秀娟 晓纯 雅婷 婉婷 泽纯 珊珊 楚君 思敏 洁纯 惠玲 燕芬 丹丹 淑敏 晓璇 梓涵 钰婷 可欣"
).split()
FEMALE_ELDER_NAMES = "秀英 惜卿 瑞娇 素娥 玉兰 惜娟 秀兰 彩云 淑贞 桂香 月英 亚妹".split()
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "177 180 181 182 183 185 186 187 188 189 199"
).split()
ADDRESS_LANES = "新厝{a}巷{b}号 老寨{a}巷{b}号 新乡路{b}号 下寨{a}巷{b}号 围内{a}巷{b}号 东片{a}巷{b}号".split()

# (name, town, credit code type prefix: 91 企业 / 92 个体工商户 / 93 农民专业合作社, address detail)
ORGANIZATIONS: list[tuple[str, str, str, str]] = [
    ("汕头市潮南区峡山锦泰针织有限公司", "峡山街道", "91", "广汕公路东山段"),
    ("潮南区峡山华辉内衣厂", "峡山街道", "92", "峡溪路"),
    ("汕头市潮南区峡山明丽服装有限公司", "峡山街道", "91", "东山路"),
    ("潮南区峡山桃溪鸿发电子商行", "峡山街道", "92", "桃溪社区峡溪路"),
    ("汕头市潮南区峡山泓盛印染有限公司", "峡山街道", "91", "西沟村工业区"),
    ("潮南区峡山佳味食品店", "峡山街道", "92", "金光南路"),
    ("汕头市潮南区峡山信达物流有限公司", "峡山街道", "91", "广汕公路"),
    ("汕头市潮南区陈店文光电子科技有限公司", "陈店镇", "91", "文光社区电子城"),
    ("汕头市潮南区陈店宏图内衣有限公司", "陈店镇", "91", "湖西社区工业区"),
    ("潮南区陈店湖西美佳文胸厂", "陈店镇", "92", "湖西社区"),
    ("汕头市潮南区陈店顺昌塑料制品有限公司", "陈店镇", "91", "溪口社区工业区"),
    ("潮南区陈店溪口老字号粿品店", "陈店镇", "92", "溪口社区"),
    ("汕头市潮南区陈店永丰电器有限公司", "陈店镇", "91", "新溪西村"),
    ("汕头市潮南区两英宏达针织有限公司", "两英镇", "91", "司神公路"),
    ("潮南区两英墙新华美毛织厂", "两英镇", "92", "墙新社区"),
    ("汕头市潮南区两英锦华织造有限公司", "两英镇", "91", "司神公路两英段"),
    ("潮南区两英河浦家乐超市", "两英镇", "92", "河浦社区"),
    ("汕头市潮南区两英恒兴纺织有限公司", "两英镇", "91", "两英社区工业区"),
    ("汕头市潮南区两英河浦蔬菜种植专业合作社", "两英镇", "93", "河浦社区"),
    ("汕头市潮南区司马浦大布针织有限公司", "司马浦镇", "91", "大布上社区"),
    ("潮南区司马浦司上利民五金店", "司马浦镇", "92", "司上社区"),
    ("汕头市潮南区司马浦华兴包装材料有限公司", "司马浦镇", "91", "溪美朱村工业区"),
    ("汕头市潮南区司马浦仙港花卉种植专业合作社", "司马浦镇", "93", "仙港村"),
    ("汕头市潮南区胪岗泗黄服饰有限公司", "胪岗镇", "91", "泗黄村"),
    ("潮南区胪岗上厝兴旺餐饮店", "胪岗镇", "92", "上厝社区"),
    ("汕头市潮南区雷岭茶园荔枝种植专业合作社", "雷岭镇", "93", "茶园村"),
    ("潮南区雷岭双老农家菜馆", "雷岭镇", "92", "双老社区"),
    ("汕头市潮南区仙城深溪五金塑料有限公司", "仙城镇", "91", "深溪村"),
    ("汕头市潮南区陇田沙陇渔具有限公司", "陇田镇", "91", "沙陇社区"),
    ("汕头市潮南区成田家美建材有限公司", "成田镇", "91", "家美村"),
]
CONTACT_TITLES = ["行政主管", "办公室主任", "财务负责人", "总经理助理"]
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

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
CLOSED_STATUSES = {Status.COMPLETED, Status.ARCHIVED, Status.TERMINATED, Status.REJECTED}
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
    birth: dt.date | None = None
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
    returned: bool
    returned_date: dt.date | None


@dataclass
class LogSpec:
    at: dt.datetime
    content: str
    department: str | None


@dataclass
class FollowUpSpec:
    assignee: str
    status: str
    due_date: dt.date
    callback_at: dt.datetime | None = None
    callback_by: str | None = None
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


def _workday_on_or_before(day: dt.date) -> dt.date:
    while not is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def _at(rng: random.Random, day: dt.date, earliest: int = 30, latest: int = 540) -> dt.datetime:
    """A naive UTC timestamp in office hours (08:30-17:00 Beijing time) on the given day."""
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=rng.randint(earliest, latest))


def _unreachable(spec: CaseSpec) -> bool:
    """A termination for materials never supplied after calls that went unanswered: no signature possible."""
    return spec.fields.get("termination_reason") == TerminationReason.MATERIALS_NOT_SUPPLIED


def _pick(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _stationed_codes(center: CenterSpec) -> list[str]:
    rank = _TIER_RANK[center.tier]
    return [i.code for i in ITEMS if _TIER_RANK[i.tier] <= rank]


def _serves(item: ItemSpec, applicant: ApplicantSpec) -> bool:
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


def _plan_centers(rng: random.Random) -> list[CenterSpec]:
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


def _plan_agents(rng: random.Random, centers: dict[str, CenterSpec]) -> list[AgentSpec]:
    agents: list[AgentSpec] = []
    sample_size = {Tier.DISTRICT.value: (14, 18), Tier.TOWN.value: (10, 14), Tier.VILLAGE.value: (6, 8)}
    for center_name, count in AGENT_POSTS:
        center = centers[center_name]
        codes = _stationed_codes(center)
        for _ in range(count):
            staff_no = f"CN{len(agents) + 1:04d}"
            gender = rng.choice([Gender.MALE.value, Gender.FEMALE.value])
            low, high = sample_size[center.tier]
            items = sorted(rng.sample(codes, min(len(codes), rng.randint(low, high))))
            trainings = []
            for topic in sorted(rng.sample(TRAINING_TOPICS, rng.randint(1, 3))):
                day = _workday_on_or_before(dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 580)))
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


def _plan_applicants(rng: random.Random, centers: list[CenterSpec]) -> list[ApplicantSpec]:
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
                    birth=birth,
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


class _CasePlanner:
    """Draws the case list; all choices come from one fixed-seed generator."""

    def __init__(
        self, rng: random.Random, centers: list[CenterSpec], agents: list[AgentSpec], applicants: list[ApplicantSpec]
    ) -> None:
        self.rng = rng
        self.centers = centers
        self.center_by_name = {c.name: c for c in centers}
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
        usable = [c for c in candidates if _serves(self.items[c], applicant)]
        if not usable:
            usable = [c for c in _stationed_codes(center) if _serves(self.items[c], applicant)]
        count = 2 if len(usable) >= 2 and self.rng.random() < 0.18 else 1
        return sorted(self.rng.sample(usable, min(count, len(usable))))

    def _received_date(self) -> dt.date:
        # The service has grown over the window, so recent days receive more cases.
        days_ago = min(int(self.rng.triangular(0, CASE_WINDOW_DAYS, 0)), CASE_WINDOW_DAYS - 1)
        day = REFERENCE_DATE - dt.timedelta(days=days_ago)
        return _workday_on_or_before(day)

    def _status(self, mode: str, age: int) -> Status:
        table = DELEGATED_STATUS_WEIGHTS if mode == Mode.DELEGATED else ASSISTED_STATUS_WEIGHTS
        for limit, weights in table:
            if age <= limit:
                return _pick(self.rng, weights)
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
        mode = _pick(rng, MODE_WEIGHTS[mode_key]).value
        agent = rng.choice(agents) if agents else None
        candidates = agent.items if agent else _stationed_codes(center)
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
        if status not in CLOSED_STATUSES and add_working_days(received, days) < REFERENCE_DATE and rng.random() < 0.75:
            # Most open cases are still within their promised time; the rest show up as overdue.
            received = _workday_on_or_before(REFERENCE_DATE - dt.timedelta(days=rng.randint(0, days * 7 // 5)))
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
        spec.materials = self._materials(spec, items, status, closed)
        spec.logs = self._logs(spec, items, status, closed)
        # Registered a few minutes before the first entry of its story (the registration entry itself).
        spec.fields["created_at"] = spec.logs[0].at - dt.timedelta(minutes=5)
        if status in (Status.IN_PROGRESS, Status.COMPLETED, Status.ARCHIVED):
            spec.fees = [i.code for i in items if i.fee]
        return spec

    def _fill_mode_fields(self, spec: CaseSpec, applicant: ApplicantSpec, received: dt.date) -> None:
        rng = self.rng
        if spec.mode == Mode.REMOTE:
            channel = _pick(rng, {RemoteChannel.PHONE: 4, RemoteChannel.VIDEO: 3, RemoteChannel.ONLINE: 3})
            spec.fields["remote_channel"] = channel.value
            if rng.random() < 0.5:
                spec.fields["tracking_in"] = f"EMS11{rng.randint(0, 10**11 - 1):011d}"
        elif spec.mode == Mode.DOOR_TO_DOOR:
            spec.fields["visit_address"] = applicant.address
            visit_day = min(add_working_days(received, rng.randint(0, 2)), spec.fields["closed_date"] or REFERENCE_DATE)
            spec.fields["visit_at"] = _at(rng, visit_day, 60, 480)
        elif spec.mode == Mode.DELEGATED:
            spec.fields["delegation_scope"] = _pick(rng, {DelegationScope.WHOLE: 7, DelegationScope.PARTIAL: 3}).value

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
                originals = len({m[0] for i in items for m in i.materials if m[1] == _O})
                spec.fields["handover_note"] = (
                    f"向{who}{applicant.evaluator[0]}移交办理结果及原件{originals}份，逐项核对后签收"
                )
        elif status == Status.TERMINATED:
            reasons = {
                r: w for r, (w, _t) in TERMINATIONS.items() if r != TerminationReason.OUT_OF_SCOPE or items[0].in_person
            }
            reason = _pick(rng, reasons)
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
            return _pick(rng, {ResultDelivery.POST: 6, ResultDelivery.WINDOW: 4})
        if spec.mode == Mode.DOOR_TO_DOOR:
            if spec.agent is None:
                return _pick(rng, {ResultDelivery.POST: 1, ResultDelivery.WINDOW: 1})
            return _pick(rng, {ResultDelivery.AGENT: 7, ResultDelivery.POST: 3})
        return _pick(rng, {ResultDelivery.AGENT: 40, ResultDelivery.WINDOW: 35, ResultDelivery.POST: 25})

    def _materials(
        self, spec: CaseSpec, items: list[ItemSpec], status: Status, closed: dt.date | None
    ) -> list[MaterialSpec]:
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
                original = form == _O
                material = MaterialSpec(name, form, copies, True, holder, False, None)
                if status == Status.SUBMITTED:
                    material.received, material.custody = False, ""
                elif spec.mode == Mode.ON_SITE:
                    material.custody = "窗口核验后当场退还" if original else f"已提交{dept}窗口"
                    material.returned, material.returned_date = original, spec.received_date if original else None
                elif online_only:
                    # Uploaded as scans during online guidance; the paper original never left the applicant.
                    material.custody = "网上申报上传电子件" + ("，原件由申请人自行保管" if original else "")
                    material.returned, material.returned_date = original, spec.received_date if original else None
                elif status == Status.TERMINATED and _unreachable(spec):
                    material.custody = "无法联系委托人，由本机构保管"
                elif status in (Status.TERMINATED, Status.REJECTED):
                    material.custody = "已退还委托人签收"
                    material.returned, material.returned_date = True, closed
                elif status in (Status.COMPLETED, Status.ARCHIVED):
                    if original:
                        back = (
                            "已邮寄退还申请人"
                            if spec.fields.get("result_delivery") == ResultDelivery.POST
                            else "已退还申请人签收"
                        )
                        material.custody, material.returned, material.returned_date = back, True, closed
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
                originals = sum(1 for m in spec.materials if m.form == _O)
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
            handback = "委托人无法联系，原件由本机构保管" if _unreachable(spec) else "退还全部材料"
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
                if any(m.form == _O for m in spec.materials):
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
            at = _at(rng, day)
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
        created = _at(rng, day)
        last_log = spec.logs[-1].at
        if created <= last_log:
            created = last_log + dt.timedelta(minutes=rng.randint(10, 120))
        dims = ("attitude", "efficiency", "competence", "communication", "integrity")
        if spec.mode == Mode.DELEGATED or spec.mode == Mode.DOOR_TO_DOOR:
            channel = _pick(
                rng, {EvaluationChannel.PAPER: 6, EvaluationChannel.LINK: 3, EvaluationChannel.HAOCHAPING: 1}
            )
        elif spec.mode == Mode.REMOTE:
            channel = _pick(
                rng, {EvaluationChannel.LINK: 6, EvaluationChannel.HAOCHAPING: 3, EvaluationChannel.PAPER: 1}
            )
        else:
            channel = _pick(
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
            overall = _pick(rng, {5: 65, 4: 30, 3: 5})
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
        center = self.center_by_name[spec.center]
        town_center = f"{center.town}便民服务中心" if center.town else None
        assignee = next(
            (u for u, role, c, _n in DEMO_USERS if role == Role.TOWN_ADMIN.value and c == town_center), "qu_admin"
        )
        caller = next(n for u, _r, _c, n in DEMO_USERS if u == assignee)
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
        followup = FollowUpSpec(assignee, status.value, created.date() + dt.timedelta(days=21))
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
            followup.callback_at = _at(rng, created.date() + dt.timedelta(days=rng.randint(1, min(3, age))))
            followup.callback_by = caller
            followup.callback_record = record
        if rank >= 2:
            followup.rectification = rectification
        if rank >= 3:
            followup.feedback = feedback
        if rank >= 4:
            callback_day = followup.callback_at.date()
            followup.closed_date = min(callback_day + dt.timedelta(days=rng.randint(1, 10)), REFERENCE_DATE)
        return followup


def build_plan() -> Plan:
    """The whole demo data set as plain data; identical on every call."""
    centers = _plan_centers(random.Random(20260101))
    agents = _plan_agents(random.Random(20260102), {c.name: c for c in centers})
    applicants = _plan_applicants(random.Random(20260103), centers)
    cases = _CasePlanner(random.Random(20260104), centers, agents, applicants).plan(CASE_COUNT)
    return Plan(centers, agents, applicants, cases)


# ---------------------------------------------------------------------------------------------
# Writing the plan to the database
# ---------------------------------------------------------------------------------------------


def _seed_centers(session: Session, plan: Plan) -> dict[str, Center]:
    centers = {c.name: c for c in session.scalars(select(Center))}
    for tier in (Tier.DISTRICT.value, Tier.TOWN.value, Tier.VILLAGE.value):
        for spec in plan.centers:
            if spec.tier != tier or spec.name in centers:
                continue
            center = Center(
                tier=spec.tier,
                name=spec.name,
                parent=centers[spec.parent] if spec.parent else None,
                address=spec.address,
                phone=spec.phone,
                hotline=spec.hotline,
            )
            session.add(center)
            centers[spec.name] = center
        session.flush()
    return centers


def _seed_departments(session: Session) -> dict[str, Department]:
    departments = {d.name: d for d in session.scalars(select(Department))}
    for name, _short, contact, phone in DEPARTMENTS:
        if name not in departments:
            departments[name] = Department(name=name, contact=contact, phone=phone)
            session.add(departments[name])
    session.flush()
    return departments


def _seed_items(
    session: Session, plan: Plan, centers: dict[str, Center], departments: dict[str, Department]
) -> dict[str, ServiceItem]:
    items = {i.code: i for i in session.scalars(select(ServiceItem))}
    for spec in ITEMS:
        if spec.code in items:
            continue
        item = ServiceItem(
            code=spec.code,
            name=spec.name,
            department=departments[spec.department],
            time_limit_days=spec.days,
            fee_amount=Decimal(spec.fee) if spec.fee else None,
            fee_basis=spec.fee_basis,
            online_declarable=spec.online,
            in_person_verification=spec.in_person,
            notes=spec.notes,
        )
        item.materials = [ServiceItemMaterial(name=n, form=f, copies=c) for n, f, c in spec.materials]
        session.add(item)
        items[spec.code] = item
    session.flush()
    for center_spec in plan.centers:
        center = centers[center_spec.name]
        for code in _stationed_codes(center_spec):
            if not items[code].is_stationed_at(center):
                items[code].centers.append(center)
    session.flush()
    return items


def _seed_users(session: Session, centers: dict[str, Center]) -> dict[str, User]:
    users = {u.username: u for u in session.scalars(select(User))}
    for username, role, center_name, full_name in DEMO_USERS:
        if username in users:
            continue
        user = User(username=username, role=role, center=centers[center_name], full_name=full_name)
        user.set_password(DEMO_PASSWORD)
        session.add(user)
        users[username] = user
    session.flush()
    return users


def _seed_agents(
    session: Session, plan: Plan, centers: dict[str, Center], items: dict[str, ServiceItem]
) -> dict[str, Agent]:
    agents = {a.staff_no: a for a in session.scalars(select(Agent))}
    for spec in plan.agents:
        if spec.staff_no in agents:
            continue
        agent = Agent(
            name=spec.name, staff_no=spec.staff_no, center=centers[spec.center], phone=spec.phone, active=spec.active
        )
        agent.items = [items[c] for c in spec.items]
        agent.trainings = [AgentTraining(date=d, topic=t, hours=Decimal(h)) for d, t, h in spec.trainings]
        session.add(agent)
        agents[spec.staff_no] = agent
    session.flush()
    return agents


def _seed_applicants(session: Session, plan: Plan, centers: dict[str, Center]) -> dict[str, Applicant]:
    existing: dict[str, Applicant] = {}
    for applicant in session.scalars(select(Applicant)):
        key = applicant.credit_code if applicant.kind == ApplicantKind.ORGANIZATION.value else applicant.id_number
        if key:
            existing.setdefault(key, applicant)
    for spec in plan.applicants:
        if spec.key in existing:
            continue
        values: dict[str, object] = {
            "kind": spec.kind,
            "center": centers[spec.center],
            "name": spec.name,
            "phone": spec.phone,
            "address": spec.address,
        }
        if spec.kind == ApplicantKind.PERSON.value:
            values.update(
                gender=spec.gender,
                id_type=IdType.RESIDENT_ID.value,
                id_number=spec.key,
                is_elderly=spec.is_elderly,
                is_disabled=spec.is_disabled,
                is_pregnant=spec.is_pregnant,
                has_limited_mobility=spec.has_limited_mobility,
            )
        else:
            values.update(
                credit_code=spec.key,
                legal_representative=spec.legal_representative,
                contact_name=spec.contact_name,
                contact_id_number=spec.contact_id_number,
                contact_phone=spec.contact_phone,
                contact_title=spec.contact_title,
            )
        applicant = Applicant(**values)
        session.add(applicant)
        existing[spec.key] = applicant
    session.flush()
    return existing


_CASE_COLUMNS = (
    "closed_date",
    "summary",
    "remote_channel",
    "tracking_in",
    "tracking_out",
    "visit_address",
    "visit_at",
    "delegation_scope",
    "result_delivery",
    "delivery_address",
    "completion_result",
    "completion_signed",
    "handover_note",
    "termination_reason",
    "termination_text",
    "created_at",
)


# Fields a case carries from its application; outcomes (completion, termination) come from transitions.
_APPLICATION_FIELDS = (
    "summary",
    "remote_channel",
    "tracking_in",
    "visit_address",
    "visit_at",
    "delegation_scope",
    "result_delivery",
    "delivery_address",
)
# The transitions that take a new case to each planned status.
_DELEGATED_PATH = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.IN_PROGRESS: ["accept", "start"],
    Status.SUSPENDED: ["accept", "start", "suspend"],
    Status.COMPLETED: ["accept", "start", "record_result", "complete"],
    Status.TERMINATED: ["accept", "start", "record_termination", "terminate"],
    Status.REJECTED: ["reject"],
    Status.ARCHIVED: ["accept", "start", "record_result", "complete", "archive"],
}
_ASSISTED_PATH = {
    Status.REGISTERED: [],
    Status.IN_PROGRESS: ["start"],
    Status.COMPLETED: ["start", "record_result", "complete"],
    Status.ARCHIVED: ["start", "record_result", "complete", "archive"],
}
# Open village cases passed up to their town (三(一) 兜底): every other one, at most this many.
HAND_OFFS = 6
FOLLOWUP_ORDER = ["open", "called_back", "rectified", "feedback_given", "closed"]


def _noon(day: dt.date) -> dt.datetime:
    """10:00 Beijing time on `day`, as the naive UTC the columns store."""
    return dt.datetime.combine(day, dt.time(2, 0))


def _actor_for(center: Center, users: dict[str, User]) -> User:
    """The demo login that would do the work: the station's operator, the town's admin, else the district."""
    by_center = {u.center_id: u for u in users.values() if u.role in (Role.VILLAGE_OPERATOR, Role.TOWN_ADMIN)}
    for candidate in (center, center.parent):
        if candidate is not None and candidate.id in by_center:
            return by_center[candidate.id]
    return users["qu_admin"]


def _return_method(spec: CaseSpec) -> tuple[ReturnMethod | None, str | None]:
    """How the planned originals went back, and the note on the slip."""
    originals = [m for m in spec.materials if m.form == _O and m.received]
    if spec.mode != Mode.DELEGATED:
        return None, None
    if _unreachable(spec):
        return ReturnMethod.UNREACHABLE, "多次电话联系委托人未果，材料由本机构登记保管，委托人可凭有效证件领取"
    if not originals:
        return ReturnMethod.NONE_HELD, None
    if spec.fields.get("result_delivery") == ResultDelivery.POST:
        return ReturnMethod.POST, f"随办理结果一并寄回，运单号{spec.fields.get('tracking_out')}"
    return ReturnMethod.IN_PERSON, None


def _step_data(name: str, spec: CaseSpec) -> dict[str, object]:
    fields = spec.fields
    method, note = _return_method(spec)
    if name == "accept":
        return {"application_confirmed": True, "undertaking_confirmed": True, "agreement_signed": True}
    if name == "reject":
        return {"reason": str(fields.get("rejection") or "不符合受理条件")}
    if name == "suspend":
        return {"reason": f"等待申请人补正{fields.get('missing') or '材料'}"}
    if name == "record_result":
        return {
            "completion_result": fields.get("completion_result") or "已办结",
            "result_delivery": fields.get("result_delivery"),
            "tracking_out": fields.get("tracking_out"),
            "handover_note": fields.get("handover_note"),
            "materials_return_method": method.value if method else None,
            "materials_return_note": note,
        }
    if name == "complete":
        return {"completion_signed": spec.mode == Mode.DELEGATED, "materials_returned": True}
    if name == "record_termination":
        return {
            "termination_reason": fields["termination_reason"],
            "termination_text": fields["termination_text"],
            "materials_return_method": method.value if method else None,
            "materials_return_note": note,
        }
    if name == "terminate":
        unreachable = method == ReturnMethod.UNREACHABLE
        return {"termination_signed": not unreachable, "materials_returned": not unreachable}
    return {}


def _step_times(spec: CaseSpec, path: list[str], evaluated_at: dt.datetime | None) -> list[dt.datetime]:
    """When each step happened, in the plan's order and consistent with the planned progress log.

    Acceptance follows the signing of the papers; the result is recorded once the department's
    decision is in; the case is closed after the last entry of its story (the slip signed).
    """
    story = [entry for entry in spec.logs if not entry.content.startswith("案卷整理归档")]
    first = story[0].at if story else _noon(spec.received_date)
    last = story[-1].at if story else first
    papers = next((e.at for e in story if e.content.startswith("签订代办服务委托协议")), None)
    decided = next((e.at for e in story if "审批通过" in e.content), None)
    closed = spec.fields.get("closed_date")
    step = dt.timedelta(seconds=30)
    times: list[dt.datetime] = []
    previous = first
    for n, name in enumerate(path):
        if name == "accept":
            at = (papers or first) + step
        elif name == "start":
            at = previous + step
        elif name == "record_result":
            at = max((decided or last) + step, previous + step)
        elif name == "record_termination":
            at = max(last + step, previous + step)
        elif name in ("complete", "terminate"):
            at = max(last + 2 * step, previous + step)
        elif name == "reject" and closed:
            at = max(_noon(closed), first + dt.timedelta(minutes=30 + n))
        elif name == "archive":
            base = evaluated_at + dt.timedelta(days=1) if evaluated_at else _noon(closed) + dt.timedelta(days=8)
            at = min(base, _noon(REFERENCE_DATE))
        else:
            at = max(first + dt.timedelta(minutes=20 * (n + 1)), previous + step)
        times.append(at)
        previous = at
    return times


def _seed_cases(
    session: Session,
    plan: Plan,
    centers: dict[str, Center],
    items: dict[str, ServiceItem],
    agents: dict[str, Agent],
    applicants: dict[str, Applicant],
    departments: dict[str, Department],
    users: dict[str, User],
) -> None:
    """Write each planned case as it would have been lived: registered, then driven by transitions."""
    existing = set(
        session.execute(select(Case.applicant_id, Case.origin_center_id, Case.received_date, Case.mode)).all()
    )
    open_at_village = 0
    for spec in sorted(plan.cases, key=lambda c: (c.received_date, c.fields["created_at"])):
        center = centers[spec.center]
        applicant = applicants[spec.applicant]
        if (applicant.id, center.id, spec.received_date, spec.mode) in existing:
            continue
        case_items = [items[c] for c in spec.items]
        if not all(item.is_stationed_at(center) for item in case_items):
            continue  # someone has since withdrawn the item from this center
        agent = agents.get(spec.agent) if spec.agent else None
        if agent is not None and (not agent.active or agent.center_id != center.id):
            agent = None
        case = Case(
            center=center,
            mode=spec.mode,
            applicant=applicant,
            agent=agent,
            received_date=spec.received_date,
            created_at=spec.fields["created_at"],
            **{k: v for k, v in spec.fields.items() if k in _APPLICATION_FIELDS},
        )
        case.items = case_items
        case.materials = [
            CaseMaterial(name=m.name, form=m.form, copies=m.copies, received=m.received, custody=m.custody)
            for m in spec.materials
        ]
        author = agent.name if agent else "窗口工作人员"
        case.logs = [
            CaseLog(
                at=log.at,
                agent=agent,
                department=departments[log.department] if log.department else None,
                content=log.content,
                author=author,
            )
            for log in spec.logs
        ]
        case.fees = [
            CaseFee(item=items[code], amount=items[code].fee_amount, legal_basis=items[code].fee_basis)
            for code in spec.fees
        ]
        session.add(case)
        session.commit()
        existing.add((applicant.id, center.id, spec.received_date, spec.mode))
        _live(session, case, spec, users)
        actor = _actor_for(center, users)
        if (
            case.status in (Status.SUBMITTED, Status.REGISTERED)
            and center.tier == Tier.VILLAGE
            and actor.role != Role.DISTRICT_ADMIN
        ):
            open_at_village += 1
            if open_at_village % 2 or open_at_village > 2 * HAND_OFFS:
                continue
            transition(
                session,
                case,
                "hand_off",
                actor,
                {"reason": "本站无法办结，按首问负责转镇(街道)便民服务中心兜底办理"},
                at=max(log.at for log in case.logs) + dt.timedelta(hours=1),
            )


def _live(session: Session, case: Case, spec: CaseSpec, users: dict[str, User]) -> None:
    """Drive the case along its planned path; stop quietly where a guard says the path cannot go on."""
    paths = _DELEGATED_PATH if spec.mode == Mode.DELEGATED else _ASSISTED_PATH
    path = paths[Status(spec.status)]
    # An applicant nobody can reach fills in no evaluation form.
    evaluation = None if _unreachable(spec) else spec.evaluation
    evaluated_at = evaluation.created_at if evaluation is not None else None
    actor = _actor_for(case.center, users)
    for name, at in zip(path, _step_times(spec, path, evaluated_at), strict=True):
        if name == "archive" and evaluation is not None:
            _evaluate(session, case, evaluation, users)
        try:
            transition(session, case, name, actor, _step_data(name, spec), at=at)
        except TransitionError:
            return
    if evaluation is not None and case.evaluation is None and case.status in (Status.COMPLETED, Status.TERMINATED):
        _evaluate(session, case, evaluation, users)


def _evaluate(session: Session, case: Case, spec: EvaluationSpec, users: dict[str, User]) -> None:
    """Record the planned evaluation; a bad one opens its follow-up, which is then worked as planned."""
    values = {
        "asked_for_anything": spec.asked_for_anything,
        "comment": spec.comment,
        "consent_callback": spec.consent_callback,
        "evaluator_name": spec.evaluator_name,
        "evaluator_phone": spec.evaluator_phone,
        **spec.ratings,
    }
    if case.evaluation_link is not None and spec.channel == EvaluationChannel.LINK:
        case.evaluation_link.used_at = spec.created_at
    clerk = _paper_clerk(session, case, users) if spec.channel == EvaluationChannel.PAPER else None
    evaluation = record_evaluation(
        session,
        case,
        values,
        spec.channel,
        DEFAULT_FOLLOWUP_WORKING_DAYS,
        at=spec.created_at,
        entered_by=clerk,
        paper_ref=_paper_ref(case) if clerk is not None else None,
    )
    plan = spec.followup
    if evaluation.followup is None or plan is None:
        return
    actor = evaluation.followup.assignee or users["qu_admin"]
    start = plan.callback_at or spec.created_at + dt.timedelta(days=1)
    if plan.appeal_outcome != AppealOutcome.NONE:
        advance_followup(
            session,
            evaluation.followup,
            "appeal",
            actor,
            {"appeal_outcome": plan.appeal_outcome, "appeal_reason": plan.appeal_reason},
            at=start,
        )
        return
    steps = [
        ("call_back", {"callback_record": plan.callback_record}),
        ("rectify", {"rectification": plan.rectification}),
        ("give_feedback", {"feedback": plan.feedback}),
        ("close", {}),
    ][: FOLLOWUP_ORDER.index(plan.status)]
    for offset, (name, data) in enumerate(steps):
        at = _noon(plan.closed_date) if name == "close" and plan.closed_date else start + dt.timedelta(days=offset)
        advance_followup(session, evaluation.followup, name, actor, data, at=at)


def _paper_clerk(session: Session, case: Case, users: dict[str, User]) -> User:
    """Who types in a paper 评价表: the town admin above a village station, else the district admin."""
    clerk = responsible_admin(session, case)
    if clerk is None or paper_entry_refusal(clerk, case):
        clerk = users["qu_admin"]
    return clerk


def _paper_ref(case: Case) -> str:
    return f"PJ-{case.number}"


# --- paper beside link; complaints ----------------------------------------------------------------
def _seed_paper_then_link(session: Session) -> None:
    """One case where staff typed in the paper 评价表 and the applicant then rated through the link:
    the applicant's own rating counts, the paper one is kept uncounted."""
    both = (
        select(Evaluation.case_id)
        .where(Evaluation.channel == EvaluationChannel.LINK.value)
        .where(Evaluation.case_id.in_(select(Evaluation.case_id).where(Evaluation.channel == "paper")))
    )
    if session.scalar(both.limit(1)) is not None:
        return
    candidates = session.scalars(
        select(Evaluation)
        .join(Evaluation.case)
        .where(
            Evaluation.channel == EvaluationChannel.PAPER.value,
            Evaluation.overall == Rating.SATISFIED.value,
            Case.status == Status.COMPLETED.value,
            Case.evaluation_link.has(EvaluationLink.used_at.is_(None)),
        )
        .order_by(Case.id)
    )
    for paper in candidates:
        at = paper.created_at + dt.timedelta(days=1, hours=3)
        link = paper.case.evaluation_link
        if link.expires_at <= at:
            continue
        link.used_at = at
        values = {key: 5 for key in RATING_FIELDS}
        values.update(comment="代办员全程跟进，扫码再评一次", consent_callback=True, evaluator_name="申请人本人")
        record_evaluation(
            session, paper.case, values, EvaluationChannel.LINK.value, DEFAULT_FOLLOWUP_WORKING_DAYS, at=at
        )
        return


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


def _seed_complaints(session: Session, users: dict[str, User]) -> None:
    """A few complaints from 12345, 好差评 and the window, their follow-ups worked to various steps."""
    seeded = {c.content for c in session.scalars(select(Complaint))}
    for spec in COMPLAINTS:
        if spec.content in seeded:
            continue
        case = session.scalar(
            select(Case)
            .join(Case.center)
            .where(
                Center.name == spec.center,
                Case.status.in_([s.value for s in spec.statuses]),
                ~Case.complaints.any(),
            )
            .order_by(Case.id)
            .limit(1)
        )
        if case is None:
            continue
        clerk = responsible_admin(session, case) or users["qu_admin"]
        received = _noon(REFERENCE_DATE - dt.timedelta(days=spec.days_ago))
        values = {
            "channel": spec.channel.value,
            "reference": spec.reference,
            "complainant_name": spec.name,
            "complainant_phone": spec.phone,
            "content": spec.content,
            "received_at": received,
        }
        complaint = record_complaint(session, case, values, clerk, DEFAULT_FOLLOWUP_WORKING_DAYS, at=received)
        followup = complaint.followup
        actor = followup.assignee or users["qu_admin"]
        steps = [
            ("call_back", "callback_record"),
            ("rectify", "rectification"),
            ("give_feedback", "feedback"),
            ("close", None),
        ][: FOLLOWUP_ORDER.index(spec.reach.value)]
        records = iter(spec.records)
        for offset, (name, key) in enumerate(steps, start=1):
            data = {key: next(records)} if key else {}
            advance_followup(session, followup, name, actor, data, at=received + dt.timedelta(days=offset))


def _totals(session: Session) -> dict[str, int]:
    models = [
        ("机构", Center),
        ("部门", Department),
        ("事项", ServiceItem),
        ("代办员", Agent),
        ("申请人", Applicant),
        ("案件", Case),
        ("评价", Evaluation),
        ("回访", FollowUp),
        ("投诉", Complaint),
        ("用户", User),
    ]
    return {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in models}


def seed_demo(session: Session) -> dict[str, int]:
    """Create the Chaonan demo data set where it is missing, commit, and return the table totals."""
    plan = build_plan()
    centers = _seed_centers(session, plan)
    departments = _seed_departments(session)
    items = _seed_items(session, plan, centers, departments)
    users = _seed_users(session, centers)
    agents = _seed_agents(session, plan, centers, items)
    applicants = _seed_applicants(session, plan, centers)
    seed_holidays(session)  # before the cases: their promised dates count on it
    _seed_cases(session, plan, centers, items, agents, applicants, departments, users)
    _seed_paper_then_link(session)
    _seed_complaints(session, users)
    session.commit()
    return _totals(session)
