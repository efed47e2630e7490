"""The hours requirements the seeds and the regulations name, as data. Only the national rule is on by default;
the others are there to be switched on where they apply (docs/rules.md: the 56-hour rule is off by default)."""

from decimal import Decimal

from django.db import migrations

POLICIES = [
    # name, applies_to, required, active, source
    ("党员年度集中学习培训", "all", "32", True, "《中国共产党党员教育管理工作条例》（2019）：每年集中学习培训不少于32学时"),
    ("江苏教育系统党员", "all", "24", False, "江苏省教育系统建设学习型服务型创新型党组织的意见：党员每年不少于24学时"),
    ("江苏教育系统班子成员", "leadership", "40", False, "同上：领导班子成员每年不少于40学时"),
    ("基层党组织书记和委员", "secretaries", "56", False, "全国党员教育培训工作规划：基层党组织书记和班子成员每年不少于56学时"),
]


def add_policies(apps, schema_editor):
    HoursPolicy = apps.get_model("training", "HoursPolicy")
    for name, applies_to, required, active, source in POLICIES:
        HoursPolicy.objects.get_or_create(
            name=name,
            owner=None,
            defaults={
                "applies_to": applies_to,
                "required_hours": Decimal(required),
                "valid_from": 2019,
                "active": active,
                "source": source,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(add_policies, migrations.RunPython.noop)]
