"""The seeded hours requirements as the documents say (docs/rules.md, "How the rules combine"): every seed rule ships
switched on — the Jiangsu education rules (24 hours for members, 40 for leadership-team members) join the national
32 hours, and of the rules that apply the strictest wins; the 56-hour rule for secretaries and committee members
stays off (optional, off by default). The requirement is of concentrated study (集中学习培训), so online hours count
only up to a cap that defaults to 0: the seeded rules without a cap get 0, and new rules default to 0. Each change
is written to the policy's history, like a change made through the service."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models
from django.utils import timezone

SEEDED = ("党员年度集中学习培训", "江苏教育系统党员", "江苏教育系统班子成员", "基层党组织书记和委员")
SWITCHED_ON = ("江苏教育系统党员", "江苏教育系统班子成员")
REASON = "按文件默认启用；网络学习计入上限默认0"


def _record(apps, policy, reason):
    """A history row like django-simple-history's for a change (no user: a migration)."""
    Historical = apps.get_model("training", "HistoricalHoursPolicy")
    values = {f.attname: getattr(policy, f.attname) for f in policy._meta.concrete_fields}
    Historical.objects.create(
        **values, history_date=timezone.now(), history_type="~", history_change_reason=reason, history_user=None
    )


def apply_documents(apps, schema_editor):
    HoursPolicy = apps.get_model("training", "HoursPolicy")
    for policy in HoursPolicy.objects.filter(owner__isnull=True, name__in=SEEDED):
        changed = False
        if policy.name in SWITCHED_ON and not policy.active:
            policy.active, changed = True, True
        if policy.online_cap is None:
            policy.online_cap, changed = Decimal("0"), True
        if changed:
            policy.save(update_fields=["active", "online_cap", "updated_at"])
            _record(apps, policy, REASON)


def revert_documents(apps, schema_editor):
    HoursPolicy = apps.get_model("training", "HoursPolicy")
    for policy in HoursPolicy.objects.filter(owner__isnull=True, name__in=SEEDED):
        if policy.name in SWITCHED_ON:
            policy.active = False
        if policy.online_cap == 0:
            policy.online_cap = None
        policy.save(update_fields=["active", "online_cap", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0002_default_policies"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalhourspolicy",
            name="online_cap",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                default=Decimal("0"),
                help_text="要求的是集中学习培训：网络学习最多计入的学时，默认0（不计入）；留空为不设上限。",
                max_digits=5,
                null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="网络学习计入上限",
            ),
        ),
        migrations.AlterField(
            model_name="historicalhourspolicy",
            name="pro_rating",
            field=models.CharField(
                choices=[("full", "按全年要求"), ("months", "按在党月数折算")],
                default="full",
                max_length=10,
                verbose_name="年中入党或离开党组织",
            ),
        ),
        migrations.AlterField(
            model_name="hourspolicy",
            name="online_cap",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                default=Decimal("0"),
                help_text="要求的是集中学习培训：网络学习最多计入的学时，默认0（不计入）；留空为不设上限。",
                max_digits=5,
                null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="网络学习计入上限",
            ),
        ),
        migrations.AlterField(
            model_name="hourspolicy",
            name="pro_rating",
            field=models.CharField(
                choices=[("full", "按全年要求"), ("months", "按在党月数折算")],
                default="full",
                max_length=10,
                verbose_name="年中入党或离开党组织",
            ),
        ),
        migrations.RunPython(apply_documents, revert_documents),
    ]
