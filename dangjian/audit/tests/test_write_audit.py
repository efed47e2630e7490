"""The audit trail has no holes for writes (等保 8.1.4.3): every write of a model that keeps history lands on the
trail with who, when, what (field names, never values) and the source IP; organizational-life records, their
attendance and attachments are audited by their service (security probe F5)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.orglife.models import ActivityRecord, RecordAttachment
from dangjian.orglife.tests.factories import PNG, ActivityRecordFactory
from dangjian.orgs.models import Organization, OrgKind

TODAY = timezone.localdate()


def events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def test_an_organization_edit_is_audited_with_the_fields_changed(world):
    """The probe renamed an organization (POST /orgs/<pk>/edit/) and found nothing on the trail."""
    a = world.orgs["A"]
    response = world.client(Role.COMMITTEE).post(
        f"/orgs/{a.pk}/edit/",
        {"code": a.code, "name": "高一年级第一党支部", "kind": OrgKind.BRANCH, "established_on": "2020-09-01"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=a.pk).name == "高一年级第一党支部"
    [event] = events(AuditAction.UPDATE, object_type="orgs.organization", object_id=str(a.pk))
    assert event.actor_id == world.user(Role.COMMITTEE).pk
    assert event.source_ip == "10.9.8.7"
    assert "name" in event.detail["fields"]
    assert "高一年级第一党支部" not in str(event.detail)  # names of fields, never values


def test_an_organization_created_is_audited(world):
    c1 = world.orgs["C1"]
    response = world.client(Role.COMMITTEE).post(
        f"/orgs/{c1.pk}/new/",
        {"code": "BJ01C", "name": "高三年级党支部", "kind": OrgKind.BRANCH, "established_on": "2020-09-01"},
    )
    assert response.status_code == 302
    org = Organization.objects.get(code="BJ01C")
    [event] = events(AuditAction.CREATE, object_type="orgs.organization", object_id=str(org.pk))
    assert event.actor_id == world.user(Role.COMMITTEE).pk


def test_a_refused_write_leaves_no_write_record(world):
    a = world.orgs["A"]
    before = AuditEvent.objects.filter(action=AuditAction.UPDATE).count()
    response = world.client(Role.SECRETARY).post(
        f"/orgs/{a.pk}/edit/", {"code": "CHANGED", "name": "x", "kind": OrgKind.BRANCH}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == before


def test_an_orglife_record_with_photos_is_audited(world):
    """The probe created a record with an attachment at /orglife/records/new/: nothing was recorded."""
    a = world.orgs["A"]
    first = world.members["A"][0]
    response = world.client(Role.SECRETARY).post(
        f"/orglife/records/new/?org={a.code}",
        {
            "kinds": ["theme_day"],
            "date": TODAY.isoformat(),
            "topic": "带照片的主题党日",
            f"present_{first.pk}": "on",
            "attachments": [SimpleUploadedFile("一.png", PNG, content_type="image/png")],
            "attachment_kind": "photo",
        },
    )
    assert response.status_code == 302
    record = ActivityRecord.objects.get(topic="带照片的主题党日")
    secretary = world.user(Role.SECRETARY).pk
    [created] = events(AuditAction.CREATE, object_type="orglife.activityrecord", object_id=str(record.pk))
    assert created.actor_id == secretary
    assert created.detail["present"] == 1 and created.detail["attachments"] == 1
    [upload] = events(AuditAction.UPLOAD, object_id=str(record.pk))
    assert upload.actor_id == secretary and upload.detail["name"] == "一.png"


def test_an_orglife_update_and_an_attachment_removal_are_audited(world):
    from dangjian.orglife import services

    secretary = world.user(Role.SECRETARY)
    record = ActivityRecordFactory(organization=world.orgs["A"])
    services.record_update(by=secretary, record=record, topic="改过的主题", absentees={world.members["A"][1]: "病假"})
    [updated] = events(AuditAction.UPDATE, object_type="orglife.activityrecord", object_id=str(record.pk))
    assert updated.actor_id == secretary.pk
    assert set(updated.detail["fields"]) >= {"topic", "absentees"}
    assert "病假" not in str(updated.detail)

    attachment = services.attachments_add(
        by=secretary, record=record, files=[SimpleUploadedFile("a.png", PNG, content_type="image/png")]
    )[0]
    services.attachment_remove(by=secretary, attachment=attachment)
    assert not RecordAttachment.objects.exists()
    [removed] = events(AuditAction.DELETE, object_id=str(record.pk))
    assert removed.detail["name"] == "a.png"
