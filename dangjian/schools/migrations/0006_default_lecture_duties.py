"""Seed the 上讲台 duties from the Huangpi seed (docs/rules.md: 《关于建立黄陂区领导干部上讲台制度的实施意见（试行）》),
switched on; each is a policy row that a system admin may change or switch off."""

from django.db import migrations

SOURCE = (
    "黄陂区《关于建立黄陂区领导干部上讲台制度的实施意见（试行）》：区级领导每年至少上党校讲台一次，"
    "处级干部每年至少在业余党校、本系统论坛讲坛授课一次"
)

DUTIES = [
    {"name": "区级领导上党校讲台", "who": "district_leaders", "where": "district"},
    {"name": "处级干部上业余党校讲台", "who": "district_cadres", "where": "amateur"},
]


def seed(apps, schema_editor):
    LectureDuty = apps.get_model("schools", "LectureDuty")
    for duty in DUTIES:
        LectureDuty.objects.get_or_create(
            name=duty["name"],
            defaults={**duty, "times_per_year": 1, "valid_from": 2000, "source": SOURCE, "active": True},
        )


def unseed(apps, schema_editor):
    apps.get_model("schools", "LectureDuty").objects.filter(name__in=[d["name"] for d in DUTIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("schools", "0005_lecture_duty")]

    operations = [migrations.RunPython(seed, unseed)]
