"""The printable one-time guide (一次性告知单) as a PDF in Chinese."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.catalog.presentation import LABELS, fee_total

__all__ = ["checklist_pdf", "cjk_font"]

# TrueType CJK fonts from Debian (fonts-wqy-zenhei, fonts-arphic-uming); reportlab cannot
# embed the CFF-flavoured Noto CJK. Without them, the built-in STSong-Light CID font (not
# embedded: the reader supplies the glyphs).
_CANDIDATES = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
]


@lru_cache(maxsize=1)
def cjk_font() -> str:
    for path, index in _CANDIDATES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("GovhallCJK", path, subfontIndex=index))
            return "GovhallCJK"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def checklist_pdf(
    tenant_name: str,
    item_code: str,
    content: dict[str, Any],
    department: str,
    version: int,
    steps: list[str],
) -> bytes:
    """``steps``: the stages of the item's process definition, in order."""
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=13, textColor=colors.grey)
    head = ParagraphStyle("head", parent=body, fontSize=13, leading=20, spaceBefore=8)
    title = ParagraphStyle("title", parent=body, fontSize=17, leading=24, alignment=1)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{content['name']} 一次性告知单",
        author=tenant_name,
    )
    story: list[Any] = [
        _p(f"{tenant_name}", small),
        _p(f"{content['name']}　一次性告知单", title),
        _p(f"事项编码 {item_code}　第 {version} 版　实施部门 {department}", small),
        Spacer(1, 4 * mm),
    ]
    facts = [
        ("法定时限", f"{content['legal_days']} 个工作日"),
        ("承诺时限", f"{content['promised_days']} 个工作日"),
        ("受理层级", "、".join(LABELS["levels"][v] for v in content.get("levels", []))),
        ("办理渠道", "、".join(LABELS["channels"][v] for v in content.get("channels", []))),
        ("送达方式", "、".join(LABELS["delivery"][v] for v in content.get("delivery", []))),
        ("办理流程", " → ".join(steps)),
        (
            "收费",
            "不收费"
            if fee_total(content) == 0
            else "；".join(
                f"{f['name']} {f['amount']} 元（{f['basis']}）" for f in content["fees"]
            ),
        ),
    ]
    table = Table([[_p(k, body), _p(v, body)] for k, v in facts], colWidths=[32 * mm, None])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [
        table,
        _p("办理条件", head),
        _p(content.get("conditions") or "无", body),
        _p("申报材料（请一次备齐）", head),
    ]
    rows = [[_p("序号", body), _p("材料名称", body), _p("要求", body), _p("份数", body)]]
    for i, m in enumerate(content.get("materials", []), 1):
        need = LABELS["required"][m["required"]] + (
            "：" + m["condition"] if m.get("condition") else ""
        )
        rows.append(
            [
                _p(str(i), body),
                _p(m["name"], body),
                _p(f"{LABELS['form'][m['form']]}，{need}", body),
                _p(str(m["copies"]), body),
            ]
        )
    materials = Table(rows, colWidths=[12 * mm, None, 50 * mm, 14 * mm], repeatRows=1)
    materials.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    story += [
        materials,
        _p("设定依据", head),
        _p("\n".join(content.get("legal_basis", [])) or "—", body),
        _p("咨询方式", head),
        _p(f"{content.get('contacts', '')}　{content.get('office_hours', '')}", body),
        Spacer(1, 6 * mm),
        _p(
            "本告知单一次性告知办理本事项所需的全部材料；材料齐全、符合法定形式的，"
            "窗口应当场受理。",
            small,
        ),
    ]
    doc.build(story)
    return out.getvalue()
