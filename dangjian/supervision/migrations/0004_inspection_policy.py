"""The annual-inspection interval (InspectionPolicy) and its system-wide default: yearly (the Qinhuai seed,
docs/rules.md, names the annual inspection — 培训机构年检时，党建工作同步检查 — but no interval)."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


SOURCE = "秦淮：培训机构年检时，党建工作同步检查（种子未规定年检周期，默认每年一次）"


def add_default(apps, schema_editor):
    InspectionPolicy = apps.get_model("supervision", "InspectionPolicy")
    if not InspectionPolicy.objects.filter(owner=None).exists():
        InspectionPolicy.objects.create(owner=None, interval_months=12, valid_from=2023, source=SOURCE)


def remove_default(apps, schema_editor):
    apps.get_model("supervision", "InspectionPolicy").objects.filter(owner=None, source=SOURCE).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('orgs', '0001_initial'),
        ('supervision', '0003_visit_policy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalInspectionPolicy',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='更新时间')),
                ('interval_months', models.PositiveSmallIntegerField(default=12, validators=[django.core.validators.MinValueValidator(1, '年检周期应为1到60个月。'), django.core.validators.MaxValueValidator(60, '年检周期应为1到60个月。')], verbose_name='年检周期（月）')),
                ('valid_from', models.PositiveSmallIntegerField(default=2023, verbose_name='起始年度')),
                ('valid_to', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='截止年度')),
                ('source', models.CharField(blank=True, max_length=200, verbose_name='依据')),
                ('active', models.BooleanField(default=True, verbose_name='启用')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('owner', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='orgs.organization', verbose_name='制定党组织')),
            ],
            options={
                'verbose_name': 'historical 年检周期规则',
                'verbose_name_plural': 'historical 年检周期规则',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='InspectionPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('interval_months', models.PositiveSmallIntegerField(default=12, validators=[django.core.validators.MinValueValidator(1, '年检周期应为1到60个月。'), django.core.validators.MaxValueValidator(60, '年检周期应为1到60个月。')], verbose_name='年检周期（月）')),
                ('valid_from', models.PositiveSmallIntegerField(default=2023, verbose_name='起始年度')),
                ('valid_to', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='截止年度')),
                ('source', models.CharField(blank=True, max_length=200, verbose_name='依据')),
                ('active', models.BooleanField(default=True, verbose_name='启用')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgs.organization', verbose_name='制定党组织')),
            ],
            options={
                'verbose_name': '年检周期规则',
                'verbose_name_plural': '年检周期规则',
                'ordering': ['-valid_from', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='inspection_policy_valid_range', violation_error_message='截止年度不能早于起始年度。'), models.CheckConstraint(condition=models.Q(('interval_months__gte', 1), ('interval_months__lte', 60)), name='inspection_policy_interval_range', violation_error_message='年检周期应为1到60个月。')],
            },
        ),
        migrations.RunPython(add_default, remove_default),
    ]
