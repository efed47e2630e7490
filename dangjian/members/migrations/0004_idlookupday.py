import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0003_encrypt_phones"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdLookupDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="日期")),
                ("lookups", models.PositiveIntegerField(default=0, verbose_name="查询号码数")),
                ("foreign_hits", models.PositiveIntegerField(default=0, verbose_name="范围外已登记数")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "身份证号查询计数",
                "verbose_name_plural": "身份证号查询计数",
                "constraints": [models.UniqueConstraint(fields=("user", "day"), name="id_lookup_day_once")],
            },
        ),
    ]
