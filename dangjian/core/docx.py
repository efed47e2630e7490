"""A small writer of Word documents (.docx): headings, paragraphs and bordered tables — what a printed ledger needs.

Why not python-docx: it brings lxml, and with lxml installed openpyxl switches its XML reader to lxml, which changes
how imported spreadsheets with entity tricks are refused. A .docx is a zip of a few XML parts; the subset written here
(WordprocessingML, ECMA-376 part 1) opens in Word, WPS and LibreOffice.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FONT = "SimSun"  # 宋体: present wherever Word or WPS is; the East Asian font is named separately.

PACKAGE_NS = "http://schemas.openxmlformats.org/package/2006"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORDML = "application/vnd.openxmlformats-officedocument.wordprocessingml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

CONTENT_TYPES = (
    f'{XML_HEAD}<Types xmlns="{PACKAGE_NS}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/word/document.xml" ContentType="{WORDML}.document.main+xml"/>'
    f'<Override PartName="/word/styles.xml" ContentType="{WORDML}.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PACKAGE_NS}/relationships">'
    f'<Relationship Id="rId1" Type="{OFFICE_REL}/officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PACKAGE_NS}/relationships">'
    f'<Relationship Id="rId1" Type="{OFFICE_REL}/styles" Target="styles.xml"/></Relationships>'
)
# A4, margins of 2.54 cm top and bottom, 2.3 cm left and right (in twentieths of a point).
SECTION = (
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1304" w:bottom="1440" '
    'w:left="1304" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>'
)


def _style(style_id: str, name: str, size_half_points: int, *, bold: bool, outline: int | None) -> str:
    outline_xml = f'<w:outlineLvl w:val="{outline}"/>' if outline is not None else ""
    return (
        f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/>'
        f'<w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/>{outline_xml}</w:pPr>'
        f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size_half_points}"/></w:rPr></w:style>'
    )


STYLES = (
    f'{XML_HEAD}<w:styles xmlns:w="{W_NS}">'
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
    '<w:sz w:val="21"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/>'
    "</w:rPr></w:rPrDefault>"
    '<w:pPrDefault><w:pPr><w:spacing w:after="60" w:line="300" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
    "</w:docDefaults>"
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
    + _style("Title", "Title", 36, bold=True, outline=None)
    + _style("Heading1", "heading 1", 30, bold=True, outline=0)
    + _style("Heading2", "heading 2", 24, bold=True, outline=1)
    + '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders>'
    + "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    + '</w:tblBorders><w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar>'
    + "</w:tblPr></w:style></w:styles>"
)


def _runs(text: str, *, bold: bool = False) -> str:
    """Runs of text; line breaks become <w:br/> (a record's minutes keep their lines)."""
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    parts = []
    for index, line in enumerate(str(text).splitlines() or [""]):
        if index:
            parts.append("<w:br/>")
        parts.append(f'<w:t xml:space="preserve">{escape(line)}</w:t>')
    return f"<w:r>{props}{''.join(parts)}</w:r>"


class DocxWriter:
    """Build a document block by block, then `bytes()` it."""

    def __init__(self) -> None:
        self._body: list[str] = []

    def heading(self, text: str, level: int = 1) -> None:
        style = "Title" if level == 0 else f"Heading{level}"
        align = '<w:jc w:val="center"/>' if level == 0 else ""
        self._body.append(f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{align}</w:pPr>{_runs(text)}</w:p>')

    def paragraph(self, text: str, *, bold: bool = False, center: bool = False) -> None:
        align = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
        self._body.append(f"<w:p>{align}{_runs(text, bold=bold)}</w:p>")

    def table(self, rows: list[tuple], *, header: bool = False, widths: tuple[int, ...] | None = None) -> None:
        """A bordered table; `header` bolds the first row. Widths are in twentieths of a point (the page's text
        width is about 9,300)."""
        columns = max((len(r) for r in rows), default=0)
        if not columns:
            return
        widths = widths or tuple(9000 // columns for _ in range(columns))
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
        xml = [
            '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>"
        ]
        for index, row in enumerate(rows):
            cells = []
            for column, value in enumerate(row):
                bold = header and index == 0
                cells.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="{widths[column]}" w:type="dxa"/></w:tcPr>'
                    f"<w:p>{_runs('' if value is None else value, bold=bold)}</w:p></w:tc>"
                )
            xml.append(f"<w:tr>{''.join(cells)}</w:tr>")
        xml.append("</w:tbl>")
        self._body.append("".join(xml))
        self._body.append("<w:p/>")  # Word needs a paragraph between two tables, or it merges them

    def bytes(self) -> bytes:
        document = (
            f'{XML_HEAD}<w:document xmlns:w="{W_NS}"><w:body>{"".join(self._body)}{SECTION}</w:body></w:document>'
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            package.writestr("[Content_Types].xml", CONTENT_TYPES)
            package.writestr("_rels/.rels", ROOT_RELS)
            package.writestr("word/_rels/document.xml.rels", DOCUMENT_RELS)
            package.writestr("word/document.xml", document)
            package.writestr("word/styles.xml", STYLES)
        return out.getvalue()


def docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """(paragraph texts outside tables, tables as rows of cell texts) of a .docx — for tests and checks."""
    from defusedxml import ElementTree

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        root = ElementTree.fromstring(package.read("word/document.xml"))
    w = f"{{{W_NS}}}"

    def text_of(node) -> str:
        return "".join(t.text or "" for t in node.iter(f"{w}t"))

    body = root.find(f"{w}body")
    paragraphs = [text_of(p) for p in body.findall(f"{w}p")]
    tables = [
        [[text_of(tc) for tc in tr.findall(f"{w}tc")] for tr in tbl.findall(f"{w}tr")]
        for tbl in body.findall(f"{w}tbl")
    ]
    return paragraphs, tables
