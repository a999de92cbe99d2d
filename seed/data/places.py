"""Where the demo happens: the Chaonan district center, its 11 towns and subdistricts, their villages."""

from __future__ import annotations

DISTRICT_CENTER_NAME = "潮南区政务服务中心"

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
