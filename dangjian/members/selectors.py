"""Read-side queries of member records."""

from __future__ import annotations

from django.db.models import QuerySet

from dangjian.members.models import Member


def member_list(*, user) -> QuerySet[Member]:
    """The members the user may see, ready for a list page: one query for the rows whatever the page size."""
    return Member.objects.visible_to(user).select_related("organization").order_by("name", "pk")


def member_history(*, member: Member, limit: int = 50) -> list[dict]:
    """The member's change history, newest first, each change with the fields it touched."""
    records = list(member.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    rows = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None and len(rows) < limit:
            delta = newer.diff_against(older)
            for change in delta.changes:
                if change.field == "id_number_digest":  # shown once, as the ID number itself
                    continue
                changes.append(Member._meta.get_field(change.field).verbose_name)
        rows.append({"record": newer, "changes": changes})
    return rows[:limit]
