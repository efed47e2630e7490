"""The system-wide dues policy with the 2008 rules' numbers (docs/dues.md): an operator may switch it off or add a
region's own on the policy rows."""

from django.db import migrations

SOURCE = "中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》（2008）"


def create(apps, schema_editor):
    DuesPolicy = apps.get_model("dues", "DuesPolicy")
    if not DuesPolicy.objects.filter(owner__isnull=True).exists():
        DuesPolicy.objects.create(name="党费收缴标准（2008年规定）", source=SOURCE, valid_from=2008)


def remove(apps, schema_editor):
    apps.get_model("dues", "DuesPolicy").objects.filter(owner__isnull=True, source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("dues", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
