"""The yearly organizational-life ledger (组织生活台账) as one Word document: the year's compliance, then every record
in date order, each as a table of its fields — what branches print and file."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from dangjian.orglife.selectors.ledger import Ledger, LedgerEntry

FONT = "SimSun"  # 宋体: present wherever Word or WPS is; the East Asian font must be named separately.


def _use_chinese_font(document: Document) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        heading = document.styles[name]
        heading.font.name = FONT
        rpr = heading.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _attendance(entry: LedgerEntry) -> tuple[str, str]:
    present = f"{entry.present_count}人"
    if entry.present:
        present += "：" + "、".join(entry.present)
    if entry.hidden_count:
        present += f"（另有{entry.hidden_count}人不在您的查看范围内，未列姓名）"
    absent = f"{entry.absent_count}人"
    if entry.absent:
        absent += "：" + "；".join(f"{name}（{reason}）" for name, reason in entry.absent)
    return present, absent


def _record_rows(entry: LedgerEntry) -> list[tuple[str, str]]:
    record = entry.record
    present, absent = _attendance(entry)
    rows = [
        ("活动类型", "、".join(entry.kinds)),
        ("时间", f"{record.date:%Y年%m月%d日}"),
        ("地点", record.place),
        ("主持人", record.host),
        ("党课主讲人", entry.lecturer),
        ("出席", present),
        ("缺席", absent),
        ("参会率", f"{entry.attendance_rate}%" if entry.attendance_rate is not None else ""),
        ("议程", record.agenda),
        ("会议记录", record.minutes),
        ("决定事项", record.decisions),
        ("“三重一大”事项", "是（已经集体研究决定）" if record.major_decision else "否"),
        ("计入学时", f"每名出席党员{record.credit_hours}学时" if record.credit_hours else ""),
        ("附件", "、".join(a.name for a in entry.attachments)),
    ]
    for correction in entry.corrections:
        who = correction.corrected_by.get_full_name() if correction.corrected_by else "系统"
        rows.append(("更正记录", f"{correction.corrected_at:%Y-%m-%d} {who}：{correction.reason}"))
    return [(label, value) for label, value in rows if value]


def ledger_docx(ledger: Ledger) -> bytes:
    """The ledger as a .docx file."""
    document = Document()
    _use_chinese_font(document)
    title = document.add_heading(f"{ledger.org.name}{ledger.year}年度组织生活台账", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    generated = f"{ledger.generated_at:%Y-%m-%d %H:%M}"
    meta = document.add_paragraph(
        f"党组织编码：{ledger.org.code}　共{len(ledger.entries)}条活动记录　生成时间：{generated}"
    )
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading("一、组织生活制度落实情况", level=1)
    rows = ledger.duty_rows
    if rows:
        table = document.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("活动类型", "周期", "要求次数", "已开展次数", "状态"), strict=True):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            values = (row.duty.label, row.duty.frequency_label, str(row.required), str(row.done), row.status)
            for cell, text in zip(cells, values, strict=True):
                cell.text = text
    else:
        document.add_paragraph("本年度没有适用的组织生活要求。")

    document.add_heading("二、活动记录（按时间顺序）", level=1)
    if not ledger.entries:
        document.add_paragraph("本年度尚无活动记录。")
    for number, entry in enumerate(ledger.entries, start=1):
        document.add_heading(f"{number}. {entry.record.date:%m月%d日} {entry.record.topic}", level=2)
        fields = _record_rows(entry)
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in fields:
            cells = table.add_row().cells
            cells[0].text = label
            cells[1].text = value
            cells[0].paragraphs[0].runs[0].bold = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
