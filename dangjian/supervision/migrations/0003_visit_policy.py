"""The “四个一” visit rule (VisitPolicy) and its system-wide default: all four items (Yiyang seed, docs/rules.md:
党建指导员每月上门开展上党课、讲政策、排隐患、核台账“四个一”工作)."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


SOURCE = "益阳：党建指导员每月上门开展上党课、讲政策、排隐患、核台账“四个一”工作"


def add_default(apps, schema_editor):
    VisitPolicy = apps.get_model("supervision", "VisitPolicy")
    if not VisitPolicy.objects.filter(owner=None).exists():
        VisitPolicy.objects.create(owner=None, valid_from=2023, source=SOURCE)


def remove_default(apps, schema_editor):
    apps.get_model("supervision", "VisitPolicy").objects.filter(owner=None, source=SOURCE).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('orgs', '0001_initial'),
        ('supervision', '0002_default_points'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalVisitPolicy',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='更新时间')),
                ('require_party_lecture', models.BooleanField(default=True, verbose_name='须上党课')),
                ('require_policy_talk', models.BooleanField(default=True, verbose_name='须讲政策')),
                ('require_hazard_check', models.BooleanField(default=True, verbose_name='须排隐患')),
                ('require_ledger_check', models.BooleanField(default=True, verbose_name='须核台账')),
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
                'verbose_name': 'historical “四个一”走访规则',
                'verbose_name_plural': 'historical “四个一”走访规则',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='VisitPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('require_party_lecture', models.BooleanField(default=True, verbose_name='须上党课')),
                ('require_policy_talk', models.BooleanField(default=True, verbose_name='须讲政策')),
                ('require_hazard_check', models.BooleanField(default=True, verbose_name='须排隐患')),
                ('require_ledger_check', models.BooleanField(default=True, verbose_name='须核台账')),
                ('valid_from', models.PositiveSmallIntegerField(default=2023, verbose_name='起始年度')),
                ('valid_to', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='截止年度')),
                ('source', models.CharField(blank=True, max_length=200, verbose_name='依据')),
                ('active', models.BooleanField(default=True, verbose_name='启用')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgs.organization', verbose_name='制定党组织')),
            ],
            options={
                'verbose_name': '“四个一”走访规则',
                'verbose_name_plural': '“四个一”走访规则',
                'ordering': ['-valid_from', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='visit_policy_valid_range', violation_error_message='截止年度不能早于起始年度。'), models.CheckConstraint(condition=models.Q(('require_party_lecture', True), ('require_policy_talk', True), ('require_hazard_check', True), ('require_ledger_check', True), _connector='OR'), name='visit_policy_requires_an_item', violation_error_message='“四个一”走访规则须至少要求一项工作。')],
            },
        ),
        migrations.RunPython(add_default, remove_default),
    ]
