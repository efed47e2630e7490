"""Validate: the lookups in bulk, then each row checked with the model's own rules (pass 2), and the results."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q

from dangjian.core.validators import mask_id_number
from dangjian.members.imports.columns import (
    _CHECKED_FIELDS,
    _UPDATABLE,
    FIELD_COLUMNS,
    MSG_NOT_EDITABLE,
    MSG_ORG,
    MSG_POST_ORG_COUNT,
    POST_ORG_COLUMN,
    POSTS_COLUMN,
    PREVIEW_ROWS,
    TEMPLATE_COLUMNS,
)
from dangjian.members.imports.parse import _Row
from dangjian.members.imports.results import PreviewRow, RowIssue
from dangjian.members.imports.sql import _values_table
from dangjian.members.models import (
    DUPLICATE_ID_MESSAGE,
    UNREGISTRABLE_ID_MESSAGE,
    Category,
    Gender,
    Member,
    MemberTransfer,
    PartyPost,
)
from dangjian.orgs.models import Organization, Unit, subtree_q
from dangjian.orgs.selectors import organizations_named

if TYPE_CHECKING:
    from dangjian.members.imports.write import _MemberPipeline

# What update mode reads of each registered member (one query, no decryption: the ID number is the key).
# `organization` and `unit` come as their ids.
_EXISTING_FIELDS = ("pk", "id_number_digest", "organization__path", *_UPDATABLE)
_EXISTING_INDEX = {name: i for i, name in enumerate(_EXISTING_FIELDS)}
_PATH = _EXISTING_INDEX["organization__path"]


def _existing_value(existing: tuple, name: str):
    return existing[_EXISTING_INDEX[name]]


class _Checking:
    """The importer's lookups, second pass and results (see `engine._Importer`)."""

    # -- lookups ---------------------------------------------------------------------------------------

    def look_up(self, *, lock: bool) -> None:
        # 党组织编码 holds a code, a name or 名称（编码）: resolved inside the importer's editable scope (one query for
        # the codes; the scope's names read once only when some cell is not a code).
        scope = Organization.objects.all()
        if not self.access.system:
            scope = scope.filter(subtree_q(self.access.member_edit_roots))
        found, self.org_errors = organizations_named({row.org_code for row in self.rows}, within=scope)
        self.orgs = {text: (org.pk, org.path, org.name, org.code) for text, org in found.items()}

        # The organizations of the posts: looked up everywhere, as a post the member already holds may lie
        # outside the importer's scope (a branch secretary who is also 委员 of the committee above); only a
        # post to add must lie inside it, and any other code gets the message of an unknown one.
        self.post_orgs: dict[str, tuple[int, bool]] = {}  # code → (id, editable)
        post_codes = sorted({code for row in self.rows for code in row.post_orgs})
        if post_codes:
            found = Organization.objects.dangerously_all().filter(code__in=_values_table(post_codes))
            found = found.values_list("code", "pk", "path")
            roots = self.access.member_edit_roots
            self.post_orgs = {code: (pk, self.access.covers(path, roots)) for code, pk, path in found}

        self.units: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        names = sorted({row.unit_name for row in self.rows if row.unit_name})
        if names:
            units = (
                Unit.objects.visible_to(self.access)
                .filter(name__in=_values_table(names))
                .values_list("name", "pk", "organization__path", "managing_organization__path")
            )
            for name, pk, path, managing in units:
                self.units[name].append((pk, path or "", managing or ""))

        digests = sorted({row.digest for row in self.rows if row.digest})
        self.existing: dict[str, tuple] = {}
        self.pending: set[int] = set()
        self.current_posts: dict[int, set[tuple[int, str]]] = defaultdict(set)
        if not digests:
            return
        registered = Member.objects.dangerously_all().filter(id_number_digest__in=_values_table(digests))
        self.visible: set[str] = set()
        if not self.update:
            self.existing = dict.fromkeys(registered.values_list("id_number_digest", flat=True), ())
            self._look_up_visible()
            return
        if lock:
            # The rows stay as read until the import commits: nobody changes them in between.
            registered = registered.select_for_update(of=("self",))
        self.existing = {values[1]: values for values in registered.values_list(*_EXISTING_FIELDS)}
        self._look_up_visible()
        by_digest = Q(member__id_number_digest__in=_values_table(digests))
        self.pending = set(MemberTransfer.objects.pending().filter(by_digest).values_list("member_id", flat=True))
        current = PartyPost.objects.filter(by_digest).filter(Q(end_date__isnull=True) | Q(end_date__gte=self.today))
        for member_id, org_id, post in current.values_list("member_id", "organization_id", "post"):
            self.current_posts[member_id].add((org_id, post))

    def _look_up_visible(self) -> None:
        """Which of the registered numbers belong to members the importer can see (one query): only for those
        may a row say that the number is registered; any other gets the neutral UNREGISTRABLE_ID_MESSAGE."""
        if not self.existing:
            return
        if self.access.system:
            self.visible = set(self.existing)
            return
        seen = Member.objects.visible_to(self.access).filter(id_number_digest__in=_values_table(sorted(self.existing)))
        self.visible = set(seen.values_list("id_number_digest", flat=True))

    # -- pass 2: check ---------------------------------------------------------------------------------

    def mark_duplicates(self) -> None:
        """The same ID number twice in the file: an error on both rows."""
        first_of: dict[str, _Row] = {}
        for row in self.rows:
            if row.digest:
                first = first_of.setdefault(row.digest, row)
                if first is not row:
                    row.error("公民身份号码", f"与第{first.number}行的公民身份号码重复。")
                    first.error("公民身份号码", f"与第{row.number}行的公民身份号码重复。")

    def has_errors(self) -> bool:
        return bool(self.result.errors) or any(row.errors for row in self.rows)

    def new_count(self) -> int:
        """How many rows will be new members (those whose ID number is not registered)."""
        return sum(1 for row in self.rows if row.digest not in self.existing)

    def check_rows(self, stream: _MemberPipeline | None = None) -> None:
        """Check every row; while no row has failed, hand each new member to `stream` (if any) as soon as it
        is checked."""
        self.has_unit = "工作单位" in self.columns
        probe = Member()  # one instance checks every row: the model's own rules, without a constructor per row
        # Names and phones hardly repeat: not worth remembering.
        self._checked_fields = [(n, Member._meta.get_field(n), n not in ("name", "phone")) for n in _CHECKED_FIELDS]
        self._passed: set[tuple[str, object]] = set()
        for row in self.rows:
            self.check_row(row, probe)
            if stream is not None:
                if row.errors:
                    stream = None  # nothing more is sent: the transaction will be rolled back
                elif row.existing is None:
                    stream.add(row)

    def check_row(self, row: _Row, probe: Member) -> None:
        values = row.values
        org = None
        if row.org_code:
            org = self.orgs.get(row.org_code)
            if org is None:
                row.error("党组织编码", self.org_errors.get(row.org_code) or MSG_ORG.format(code=row.org_code[:32]))
            else:
                values["organization"] = org[0]

        existing = None
        if row.digest and row.digest in self.existing:
            if row.digest not in self.visible:
                # Registered outside the importer's scope: one neutral answer, with or without update mode.
                row.error("公民身份号码", UNREGISTRABLE_ID_MESSAGE)
                self.foreign += 1
            elif not self.update:
                row.error("公民身份号码", DUPLICATE_ID_MESSAGE + "如需更新已登记党员的信息，请选择“更新已有党员”。")
            else:
                existing = self.existing[row.digest]
                if not self.access.covers(existing[_PATH], self.access.member_edit_roots):
                    row.error("公民身份号码", MSG_NOT_EDITABLE)
                    existing = None
                else:
                    row.existing = existing

        if self.has_unit:
            self._resolve_unit(row, org)

        # The record as it will be: the file's values over the registered ones (update mode).
        record = {name: _existing_value(existing, name) for name in _UPDATABLE} if existing else {}
        record.update(values)
        record.setdefault("ethnicity", "汉族")
        for name in ("education", "phone"):
            record.setdefault(name, "")
        record.setdefault("full_date", None)
        record.setdefault("unit", None)

        if existing is not None:
            if (
                "organization" in values
                and values["organization"] != _existing_value(existing, "organization")
                and existing[0] in self.pending
            ):
                row.error("党组织编码", "该党员的组织关系正在转接中，请等待接收方接收或退回后再调整所在党组织。")
            row.changes = tuple(
                name for name in _UPDATABLE if name in values and values[name] != _existing_value(existing, name)
            )

        if row.post_orgs and not row.has_error(POSTS_COLUMN) and len(row.post_orgs) != len(row.posts):
            row.error(POST_ORG_COLUMN, MSG_POST_ORG_COUNT.format(codes=len(row.post_orgs), posts=len(row.posts)))
        elif row.posts and (org is not None or existing is not None):
            row.new_posts = self._new_posts(row, record["organization"], existing)
            # A post is refused to a probationary member when it is given, not when it is already held (the
            # member page records one without asking): an export of such a member re-imports unchanged.
            if row.new_posts and record.get("category") == Category.PROBATIONARY:
                row.error("党内职务", "预备党员不能担任党内职务。")
                row.new_posts = ()

        self._clean(row, record, probe)

    def _new_posts(self, row: _Row, own: int, existing) -> tuple[tuple[int, str], ...]:
        """The (organization, post) pairs of the row the member does not hold yet, each once: a post is in the
        organization its code names. Without codes (an older file), a post matches the post of that name the
        member holds wherever it lies, and is added in their own organization `own` when they hold none. A post
        already held is matched even outside the importer's scope; one to add must lie in its editable scope."""
        held = self.current_posts.get(existing[0], set()) if existing else set()
        held_anywhere = {post for _, post in held}
        new = []
        for index, post in enumerate(row.posts):
            if row.post_orgs:
                code = row.post_orgs[index]
                org_id, editable = self.post_orgs.get(code, (None, False))
            elif post in held_anywhere:
                continue
            else:
                code, org_id, editable = "", own, True
            if org_id is not None and (org_id, post) in held:
                continue
            if not editable:
                message = MSG_ORG.format(code=code[:32])
                if (POST_ORG_COLUMN, message) not in (row.errors or ()):
                    row.error(POST_ORG_COLUMN, message)
                continue
            new.append((org_id, post))
        return tuple(dict.fromkeys(new))

    def _resolve_unit(self, row: _Row, org) -> None:
        if not row.unit_name:
            row.values["unit"] = None
            return
        candidates = self.units.get(row.unit_name, [])
        if len(candidates) > 1 and org is not None:
            path = org[1]
            candidates = [c for c in candidates if (c[1] and path.startswith(c[1])) or (c[2] and path.startswith(c[2]))]
        if len(candidates) == 1:
            row.values["unit"] = candidates[0][0]
            return
        if candidates:
            row.warn("工作单位", f"名称为“{row.unit_name[:50]}”的单位不止一个，无法确定，未关联工作单位。")
        else:
            row.warn("工作单位", f"找不到名称为“{row.unit_name[:50]}”的单位（或不在您的管理范围内），未关联工作单位。")
        if not self.update:
            row.values["unit"] = None

    def _clean(self, row: _Row, record: dict, probe: Member) -> None:
        """The model's rules on the record, Member.clean_fields() and Member.clean(), their errors under the
        columns' names (except where the cell already has an error of its own)."""
        state = probe.__dict__
        for name in _CHECKED_FIELDS:
            state[name] = record.get(name)
        state["id_number"] = record.get("id_number") or ""
        state["status_changed_on"] = None
        errors = self._clean_fields(probe)
        try:
            probe.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name, field_errors in errors.items():
            column = FIELD_COLUMNS.get(name, "") if name != NON_FIELD_ERRORS else ""
            if column and row.has_error(column):
                continue  # the cell's own error says it first
            for message in dict.fromkeys(m for error in field_errors for m in ValidationError(error).messages):
                row.error(column, message)

    def _clean_fields(self, probe: Member) -> dict:
        """Member.clean_fields() on the checked fields, with its very loop (blank fields skipped, each field's
        own clean: to_python, choices, validators), remembering the values that passed: a field's validation
        depends on its value alone, and most values (genders, categories, dates) repeat down the sheet."""
        errors: dict = {}
        passed = self._passed
        for name, model_field, remember in self._checked_fields:
            value = probe.__dict__[name]
            if model_field.blank and value in model_field.empty_values:
                continue
            if remember and (name, value) in passed:
                continue
            try:
                model_field.clean(value, probe)
            except ValidationError as exc:
                errors[name] = exc.error_list
            else:
                if remember:
                    passed.add((name, value))
        return errors

    # -- results ---------------------------------------------------------------------------------------

    def collect(self) -> None:
        result, order = self.result, {name: i for i, name in enumerate(TEMPLATE_COLUMNS)}
        for row in self.rows:
            if row.errors:
                for column, message in sorted(row.errors, key=lambda e: order.get(e[0], -1)):
                    result.errors.append(RowIssue(row.number, column, message))
            if row.warnings:
                result.warnings.extend(RowIssue(row.number, column, message) for column, message in row.warnings)
            if row.existing is None:
                result.created += 1
            elif row.changes or row.new_posts:
                result.updated += 1
            else:
                result.unchanged += 1
            result.posts += len(row.new_posts)
        if result.errors:
            result.created = result.updated = result.unchanged = result.posts = 0
            return
        names = {pk: (code, name) for pk, _path, name, code in self.orgs.values()}
        for row in self.rows[:PREVIEW_ROWS]:
            values = row.values
            org_id = values.get("organization") or _existing_value(row.existing, "organization")
            code, org_name = names.get(org_id, ("", ""))
            category = values.get("category") or _existing_value(row.existing, "category")
            gender = values.get("gender") or _existing_value(row.existing, "gender")
            if row.existing is None:
                action, changes = "新增", []
            elif row.changes or row.new_posts:
                action = "更新"
                changes = [FIELD_COLUMNS[name] for name in row.changes] + (["党内职务"] if row.new_posts else [])
            else:
                action, changes = "无变化", []
            result.preview.append(
                PreviewRow(
                    row=row.number,
                    name=values.get("name") or _existing_value(row.existing, "name"),
                    masked_id_number=mask_id_number(values.get("id_number", "")),
                    gender=Gender(gender).label if gender else "",
                    organization=f"{org_name}（{code}）" if code else "",
                    category=Category(category).label if category else "",
                    action=action,
                    changes=changes,
                )
            )
