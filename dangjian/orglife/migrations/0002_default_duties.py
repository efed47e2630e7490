"""The organizational-life duties the regulations and the seeds name (issue 7), as system-wide defaults."""

from decimal import Decimal

from django.db import migrations

DUTIES = [
    # kind, name, applies_to, frequency, min_count, min_attendance, source
    ("general_meeting", "支部党员大会", "branches", "quarter", 1, None, "《中国共产党支部工作条例（试行）》：党员大会一般每季度召开1次"),
    ("committee_meeting", "支委会", "branches", "month", 1, None, "《支部工作条例》：支部委员会会议一般每月召开1次"),
    ("group_meeting", "党小组会", "branches", "month", 1, None, "《支部工作条例》：党小组会一般每月召开1次"),
    ("party_lecture", "党课", "branches", "quarter", 1, None, "《支部工作条例》：党课一般每季度1次"),
    ("theme_day", "主题党日", "branches", "month", 1, None, "《党员教育管理工作条例》：每月相对固定1天开展主题党日"),
    ("life_meeting", "组织生活会", "branches", "year", 1, None, "《党员教育管理工作条例》：组织生活会一般每年召开1次"),
    ("member_evaluation", "民主评议党员", "branches", "year", 1, None, "《党员教育管理工作条例》：民主评议党员一般每年开展1次"),
    ("central_group_study", "中心组学习", "leadership", "year", 6, "90", "建始：中心组每年集中学习不少于6次，参学率90%以上"),
    ("self_study", "支部自学交流", "branches", "month", 1, "95", "江苏教育系统：支部每月至少1次自学交流，参学率95%以上"),
    ("party_work_study", "专题研究党建工作", "all", "year", 2, None, "江苏教育系统：每年至少2次专题研究党建工作"),
    ("ideology_risk", "意识形态风险研判", "all", "month", 1, None, "江苏教育系统：每月进行意识形态风险分析研判并按时上报"),
    ("ideology_study", "意识形态专题研究", "all", "year", 2, None, "江苏教育系统：每年至少2次专题研究意识形态工作"),
    ("ideology_briefing", "意识形态工作通报", "all", "year", 1, None, "江苏教育系统：每年通报1次本单位意识形态工作情况"),
]


def add_duties(apps, schema_editor):
    Duty = apps.get_model("orglife", "Duty")
    for kind, name, applies_to, frequency, min_count, min_attendance, source in DUTIES:
        Duty.objects.get_or_create(
            kind=kind,
            owner=None,
            applies_to=applies_to,
            defaults={
                "name": name,
                "frequency": frequency,
                "min_count": min_count,
                "min_attendance": Decimal(min_attendance) if min_attendance else None,
                "valid_from": 2019,
                "source": source,
            },
        )


def remove_duties(apps, schema_editor):
    Duty = apps.get_model("orglife", "Duty")
    for kind, _name, applies_to, *_ in DUTIES:
        Duty.objects.filter(kind=kind, owner=None, applies_to=applies_to).delete()


class Migration(migrations.Migration):
    dependencies = [("orglife", "0001_initial")]

    operations = [migrations.RunPython(add_duties, remove_duties)]
