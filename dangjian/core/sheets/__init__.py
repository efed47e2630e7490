"""Reading uploaded spreadsheets: the file (`reading`), the header among title rows (`headers`), cell text (`text`),
dates (`dates`) and code lists with their synonyms (`codes`). Importers use these names; see docs/imports.md."""

from dangjian.core.sheets.codes import CodeList, load_code_lists, suggest_name
from dangjian.core.sheets.dates import DateError, cell_date, read_date, read_period
from dangjian.core.sheets.headers import Columns, header_key, load_columns, locate_header
from dangjian.core.sheets.reading import (
    DEFAULT_MAX_ROWS,
    EMPTY_SHEET_MESSAGE,
    Sheet,
    SheetChoiceNeeded,
    SheetError,
    cell_text,
    header_text,
    max_rows,
    open_csv,
    open_sheet,
    open_upload,
)
from dangjian.core.sheets.text import IdNumberMangled, clean_name, clean_text, fold, read_id_number

__all__ = [
    "DEFAULT_MAX_ROWS",
    "EMPTY_SHEET_MESSAGE",
    "CodeList",
    "Columns",
    "DateError",
    "IdNumberMangled",
    "Sheet",
    "SheetChoiceNeeded",
    "SheetError",
    "cell_date",
    "cell_text",
    "clean_name",
    "clean_text",
    "fold",
    "header_key",
    "header_text",
    "load_code_lists",
    "load_columns",
    "locate_header",
    "max_rows",
    "open_csv",
    "open_sheet",
    "open_upload",
    "read_date",
    "read_id_number",
    "read_period",
    "suggest_name",
]
