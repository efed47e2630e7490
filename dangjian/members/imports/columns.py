"""The template's columns, the labels they accept and the messages of the checks (see the package's docstring)."""

from __future__ import annotations

import re
from pathlib import Path

from dangjian.core.exports import XLSX_CONTENT_TYPE  # noqa: F401 (the name the import page uses)
from dangjian.core.sheets import DEFAULT_MAX_ROWS, load_code_lists, load_columns, max_rows  # noqa: F401
from dangjian.members.models import ETHNIC_GROUPS, Category, Education, Gender, Member, Post

# The template's header, in order. The export writes the same columns.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "学历",
    "手机号码",
    "入党日期",
    "转正日期",
    "人员类别",
    "党组织编码",
    "工作单位",
    "党内职务",
    # Added at the end, so that the first 13 stay as they were; a file without them imports as before.
    "党内职务所在组织编码",
    "班子成员",
    "区管干部",
)
REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {"姓名", "性别", "出生日期", "公民身份号码", "入党日期", "人员类别", "党组织编码"}
)
# The column the annotated copy of a refused file adds; a corrected copy may be uploaded with it still there.
ERROR_COLUMN = "错误说明"
COLUMN_WIDTHS = (10, 6, 8, 12, 22, 12, 15, 12, 12, 10, 14, 24, 16, 22, 10, 10)
# 党内职务所在组织编码: the organization of each post of 党内职务, in the same order; empty: the member's own.
POST_ORG_COLUMN = "党内职务所在组织编码"
POSTS_COLUMN = "党内职务"
IMPORT_REASON = "Excel导入"
PREVIEW_ROWS = 20


# Model field → template column.
FIELD_COLUMNS: dict[str, str] = {
    "name": "姓名",
    "gender": "性别",
    "ethnicity": "民族",
    "birth_date": "出生日期",
    "id_number": "公民身份号码",
    "education": "学历",
    "phone": "手机号码",
    "join_date": "入党日期",
    "full_date": "转正日期",
    "category": "人员类别",
    "organization": "党组织编码",
    "unit": "工作单位",
    "is_leadership": "班子成员",
    "is_district_cadre": "区管干部",
}
COLUMN_FIELDS = {column: name for name, column in FIELD_COLUMNS.items()}
# The fields whose values come from the file and that the model's field validation checks.
_CHECKED_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "phone",
    "education",
    "join_date",
    "full_date",
    "category",
)
_NOT_CHECKED = tuple(f.name for f in Member._meta.fields if f.name not in _CHECKED_FIELDS)
# The fields update mode compares and may change, in the template's order.
_UPDATABLE = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "phone",
    "join_date",
    "full_date",
    "category",
    "organization",
    "unit",
    "is_leadership",
    "is_district_cadre",
)

# The header words and the code lists people use, as data (docs/imports.md): a file's header is mapped to the
# template's columns through ROSTER_COLUMNS, and its coded values through CODE_LISTS.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ROSTER_COLUMNS = load_columns(DATA_DIR / "roster_columns.toml")
CODE_LISTS = load_code_lists(DATA_DIR / "code_lists.toml")

GENDERS = {label: value for value, label in Gender.choices}
CATEGORIES = {label: value for value, label in Category.choices}
EDUCATIONS = {label: value for value, label in Education.choices}
POSTS = {label: value for value, label in Post.choices}
POST_LABELS = dict(Post.choices)
ETHNICITIES = frozenset(ETHNIC_GROUPS)
_POST_SPLIT = re.compile(r"[、,，;；/\s]+")
_CODE_SPLIT = re.compile(r"[、,，;；\s]+")
FLAGS = {"是": True, "否": False}
# How people write 是/否 (an Excel TRUE/FALSE reads as 是/否 already), compared case-insensitively.
FLAG_WORDS = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "√": True, "×": False}
# A post cell that says "none".
NO_POST_WORDS = frozenset({"无", "-", "—", "/", "／", "暂无", "没有"})

MSG_REQUIRED = "必填，不能为空。"
MSG_ID_AS_NUMBER = (
    "公民身份号码被Excel存成了数字，只保留了前15位有效数字，后几位已变成0或科学计数法（{shown}）："
    "请把该列设为“文本”格式后重新填写完整号码。"
)
MSG_ID_MASKED = "公民身份号码已脱敏（含*号），不能导入：请填写完整号码。"
# 党内职务所在组织编码 takes codes only (党组织编码 takes names too: orgs.selectors.organizations_named says why not).
MSG_ORG = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"
MSG_FLAG = "应为“是”或“否”。"
MSG_POST_ORG_COUNT = (
    "党内职务所在组织编码有{codes}个，党内职务有{posts}个：应一一对应（按顺序，用“、”分隔），或整格不填。"
)
MSG_NOT_EDITABLE = "该党员不在您可以修改的范围内（只能查看），不能在此更新。"


_SKIP = object()  # a parser's answer after it recorded an error on the row


def _column_field(column: str) -> str:
    """What a column's parsed value is: a model field's name, or "posts" / "post_orgs"."""
    if column == POST_ORG_COLUMN:
        return "post_orgs"
    return COLUMN_FIELDS.get(column, "posts")
