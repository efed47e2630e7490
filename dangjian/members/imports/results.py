"""What an import answers: its errors and warnings by row and column, the preview, the counts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dangjian.core.sheets import SheetError


@dataclass(frozen=True)
class RowIssue:
    """An error or a warning: the row as Excel numbers it (the header is row 1; None: the whole file), the
    column, and a Chinese message."""

    row: int | None
    column: str
    message: str
    sheet: str = ""  # 工作表“名称” when the workbook has several sheets with data (core.sheets.Sheet.label)

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        where = f"{self.sheet}第{self.row}行"
        return f"{where} {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class PreviewRow:
    row: int
    name: str
    masked_id_number: str
    gender: str
    organization: str
    category: str
    action: str  # 新增 / 更新 / 无变化
    changes: list[str]


@dataclass
class ImportResult:
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    rows: int = 0  # data rows read (empty rows not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    posts: int = 0
    preview: list[PreviewRow] = field(default_factory=list)
    update_mode: bool = False
    written: bool = False
    sheet: str = ""  # the worksheet read
    sheet_names: list[str] = field(default_factory=list)  # the worksheets with data, when one must be chosen
    header_row: int = 0  # the header's row as Excel numbers it (title rows above it are skipped)
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (the file's header, the template's column)
    ignored: list[str] = field(default_factory=list)  # the file's columns that are not read
    normalized: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (column, as written, label) → rows

    @property
    def renamed(self) -> list[tuple[str, str]]:
        """The header cells read as another column's name (身份证号码 → 公民身份号码)."""
        return [(shown, column) for shown, column in self.mapping if shown != column]

    @property
    def normalized_values(self) -> list[tuple[str, str, str, int]]:
        """(column, as written, read as, rows), by column then by the number of rows."""
        return sorted(((*key, count) for key, count in self.normalized.items()), key=lambda v: (v[0], -v[3], v[1]))

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_error(self) -> str | None:
        """The message of an error about the whole file (not an xlsx, too big, too many rows …)."""
        return next((e.message for e in self.errors if e.row is None), None)

    def summary(self) -> str:
        """`导入 N 人` / `更新 N 人`, both when both happened."""
        parts = []
        if self.created or not self.update_mode:
            parts.append(f"导入 {self.created} 人")
        if self.update_mode:
            parts.append(f"更新 {self.updated} 人")
            if self.unchanged:
                parts.append(f"无变化 {self.unchanged} 人")
        return "，".join(parts)

    def name_sheet(self, label: str) -> None:
        """Name the sheet in every row's issue (the workbook has several sheets with data)."""
        if label:
            self.errors = [replace(e, sheet=label) if e.row is not None else e for e in self.errors]
            self.warnings = [replace(e, sheet=label) if e.row is not None else e for e in self.warnings]


# The file as a whole cannot be imported (its message says why, in Chinese): the sheet reader's error.
ImportFileError = SheetError
