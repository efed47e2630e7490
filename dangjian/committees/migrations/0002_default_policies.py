"""The term and setup rules the seeds and regulations name (docs/rules.md), as system-wide defaults.

Terms: 党支部 (and joint and temporary branches) 3 years (中国共产党支部工作条例（试行）, 2018); 基层党委 5 years
(中国共产党基层组织选举工作条例, 2020); 党总支 5 years as this project's default (the regulations allow 3 or 5 for
general branches — a scope sets 3 where its rules say so). Re-election announced 6 months before the term ends
(建始 seed 004: 提前6个月通知). Setup thresholds from the branch work regulation as docs/rules.md gives them.
"""

from django.db import migrations

TERM_SOURCE_BRANCH = "《中国共产党支部工作条例（试行）》：党支部委员会每届任期3年；建始：提前6个月通知换届"
TERM_SOURCE_COMMITTEE = "《中国共产党基层组织选举工作条例》：党的基层委员会每届任期5年；建始：提前6个月通知换届"
TERM_SOURCE_GENERAL = "党总支委员会每届任期3年或5年（本系统默认5年，可按范围调整）；建始：提前6个月通知换届"
TERMS = [
    # org kind, years, source
    ("committee", 5, TERM_SOURCE_COMMITTEE),
    ("general_branch", 5, TERM_SOURCE_GENERAL),
    ("branch", 3, TERM_SOURCE_BRANCH),
    ("joint_branch", 3, TERM_SOURCE_BRANCH),
    ("temporary_branch", 3, TERM_SOURCE_BRANCH),
]
SETUP_SOURCE = (
    "《中国共产党支部工作条例（试行）》：正式党员3人以上成立党支部，7人以上设支部委员会，"
    "党员一般不超过50人；联合党支部覆盖单位一般不超过5个"
)


def add_policies(apps, schema_editor):
    TermPolicy = apps.get_model("committees", "TermPolicy")
    SetupPolicy = apps.get_model("committees", "SetupPolicy")
    for kind, years, source in TERMS:
        TermPolicy.objects.get_or_create(
            org_kind=kind,
            owner=None,
            valid_from=2018,
            defaults={"term_years": years, "warn_months": 6, "source": source},
        )
    SetupPolicy.objects.get_or_create(
        owner=None,
        valid_from=2018,
        defaults={
            "name": "党组织设置规定（支部工作条例）",
            "min_full_members": 3,
            "committee_required_at": 7,
            "max_members": 50,
            "max_joint_units": 5,
            "source": SETUP_SOURCE,
        },
    )


def remove_policies(apps, schema_editor):
    apps.get_model("committees", "TermPolicy").objects.filter(owner=None, valid_from=2018).delete()
    apps.get_model("committees", "SetupPolicy").objects.filter(owner=None, valid_from=2018).delete()


class Migration(migrations.Migration):
    dependencies = [("committees", "0001_initial")]

    operations = [migrations.RunPython(add_policies, remove_policies)]
