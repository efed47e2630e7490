"""The seeded online-learning rule (网络学习规则): a course credits its hours once 90% of it has been watched; no caps
until an organization sets them (docs/learning.md)."""

from django.db import migrations


def seed(apps, schema_editor):
    LearningPolicy = apps.get_model("learning", "LearningPolicy")
    if not LearningPolicy.objects.filter(owner__isnull=True).exists():
        LearningPolicy.objects.create(
            name="网络课程完成比例（默认）",
            owner=None,
            min_share=90,
            daily_minutes=None,
            yearly_hours=None,
            valid_from=2019,
            source="docs/learning.md：观看达到课程时长的90%即完成，计入网络学习学时",
            active=True,
        )


def unseed(apps, schema_editor):
    apps.get_model("learning", "LearningPolicy").objects.filter(owner__isnull=True, name="网络课程完成比例（默认）").delete()


class Migration(migrations.Migration):
    dependencies = [("learning", "0002_online_courses")]

    operations = [migrations.RunPython(seed, unseed)]
