"""The duties as the rules are written (data):

- 支委会 is owed only by branches of 7 or more full members, which elect a committee (《中国共产党支部工作条例（试行）》：
  正式党员7人以上的党支部设立支部委员会): the system row gets `min_members` 7;
- the leadership members' yearly party lecture applies to every organization with a committee (党委, 党总支, and a
  branch of 7 or more full members): the system row applies to `committees` with `min_members` 7;
- 中心组学习's attendance is measured against the group (the leadership members);
- the source texts name their document: the Jiangsu education work committee's opinion (中心组学习, branch
  self-study) and Jianshi's 2020 notice (建教党〔2020〕9号: party-building work studied, the leaders' lectures, the
  ideology work) — they were swapped. Only rows still carrying the shipped text are rewritten.
"""

from django.db import migrations

JIANGSU = "江苏省委教育工委《关于加强教育系统学习型、服务型、创新型党组织建设的意见》"
JIANSHI = "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）"
BRANCH_RULES = "《支部工作条例》"

# kind, per_member: (old text, new text)
SOURCES = {
    ("committee_meeting", False): (
        f"{BRANCH_RULES}：支部委员会会议一般每月召开1次",
        f"{BRANCH_RULES}：正式党员7人以上的党支部设立支部委员会，支部委员会会议一般每月召开1次",
    ),
    ("central_group_study", False): (
        "建始：中心组每年集中学习不少于6次，参学率90%以上",
        f"{JIANGSU}：中心组每年集中学习不少于6次，参学率达到90%以上",
    ),
    ("self_study", False): (
        "江苏教育系统：支部每月至少1次自学交流，参学率95%以上",
        f"{JIANGSU}：党支部每月自学交流不少于1次，党员参学率达到95%以上",
    ),
    ("party_work_study", False): (
        "江苏教育系统：每年至少2次专题研究党建工作",
        f"{JIANSHI}：基层党组织每年至少2次研究本单位的党建工作",
    ),
    ("ideology_risk", False): (
        "江苏教育系统：每月进行意识形态风险分析研判并按时上报",
        f"{JIANSHI}：每月进行意识形态风险分析研判并按时上报",
    ),
    ("ideology_study", False): (
        "江苏教育系统：每年至少2次专题研究意识形态工作",
        f"{JIANSHI}：每年至少2次专题研究意识形态工作",
    ),
    ("ideology_briefing", False): (
        "江苏教育系统：每年通报1次本单位意识形态工作情况",
        f"{JIANSHI}：每年通报1次本单位意识形态工作情况",
    ),
    ("party_lecture", True): (
        "江苏教育系统：班子成员每年带头讲党课至少1次以上",
        f"{JIANSHI}：班子成员每年带头讲党课至少1次以上",
    ),
}


def forward(apps, schema_editor):
    Duty = apps.get_model("orglife", "Duty")
    system = Duty.objects.filter(owner=None)
    for (kind, per_member), (old, new) in SOURCES.items():
        system.filter(kind=kind, per_member=per_member, source=old).update(source=new)
    system.filter(kind="committee_meeting", per_member=False, min_members=None).update(min_members=7)
    system.filter(kind="party_lecture", per_member=True, applies_to="leadership").update(
        applies_to="committees", min_members=7
    )
    Duty.objects.filter(kind="central_group_study").update(attendance_base="leadership")


def backward(apps, schema_editor):
    Duty = apps.get_model("orglife", "Duty")
    system = Duty.objects.filter(owner=None)
    for (kind, per_member), (old, new) in SOURCES.items():
        system.filter(kind=kind, per_member=per_member, source=new).update(source=old)
    system.filter(kind="committee_meeting", per_member=False, min_members=7).update(min_members=None)
    system.filter(kind="party_lecture", per_member=True, applies_to="committees").update(
        applies_to="leadership", min_members=None
    )
    Duty.objects.filter(kind="central_group_study").update(attendance_base="members")


class Migration(migrations.Migration):
    dependencies = [("orglife", "0005_duty_min_members_attendance_base")]

    operations = [migrations.RunPython(forward, backward)]
