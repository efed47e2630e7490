"""The seed's competence-test rule, switched on (docs/exams.md, "The competence test"): every year the leadership-team
members (班子成员) and the secretaries and deputy secretaries of every organization sit the competence test
(黄陂区区管领导班子成员履职能力测试制度). An operator narrows or switches it off on the admin page."""

from django.db import migrations


def forward(apps, schema_editor):
    CompetencePolicy = apps.get_model("exams", "CompetencePolicy")
    CompetencePolicy.objects.get_or_create(
        name="领导班子成员履职能力测试",
        owner=None,
        defaults={
            "posts": ["secretary", "deputy_secretary"],
            "leadership": True,
            "valid_from": 2017,
            "source": "黄陂区区管领导班子成员履职能力测试制度：每年结合年度考核进行测试",
            "active": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("exams", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
