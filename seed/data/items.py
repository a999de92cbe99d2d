"""The departments behind the counters and the service items, each stationed down to its lowest tier."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import MaterialForm, Tier

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

TIER_RANK = {Tier.VILLAGE.value: 0, Tier.TOWN.value: 1, Tier.DISTRICT.value: 2}
