"""Regenerate the real-world roster and hours spreadsheets of the import tests (see README.md beside this file).

    .venv/bin/python dangjian/members/tests/data/make_files.py

Writes dangjian/members/tests/data/*.xlsx|xls|csv and dangjian/training/tests/data/*. Needs openpyxl and
LibreOffice (`soffice`), not Django. The openpyxl files come out byte-identical on every run (fixed document
dates and zip timestamps); the LibreOffice ones keep their content but the .xls embeds the time of conversion.

Every person of every file is checked here before anything is written: a valid 18-digit ID number (GB 11643
check digit), birth date and gender as the number says, joined at 18 or later and not after TODAY, 转正日期
after 入党日期 for 正式党员 and empty for 预备党员, and no ID number used twice across all the files (the
deliberately broken numbers of numeric_ids.xlsx and the unknown one of hours_bad.xlsx aside).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

HERE = Path(__file__).resolve().parent
MEMBERS_DIR = HERE
TRAINING_DIR = HERE.parents[2] / "training" / "tests" / "data"
TODAY = dt.date(2026, 12, 7)
FIXED_STAMP = dt.datetime(2026, 12, 1, 9, 0, 0)
ZIP_STAMP = (2026, 12, 1, 9, 0, 0)

TEMPLATE = [
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
]
ORG_NAMES = {"BJ01A": "高一年级党支部", "BJ01B": "高二年级党支部", "LH01": "临湖实验小学党支部"}
EDUCATION_LABELS = {"研究生", "大学本科", "大学专科", "中专", "高中", "初中及以下"}

# ---------------------------------------------------------------------------------------------------------
# People

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number(birth: dt.date, order: int, area: str = "110101") -> str:
    first17 = f"{area}{birth:%Y%m%d}{order:03d}"
    return first17 + check_char(first17)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


USED_IDS: dict[str, str] = {}  # ID number → the file that uses it


@dataclass
class P:
    """A valid member. `order` is the ID number's 3-digit sequence; its parity must match the gender."""

    name: str
    gender: str  # 男 / 女
    birth: dt.date
    order: int
    join: dt.date
    full: dt.date | None  # None: 预备党员
    org: str = "BJ01A"
    education: str = "大学本科"  # the canonical label the import should store
    ethnicity: str = "汉族"
    phone: str = ""
    unit: str = ""
    posts: str = ""
    area: str = "110101"
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = id_number(self.birth, self.order, self.area)

    @property
    def category(self) -> str:
        return "正式党员" if self.full else "预备党员"


def check_people(file: str, people: list[P]) -> None:
    for p in people:
        where = f"{file}: {p.name}"
        assert re.fullmatch(r"\d{17}[\dX]", p.id) and check_char(p.id[:17]) == p.id[17], where
        assert p.id[6:14] == f"{p.birth:%Y%m%d}", where
        assert (int(p.id[16]) % 2 == 1) == (p.gender == "男"), f"{where}: gender vs 17th digit"
        assert add_years(p.birth, 18) <= p.join <= TODAY, f"{where}: join date"
        if p.full is not None:
            assert p.join < p.full <= TODAY, f"{where}: 转正日期"
        else:
            assert not p.posts, f"{where}: a probationary member holds no post"
        assert p.education in EDUCATION_LABELS, where
        assert p.org in ORG_NAMES, where
        assert not p.phone or re.fullmatch(r"1[3-9]\d{9}", p.phone), where
        assert p.id not in USED_IDS, f"{where}: ID number already used in {USED_IDS.get(p.id)}"
        USED_IDS[p.id] = file


def template_row(p: P, *, dates: str = "date") -> list:
    """The row of the download template; dates as date objects ("date") or as ISO text ("iso")."""

    def d(day):
        if day is None:
            return None
        return day if dates == "date" else day.isoformat()

    return [
        p.name,
        p.gender,
        p.ethnicity,
        d(p.birth),
        p.id,
        p.education,
        p.phone,
        d(p.join),
        d(p.full),
        p.category,
        p.org,
        p.unit,
        p.posts,
    ]


# ---------------------------------------------------------------------------------------------------------
# Writing files


def normalize_zip(path: Path, *, app_xml: str | None = None) -> None:
    """Rewrite an .xlsx with fixed zip timestamps and fixed document dates, so that a rerun changes no byte."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("created", "modified"):
                    text = re.sub(
                        rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)",
                        rf"\g<1>{FIXED_STAMP:%Y-%m-%dT%H:%M:%SZ}\g<2>",
                        text,
                    )
                data = text.encode("utf-8")
            if info.filename == "docProps/app.xml" and app_xml is not None:
                data = app_xml.encode("utf-8")
            new = zipfile.ZipInfo(info.filename, date_time=ZIP_STAMP)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = info.external_attr
            dst.writestr(new, data)
    path.write_bytes(out.getvalue())


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.properties.creator = "admin"
    wb.properties.lastModifiedBy = "admin"
    wb.properties.created = FIXED_STAMP
    return wb


def save(wb: Workbook, path: Path, *, app_xml: str | None = None) -> None:
    wb.save(path)
    normalize_zip(path, app_xml=app_xml)
    print("wrote", path.relative_to(HERE.parents[3]))


def simple_xlsx(path: Path, header: list, rows: list[list], *, title: str | None = None, sheet: str = "Sheet1"):
    wb = new_workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    fill_sheet(ws, header, rows)
    save(wb, path)


def fill_sheet(ws, header: list, rows: list[list]) -> None:
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"


THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


# LibreOffice: a flat ODF spreadsheet (.fods) written here, converted by soffice.

FODS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
 <number:date-style style:name="N_ISO"><number:year number:style="long"/><number:text>-</number:text>
  <number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/></number:date-style>
 <number:date-style style:name="N_CN"><number:year number:style="long"/><number:text>年</number:text>
  <number:month/><number:text>月</number:text><number:day/><number:text>日</number:text></number:date-style>
 <number:date-style style:name="N_SLASH"><number:year number:style="long"/><number:text>/</number:text>
  <number:month/><number:text>/</number:text><number:day/></number:date-style>
 <number:date-style style:name="N_US"><number:month number:style="long"/><number:text>/</number:text>
  <number:day number:style="long"/><number:text>/</number:text><number:year/></number:date-style>
 <style:style style:name="ce_us" style:family="table-cell" style:data-style-name="N_US"/>
 <style:style style:name="ce_iso" style:family="table-cell" style:data-style-name="N_ISO"/>
 <style:style style:name="ce_cn" style:family="table-cell" style:data-style-name="N_CN"/>
 <style:style style:name="ce_slash" style:family="table-cell" style:data-style-name="N_SLASH"/>
 <style:style style:name="ce_title" style:family="table-cell">
  <style:table-cell-properties style:vertical-align="middle"/>
  <style:paragraph-properties fo:text-align="center"/>
  <style:text-properties fo:font-weight="bold" fo:font-size="16pt"/></style:style>
 <style:style style:name="ce_head" style:family="table-cell">
  <style:text-properties fo:font-weight="bold"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
"""


@dataclass
class Styled:
    """A date cell with a LibreOffice date style: "iso" (2021-07-01), "cn" (2021年7月1日), "slash" (2021/7/1) or
    "us" (07/01/21, what LibreOffice shows for a date typed in an en-US profile)."""

    day: dt.date
    style: str = "iso"


def fods_cell(value, style: str | None = None) -> str:
    attrs = f' table:style-name="{style}"' if style else ""
    if value is None or value == "":
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, Styled | dt.date):
        styled = value if isinstance(value, Styled) else Styled(value)
        attrs = f' table:style-name="ce_{styled.style}"' if styled.style else ""
        kind, shown = f'office:value-type="date" office:date-value="{styled.day.isoformat()}"', styled.day.isoformat()
    elif isinstance(value, int | float):
        kind, shown = f'office:value-type="float" office:value="{value}"', str(value)
    else:
        kind, shown = 'office:value-type="string"', escape(str(value))
    return f"<table:table-cell{attrs} {kind}><text:p>{shown}</text:p></table:table-cell>"


def fods_sheet(name: str, header: list, rows: list[list], titles: list[str] = ()) -> str:
    width = len(header)
    parts = [f'<table:table table:name="{escape(name)}">']
    parts.append(f'<table:table-column table:number-columns-repeated="{width}"/>')
    for title in titles:  # merged across the header's width
        parts.append(
            f'<table:table-row><table:table-cell table:style-name="ce_title" table:number-columns-spanned="{width}" '
            f'office:value-type="string"><text:p>{escape(title)}</text:p></table:table-cell>'
            f'<table:covered-table-cell table:number-columns-repeated="{width - 1}"/></table:table-row>'
        )
    parts.append("<table:table-row>" + "".join(fods_cell(h, "ce_head") for h in header) + "</table:table-row>")
    for row in rows:
        parts.append("<table:table-row>" + "".join(fods_cell(v) for v in row) + "</table:table-row>")
    parts.append("</table:table>")
    return "\n".join(parts)


def libreoffice(path: Path, sheets: list[str]) -> None:
    """Write the sheets as .fods and have LibreOffice convert them to `path` (.xlsx or .xls)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        sys.exit("LibreOffice (soffice) is needed to make " + path.name)
    target = {".xlsx": "xlsx:Calc MS Excel 2007 XML", ".xls": "xls:MS Excel 97"}[path.suffix]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / (path.stem + ".fods")
        source.write_text(FODS_HEAD + "\n".join(sheets) + "\n</office:spreadsheet></office:body></office:document>\n")
        profile = Path(tmp) / "profile"
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        made = Path(tmp) / path.name
        if not made.exists():
            sys.exit(f"LibreOffice did not write {made.name}")
        shutil.copyfile(made, path)
    if path.suffix == ".xlsx":
        normalize_zip(path)
    print("wrote", path.relative_to(HERE.parents[3]), "(LibreOffice)")


def write_csv(path: Path, header: list, rows: list[list], *, encoding: str, newline: str, quote_all=False) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_bytes(out.getvalue().encode(encoding))
    print("wrote", path.relative_to(HERE.parents[3]), f"({encoding})")


def excel_csv_date(day: dt.date | None) -> str:
    """A date as Chinese Excel writes it into a CSV (the cell's shown short date, yyyy/m/d)."""
    return "" if day is None else f"{day.year}/{day.month}/{day.day}"


# ---------------------------------------------------------------------------------------------------------
# The roster files (dangjian/members/tests/data)


def excel_title_rows() -> None:
    """A hand-kept Excel roster: two merged title rows, a header of synonyms with spaces, line breaks, full-width
    characters and required markers, and values typed every which way."""
    people = [
        P("王建国", "男", dt.date(1978, 4, 12), 101, dt.date(2005, 7, 1), dt.date(2006, 7, 1), "BJ01A", "大学本科",
          phone="13912345678"),
        # ID number with an X check digit, written as a lower-case x
        P("李芳", "女", dt.date(1985, 9, 30), 0, dt.date(2010, 6, 15), dt.date(2011, 6, 15), "BJ01A", "大学专科",
          ethnicity="回族", phone="13900000102"),
        P("张伟", "男", dt.date(1990, 1, 5), 105, dt.date(2015, 5, 20), dt.date(2016, 5, 20), "BJ01B", "研究生",
          phone="13900000103"),
        P("刘洋", "女", dt.date(1982, 11, 11), 106, dt.date(2026, 3, 1), None, "BJ01B", "研究生",
          phone="13900000104"),
        P("陈静", "女", dt.date(1995, 6, 18), 108, dt.date(2020, 5, 1), dt.date(2021, 5, 1), "BJ01A", "中专",
          phone="13900000105"),
        P("杨帆", "男", dt.date(1988, 2, 29), 109, dt.date(2012, 7, 1), dt.date(2013, 7, 1), "BJ01A", "高中",
          phone="13900000106"),
        P("周婷", "女", dt.date(1999, 12, 1), 110, dt.date(2026, 6, 1), None, "BJ01B", "大学本科",
          phone="13900000107"),
    ]  # fmt: skip
    # 李芳: the first sequence of 111..199 (even: a woman) whose check character is X.
    order = next(o for o in range(112, 200, 2) if id_number(people[1].birth, o).endswith("X"))
    people[1].order = order
    people[1].__post_init__()
    check_people("excel_title_rows.xlsx", people)
    wang, li, zhang, liu, chen, yang, zhou = people

    header = [
        "序号",
        "*姓名",
        " 性 别 ",
        "民　族",
        "出生日期（yyyy-mm-dd）",
        "＊身份证号码",
        "文化程度",
        "联系电话",
        "入党\n时间",
        "转正时间",
        "党员类别",
        "所在党支部",
        "备注",
    ]
    rows = [
        [1, "　王建国 ", "男性", "汉", wang.birth, wang.id, "本科", "１３９１２３４５６７８", "2005/7/1",
         "2006.07.01", "正式", "高一年级党支部", None],
        [2, "李芳\t", "女", "回", "1985/9/30", li.id.lower(), "大专", li.phone, "2010年6月15日", "20110615",
         "正式", "高一年级党支部", "身份证末位x"],
        [3, "张　伟", "男性", "汉族", "1990.01.05", zhang.id, "硕士研究生", "139 0000 0103", zhang.join,
         "2016-05-20", "正式", "高二年级党支部 ", None],
        [4, "刘洋\n", "女", "汉", "19821111", liu.id, "博士研究生", liu.phone, "2026年3月1日", None, "预备",
         "高二年级党支部", "2026年新发展"],
        [5, "陈静", "女", " 汉族　", "1995年6月18日", f" {chen.id}  ", "中专", chen.phone,
         "2020/5/1", "2021.05.01", "正式 ", "高一年级党支部", None],
        [6, "杨帆", "男性", "汉族", yang.birth, yang.id, "高中", yang.phone, yang.join, "2013年7月1日", "正式",
         "　高一年级党支部", "流动党员"],
        [7, "周婷", "女", "汉族", "1999-12-1", zhou.id, "本科", zhou.phone, "2026-6-1", "", "预备",
         "高二年级党支部", None],
    ]  # fmt: skip
    assert rows[4][7] == chen.phone

    wb = new_workbook()
    ws = wb.active
    ws.title = "党员花名册"
    width = len(header)
    ws.append(["滨江一中党委党员花名册"])
    ws.append(["填报单位：滨江一中党委    填报日期：2026年11月"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)  # A1:M1
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws["A1"].font = Font(name="宋体", size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws["A2"].alignment = Alignment(horizontal="left")
    ws.row_dimensions[1].height = 36
    ws.append(header)
    ws.row_dimensions[3].height = 32
    for row in rows:
        ws.append(row)
    # Blank bordered rows below the data, as a hand-kept roster keeps for the people still to come.
    last = ws.max_row
    for r in range(last + 1, last + 6):
        for c in range(1, width + 1):
            ws.cell(row=r, column=c).border = BOX
    for cells in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in cells:
            cell.border = BOX
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if cell.row == 3:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for letter, w in zip("ABCDEFGHIJKLM", (6, 10, 6, 8, 14, 22, 10, 15, 12, 12, 10, 16, 14), strict=True):
        ws.column_dimensions[letter].width = w
    ws.freeze_panes = "C4"
    ws.print_title_rows = "1:3"
    save(wb, MEMBERS_DIR / "excel_title_rows.xlsx")


def wps_style() -> None:
    """Imitates WPS 表格: one title row, WPS's own words in the header and the values, WPS's document properties."""
    people = [
        P("黄志强", "男", dt.date(1976, 8, 8), 201, dt.date(2001, 7, 1), dt.date(2002, 7, 1), "BJ01A", "大学本科",
          phone="13900000201", unit="晨曦学校", posts="支部书记"),
        P("林晓燕", "女", dt.date(1983, 3, 3), 202, dt.date(2008, 12, 1), dt.date(2009, 12, 1), "BJ01A", "大学专科",
          phone="13900000202", unit="晨曦学校", posts="组织委员"),
        P("何文斌", "男", dt.date(1980, 10, 20), 203, dt.date(2006, 6, 30), dt.date(2007, 6, 30), "BJ01B", "研究生",
          phone="13900000203", posts="支委"),
        P("郭秀兰", "女", dt.date(1968, 5, 16), 204, dt.date(1995, 7, 1), dt.date(1996, 7, 1), "BJ01B",
          "初中及以下", phone="13900000204"),
        P("马骏", "男", dt.date(2000, 1, 22), 205, dt.date(2026, 7, 1), None, "BJ01A", "大学本科",
          ethnicity="回族", phone="13900000205"),
    ]  # fmt: skip
    check_people("wps_style.xlsx", people)
    wps_education = {"大学本科": "大学", "大学专科": "专科", "研究生": "研究生", "初中及以下": "初中"}
    header = list(TEMPLATE)
    header[4] = "身份证号"
    rows = []
    for p in people:
        row = template_row(p)
        row[1] = "M" if p.gender == "男" else "F"
        row[5] = wps_education[p.education]
        rows.append(row)

    wb = new_workbook()
    wb.properties.creator = "WPS_1701234567"
    wb.properties.lastModifiedBy = "党办"
    wb.custom_doc_props.append(StringProperty(name="KSOProductBuildVer", value="2052-12.1.0.18912"))
    wb.custom_doc_props.append(StringProperty(name="ICV", value="4F2C8E1D7A9B4E3C9D0F1A2B3C4D5E6F_13"))
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["2026年党员信息统计表"])
    ws.merge_cells("A1:M1")
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.font = Font(name="宋体", size=11, bold=cell.row == 2)
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy/m/d"
            if cell.column == 5:
                cell.number_format = "@"
    # WPS users add drop-downs; the file keeps them.
    dv = DataValidation(type="list", formula1='"M,F"', allow_blank=True)
    dv.add("B3:B200")
    ws.add_data_validation(dv)
    dv = DataValidation(type="list", formula1='"研究生,大学,专科,中专,高中,初中"', allow_blank=True)
    dv.add("F3:F200")
    ws.add_data_validation(dv)
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<Application>WPS 表格</Application><HeadingPairs><vt:vector size="2" baseType="variant">'
        "<vt:variant><vt:lpstr>工作表</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>"
        '</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr">'
        "<vt:lpstr>Sheet1</vt:lpstr></vt:vector></TitlesOfParts></Properties>"
    )
    save(wb, MEMBERS_DIR / "wps_style.xlsx", app_xml=app)


def libreoffice_saved() -> None:
    people = [
        P("罗振华", "男", dt.date(1972, 9, 9), 301, dt.date(1998, 6, 1), dt.date(1999, 6, 1), "BJ01A",
          phone="13900000301", unit="晨曦学校"),
        P("梁雪梅", "女", dt.date(1986, 4, 25), 302, dt.date(2011, 11, 11), dt.date(2012, 11, 11), "BJ01A",
          "研究生", phone="13900000302"),
        P("宋涛", "男", dt.date(1993, 7, 7), 303, dt.date(2018, 5, 4), dt.date(2019, 5, 4), "BJ01B", "大学专科",
          phone="13900000303"),
        P("唐丽娟", "女", dt.date(2001, 3, 15), 304, dt.date(2026, 5, 4), None, "BJ01B", phone="13900000304"),
    ]  # fmt: skip
    check_people("libreoffice_saved.xlsx", people)
    sheet = fods_sheet(
        "党员名册",
        TEMPLATE,
        [template_row(p, dates="iso") for p in people],
        titles=["滨江一中党委党员名册", "（截至2026年11月30日）"],
    )
    libreoffice(MEMBERS_DIR / "libreoffice_saved.xlsx", [sheet])


EXCEL97_PEOPLE = [
    P("周明远", "男", dt.date(1981, 5, 14), 401, dt.date(2006, 7, 1), dt.date(2007, 7, 1), "BJ01A",
      phone="13900000401", unit="晨曦学校"),
    P("吴静怡", "女", dt.date(1991, 10, 2), 402, dt.date(2016, 6, 20), dt.date(2017, 6, 20), "BJ01A", "研究生",
      phone="13900000402"),
    P("郑海涛", "男", dt.date(1975, 12, 30), 403, dt.date(2000, 7, 1), dt.date(2001, 7, 1), "BJ01B", "大学专科",
      phone="13900000403"),
]  # fmt: skip


def excel97() -> None:
    check_people("excel97.xls", EXCEL97_PEOPLE)
    sheet = fods_sheet("Sheet1", TEMPLATE, [template_row(p) for p in EXCEL97_PEOPLE])
    libreoffice(MEMBERS_DIR / "excel97.xls", [sheet])


def csv_files() -> None:
    gbk = [
        P("冯喆", "男", dt.date(1984, 2, 2), 501, dt.date(2009, 7, 1), dt.date(2010, 7, 1), "BJ01A",
          phone="13900000501", unit="晨曦学校"),
        P("蒋文娟", "女", dt.date(1979, 6, 6), 502, dt.date(2003, 12, 26), dt.date(2004, 12, 26), "BJ01A",
          "大学专科", phone="13900000502"),
        P("韩磊", "男", dt.date(1992, 8, 18), 503, dt.date(2017, 3, 8), dt.date(2018, 3, 8), "BJ01B", "研究生",
          ethnicity="满族", phone="13900000503"),
        P("曹雨欣", "女", dt.date(1998, 11, 9), 504, dt.date(2026, 4, 12), None, "BJ01B", phone="13900000504"),
    ]  # fmt: skip
    check_people("gbk.csv", gbk)
    rows = []
    for p in gbk:
        row = template_row(p)
        for i in (3, 7, 8):
            row[i] = excel_csv_date(row[i])
        rows.append(row)
    write_csv(MEMBERS_DIR / "gbk.csv", TEMPLATE, rows, encoding="gbk", newline="\r\n")

    bom = [
        P("阿依古丽·买买提", "女", dt.date(1987, 1, 17), 602, dt.date(2012, 7, 1), dt.date(2013, 7, 1), "BJ01A",
          ethnicity="维吾尔族", phone="13900000601"),
        P("谢东升", "男", dt.date(1970, 7, 31), 601, dt.date(1996, 7, 1), dt.date(1997, 7, 1), "BJ01B",
          "中专", phone="13900000602"),
        P("邓佳琪", "女", dt.date(1996, 9, 9), 604, dt.date(2021, 6, 1), dt.date(2022, 6, 1), "BJ01B",
          phone="13900000603"),
    ]  # fmt: skip
    check_people("utf8_bom.csv", bom)
    rows = []
    for p in bom:
        row = template_row(p)
        for i in (3, 7, 8):
            row[i] = excel_csv_date(row[i])
        rows.append(row)
    write_csv(MEMBERS_DIR / "utf8_bom.csv", TEMPLATE, rows, encoding="utf-8-sig", newline="\r\n")

    plain = [
        P("许文杰", "男", dt.date(1983, 12, 12), 701, dt.date(2007, 10, 1), dt.date(2008, 10, 1), "BJ01A",
          phone="13900000701"),
        P("潘晓红", "女", dt.date(1977, 3, 21), 702, dt.date(2002, 7, 1), dt.date(2003, 7, 1), "BJ01A",
          "高中", phone="13900000702"),
        P("彭俊", "男", dt.date(1994, 4, 4), 703, dt.date(2026, 1, 10), None, "BJ01B", phone="13900000703"),
    ]  # fmt: skip
    check_people("utf8_no_bom.csv", plain)
    rows = [template_row(p, dates="iso") for p in plain]
    write_csv(MEMBERS_DIR / "utf8_no_bom.csv", TEMPLATE, rows, encoding="utf-8", newline="\n", quote_all=True)


def two_sheets() -> None:
    working = [
        P("袁志刚", "男", dt.date(1982, 6, 1), 801, dt.date(2008, 7, 1), dt.date(2009, 7, 1), "BJ01A",
          phone="13900000801"),
        P("董小芸", "女", dt.date(1990, 2, 14), 802, dt.date(2014, 5, 4), dt.date(2015, 5, 4), "BJ01B",
          phone="13900000802"),
        P("程亮", "男", dt.date(1997, 10, 10), 803, dt.date(2026, 2, 20), None, "BJ01B", phone="13900000803"),
    ]  # fmt: skip
    retired = [
        P("蔡国庆", "男", dt.date(1956, 10, 1), 851, dt.date(1980, 7, 1), dt.date(1981, 7, 1), "BJ01A",
          "高中", phone="13900000851"),
        P("田淑珍", "女", dt.date(1960, 3, 8), 852, dt.date(1985, 6, 1), dt.date(1986, 6, 1), "BJ01B",
          "中专", phone="13900000852"),
    ]  # fmt: skip
    check_people("two_sheets.xlsx 在职党员", working)
    check_people("two_sheets.xlsx 离退休党员", retired)
    wb = new_workbook()
    ws = wb.active
    ws.title = "在职党员"
    fill_sheet(ws, TEMPLATE, [template_row(p) for p in working])
    fill_sheet(wb.create_sheet("离退休党员"), TEMPLATE, [template_row(p) for p in retired])
    wb.create_sheet("Sheet3")
    save(wb, MEMBERS_DIR / "two_sheets.xlsx")


def numeric_ids() -> None:
    good = [
        P("石磊", "男", dt.date(1985, 5, 5), 901, dt.date(2010, 7, 1), dt.date(2011, 7, 1), "BJ01A",
          phone="13900000901"),
        P("苏晴", "女", dt.date(1992, 12, 24), 902, dt.date(2016, 7, 1), dt.date(2017, 7, 1), "BJ01B",
          phone="13900000902"),
    ]  # fmt: skip
    check_people("numeric_ids.xlsx", good)
    # The numbers as typed (all women: the lost 17th digit reads 0, even, so no gender clash can arise).
    typed_as_number = id_number(dt.date(1988, 6, 21), 302)  # 110101198806213 02x → 110101198806213000
    sci_text = id_number(dt.date(1990, 3, 7), 714)  # 110101199003077 14x → 1.10101199003077E+17
    pasted = id_number(dt.date(1975, 12, 8), 404)  # 110101197512084 04x → "110101197512084000"
    as_float = float(typed_as_number[:15] + "000")
    assert f"{as_float:.15g}" == "1.10101198806213e+17"
    assert f"{float(sci_text[:15] + '000'):.14E}" == "1.10101199003077E+17"
    lost = pasted[:15] + "000"
    assert check_char(lost[:17]) != lost[17], "the pasted number must fail its checksum"

    def broken(name, birth, value, phone):
        return [name, "女", "汉族", birth, value, "大学本科", phone, add_years(birth, 25), add_years(birth, 26),
                "正式党员", "BJ01A", "", ""]  # fmt: skip

    rows = [
        template_row(good[0]),
        broken("孔令仪", dt.date(1988, 6, 21), as_float, "13900000903"),
        broken("白雪", dt.date(1990, 3, 7), "1.10101199003077E+17", "13900000904"),
        broken("沈雁", dt.date(1975, 12, 8), lost, "13900000905"),
        template_row(good[1]),
    ]
    wb = new_workbook()
    ws = wb.active
    ws.title = "Sheet1"
    fill_sheet(ws, TEMPLATE, rows)
    ws["E3"].number_format = "0"  # shows 110101198806213000
    save(wb, MEMBERS_DIR / "numeric_ids.xlsx")


def bad_values() -> None:
    people = [
        P("贾正", "男", dt.date(1980, 1, 8), 951, dt.date(2005, 7, 1), dt.date(2006, 7, 1), "BJ01A",
          phone="13900000951"),
        P("夏雨", "女", dt.date(1987, 2, 3), 952, dt.date(2012, 7, 1), dt.date(2013, 7, 1), "BJ01A",
          phone="13900000952"),
        P("钟毅", "男", dt.date(1979, 4, 4), 953, dt.date(2004, 7, 1), dt.date(2005, 7, 1), "BJ01B",
          phone="13900000953"),
        P("汪涛", "男", dt.date(1991, 5, 19), 955, dt.date(2016, 7, 1), dt.date(2017, 7, 1), "BJ01B",
          phone="13900000954"),
        P("任小雅", "女", dt.date(1993, 8, 1), 954, dt.date(2018, 7, 1), dt.date(2019, 7, 1), "BJ01A",
          phone="13900000955"),
        P("廖斌", "男", dt.date(1986, 9, 15), 957, dt.date(2011, 5, 1), dt.date(2012, 5, 1), "BJ01A",
          phone="13900000956"),
        P("邹敏", "女", dt.date(1984, 10, 28), 956, dt.date(2020, 5, 20), dt.date(2021, 5, 20), "BJ01B",
          phone="13900000957"),
    ]  # fmt: skip
    check_people("bad_values.xlsx", people)
    header = [*TEMPLATE[:10], "所在党支部"]
    rows = []
    for p in people:
        row = template_row(p)[:10]
        rows.append([*row, ORG_NAMES[p.org]])
    rows[1][5] = "本料"  # row 4 学历
    rows[2][2] = "汗族"  # row 5 民族
    rows[3][1] = "男的"  # row 6 性别
    rows[4][10] = "高一年级支部"  # row 7 所在党支部
    rows[5][8] = "20/5/1"  # row 8 转正日期, two-digit year
    rows[6][7] = "2020-05"  # row 9 入党日期, no day
    simple_xlsx(MEMBERS_DIR / "bad_values.xlsx", header, rows, title="党员信息采集表")


def libreoffice_dates() -> None:
    people = [
        P("陆海", "男", dt.date(1974, 1, 31), 111, dt.date(1999, 7, 1), dt.date(2000, 7, 1), "BJ01A",
          phone="13900001101", area="110102"),
        P("姚佳", "女", dt.date(1989, 12, 31), 112, dt.date(2013, 12, 31), dt.date(2014, 12, 31), "BJ01A",
          phone="13900001102", area="110102"),
        P("方正", "男", dt.date(1996, 2, 29), 113, dt.date(2020, 3, 1), dt.date(2021, 3, 1), "BJ01B",
          phone="13900001103", area="110102"),
        P("金铃", "女", dt.date(1999, 5, 5), 114, dt.date(2026, 10, 1), None, "BJ01B", phone="13900001104",
          area="110102"),
    ]  # fmt: skip
    check_people("libreoffice_dates.xlsx", people)
    styles = ["iso", "cn", "slash", "us"]
    rows = []
    for p, style in zip(people, styles, strict=True):
        row = template_row(p)
        for i in (3, 7, 8):
            if row[i] is not None:
                row[i] = Styled(row[i], style)
        rows.append(row)
    libreoffice(MEMBERS_DIR / "libreoffice_dates.xlsx", [fods_sheet("Sheet1", TEMPLATE, rows)])


LH_PEOPLE = [
    P("湖畔一", "男", dt.date(1983, 7, 7), 121, dt.date(2008, 7, 1), dt.date(2009, 7, 1), "LH01",
      phone="13900001201", area="110102"),
    P("湖畔二", "女", dt.date(1990, 9, 1), 122, dt.date(2015, 7, 1), dt.date(2016, 7, 1), "LH01",
      phone="13900001202", area="110102"),
]  # fmt: skip


def lh_roster() -> None:
    check_people("lh_roster.xlsx", LH_PEOPLE)
    simple_xlsx(MEMBERS_DIR / "lh_roster.xlsx", TEMPLATE, [template_row(p) for p in LH_PEOPLE])


# ---------------------------------------------------------------------------------------------------------
# The hours files (dangjian/training/tests/data)

HOURS_HEADER = ["序号", "姓名", "身份证号码", "课程名称", "学时", "完成时间", "学习形式", "来源"]


def hours_online_academy() -> None:
    zhou, wu, zheng = EXCEL97_PEOPLE
    src = "省干部网络学院"
    rows = [
        [1, zhou.name, zhou.id, "学习贯彻党的二十届三中全会精神", 2, dt.datetime(2026, 3, 15, 9, 12, 33), "网络学习",
         src],
        [2, zhou.name, zhou.id, "党章党规党纪专题学习", 1.5, "2026-04-02 20:15:07", "线上", src],
        [3, wu.name, wu.id, "新时代教育强国建设", 3, dt.datetime(2026, 5, 20, 14, 0, 0), "网络学习", src],
        [4, wu.name, wu.id, "中国共产党纪律处分条例解读", 1.5, "2026-09-08 07:45:51", "线上", src],
        [5, zheng.name, zheng.id, "基层党组织建设实务", 2, dt.datetime(2026, 11, 30, 16, 30, 0), "网络学习", src],
    ]  # fmt: skip
    simple_xlsx(
        TRAINING_DIR / "hours_online_academy.xlsx", HOURS_HEADER, rows, title="省干部网络学院学习记录导出（2026年度）"
    )


def hours_by_name() -> None:
    header = ["序号", "姓名", "党组织", "培训名称", "培训形式", "学时", "开始日期", "结束日期"]
    name = "2026年度党员冬训集中轮训班"
    rows = [
        [1, "赵甲一", "高一年级党支部", name, "集中培训", 8, "2026/7/6", "2026/7/8"],
        [2, "钱甲二", "BJ01A", name, "集中培训", 8, "2026/7/6", "2026/7/8"],
        [3, "孙乙一", "高二年级党支部", name, "集中培训", 4.5, "2026/7/7", "2026/7/8"],
    ]
    write_csv(TRAINING_DIR / "hours_by_name.csv", header, rows, encoding="gbk", newline="\r\n")


def hours_bad() -> None:
    zhou, wu, zheng = EXCEL97_PEOPLE
    unknown = P("王不在", "男", dt.date(1980, 8, 1), 131, dt.date(2005, 7, 1), dt.date(2006, 7, 1), area="110102")
    check_people("hours_bad.xlsx (unknown, registered nowhere)", [unknown])
    lh = LH_PEOPLE[0]
    src = "省干部网络学院"
    rows = [
        [1, zhou.name, zhou.id, "党史学习教育", 2, dt.date(2026, 6, 1), "网络学习", src],
        [2, wu.name, wu.id, "党史学习教育", "abc", dt.date(2026, 6, 1), "网络学习", src],
        [3, zheng.name, zheng.id, "党史学习教育", 0.3, dt.date(2026, 6, 1), "网络学习", src],
        [4, unknown.name, unknown.id, "党史学习教育", 2, dt.date(2026, 6, 1), "网络学习", src],
        [5, lh.name, lh.id, "党史学习教育", 2, dt.date(2026, 6, 1), "网络学习", src],
        [6, zhou.name, zhou.id, "新年第一课", 2, dt.date(2027, 3, 1), "网络学习", src],
        [7, wu.name, wu.id, "师德师风专题培训", 4, dt.date(2026, 8, 20), "面授培训", "区委党校"],
    ]
    simple_xlsx(TRAINING_DIR / "hours_bad.xlsx", HOURS_HEADER, rows, title="学时登记表")


def class_roster() -> None:
    zhou, wu, zheng = EXCEL97_PEOPLE
    header = ["序号", "姓名", "身份证号", "所在支部"]
    rows = [
        [1, zhou.name, zhou.id, ORG_NAMES[zhou.org]],
        [2, wu.name, wu.id, ORG_NAMES[wu.org]],
        [3, zheng.name, zheng.id, ORG_NAMES[zheng.org]],
        [4, "孙乙一", None, "高二年级党支部"],
    ]
    simple_xlsx(TRAINING_DIR / "class_roster.xlsx", header, rows, title="2026年度党支部书记培训班学员名单")


def main() -> None:
    TRAINING_DIR.mkdir(parents=True, exist_ok=True)
    excel_title_rows()
    wps_style()
    libreoffice_saved()
    excel97()
    csv_files()
    two_sheets()
    numeric_ids()
    bad_values()
    libreoffice_dates()
    lh_roster()
    hours_online_academy()
    hours_by_name()
    hours_bad()
    class_roster()


if __name__ == "__main__":
    main()
