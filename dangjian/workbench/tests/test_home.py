"""The workbench (工作台): the committee's counts of its subtree; the 三员's own panels; a member's own work first
(我的). Each business role's own panel is tested in test_panels.py."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.accounts.models import RoleAssignment
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core import summaries
from dangjian.members.models import Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory


def stat(response, name: str) -> int:
    match = re.search(rf'id="stat-{name}">(\d+)<', response.content.decode())
    assert match, f"stat-{name} not on the page"
    return int(match.group(1))


def by_label(pairs) -> dict[str, int]:
    return dict(pairs)


# The committee's scope in the world (C1, A, B): organizations, active members, full, probationary, units. The other
# roles see their own work first (test_panels.py), not the counts of a subtree.
COMMITTEE_COUNTS = (3, 3, 2, 1, 2)


def test_committee_counts_its_subtree(world):
    orgs, active, full, probationary, units = COMMITTEE_COUNTS
    response = world.client(Role.COMMITTEE).get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["orgs_total"] == orgs
    assert counts["members_active"] == active
    assert by_label(counts["members_by_category"]) == {"正式党员": full, "预备党员": probationary}
    assert sum(n for _, n in counts["units_by_kind"]) == units
    assert stat(response, "orgs") == orgs
    assert stat(response, "members") == active


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.SECRETARY, Role.INSTRUCTOR])
def test_other_roles_see_no_county_tiles(world, role):
    """Before: a secretary, a school admin and an instructor saw the counts of their subtree (党组织, 在册党员 …) as
    tiles, many of them 0, instead of their own work."""
    response = world.client(role).get("/")
    assert response.status_code == 200
    assert response.context["counts"] is None
    assert 'id="stat-members"' not in response.content.decode()


def test_committee_counts_follow_its_subtree(world):
    committee = world.client(Role.COMMITTEE).get("/").context["counts"]
    assert by_label(committee["orgs_by_kind"])["党支部"] == 2
    assert by_label(committee["orgs_by_kind"])["党委"] == 1
    # Adding members to branch B changes the committee's count.
    MemberFactory.create_batch(4, organization=world.orgs["B"])
    assert world.client(Role.COMMITTEE).get("/").context["counts"]["members_active"] == 7


def test_status_breakdown_and_active_count(world):
    member = world.members["A"][1]
    member.status = Status.TRANSFERRED_OUT
    member.save()
    counts = world.client(Role.COMMITTEE).get("/").context["counts"]
    assert counts["members_active"] == 2
    assert by_label(counts["members_by_status"]) == {"正常": 2, "转出": 1, "停止党籍": 0, "出党": 0, "去世": 0}


ADMIN_PANELS = {
    Role.SYSTEM_ADMIN: (
        "系统管理员",
        ["启用的账号", "已停用的账号", "待本人修改密码"],
        ["用户管理", "党组织树", "单位"],
    ),
    Role.SECURITY_ADMIN: ("安全管理员", ["角色授权", "锁定中的账号"], ["角色授权", "安全设置"]),
    Role.AUDIT_ADMIN: ("审计管理员", ["今日审计记录", "近7日登录失败"], ["审计日志"]),
}


@pytest.mark.parametrize("role", ADMIN_PANELS.keys())
def test_the_three_admins_see_their_own_work_and_no_business_tiles(world, role):
    response = world.client(role).get("/")
    assert response.status_code == 200
    page = response.content.decode()
    # No business figures (for them all zero) and no business shortcuts.
    assert response.context["counts"] is None
    assert 'id="stat-members"' not in page and 'id="stat-orgs"' not in page and "党员名册" not in page
    [panel] = response.context["admin_panels"]
    title, tiles, links = ADMIN_PANELS[role]
    assert panel.title == title
    assert [tile.label for tile in panel.tiles] == tiles
    assert [label for label, _ in panel.links] == links
    for _, url in panel.links:
        assert world.client(role).get(url).status_code == 200


def test_admin_panels_count_what_asks_for_action(world):
    AuditEvent.objects.create(action=AuditAction.LOGIN_FAILURE, actor_username="nobody")
    world.user(Role.SECRETARY).__class__.objects.filter(pk=world.user(Role.SECRETARY).pk).update(
        must_change_password=True
    )
    tiles = {
        tile.label: tile
        for role in ADMIN_PANELS
        for tile in world.client(role).get("/").context["admin_panels"][0].tiles
    }
    assert tiles["待本人修改密码"].value == 1
    assert tiles["角色授权"].value == RoleAssignment.objects.count()
    assert tiles["近7日登录失败"].value == 1 and tiles["近7日登录失败"].warn
    assert tiles["锁定中的账号"].value == 0 and not tiles["锁定中的账号"].warn


def test_home_shows_the_grants(world):
    response = world.client(Role.SECRETARY).get("/")
    assert "支部书记 · 高一年级党支部" in response.content.decode()


def test_home_query_count_does_not_grow_with_the_scope(world, monkeypatch):
    # The query count of computing the page, not of reading its kept figures (core.summaries).
    monkeypatch.setattr(summaries, "cached", lambda topics, name, parts, compute, **kw: compute())
    client = world.client(Role.COMMITTEE)
    client.get("/")
    with CaptureQueriesContext(connection) as small:
        client.get("/")
    for n in range(5):
        branch = OrganizationFactory(parent=world.orgs["C1"], code=f"BJ01N{n}")
        MemberFactory.create_batch(5, organization=branch)
        UnitFactory(organization=branch)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/")
    assert response.context["counts"]["orgs_total"] == 8
    assert len(large.captured_queries) == len(small.captured_queries)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_member_sees_their_own_work_not_their_branchs_statistics(world):
    """Before: a member's home page showed the counts of their branch (党组织, 在册党员 …) and nothing of their own."""
    import datetime as dt

    from django.utils import timezone

    from dangjian.orglife.models import ActivityKind
    from dangjian.orglife.tests.factories import ActivityRecordFactory
    from dangjian.training.models import Enrollment, EnrollmentSource
    from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory, credit

    me, other = world.members["A"]
    today = timezone.localdate()
    credit(me, "10", on=today)
    training_class = TrainingClassFactory(organizer=world.orgs["A"], title="党史专题班")
    Enrollment.objects.create(training_class=training_class, member=me, source=EnrollmentSource.MANUAL)
    starts = timezone.now() + dt.timedelta(days=3)
    TrainingSessionFactory(
        training_class=training_class, title="新时代党建", starts_at=starts, ends_at=starts + dt.timedelta(hours=2)
    )
    ActivityRecordFactory(
        organization=world.orgs["A"],
        date=today,
        topic="学习党章",
        kinds=[ActivityKind.SELF_STUDY],
        attendance=[(me, True), (other, False)],
    )
    response = world.client(Role.MEMBER).get("/")
    page = response.content.decode()
    assert response.context["counts"] is None and 'id="stat-members"' not in page
    mine = response.context["mine"]
    assert (mine.member, mine.hours.counted, mine.hours.required) == (me, 10, 32)
    assert mine.next_session.title == "新时代党建" and not mine.signs_in_today
    assert [(line.record.topic, line.attendance_label) for line in mine.records] == [("学习党章", "出席")]
    for text in ("我的学时", "10.0", "要求 32.0 学时", "新时代党建", "学习党章", "出席"):
        assert text in page
    # A secretary's home shows the branch's work (their panel), not its statistics.
    secretary = world.client(Role.SECRETARY).get("/").context
    assert secretary["counts"] is None and secretary["panels"].secretary


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.SECRETARY, ["/orglife/records/new/", "/training/hours/branch/"]),
        (Role.COMMITTEE, ["/training/hours/", "/orglife/compliance/", "/schools/bookings/"]),
        (Role.SCHOOL_ADMIN, ["/schools/bookings/", "/training/classes/"]),
        (Role.INSTRUCTOR, ["/supervision/visits/new/", "/supervision/visits/missing/"]),
    ],
)
def test_each_role_finds_its_daily_actions_on_the_home_page(world, role, links):
    if role == Role.INSTRUCTOR:  # an instructor works once appointed (聘任)
        from dangjian.supervision.tests.factories import instructor

        instructor(world.orgs["B"], user=world.user(role))
    page = world.client(role).get("/").content.decode()
    actions = page.split('id="quick-actions"', 1)[1].split("</div>", 1)[0]
    for link in links:
        assert f'href="{link}"' in actions
        assert world.client(role).get(link).status_code == 200


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN])
def test_roles_without_daily_business_actions_get_none(world, role):
    assert 'id="quick-actions"' not in world.client(role).get("/").content.decode()


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.MEMBER, ["/orglife/", "/training/my/hours/", "/training/my/classes/"], ["/members/", "/orgs/"]),
        (Role.SECRETARY, ["/members/", "/orgs/", "/orglife/"], []),
        (Role.SECURITY_ADMIN, [], ["/members/", "/orglife/", "/orgs/"]),
    ],
)
def test_navigation_offers_only_the_modules_a_role_acts_in(world, role, shown, hidden):
    nav = world.client(role).get("/").content.decode().split('id="nav"', 1)[1].split("</ul>", 1)[0]
    for link in shown:
        assert f'href="{link}"' in nav
    for link in hidden:
        assert f'href="{link}"' not in nav
