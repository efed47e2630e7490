"""The seeds' defaults as data: the 六有 items (Xiqing, Huangpi), Xiqing's three instructor teams and the
evaluation indicators (the six 六有 items, field check, records check, trainee rating). All configurable."""

from decimal import Decimal

from django.db import migrations

STANDARD_ITEMS = {
    # Xiqing: organization, venue, funding, instructor team, training plan, rules.
    "xiqing": [
        ("organization", "有组织", "有健全的组织领导机构"),
        ("venue", "有场地", "有固定的教学场所"),
        ("funding", "有经费", "有专项经费保障"),
        ("instructors", "有师资", "有稳定的师资队伍"),
        ("plan", "有计划", "有年度培训计划"),
        ("rules", "有制度", "有健全的管理制度"),
    ],
    # Huangpi: leadership mechanism, suitable venue, instructors and courses, standard management, funding,
    # training results.
    "huangpi": [
        ("leadership", "有领导机制", "有校长、副校长和专人负责"),
        ("venue", "有适宜场所", "有相对固定、设施齐全的教学场所"),
        ("instructors", "有师资课程", "有师资队伍和课程体系"),
        ("management", "有规范管理", "有学员管理、教学管理等制度和台账"),
        ("funding", "有经费保障", "有稳定的经费来源"),
        ("results", "有培训成效", "培训有实效、有评价"),
    ],
}
TEAMS = [
    ("领学宣讲团", "市级领学宣讲"),
    ("专业讲师团", "区委党校专业教师"),
    ("骨干讲师团", "基层领导干部、先进模范"),
]
INDICATORS = [
    ("liuyou_leadership", "有领导机制", "standard", "10", "5"),
    ("liuyou_venue", "有适宜场所", "standard", "10", "5"),
    ("liuyou_instructors", "有师资课程", "standard", "10", "5"),
    ("liuyou_management", "有规范管理", "standard", "10", "5"),
    ("liuyou_funding", "有经费保障", "standard", "10", "5"),
    ("liuyou_results", "有培训成效", "standard", "10", "5"),
    ("field_check", "实地检查", "field_check", "100", "30"),
    ("records_check", "台账检查", "records_check", "100", "20"),
    ("trainee_rating", "学员评价", "trainee_rating", "100", "20"),
]


def add_defaults(apps, schema_editor):
    StandardItem = apps.get_model("schools", "StandardItem")
    InstructorTeam = apps.get_model("schools", "InstructorTeam")
    EvaluationIndicator = apps.get_model("schools", "EvaluationIndicator")
    for scheme, items in STANDARD_ITEMS.items():
        for order, (code, name, description) in enumerate(items, start=1):
            StandardItem.objects.get_or_create(
                scheme=scheme, code=code, defaults={"name": name, "description": description, "order": order}
            )
    for order, (name, description) in enumerate(TEAMS, start=1):
        InstructorTeam.objects.get_or_create(name=name, defaults={"description": description, "order": order})
    for order, (code, name, kind, max_score, weight) in enumerate(INDICATORS, start=1):
        EvaluationIndicator.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "max_score": Decimal(max_score),
                "weight": Decimal(weight),
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
