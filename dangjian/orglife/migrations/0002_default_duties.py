"""The organizational-life duties the regulations and the seeds name (docs/rules.md), as system-wide defaults. The source
texts name the document each rule is read from (corrected in place, and for existing rows by 0006)."""

from decimal import Decimal

from django.db import migrations

DUTIES = [
    # kind, name, applies_to, frequency, min_count, min_attendance, source
    ("general_meeting", "支部党员大会", "branches", "quarter", 1, None, "《中国共产党支部工作条例（试行）》：党员大会一般每季度召开1次"),
    ("committee_meeting", "支委会", "branches", "month", 1, None, "《支部工作条例》：正式党员7人以上的党支部设立支部委员会，支部委员会会议一般每月召开1次"),
    ("group_meeting", "党小组会", "branches", "month", 1, None, "《支部工作条例》：党小组会一般每月召开1次"),
    ("party_lecture", "党课", "branches", "quarter", 1, None, "《支部工作条例》：党课一般每季度1次"),
    ("theme_day", "主题党日", "branches", "month", 1, None, "《党员教育管理工作条例》：每月相对固定1天开展主题党日"),
    ("life_meeting", "组织生活会", "branches", "year", 1, None, "《党员教育管理工作条例》：组织生活会一般每年召开1次"),
    ("member_evaluation", "民主评议党员", "branches", "year", 1, None, "《党员教育管理工作条例》：民主评议党员一般每年开展1次"),
    ("central_group_study", "中心组学习", "leadership", "year", 6, "90", "江苏省委教育工委《关于加强教育系统学习型、服务型、创新型党组织建设的意见》：中心组每年集中学习不少于6次，参学率达到90%以上"),
    ("self_study", "支部自学交流", "branches", "month", 1, "95", "江苏省委教育工委《关于加强教育系统学习型、服务型、创新型党组织建设的意见》：党支部每月自学交流不少于1次，党员参学率达到95%以上"),
    ("party_work_study", "专题研究党建工作", "all", "year", 2, None, "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）：基层党组织每年至少2次研究本单位的党建工作"),
    ("ideology_risk", "意识形态风险研判", "all", "month", 1, None, "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）：每月进行意识形态风险分析研判并按时上报"),
    ("ideology_study", "意识形态专题研究", "all", "year", 2, None, "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）：每年至少2次专题研究意识形态工作"),
    ("ideology_briefing", "意识形态工作通报", "all", "year", 1, None, "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）：每年通报1次本单位意识形态工作情况"),
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
