"""The default points rules and red-list policy (docs/rules.md, "Rules and numbers from the seeds"), system-wide.

The Yiyang seed names the items (party building written into the process-supervision points system, the "四个一"
visits, "以案说法", pairing activities, the party-building checks of 三同步, clues and enforcement) but no point
values and no size of the red list: the values below are this system's defaults, to be adjusted to the local
《过程监管积分制度》.
"""

from django.db import migrations

YIYANG = "益阳：党建工作纳入《益阳市校外培训机构过程监管积分制度》"
RULES = [
    # code, name, category, points, source
    ("PB01", "建立党组织（单独或联合党支部）", "party_building", 10, "益阳：两个“全覆盖”，培训机构党员纳入党组织"),
    ("PB02", "党建工作写入机构章程", "party_building", 5, "益阳：把党建工作写入培训机构章程"),
    ("PB03", "配合落实“四个一”月度指导", "party_building", 2, "益阳：党建指导员每月上门开展“四个一”工作"),
    ("PB04", "开展“以案说法”警示教育", "party_building", 2, "益阳：上门开展“以案说法”"),
    ("PB05", "与学校党支部开展结对共建活动", "party_building", 3, "益阳：培训机构党支部与学校党支部结对开展活动"),
    ("PB06", "党建工作同步检查合格", "party_building", 5, "秦淮：年检时同步检查、等级评估时同步考核"),
    ("PB07", "党建工作同步检查不合格", "party_building", -5, "秦淮：年检时同步检查、等级评估时同步考核"),
    ("OP01", "台账资料规范齐全", "operation", 3, YIYANG),
    ("SA01", "安全隐患按期整改到位", "safety", 3, YIYANG),
    ("SA02", "安全隐患逾期未整改", "safety", -5, YIYANG),
    ("SV01", "参与公益活动、党员进社区", "service", 2, "益阳：沅江市“党建+公益”"),
    ("VI01", "违规线索经查属实", "violation", -10, "益阳：为查处典型案例提供线索"),
    ("VI02", "受到行政处罚", "violation", -20, YIYANG),
]


def add_defaults(apps, schema_editor):
    PointRule = apps.get_model("supervision", "PointRule")
    RedListPolicy = apps.get_model("supervision", "RedListPolicy")
    for code, name, category, points, source in RULES:
        PointRule.objects.get_or_create(
            code=code,
            owner=None,
            defaults={"name": name, "category": category, "points": points, "valid_from": 2023, "source": source},
        )
    if not RedListPolicy.objects.filter(owner=None).exists():
        RedListPolicy.objects.create(
            owner=None,
            top_percent=10,
            min_points=1,
            valid_from=2023,
            source="益阳：创建“红名单”制度，入选机构优先进校参与课后服务（名额种子未规定，默认前10%）",
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("supervision", "PointRule").objects.filter(owner=None, code__in=[r[0] for r in RULES]).delete()
    apps.get_model("supervision", "RedListPolicy").objects.filter(owner=None).delete()


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
