"""Map: the header to the template's columns, and each row's cells to the member's field values (pass 1)."""

from __future__ import annotations

from dataclasses import dataclass

from dangjian.core.sheets import DateError, IdNumberMangled, Sheet, clean_name, clean_text, read_date, read_id_number
from dangjian.members.imports.columns import (
    _CODE_SPLIT,
    _POST_SPLIT,
    _SKIP,
    CATEGORIES,
    CODE_LISTS,
    COLUMN_FIELDS,
    EDUCATIONS,
    ERROR_COLUMN,
    ETHNICITIES,
    FLAG_WORDS,
    GENDERS,
    MSG_FLAG,
    MSG_ID_AS_NUMBER,
    MSG_ID_MASKED,
    MSG_REQUIRED,
    NO_POST_WORDS,
    POST_ORG_COLUMN,
    POSTS,
    REQUIRED_COLUMNS,
    ROSTER_COLUMNS,
    TEMPLATE_COLUMNS,
    _column_field,
)
from dangjian.members.imports.results import RowIssue
from dangjian.members.models import id_number_digest


@dataclass(slots=True)
class _Row:
    number: int
    values: dict  # field name → parsed value, for the columns the file has and whose cell parsed
    digest: str = ""
    org_code: str = ""
    unit_name: str = ""
    posts: tuple[str, ...] = ()  # the posts of 党内职务, in order (repeats kept: each pairs with a code)
    post_orgs: tuple[str, ...] = ()  # the codes of 党内职务所在组织编码, in order
    errors: list | None = None  # (column, message)
    warnings: list | None = None
    existing: tuple | None = None  # update mode: the registered member's values (see _EXISTING_FIELDS)
    changes: tuple[str, ...] = ()
    new_posts: tuple[tuple[int, str], ...] = ()  # (organization id, post) of the posts to add

    def error(self, column: str, message: str) -> None:
        if self.errors is None:
            self.errors = []
        self.errors.append((column, message))

    def warn(self, column: str, message: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append((column, message))

    def has_error(self, column: str) -> bool:
        return self.errors is not None and any(c == column for c, _ in self.errors)


class _Parsing:
    """The importer's header and first pass (see `engine._Importer`)."""

    # -- header ----------------------------------------------------------------------------------------

    def read_header(self, sheet: Sheet) -> bool:
        """Map the header's cells to the template's columns (their synonyms are data: ROSTER_COLUMNS); record the
        mapping and the ignored columns for the preview."""
        result, header_row = self.result, sheet.first_row
        raw = sheet.raw_header or sheet.header
        for index, name in enumerate(sheet.header):
            if not name or name == ERROR_COLUMN:
                continue
            column = ROSTER_COLUMNS.match(raw[index] if index < len(raw) else name)
            if column is None:
                result.ignored.append(name)
                result.warnings.append(RowIssue(header_row, name, "不是模板中的列，已忽略。"))
            elif column in self.columns:
                result.errors.append(RowIssue(header_row, name, f"与另一列都表示“{column}”：同一列只能出现一次。"))
            else:
                self.columns[column] = index
                result.mapping.append((name, column))
        for name in TEMPLATE_COLUMNS:
            if name in REQUIRED_COLUMNS and name not in self.columns:
                result.errors.append(RowIssue(header_row, name, "缺少必填列。"))
        return not result.errors

    # -- pass 1: parse ---------------------------------------------------------------------------------

    def parse_rows(self, sheet: Sheet) -> None:
        parsers = [
            (column, index, column in REQUIRED_COLUMNS, _column_field(column), self._parser(column))
            for column, index in self.columns.items()
        ]
        indexes = list(self.columns.values())
        width = max(indexes) + 1
        rows = self.rows
        for number, cells in sheet.numbered():
            if len(cells) < width:
                cells = [*cells, *[""] * (width - len(cells))]
            if all(cells[i] == "" or cells[i] is None for i in indexes):
                continue  # an empty row
            row = _Row(number=number, values={})
            values = row.values
            for column, index, required, name, parse in parsers:
                try:
                    value = parse(row, cells[index])
                except DateError as exc:
                    row.error(column, exc.message)
                    continue
                if value is _SKIP:
                    continue
                if required and (value is None or value == ""):
                    row.error(column, MSG_REQUIRED)
                elif name == "organization":
                    row.org_code = value
                elif name == "unit":
                    row.unit_name = value
                elif name == "posts":
                    row.posts = value
                elif name == "post_orgs":
                    row.post_orgs = value
                else:
                    values[name] = value
            rows.append(row)
        self.result.rows = len(rows)

    def _parser(self, column: str):
        """The function (row, cell) → value for `column`: _SKIP after recording an error on the row; raises
        DateError for a cell that is not a date in a date column."""
        name = COLUMN_FIELDS.get(column)
        if name in ("birth_date", "join_date", "full_date"):
            return lambda row, raw: read_date(raw)
        if name == "id_number":
            return self._parse_id_number
        if name == "gender":
            return self._choice(column, GENDERS)
        if name == "category":
            return self._choice(column, CATEGORIES)
        if name == "education":
            return self._choice(column, EDUCATIONS)
        if name == "ethnicity":
            return self._parse_ethnicity
        if name == "phone":
            return lambda row, raw: "".join(clean_text(raw).split())
        if name in ("is_leadership", "is_district_cadre"):
            return self._flag(column)
        if column == POST_ORG_COLUMN:
            return lambda row, raw: tuple(code for code in _CODE_SPLIT.split(clean_text(raw)) if code)
        if name is None:
            return self._parse_posts
        if name == "name":
            return lambda row, raw: clean_name(raw)
        return lambda row, raw: clean_text(raw)  # 党组织编码 (a code or a name), 工作单位

    @staticmethod
    def _parse_id_number(row: _Row, raw):
        try:
            number = read_id_number(raw)
        except IdNumberMangled as exc:
            row.error("公民身份号码", MSG_ID_AS_NUMBER.format(shown=exc.shown[:24]))
            return _SKIP
        if "*" in number:
            row.error("公民身份号码", MSG_ID_MASKED)
            return _SKIP
        if number:
            row.digest = id_number_digest(number)
        return number

    def _normalized(self, column: str, text: str, label: str) -> None:
        """Count a value written otherwise than the template writes it (本科 → 大学本科), for the preview."""
        if text != label:
            key = (column, text[:20], label)
            self.result.normalized[key] = self.result.normalized.get(key, 0) + 1

    def _choice(self, column: str, choices: dict):
        """A coded column: its label, national code or a synonym from the column's code list (CODE_LISTS); an unknown
        value is an error suggesting the closest known one."""
        codes = CODE_LISTS[column]

        def parse(row: _Row, raw):
            text = clean_text(raw)
            if not text:
                return ""
            if text in choices:
                return choices[text]
            label = codes.resolve(text)
            if label is None:
                row.error(column, codes.unknown_message(text))
                return _SKIP
            self._normalized(column, text, label)
            return choices[label]

        return parse

    def _flag(self, column: str):
        """是/否 (an Excel TRUE/FALSE reads the same; Y/N, √/× too); empty: left as it is (update mode), or 否."""

        def parse(row: _Row, raw):
            text = clean_text(raw)
            if not text:
                return _SKIP if self.update else False
            value = FLAG_WORDS.get(text.lower())
            if value is not None:
                return value
            row.error(column, MSG_FLAG)
            return _SKIP

        return parse

    def _parse_ethnicity(self, row: _Row, raw):
        text = clean_text(raw)
        if not text:
            return _SKIP if self.update else "汉族"  # left as it is, or the model's default
        if text in ETHNICITIES:
            return text
        label = CODE_LISTS["民族"].resolve(text)
        if label is None:
            row.error("民族", CODE_LISTS["民族"].unknown_message(text) + "应为56个民族的规范名称（如“汉族”“回族”）。")
            return _SKIP
        self._normalized("民族", text, label)
        return label

    def _parse_posts(self, row: _Row, raw) -> tuple[str, ...]:
        text = clean_text(raw)
        if text in NO_POST_WORDS:
            return ()
        posts = []
        codes = CODE_LISTS["党内职务"]
        for word in _POST_SPLIT.split(text):
            if not word:
                continue
            label = word if word in POSTS else codes.resolve(word)
            if label is None:
                row.error("党内职务", codes.unknown_message(word) + "多个职务用“、”分隔。")
                return _SKIP
            self._normalized("党内职务", word, label)
            posts.append(POSTS[label])
        return tuple(posts)
