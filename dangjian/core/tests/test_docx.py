"""The small .docx writer: a valid package whose text comes back as written (escaped, line breaks kept)."""

from __future__ import annotations

import io
import zipfile

from openpyxl.xml import LXML

from dangjian.core.docx import DocxWriter, docx_text


def test_a_document_round_trips_its_text():
    document = DocxWriter()
    document.heading("台账 <一> & 二", level=0)
    document.paragraph("第一行\n第二行")
    document.table([("标签", "值"), ("会议记录", 'a < b & "c"')], header=True)
    data = document.bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml"} <= set(package.namelist())
        assert package.testzip() is None
    paragraphs, tables = docx_text(data)
    assert paragraphs[0] == "台账 <一> & 二"
    assert paragraphs[1] == "第一行第二行"  # two lines joined by a <w:br/>, which carries no text
    assert tables == [[["标签", "值"], ["会议记录", 'a < b & "c"']]]


def test_openpyxl_reads_spreadsheets_without_lxml():
    """Imports rely on openpyxl's standard-library XML reader refusing entity tricks (members import tests); with
    lxml installed openpyxl switches readers. The .docx writer exists so that nothing pulls lxml in."""
    assert not LXML
