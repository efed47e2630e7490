"""The periodic setup reports the Jianshi seed asks for (docs/rules.md), as system-wide default schedules.

Jianshi seed 004 (建教党〔2020〕9号): "每季度对各学校基层党组织设置情况进行一次清理，每半年将组织设置情况上报一次" — a
setup review every quarter and a setup report every half year, owed by the superior organization that runs them
(here the work committees 工委 and the party committees 党委, the roots a committee user answers for). The seed names
no deadline: 15 days after the period's end is this project's default (a scope sets its own in its row). The
quarterly review may be filed from the quarter's last month (it is done within the quarter); the half-year report
once the half has ended.
"""

from django.db import migrations

SOURCE_REVIEW = "建始（建教党〔2020〕9号）：每季度对各学校基层党组织设置情况进行一次清理；报送期限为本系统默认（期末后15日）"
SOURCE_REPORT = "建始（建教党〔2020〕9号）：每半年将组织设置情况上报一次；报送期限为本系统默认（期末后15日）"
ORG_KINDS = ["work_committee", "committee"]
SCHEDULES = [
    # kind, due days, early filing, source
    ("setup_review", 15, True, SOURCE_REVIEW),
    ("setup_report", 15, False, SOURCE_REPORT),
]


def add_schedules(apps, schema_editor):
    ReportSchedule = apps.get_model("committees", "ReportSchedule")
    for kind, due_days, early, source in SCHEDULES:
        ReportSchedule.objects.get_or_create(
            kind=kind,
            owner=None,
            valid_from=2018,
            defaults={"org_kinds": ORG_KINDS, "due_days": due_days, "early_filing": early, "source": source},
        )


def remove_schedules(apps, schema_editor):
    apps.get_model("committees", "ReportSchedule").objects.filter(owner=None, valid_from=2018).delete()


class Migration(migrations.Migration):
    dependencies = [("committees", "0003_report_filings")]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
