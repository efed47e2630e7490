"""The yearly organizational-life ledger (组织生活台账) as one Word document: the year's compliance, then every record
in date order, each as a table of its fields — what branches print and file."""

from __future__ import annotations

from django.utils import timezone

from dangjian.core.docx import DocxWriter
from dangjian.orglife.selectors.ledger import Ledger, LedgerEntry


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
    document = DocxWriter()
    document.heading(f"{ledger.org.name}{ledger.year}年度组织生活台账", level=0)
    generated = f"{timezone.localtime(ledger.generated_at):%Y-%m-%d %H:%M}"
    document.paragraph(
        f"党组织编码：{ledger.org.code}　共{len(ledger.entries)}条活动记录　生成时间：{generated}", center=True
    )

    document.heading("一、组织生活制度落实情况", level=1)
    rows = ledger.duty_rows
    if rows:
        document.table(
            [
                ("活动类型", "周期", "要求次数", "已开展次数", "状态"),
                *((r.duty.label, r.duty.frequency_label, str(r.required), str(r.done), r.status) for r in rows),
            ],
            header=True,
            widths=(2800, 1400, 1400, 1600, 1800),
        )
    else:
        document.paragraph("本年度没有适用的组织生活要求。")

    document.heading("二、活动记录（按时间顺序）", level=1)
    if not ledger.entries:
        document.paragraph("本年度尚无活动记录。")
    for number, entry in enumerate(ledger.entries, start=1):
        document.heading(f"{number}. {entry.record.date:%m月%d日} {entry.record.topic}", level=2)
        document.table(_record_rows(entry), widths=(1800, 7200))
    return document.bytes()
