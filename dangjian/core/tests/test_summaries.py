"""Kept summaries (core.summaries): figures are kept between pages, and a write shows on the very next page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core import summaries
from dangjian.members.models import Member
from dangjian.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_a_figure_is_kept_until_a_table_of_its_topic_is_written():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert summaries.cached(["orglife"], "t", ("a",), compute) == 1
    assert summaries.cached(["orglife"], "t", ("a",), compute) == 1  # kept
    assert summaries.cached(["orglife"], "t", ("b",), compute) == 2  # other parts, other figure
    Member.objects.dangerously_all().update(name="改")  # a bulk UPDATE, no signal: the wrapper sees it
    assert summaries.cached(["orglife"], "t", ("a",), compute) == 3


def test_writes_to_other_tables_keep_the_figures(world):
    calls = []
    summaries.cached(["orglife"], "t", (), lambda: calls.append(1))
    summaries.bump("hours")
    world.user(Role.COMMITTEE).save()  # accounts_user: not a table of any topic
    summaries.cached(["orglife"], "t", (), lambda: calls.append(1))
    assert calls == [1]


def test_topics_of_tables():
    assert set(summaries.topics_of("orglife_activityrecord")) == {"orglife", "business"}
    assert set(summaries.topics_of("training_hoursentry")) == {"hours", "business"}
    assert summaries.topics_of("django_session") == []
    assert summaries.topics_of("dangjian_cache") == []


def test_home_counts_change_right_after_a_write(world):
    client = world.client(Role.COMMITTEE)
    before = client.get("/").context["counts"]["members_active"]
    assert client.get("/").context["counts"]["members_active"] == before  # kept
    MemberFactory(organization=world.orgs["A"])
    assert client.get("/").context["counts"]["members_active"] == before + 1


def _theme_days(client, org) -> int:
    page = client.get(reverse("orglife:compliance"), {"org": org.code, "year": TODAY.year}).context["page"]
    return sum(row.done for row in page if row.organization.pk == org.pk and row.duty.kind == "theme_day")


def test_compliance_page_changes_right_after_the_users_own_record(world):
    client = world.client(Role.SECRETARY)
    a = world.orgs["A"]
    before = _theme_days(client, a)
    assert _theme_days(client, a) == before  # kept
    first, _second = world.members["A"]
    response = client.post(
        f"/orglife/records/new/?org={a.code}",
        {"kinds": ["theme_day"], "date": TODAY.isoformat(), "topic": "主题党日", f"present_{first.pk}": "on"},
    )
    assert response.status_code == 302
    assert _theme_days(client, a) == before + 1


def test_todo_changes_right_after_the_users_own_record(world):
    secretary = world.client(Role.SECRETARY)
    mine = [item.key for item in secretary.get("/todo/").context["page"]]
    assert any(key.endswith(":theme_day") for key in mine)
    a = world.orgs["A"]
    first, _second = world.members["A"]
    response = secretary.post(
        f"/orglife/records/new/?org={a.code}",
        {"kinds": ["theme_day"], "date": TODAY.isoformat(), "topic": "主题党日", f"present_{first.pk}": "on"},
    )
    assert response.status_code == 302
    after = [item.key for item in secretary.get("/todo/").context["page"]]
    assert not any(key.endswith(":theme_day") for key in after)


def test_another_users_write_lags_at_most_grace_the_users_own_never(world, monkeypatch):
    me, other = world.user(Role.COMMITTEE), world.user(Role.SECRETARY)
    # Writes made before this test (the world's, outside any request, count a second late) are not what it is about.
    cache.delete_many([summaries._writer_key("*"), summaries._writer_key(me.pk)])
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert summaries.cached(["orglife"], "g", (), compute, user=me) == 1
    # Another user wrote (in their request): the version changed, their write time is theirs.
    summaries.bump("orglife")
    summaries._note_writer(writer=other.pk, committed=True)
    assert summaries.cached(["orglife"], "g", (), compute, user=me) == 1  # lags, within GRACE
    monkeypatch.setattr(summaries, "GRACE", 0)
    assert summaries.cached(["orglife"], "g", (), compute, user=me) == 2  # not past GRACE
    monkeypatch.setattr(summaries, "GRACE", 30)
    summaries.bump("orglife")
    summaries._note_writer(writer=me.pk)  # my own write
    assert summaries.cached(["orglife"], "g", (), compute, user=me) == 3


def test_every_app_with_a_todo_source_is_a_business_topic():
    """The to-do list is kept under the "business" topic: a new app's source whose tables are not named there would
    show its items stale after the user's own write."""
    from django.apps import apps

    from dangjian.core import todo

    prefixes = summaries.TOPIC_TABLES["business"]
    for source in todo.registry:
        module = todo.name_of(source)
        config = apps.get_containing_app_config(module)
        assert config is not None, module
        assert f"{config.label}_".startswith(prefixes) or any(p.startswith(f"{config.label}_") for p in prefixes), (
            f"{config.label}: add its tables to summaries.TOPIC_TABLES['business']"
        )
