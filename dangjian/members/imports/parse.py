"""Map: the header to the template's columns, and each row's cells to the member's field values (pass 1)."""

from __future__ import annotations

from dataclasses import dataclass

from dangjian.core.sheets import Sheet, cell_date, cell_text
from dangjian.core.validators import normalize_id_number
from dangjian.members.imports.columns import (
    _CODE_SPLIT,
    _POST_SPLIT,
    _SKIP,
    CATEGORIES,
    COLUMN_FIELDS,
    EDUCATIONS,
    ERROR_COLUMN,
    ETHNICITIES,
    FLAGS,
    GENDERS,
    MSG_DATE,
    MSG_FLAG,
    MSG_ID_AS_NUMBER,
    MSG_ID_MASKED,
    MSG_REQUIRED,
    POST_ORG_COLUMN,
    POSTS,
    REQUIRED_COLUMNS,
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
        result, header_row = self.result, sheet.first_row
        for index, name in enumerate(sheet.header):
            if not name or name == ERROR_COLUMN:
                continue
            if name in TEMPLATE_COLUMNS:
                if name in self.columns:
                    result.errors.append(RowIssue(header_row, name, "列名重复：同一列只能出现一次。"))
                else:
                    self.columns[name] = index
            else:
                result.warnings.append(RowIssue(header_row, name, "不是模板中的列，已忽略。"))
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
                except ValueError:
                    row.error(column, MSG_DATE)
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
        ValueError for a cell that is not a date in a date column."""
        name = COLUMN_FIELDS.get(column)
        if name in ("birth_date", "join_date", "full_date"):
            return lambda row, raw: cell_date(raw)
        if name == "id_number":
            return self._parse_id_number
        if name == "gender":
            return self._choice(column, GENDERS, "性别应为“男”或“女”。")
        if name == "category":
            return self._choice(column, CATEGORIES, "人员类别应为“正式党员”或“预备党员”。")
        if name == "education":
            return self._choice(column, EDUCATIONS, f"学历应为以下之一：{'、'.join(EDUCATIONS)}。")
        if name == "ethnicity":
            return self._parse_ethnicity
        if name == "phone":
            return lambda row, raw: cell_text(raw).replace(" ", "")
        if name in ("is_leadership", "is_district_cadre"):
            return self._flag(column)
        if column == POST_ORG_COLUMN:
            return lambda row, raw: tuple(code for code in _CODE_SPLIT.split(cell_text(raw)) if code)
        if name is None:
            return self._parse_posts
        return lambda row, raw: cell_text(raw)  # 姓名, 党组织编码, 工作单位

    @staticmethod
    def _parse_id_number(row: _Row, raw):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            row.error("公民身份号码", MSG_ID_AS_NUMBER)
            return _SKIP
        number = normalize_id_number(cell_text(raw))
        if "*" in number:
            row.error("公民身份号码", MSG_ID_MASKED)
            return _SKIP
        if number:
            row.digest = id_number_digest(number)
        return number

    @staticmethod
    def _choice(column: str, choices: dict, message: str):
        def parse(row: _Row, raw):
            text = cell_text(raw)
            if not text or text in choices:
                return choices.get(text, "")
            row.error(column, message)
            return _SKIP

        return parse

    def _flag(self, column: str):
        """是/否 (an Excel TRUE/FALSE reads the same); empty: left as it is (update mode), or 否."""

        def parse(row: _Row, raw):
            text = cell_text(raw)
            if not text:
                return _SKIP if self.update else False
            if text in FLAGS:
                return FLAGS[text]
            row.error(column, MSG_FLAG)
            return _SKIP

        return parse

    def _parse_ethnicity(self, row: _Row, raw):
        text = cell_text(raw)
        if not text:
            return _SKIP if self.update else "汉族"  # left as it is, or the model's default
        if text not in ETHNICITIES and text + "族" in ETHNICITIES:
            text += "族"
        if text not in ETHNICITIES:
            row.error("民族", f"民族“{text[:20]}”不是56个民族的规范名称（如“汉族”“回族”）。")
            return _SKIP
        return text

    @staticmethod
    def _parse_posts(row: _Row, raw) -> tuple[str, ...]:
        posts = []
        for label in _POST_SPLIT.split(cell_text(raw)):
            if not label:
                continue
            if label not in POSTS:
                row.error("党内职务", f"党内职务“{label[:20]}”无法识别：应为书记、副书记或委员，多个职务用“、”分隔。")
                return _SKIP
            posts.append(POSTS[label])
        return tuple(posts)
