"""The account pages of the three admins (三员分立): 用户管理 for the system admin, 角色授权 and 安全设置 for
the security admin; every other role is answered 403. Each change goes through accounts.services and lands in
the audit trail; bad input re-renders with a Chinese message naming the field and saves nothing."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import TEST_PASSWORD, UserFactory, grant
from dangjian.audit.models import AuditAction, AuditEvent
from tests.scope import ROLES

NEW_PASSWORD = "Chuci#Mima2026"

SYSTEM_ADMIN_PAGES = ["/accounts/users/", "/accounts/users/new/"]
SECURITY_ADMIN_PAGES = ["/accounts/grants/", "/accounts/grants/new/", "/accounts/security/"]


def body(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Role gates


@pytest.mark.parametrize("role", ROLES)
def test_the_account_pages_are_for_the_system_admin_only(world, role):
    client = world.client(role)
    target = world.user(Role.SECRETARY)
    pages = [*SYSTEM_ADMIN_PAGES, f"/accounts/users/{target.pk}/edit/", f"/accounts/users/{target.pk}/password/"]
    for page in pages:
        expected = 200 if role == Role.SYSTEM_ADMIN else 403
        assert client.get(page).status_code == expected, page


@pytest.mark.parametrize("role", ROLES)
def test_the_grant_and_security_pages_are_for_the_security_admin_only(world, role):
    client = world.client(role)
    assignment = RoleAssignment.objects.get(user=world.user(Role.SECRETARY))
    for page in [*SECURITY_ADMIN_PAGES, f"/accounts/grants/{assignment.pk}/revoke/"]:
        expected = 200 if role == Role.SECURITY_ADMIN else 403
        assert client.get(page).status_code == expected, page
    # A change refused by role writes nothing.
    client.post(f"/accounts/grants/{assignment.pk}/revoke/")
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists() is (role != Role.SECURITY_ADMIN)


def test_anonymous_is_sent_to_login(world):
    for page in [*SYSTEM_ADMIN_PAGES, *SECURITY_ADMIN_PAGES]:
        response = Client().get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


# ---------------------------------------------------------------------------------------------------------
# 用户管理


def create(client, **overrides):
    data = {
        "username": "new_teacher",
        "full_name": "周新",
        "phone": "",
        "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    return client.post("/accounts/users/new/", data | overrides)


def test_a_new_account_must_change_its_password_at_the_first_login(world):
    response = create(world.client(Role.SYSTEM_ADMIN))
    assert response.status_code == 302, body(response)[:2000]
    user = User.objects.get(username="new_teacher")
    assert user.full_name == "周新"
    assert user.must_change_password
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CREATE, object_id=str(user.pk))
    assert event.actor_id == world.user(Role.SYSTEM_ADMIN).pk
    assert event.detail["via"] == "page"

    browser = Client()
    assert browser.post("/login/", {"username": "new_teacher", "password": NEW_PASSWORD}).status_code == 302
    home = browser.get("/")
    assert home.status_code == 302
    assert home["Location"] == "/account/password/"
    changed = browser.post(
        "/account/password/",
        {"old_password": NEW_PASSWORD, "new_password1": "Ziji#Mima2026", "new_password2": "Ziji#Mima2026"},
    )
    assert changed.status_code == 302
    assert browser.get("/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "world_secretary"}, "用户名", "用户名“world_secretary”已被使用"),
        ({"username": "WORLD_SECRETARY"}, "用户名", "已被使用"),
        ({"password": "abc12345", "password2": "abc12345"}, "初始密码", "密码须至少包含"),
        ({"password2": "Other#Mima2026"}, "确认初始密码", "两次输入的密码不一致"),
        ({"full_name": ""}, "姓名", ""),
        ({"phone": "12345"}, "联系电话", ""),
    ],
    ids=["duplicate", "duplicate-case", "weak-password", "mismatch", "no-name", "bad-phone"],
)
def test_bad_input_for_a_new_account_is_shown_beside_its_field_and_saves_nothing(world, overrides, field, message):
    before = (User.objects.count(), AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CREATE).count())
    response = create(world.client(Role.SYSTEM_ADMIN), **overrides)
    assert response.status_code == 200
    page = body(response)
    assert f"{field}：" in page
    assert message in page
    assert (User.objects.count(), AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CREATE).count()) == before


def test_the_role_column_shows_each_accounts_grants(world):
    response = world.client(Role.SYSTEM_ADMIN).get("/accounts/users/", {"q": "world_", "per_page": 50})
    page = body(response)
    assert "支部书记 · 高一年级党支部" in page
    assert "党建指导员 · 高二年级党支部" in page
    assert "安全管理员" in page
    # The filters: by role, by name and by state.
    by_role = world.client(Role.SYSTEM_ADMIN).get("/accounts/users/", {"role": Role.INSTRUCTOR})
    assert [u.username for u in by_role.context["page"].object_list] == ["world_instructor"]
    by_name = world.client(Role.SYSTEM_ADMIN).get("/accounts/users/", {"q": "审计管理员用户"})
    assert [u.username for u in by_name.context["page"].object_list] == ["world_audit_admin"]
    UserFactory(username="gone_away", is_active=False)
    inactive = world.client(Role.SYSTEM_ADMIN).get("/accounts/users/", {"active": "0"})
    assert [u.username for u in inactive.context["page"].object_list] == ["gone_away"]


def test_the_account_list_takes_the_same_queries_whatever_it_shows(world):
    client = world.client(Role.SYSTEM_ADMIN)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/accounts/users/", {"per_page": 100}).status_code == 200
        return len(captured)

    client.get("/accounts/users/")  # the session's first request settles its own writes
    few = queries()
    for n in range(12):
        user = UserFactory(username=f"many_{n:02d}")
        grant(user, Role.SECRETARY, world.orgs["A"])
        grant(user, Role.MEMBER, world.orgs["B"])
    assert queries() == few


def test_the_system_admin_sees_no_member_data_on_the_account_pages(world):
    client = world.client(Role.SYSTEM_ADMIN)
    pages = ["/accounts/users/", f"/accounts/users/{world.user(Role.MEMBER).pk}/edit/"]
    for page in pages:
        text = body(client.get(page, {"per_page": 200}))
        for name in world.member_names():
            assert name not in text


def test_an_account_is_deactivated_never_deleted_and_the_change_is_audited(world):
    target = world.user(Role.INSTRUCTOR)
    response = world.client(Role.SYSTEM_ADMIN).post(
        f"/accounts/users/{target.pk}/edit/", {"full_name": "吴老师", "phone": "13900001111"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.full_name, target.phone, target.is_active) == ("吴老师", "13900001111", False)
    update = AuditEvent.objects.get(action=AuditAction.ACCOUNT_UPDATE, object_id=str(target.pk))
    assert update.detail["fields"] == ["full_name", "is_active", "phone"]
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_DEACTIVATE, object_id=str(target.pk)).exists()
    assert "13900001111" not in str(update.detail)


def test_the_system_admin_cannot_deactivate_their_own_account(world):
    admin = world.user(Role.SYSTEM_ADMIN)
    response = world.client(Role.SYSTEM_ADMIN).post(f"/accounts/users/{admin.pk}/edit/", {"full_name": "管理员"})
    assert response.status_code == 200
    assert "不能停用自己的账号" in body(response)
    admin.refresh_from_db()
    assert admin.is_active


def test_a_password_reset_must_be_changed_and_is_audited(world):
    target = world.user(Role.SECRETARY)
    client = world.client(Role.SYSTEM_ADMIN)
    weak = client.post(f"/accounts/users/{target.pk}/password/", {"password": "12345678", "password2": "12345678"})
    assert weak.status_code == 200
    assert "新密码：" in body(weak)
    response = client.post(
        f"/accounts/users/{target.pk}/password/", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    assert target.must_change_password
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_SET, object_id=str(target.pk))
    assert event.actor_id == world.user(Role.SYSTEM_ADMIN).pk


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_the_system_admin_cannot_reset_a_three_admin_password(world, role):
    target = world.user(role)
    before = target.password
    client = world.client(Role.SYSTEM_ADMIN)
    assert client.get(f"/accounts/users/{target.pk}/password/").status_code == 403
    response = client.post(
        f"/accounts/users/{target.pk}/password/", {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.password == before
    assert f"/accounts/users/{target.pk}/password/" not in body(client.get(f"/accounts/users/{target.pk}/edit/"))


# ---------------------------------------------------------------------------------------------------------
# 角色授权


def grant_on_page(world, **data):
    return world.client(Role.SECURITY_ADMIN).post("/accounts/grants/new/", data)


def test_a_grant_on_the_page_is_audited(world):
    user = UserFactory(username="page_grant")
    response = grant_on_page(world, user="page_grant", role=Role.SECRETARY, organization="BJ01B")
    assert response.status_code == 302, body(response)[:3000]
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role, assignment.organization) == (Role.SECRETARY, world.orgs["B"])
    event = AuditEvent.objects.get(action=AuditAction.GRANT, object_id=str(assignment.pk))
    assert event.actor_id == world.user(Role.SECURITY_ADMIN).pk


def test_an_admin_role_is_granted_without_an_organization(world):
    user = UserFactory(username="new_auditor")
    assert grant_on_page(world, user="new_auditor", role=Role.AUDIT_ADMIN).status_code == 302
    assert RoleAssignment.objects.get(user=user).organization is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": Role.SECRETARY}, "授权党组织", "业务角色必须指定授权党组织"),
        ({"role": Role.AUDIT_ADMIN, "organization": "BJ01A"}, "授权党组织", "三员角色不指定党组织"),
        ({"role": Role.SECRETARY, "organization": "NOPE"}, "授权党组织", "找不到党组织编码“NOPE”"),
        ({"role": Role.SECRETARY, "organization": "BJ01A", "user": "nobody_here"}, "用户名", "找不到用户名"),
        ({"role": Role.SECRETARY, "organization": "BJ01A", "user": "retired"}, "用户名", "该账号已停用"),
        ({"role": Role.SECRETARY, "organization": "BJ01A", "user": "world_audit_admin"}, "角色", "三员分立"),
        ({"role": Role.SECRETARY, "organization": "BJ01A", "user": "world_secretary"}, "角色", "无需重复授予"),
        ({"role": "king", "organization": "BJ01A"}, "角色", "king"),
    ],
    ids=["business-no-org", "admin-with-org", "unknown-org", "unknown-user", "inactive", "admin-mix", "twice", "bad"],
)
def test_a_refused_grant_is_shown_beside_its_field_and_saves_nothing(world, data, field, message):
    UserFactory(username="grantee")
    UserFactory(username="retired", is_active=False)
    before = (RoleAssignment.objects.count(), AuditEvent.objects.filter(action=AuditAction.GRANT).count())
    response = grant_on_page(world, **({"user": "grantee"} | data))
    assert response.status_code == 200
    page = body(response)
    assert f"{field}：" in page
    assert message in page
    assert (RoleAssignment.objects.count(), AuditEvent.objects.filter(action=AuditAction.GRANT).count()) == before


def test_the_service_refuses_a_business_role_without_organization_on_its_field(world):
    from django.core.exceptions import ValidationError

    from dangjian.accounts import services

    with pytest.raises(ValidationError) as caught:
        services.role_grant(by=world.user(Role.SECURITY_ADMIN), user=UserFactory(), role=Role.COMMITTEE)
    assert "业务角色必须指定授权党组织" in caught.value.message_dict["organization"][0]


def test_a_revocation_on_the_page_is_audited(world):
    assignment = grant(UserFactory(username="to_revoke"), Role.SECRETARY, world.orgs["A"])
    client = world.client(Role.SECURITY_ADMIN)
    assert "to_revoke" in body(client.get(f"/accounts/grants/{assignment.pk}/revoke/"))
    response = client.post(f"/accounts/grants/{assignment.pk}/revoke/")
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE, object_id=str(assignment.pk))
    assert event.actor_id == world.user(Role.SECURITY_ADMIN).pk
    assert event.detail["user"] == "to_revoke"


def test_the_security_admin_cannot_revoke_their_own_role(world):
    own = RoleAssignment.objects.get(user=world.user(Role.SECURITY_ADMIN))
    assert world.client(Role.SECURITY_ADMIN).post(f"/accounts/grants/{own.pk}/revoke/").status_code == 403
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_the_grant_list_filters_by_user_role_and_organization(world):
    client = world.client(Role.SECURITY_ADMIN)

    def users(**params) -> list[str]:
        return sorted(g.user.username for g in client.get("/accounts/grants/", params).context["page"].object_list)

    assert users(user="world_secretary") == ["world_secretary"]
    assert users(role=Role.INSTRUCTOR) == ["world_instructor"]
    assert users(organization="BJ01A") == ["world_member", "world_secretary"]
    assert users(organization="滨江一中") == ["world_committee", "world_school_admin"]


def test_the_organization_is_chosen_with_the_picker_over_every_organization(world):
    client = world.client(Role.SECURITY_ADMIN)
    page = body(client.get("/accounts/grants/new/"))
    field = re.search(r'<input[^>]*name="organization"[^>]*>', page).group(0)
    assert 'data-org-picker="/orgs/pick/grantable/"' in field
    assert 'value="' not in field  # never preset to the top of the tree
    # The picker offers every organization (the security admin sees none of their data) by name or code.
    found = client.get("/orgs/pick/grantable/", {"q": "临湖"}).json()["results"]
    assert {r["code"] for r in found} == {"LH", "LH01"}
    assert client.get("/orgs/pick/grantable/", {"q": "lh01"}).json()["results"][0]["trail"] == "临湖县教育工委"
    roots = {r["code"] for r in client.get("/orgs/pick/grantable/").json()["results"]}
    assert {"BJ", "LH"} <= roots
    assert [r["code"] for r in client.get("/orgs/pick/grantable/", {"parent": "BJ01"}).json()["results"]] == [
        "BJ01A",
        "BJ01B",
    ]
    picked = client.get("/accounts/grants/new/", {"organization": "LH01"})
    assert picked.context["form"]["organization"].value() == "LH01"
    assert 'data-label="临湖实验小学党支部（LH01）"' in body(picked)


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SECRETARY, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_only_the_security_admin_may_browse_every_organization(world, role):
    response = world.client(role).get("/orgs/pick/grantable/", {"q": "临湖"})
    assert response.status_code == 403
    assert "临湖" not in body(response)


def test_the_chosen_account_presets_its_own_organization(world):
    client = world.client(Role.SECURITY_ADMIN)
    member = client.get("/accounts/grants/new/", {"user": "world_member"})
    assert member.context["form"]["organization"].value() == "BJ01A"  # the branch of the member it logs in as
    committee = client.get("/accounts/grants/new/", {"user": "world_committee"})
    assert (
        committee.context["form"]["organization"].value()
        == world.user(Role.COMMITTEE).role_assignments.get().organization.code
    )
    assert client.get("/accounts/grants/new/", {"user": "nobody_here"}).context["form"]["organization"].value() == ""


@pytest.mark.parametrize(
    ("given", "message"),
    [("NOPE", "找不到党组织编码“NOPE”"), ("临湖县教育工委（NOPE）", "找不到党组织编码")],
    ids=["unknown-code", "forged-label"],
)
def test_a_client_sent_organization_that_is_not_offered_is_refused(world, given, message):
    UserFactory(username="grantee")
    response = grant_on_page(world, user="grantee", role=Role.SECRETARY, organization=given)
    assert response.status_code == 200
    assert f"授权党组织：{message}" in body(response)
    assert not RoleAssignment.objects.filter(user__username="grantee").exists()


def test_the_account_search_offers_active_accounts_with_their_grants(world):
    UserFactory(username="fresh_teacher", full_name="褚新来")
    UserFactory(username="fresh_retired", full_name="褚已停", is_active=False)
    client = world.client(Role.SECURITY_ADMIN)
    response = client.get("/accounts/grants/new/", {"user_q": "褚", "role": Role.SECRETARY})
    assert [u.username for u in response.context["users"]] == ["fresh_teacher"]
    assert 'href="?user_q=%E8%A4%9A&amp;role=secretary&amp;user=fresh_teacher"' in body(response)
    with_grants = client.get("/accounts/grants/new/", {"user_q": "world_secretary"})
    assert "支部书记 · 高一年级党支部" in body(with_grants)
    picked = client.get("/accounts/grants/new/", {"user": "fresh_teacher"})
    assert picked.context["form"]["user"].value() == "fresh_teacher"


# ---------------------------------------------------------------------------------------------------------
# 安全设置


def test_the_security_page_shows_the_policy_in_force(world, settings):
    settings.DANGJIAN_PASSWORD_MAX_AGE_DAYS = 60
    page = body(world.client(Role.SECURITY_ADMIN).get("/accounts/security/"))
    expected = ["密码最短长度", "8 个字符", "至少 3 类", "最近 5 次", "60 天"]
    expected.append("15 分钟内连续失败 5 次，锁定账号 30 分钟")
    for text in expected:
        assert text in page, text


def test_a_locked_account_is_listed_and_unlocked(world):
    user = UserFactory(username="locked_out_teacher", full_name="冯锁定")
    for _ in range(5):
        Client().post("/login/", {"username": user.username, "password": "Wrong#Pass2026"})
    assert Client().post("/login/", {"username": user.username, "password": TEST_PASSWORD}).status_code == 429

    client = world.client(Role.SECURITY_ADMIN)
    page = client.get("/accounts/security/")
    assert [a.username for a in page.context["locked"]] == ["locked_out_teacher"]
    assert "冯锁定" in body(page)

    response = client.post("/accounts/security/unlock/", {"username": user.username})
    assert response.status_code == 302
    assert client.get("/accounts/security/").context["locked"] == []
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_UPDATE, object_id=str(user.pk))
    assert event.actor_id == world.user(Role.SECURITY_ADMIN).pk
    assert event.detail == {"target": "locked_out_teacher", "fields": ["lockout"], "via": "unlock"}
    assert Client().post("/login/", {"username": user.username, "password": TEST_PASSWORD}).status_code == 302


@pytest.mark.parametrize("role", [r for r in ROLES if r != Role.SECURITY_ADMIN])
def test_only_the_security_admin_unlocks(world, role):
    from dangjian.accounts.models import LockoutRelease

    assert world.client(role).post("/accounts/security/unlock/", {"username": "someone"}).status_code == 403
    assert not LockoutRelease.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Navigation


def nav(world, role) -> str:
    return body(world.client(role).get("/")).split('id="nav"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_pages_are_in_their_roles_navigation_and_every_user_menu_offers_the_credentials(world, role):
    links = nav(world, role)
    assert ('href="/accounts/users/"' in links) is (role == Role.SYSTEM_ADMIN)
    assert ('href="/accounts/grants/"' in links) is (role == Role.SECURITY_ADMIN)
    assert ('href="/accounts/security/"' in links) is (role == Role.SECURITY_ADMIN)
    assert 'href="/admin/"' not in links  # the Django admin is the emergency account's only
    menu = links.split('id="user-menu"', 1)[1]
    assert 'href="/account/password/"' in menu and "修改密码" in menu
    assert 'href="/account/otp/setup/"' in menu and "绑定身份验证器" in menu


def test_the_emergency_account_keeps_the_django_admin_link(world):
    superuser = User.objects.create_superuser("emergency", password=TEST_PASSWORD)
    client = Client()
    client.force_login(superuser)
    assert 'href="/admin/"' in body(client.get("/"))
