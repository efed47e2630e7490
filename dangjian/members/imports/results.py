"""What an import answers: its errors and warnings by row and column, the preview, the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from dangjian.core.sheets import SheetError


@dataclass(frozen=True)
class RowIssue:
    """An error or a warning: the row as Excel numbers it (the header is row 1; None: the whole file), the
    column, and a Chinese message."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第{self.row}行 {self.column}: {self.message}" if self.column else f"第{self.row}行: {self.message}"


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


# The file as a whole cannot be imported (its message says why, in Chinese): the sheet reader's error.
ImportFileError = SheetError
