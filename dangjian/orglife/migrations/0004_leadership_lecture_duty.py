"""The per-member duty of the Jianshi seed (建教党〔2020〕9号): "班子成员每年带头讲党课至少 1 次以上" (each leadership-team member gives at
least one party lecture a year), counted per lecturer for committees and general branches."""

from django.db import migrations

SOURCE = "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）：班子成员每年带头讲党课至少1次以上"


def add(apps, schema_editor):
    Duty = apps.get_model("orglife", "Duty")
    Duty.objects.get_or_create(
        kind="party_lecture",
        owner=None,
        applies_to="leadership",
        per_member=True,
        defaults={"name": "班子成员讲党课", "frequency": "year", "min_count": 1, "valid_from": 2019, "source": SOURCE},
    )


def remove(apps, schema_editor):
    apps.get_model("orglife", "Duty").objects.filter(
        kind="party_lecture", owner=None, applies_to="leadership", per_member=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("orglife", "0003_attachments_hours_per_member")]

    operations = [migrations.RunPython(add, remove)]
