"""Notifications (站内通知) and the daily reminder job: a reminder is recorded once per user, item and period; e-mail is
off by default; the list page shows a user's own notifications only."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.notices.models import Notification
from dangjian.notices.services import notification_mark_read, notifications_mark_all_read, notifications_record
from dangjian.workbench import selectors as workbench_selectors
from dangjian.workbench.selectors import TodoItem, todo_items

JUNE = "2026-06-15"
JULY = "2026-07-15"


def item(key: str, period: str = "2026-06", title: str = "测试待办") -> TodoItem:
    return TodoItem(kind="测试", title=title, url="/todo/", key=key, period=period)


def run(*args) -> str:
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def notices_of(user) -> list[Notification]:
    return list(Notification.objects.dangerously_all().filter(user=user).order_by("key", "period"))


# ---------------------------------------------------------------------------------------------------------
# Recording


def test_record_inserts_only_new_items(world):
    user = world.user(Role.SECRETARY)
    first = notifications_record(user=user, items=[item("a"), item("b"), item("a")])
    assert [n.key for n in first] == ["a", "b"]
    again = notifications_record(user=user, items=[item("a"), item("b"), item("c"), item("a", period="2026-07")])
    assert sorted((n.key, n.period) for n in again) == [("a", "2026-07"), ("c", "2026-06")]
    assert len(notices_of(user)) == 4


def test_record_accepts_plain_dicts_and_keeps_its_own_fields(world):
    user = world.user(Role.MEMBER)
    [notice] = notifications_record(
        user=user, items=[{"kind": "外部", "title": "x" * 400, "url": "/a/", "key": "ext:1", "period": ""}]
    )
    assert notice.kind == "外部" and len(notice.title) == 300 and notice.period == ""


def test_the_database_refuses_a_second_row_for_the_same_item_and_period(world):
    user = world.user(Role.SECRETARY)
    notifications_record(user=user, items=[item("a")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=user, kind="测试", title="重复", key="a", period="2026-06")


def test_two_users_get_their_own(world):
    secretary, committee = world.user(Role.SECRETARY), world.user(Role.COMMITTEE)
    notifications_record(user=secretary, items=[item("shared")])
    assert [n.key for n in notifications_record(user=committee, items=[item("shared")])] == ["shared"]


# ---------------------------------------------------------------------------------------------------------
# The command


def test_second_run_the_same_day_records_nothing(world):
    out = run("--as-of", JUNE)
    assert "用户5人" in out  # the five business-role users of the world
    secretary = world.user(Role.SECRETARY)
    recorded = notices_of(secretary)
    assert {n.key for n in recorded} == {i.key for i in todo_items(user=secretary, today=dt.date(2026, 6, 15))}
    total = Notification.objects.dangerously_all().count()
    assert f"新提醒{total}条" in out
    second = run("--as-of", JUNE)
    assert "新提醒0条" in second and f"已提醒过跳过{total}条" in second
    assert Notification.objects.dangerously_all().count() == total


def test_a_new_period_records_again(world):
    run("--as-of", JUNE)
    secretary = world.user(Role.SECRETARY)
    theme_day = f"duty:{world.orgs['A'].pk}:theme_day"
    year_duty = f"duty:{world.orgs['A'].pk}:life_meeting"
    run("--as-of", JULY)
    periods = {(n.key, n.period) for n in notices_of(secretary)}
    assert {(theme_day, "2026-06"), (theme_day, "2026-07")} <= periods
    assert [p for k, p in periods if k == year_duty] == ["2026"]  # the year's duty is reminded once a year


def test_admins_and_users_without_roles_get_nothing(world):
    from dangjian.accounts.tests.factories import UserFactory

    nobody = UserFactory()
    run("--as-of", JUNE)
    for user in (nobody, world.user(Role.SYSTEM_ADMIN), world.user(Role.AUDIT_ADMIN)):
        assert notices_of(user) == []


def test_inactive_users_are_skipped(world):
    member = world.user(Role.MEMBER)
    member.is_active = False
    member.save()
    assert "用户4人" in run("--as-of", JUNE)
    assert notices_of(member) == []


def test_dry_run_writes_nothing(world):
    out = run("--dry-run", "--as-of", JUNE)
    assert out.startswith("（试运行，未记录）")
    assert Notification.objects.dangerously_all().count() == 0
    assert "新提醒0条" not in out


def test_email_is_off_by_default(world, settings):
    assert settings.DANGJIAN_REMINDER_EMAIL is False
    world.user(Role.SECRETARY).email = "secretary@example.cn"
    world.user(Role.SECRETARY).save()
    out = run("--as-of", JUNE)
    assert mail.outbox == []
    assert "邮件" not in out


def test_email_digest_with_the_flag_only_to_users_with_an_address(world):
    secretary = world.user(Role.SECRETARY)
    secretary.email = "secretary@example.cn"
    secretary.save()
    out = run("--email", "--as-of", JUNE)
    assert len(mail.outbox) == 1
    [message] = mail.outbox
    assert message.to == ["secretary@example.cn"]
    assert message.subject == f"党建云待办提醒：{len(notices_of(secretary))}项"
    assert "本月主题党日未开展" in message.body
    assert "发送邮件1封" in out
    run("--email", "--as-of", JUNE)
    assert len(mail.outbox) == 1  # nothing new: no second mail


def test_a_failing_mail_server_keeps_the_notifications(world, monkeypatch):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("connection refused")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    secretary = world.user(Role.SECRETARY)
    secretary.email = "secretary@example.cn"
    secretary.save()
    err = StringIO()
    out = StringIO()
    call_command("send_reminders", "--email", "--as-of", JUNE, stdout=out, stderr=err)
    assert "发送邮件0封，失败1封" in out.getvalue()
    assert "world_secretary" in err.getvalue()
    assert notices_of(secretary)


@override_settings(DANGJIAN_REMINDER_EMAIL=True, DANGJIAN_SITE_URL="https://dj.example.cn/")
def test_email_by_setting_with_absolute_links(world):
    secretary = world.user(Role.SECRETARY)
    secretary.email = "secretary@example.cn"
    secretary.save()
    run("--as-of", JUNE)
    assert "https://dj.example.cn/orglife/records/new/?org=BJ01A" in mail.outbox[0].body


@pytest.mark.parametrize("value", ["2026-13-01", "昨天", "2026/06/15"])
def test_bad_as_of_is_refused(world, value):
    with pytest.raises(CommandError, match="--as-of 应为 YYYY-MM-DD"):
        run("--as-of", value)
    assert Notification.objects.dangerously_all().count() == 0


# ---------------------------------------------------------------------------------------------------------
# Marking read


def test_mark_read_and_mark_all(world):
    user = world.user(Role.SECRETARY)
    first, *_ = notifications_record(user=user, items=[item("a"), item("b"), item("c")])
    notification_mark_read(by=user, notification=first)
    assert first.read_at is not None
    when = first.read_at
    notification_mark_read(by=user, notification=first)
    first.refresh_from_db()
    assert first.read_at == when
    assert notifications_mark_all_read(by=user) == 2
    assert notifications_mark_all_read(by=user) == 0


def test_another_users_notification_cannot_be_marked(world):
    mine = notifications_record(user=world.user(Role.SECRETARY), items=[item("a")])[0]
    with pytest.raises(PermissionDenied):
        notification_mark_read(by=world.user(Role.COMMITTEE), notification=mine)
    mine.refresh_from_db()
    assert mine.read_at is None
    assert notifications_mark_all_read(by=world.user(Role.COMMITTEE)) == 0
    mine.refresh_from_db()
    assert mine.read_at is None


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_list_shows_own_notifications_unread_first(world):
    user = world.user(Role.SECRETARY)
    old = notifications_record(user=user, items=[item("a", title="较早的提醒")], now=timezone.now())
    notification_mark_read(by=user, notification=old[0])
    new = notifications_record(user=user, items=[item("b", title="未读的提醒")])
    notifications_record(user=world.user(Role.COMMITTEE), items=[item("c", title="别人的提醒")])
    response = world.client(Role.SECRETARY).get("/notices/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("未读的提醒") < body.index("较早的提醒")
    assert "别人的提醒" not in body
    assert [n.pk for n in response.context["page"].object_list] == [new[0].pk, old[0].pk]


def test_list_is_paginated(world):
    user = world.user(Role.MEMBER)
    notifications_record(user=user, items=[item(f"k{n}") for n in range(25)])
    page = world.client(Role.MEMBER).get("/notices/").context["page"]
    assert page.paginator.count == 25 and len(page.object_list) == 20


def test_read_and_open_goes_to_the_item(world):
    user = world.user(Role.SECRETARY)
    [notice] = notifications_record(user=user, items=[item("a")])
    response = world.client(Role.SECRETARY).post(f"/notices/{notice.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/todo/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_open_never_leaves_the_site(world):
    user = world.user(Role.SECRETARY)
    [notice] = notifications_record(
        user=user, items=[{"kind": "外部", "title": "t", "url": "https://evil.example/", "key": "x"}]
    )
    response = world.client(Role.SECRETARY).post(f"/notices/{notice.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notices/"


def test_another_users_notification_is_404(world):
    [theirs] = notifications_record(user=world.user(Role.COMMITTEE), items=[item("a")])
    client = world.client(Role.SECRETARY)
    assert client.post(f"/notices/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notices/{theirs.pk}/read/", {"open": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_is_post_only(world):
    [notice] = notifications_record(user=world.user(Role.SECRETARY), items=[item("a")])
    assert world.client(Role.SECRETARY).get(f"/notices/{notice.pk}/read/").status_code == 405


def test_read_all_page(world):
    user = world.user(Role.SECRETARY)
    notifications_record(user=user, items=[item("a"), item("b")])
    response = world.client(Role.SECRETARY).post("/notices/read-all/", follow=True)
    assert "已将2条通知标记为已读。" in response.content.decode()
    assert Notification.objects.dangerously_all().filter(user=user, read_at__isnull=True).count() == 0


def test_navbar_badge_counts_unread_with_one_query(world, monkeypatch):
    monkeypatch.setattr(workbench_selectors, "ITEM_SOURCES", ())  # the home page's own queries stay out of the way
    user = world.user(Role.MEMBER)
    notifications_record(user=user, items=[item("a"), item("b"), item("c")])
    client = world.client(Role.MEMBER)
    client.get("/notices/")
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/notices/").content.decode()
    assert 'id="notices-unread">3<' in body
    # The badge, the page's count and its rows.
    assert len([q for q in queries.captured_queries if "notices_notification" in q["sql"]]) == 3
    notifications_mark_all_read(by=user)
    assert 'id="notices-unread"' not in client.get("/").content.decode()


def test_anonymous_pages_have_no_badge_and_no_query(world):
    with CaptureQueriesContext(connection) as queries:
        response = world.client(None).get("/login/")
    assert "notices_unread" not in response.context
    assert not [q for q in queries.captured_queries if "notices_notification" in q["sql"]]
