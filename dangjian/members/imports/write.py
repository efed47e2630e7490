"""Write: all or nothing, in one transaction: the new members and their history rows in bulk, the updates, the
posts (see the package's docstring, point 4)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.db import IntegrityError, connection, models

from dangjian.core import summaries

# The fast multi-row insert (COPY on PostgreSQL): the values it stores are exactly the ORM's (encrypted fields
# through their own get_db_prep_save, blind indexes through their pre_save).
from dangjian.core.bulk import insert_rows as _insert
from dangjian.core.crypto import encrypt
from dangjian.members.imports.columns import IMPORT_REASON
from dangjian.members.imports.parse import _Row
from dangjian.members.imports.sql import _values_table
from dangjian.members.models import Flag, Member, MemberFlagChange, PartyPost, Status, flag_changes, phone_digest

_CHUNK = 5000


class _Writing:
    """The importer's write (see `engine._Importer`)."""

    # -- writing ---------------------------------------------------------------------------------------

    def write(self, stream: _MemberPipeline | None = None) -> None:
        """Write what was checked: the new members (already sent by `stream`, on PostgreSQL), the updates,
        their history rows, the posts, and the audit event."""
        now = self.now
        user_id = self.user_id
        new_rows = [row for row in self.rows if row.existing is None]
        changed = [row for row in self.rows if row.existing is not None and (row.changes or row.new_posts)]
        if stream is not None:
            stream.close()  # the members and their history rows are written
        elif new_rows:
            _insert_members(new_rows, now=now)
            _history_from_rows(
                Member, "id_number_digest", [row.digest for row in new_rows], "+", now=now, user_id=user_id
            )
        posts: list[PartyPost] = []
        with_posts = [row for row in new_rows if row.new_posts]
        if with_posts:
            members = Member.objects.dangerously_all().filter(
                id_number_digest__in=_values_table([row.digest for row in with_posts])
            )
            keys = dict(members.values_list("id_number_digest", "pk"))
            posts.extend(
                PartyPost(member_id=keys[row.digest], organization_id=org_id, post=post, start_date=self.today)
                for row in with_posts
                for org_id, post in row.new_posts
            )
        updated: list[int] = []
        for start in range(0, len(changed), _CHUNK):
            updated.extend(self._update(changed[start : start + _CHUNK], now=now, posts=posts))
        if updated:
            _history_from_rows(Member, "id", updated, "~", now=now, user_id=user_id)
        insert_with_history(PartyPost, posts, now=now, reason=IMPORT_REASON, user_id=user_id)
        self.result.written = True
        self.audit(dry_run=False)  # in the import's transaction: written with the rows, or not at all

    def _update(self, rows: list[_Row], *, now, posts: list) -> list[int]:
        """Change the fields that differ (the rows are locked since they were read); the keys of the members
        changed. The ID number is the key the row was matched by: it never changes, and is never decrypted."""
        members = Member.objects.dangerously_all().defer("id_number").in_bulk([row.existing[0] for row in rows])
        fields: set[str] = set()
        touched = []
        changes: list[MemberFlagChange] = []
        for row in rows:
            member = members[row.existing[0]]
            before = {flag: getattr(member, flag) for flag in Flag.values if flag in row.changes}
            for name in row.changes:
                setattr(member, Member._meta.get_field(name).attname, row.values[name])
                fields.add(name)
            changes.extend(flag_changes(member, before, at=now, changed_by_id=self.user_id))
            if "phone" in row.changes:
                # bulk_update runs no pre_save: the blind index follows the number here (the number itself is
                # encrypted by its field on the way to the database).
                member.phone_digest = phone_digest(member.phone)
                fields.add("phone_digest")
            if row.changes:
                member.version += 1
                member.updated_at = now
                touched.append(member)
            posts.extend(
                PartyPost(member_id=member.pk, organization_id=org_id, post=post, start_date=self.today)
                for org_id, post in row.new_posts
            )
        if touched:
            Member.objects.bulk_update(touched, [*sorted(fields), "version", "updated_at"], batch_size=1000)
        # Re-categorizations keep the old flag, so a closed year's reports read the flags of the time.
        MemberFlagChange.objects.bulk_create(changes, batch_size=1000)
        return [member.pk for member in touched]


# ---------------------------------------------------------------------------------------------------------
# Bulk writes with history (what simple_history's bulk_history_create writes, at COPY speed)


def _member_defaults(now) -> dict:
    """Every field of a new member at the model's default (so `version` and the flags are the model's)."""
    defaults = {f.attname: f.get_default() for f in Member._meta.concrete_fields if not f.primary_key}
    defaults.update(created_at=now, updated_at=now, status=Status.ACTIVE)
    return defaults


# The fields of a new member that come from its row, in the order of `_member_values`; every other field
# is the model's default (`_member_defaults`).
_ROW_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_number",
    "id_number_digest",
    "phone",
    "phone_digest",
    "education",
    "join_date",
    "full_date",
    "category",
    "organization_id",
    "unit_id",
    "is_leadership",
    "is_district_cadre",
)


def _member_values(row: _Row) -> tuple:
    """A new member's values from its row, as stored: the ID number and the phone encrypted here, with their
    blind indexes (the ID number's was computed when the row was read)."""
    values = row.values
    phone = values.get("phone", "")
    return (
        values["name"],
        values["gender"],
        values.get("ethnicity") or "汉族",
        values["birth_date"],
        encrypt(values["id_number"]),
        row.digest,
        encrypt(phone) if phone else "",
        phone_digest(phone),
        values.get("education", ""),
        values["join_date"],
        values.get("full_date"),
        values["category"],
        values["organization"],
        values.get("unit"),
        values.get("is_leadership", False),
        values.get("is_district_cadre", False),
    )


def _member_record(row: _Row, defaults: dict) -> dict:
    """A new member's stored values (attname → value), the row's over the defaults."""
    record = dict(defaults)
    record.update(zip(_ROW_FIELDS, _member_values(row), strict=True))
    return record


class _MemberPipeline:
    """PostgreSQL: the new members and their "created" history rows go to the database while the rows below are
    still being checked.

    Most of an import's database time is the server's (the two tables' indexes, the write-ahead log). Each
    batch of checked rows is one statement, `WITH new AS (INSERT INTO member … RETURNING *) INSERT INTO
    history … SELECT … FROM new`, its rows bound as one JSON parameter, queued in libpq's pipeline mode: the
    server works through the queue while Python checks the next rows, instead of after them. Nothing is
    visible to anybody before the transaction commits, and a failed row (or any error) rolls it all back.
    """

    BATCH = 2000

    def __init__(self, *, now, user_id: int | None):
        defaults = _member_defaults(now)
        fields = {f.attname: f for f in Member._meta.concrete_fields}
        rest = [name for name in defaults if name not in _ROW_FIELDS]
        ops = connection.ops
        quote = ops.quote_name

        def item(index: int, name: str) -> str:
            field = fields[name]
            if isinstance(field, models.CharField | models.TextField):
                return f"e->>{index}"  # text: stored through the column's own length check
            return f"CAST(e->>{index} AS {field.db_type(connection)})"

        member_columns = ", ".join(quote(fields[name].column) for name in (*_ROW_FIELDS, *rest))
        member_items = ", ".join([*(item(i, name) for i, name in enumerate(_ROW_FIELDS)), *["%s"] * len(rest)])
        history = Member.history.model
        extra = {
            "history_date": now,
            "history_change_reason": IMPORT_REASON,
            "history_type": "+",
            "history_user_id": user_id,
        }
        history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        history_columns = ", ".join(quote(f.column) for f in history_fields)
        history_items = ", ".join(
            "%s" if f.attname in extra else "new." + quote(fields[f.attname].column) for f in history_fields
        )
        self._sql = (
            f"WITH new AS (INSERT INTO {quote(Member._meta.db_table)} ({member_columns}) "
            f"SELECT {member_items} FROM jsonb_array_elements(%s::jsonb) AS e RETURNING *) "
            f"INSERT INTO {quote(history._meta.db_table)} ({history_columns}) SELECT {history_items} FROM new"
        )
        self._before = [_plain(defaults[name]) for name in rest]
        self._after = [extra[f.attname] for f in history_fields if f.attname in extra]
        self._batch: list[list] = []
        connection.ensure_connection()
        self._pipeline = connection.connection.pipeline()
        self._pipeline.__enter__()
        self._cursor = connection.connection.cursor()  # the driver's own: no per-query logging
        self._open = True

    def add(self, row: _Row) -> None:
        values = list(_member_values(row))
        for index in _DATE_INDEXES:
            if values[index] is not None:
                values[index] = values[index].isoformat()
        self._batch.append(values)
        if len(self._batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        if self._batch:
            data = json.dumps(self._batch, ensure_ascii=False)
            self._batch = []
            self._cursor.execute(self._sql, [*self._before, data, *self._after])

    def close(self, exc: BaseException | None = None, *, send: bool = True) -> None:
        """Send what is left (unless not `send`: the import failed) and wait for the server to finish the
        queue, raising its error if any; with `exc`, abandon it."""
        if not self._open:
            return
        self._open = False
        try:
            if exc is None:
                if send:
                    self._send()
                self._pipeline.__exit__(None, None, None)
                # The driver's own cursor bypasses Django's wrappers, which tell the kept summaries of a write.
                summaries.note_write(Member._meta.db_table)
            else:
                self._pipeline.__exit__(type(exc), exc, exc.__traceback__)
        finally:
            self._cursor.close()


_DATE_INDEXES = tuple(i for i, name in enumerate(_ROW_FIELDS) if name in ("birth_date", "join_date", "full_date"))


def _plain(value):
    """A value as the driver binds it: a choice as its plain string."""
    return str(value) if isinstance(value, str) else value


_SEALED_FIELDS = ("id_number", "id_number_digest", "phone", "phone_digest")


def _stored_as_is(field):
    """A stand-in for `field` whose value the fast insert binds as it is: the encrypted ID number and phone and
    their blind indexes, computed once per row here rather than by the fields' own pre_save."""
    stand_in = models.TextField() if isinstance(field, models.TextField) else models.CharField(max_length=64)
    stand_in.name, stand_in.attname, stand_in.column = field.name, field.attname, field.column
    return stand_in


def _insert_members(rows: list[_Row], *, now) -> None:
    """Other databases (and PostgreSQL without a stream): insert the new members, multi-row INSERTs."""
    fields = [
        _stored_as_is(f) if f.attname in _SEALED_FIELDS else f
        for f in Member._meta.concrete_fields
        if not f.primary_key
    ]
    defaults = _member_defaults(now)
    for start in range(0, len(rows), _CHUNK):
        records = [SimpleNamespace(**_member_record(row, defaults)) for row in rows[start : start + _CHUNK]]
        _insert(Member, fields, records, returning=False)


def _history_from_rows(model, key: str, values: list, history_type: str, *, now, user_id: int | None) -> None:
    """The history rows of the `model` rows whose `key` is among `values`: one INSERT … SELECT, so the
    database copies each row as stored (simple_history's layout: every field, then when, why, what, who)."""
    history = model.history.model
    ops = connection.ops
    source = {f.attname: f.column for f in model._meta.concrete_fields}
    extra = {
        "history_date": ops.adapt_datetimefield_value(now),
        "history_change_reason": IMPORT_REASON,
        "history_type": history_type,
        "history_user_id": user_id,
    }
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    targets = ", ".join(ops.quote_name(f.column) for f in fields)
    selected = ", ".join("%s" if f.attname in extra else ops.quote_name(source[f.attname]) for f in fields)
    params = [extra[f.attname] for f in fields if f.attname in extra]
    subquery = _values_table(values, "bigint" if key == "id" else "text")
    subsql, subparams = subquery.sql, list(subquery.params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ops.quote_name(history._meta.db_table)} ({targets}) "
            f"SELECT {selected} FROM {ops.quote_name(model._meta.db_table)} "
            f"WHERE {ops.quote_name(source[key])} IN ({subsql})",
            [*params, *subparams],
        )


def insert_with_history(model, objs: list, *, now, reason: str, user_id: int | None) -> None:
    """Insert `objs` (new instances of `model`) and their "created" history rows, named with `reason` and
    the user. Like `bulk_create`: no save(), no signal; the instances get their keys."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for attname in stamped:
            setattr(obj, attname, now)
    ids = _insert(model, fields, objs, returning=True)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    extra = {
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    history = model.history.model
    history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    # Plain rows rather than model instances (a fraction of the cost): the value getters only read attributes.
    rows = [
        SimpleNamespace(
            **{f.attname: extra[f.attname] if f.attname in extra else getattr(obj, f.attname) for f in history_fields}
        )
        for obj in objs
    ]
    _insert(history, history_fields, rows, returning=False)


def _database_integrity_errors() -> tuple[type[BaseException], ...]:
    # The fast insert runs on the driver's own cursor: its IntegrityError is the driver's, not Django's.
    return (IntegrityError, connection.Database.IntegrityError)
