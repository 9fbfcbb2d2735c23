"""Notices (收件通知, 一次性补正告知书, 受理通知书, 不予受理通知书, 缴费通知书, 办结通知书) as
PDFs in Chinese, each with a verification code and a QR code to the public verification page."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.cases import clock
from core.cases.models import Case, Notice
from core.cases.seals import issuer_of, seal_image
from core.catalog.pdf import cjk_font
from core.config import get_settings
from core.db import decrypt_bytes, encrypt_bytes
from core.errors import NotFound
from core.storage import get_storage, tenant_key
from core.tenancy import Tenant

__all__ = [
    "NOTICE_TITLES",
    "ensure_rendered",
    "issue_notice",
    "notice_pdf",
    "render_pdf",
    "verification_code",
    "verify_url",
]

NOTICE_TITLES = {
    "receipt": "收件通知",
    "correction": "一次性补正告知书",
    "acceptance": "受理通知书",
    "refusal": "不予受理通知书",
    "payment": "缴费通知书",
    "completion": "办结通知书",
    "application": "申请表",
}
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def verification_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def verify_url(tenant: Tenant, code: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/t/{tenant.slug}/verify/{code}"


def _qr(url: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


class _Signature(Flowable):
    """The issuing department's name and the date at the right, its seal image stamped over
    them as a real seal is (no seal configured: the name and date alone, nothing drawn)."""

    def __init__(self, font: str, name: str, dated: str, seal: bytes | None) -> None:
        super().__init__()
        self.font, self.name, self.dated = font, name, dated
        self.seal = ImageReader(io.BytesIO(seal)) if seal else None
        self.block = 72 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 42 * mm

    def draw(self) -> None:
        c = self.canv
        middle = self.width - self.block / 2
        c.setFont(self.font, 12)
        c.drawCentredString(middle, 23 * mm, self.name)
        c.setFont(self.font, 11)
        c.drawCentredString(middle, 15 * mm, self.dated)
        if self.seal is not None:
            w, h = self.seal.getSize()
            side = 40 * mm
            scale = side / max(w, h)
            c.drawImage(
                self.seal,
                middle - w * scale / 2,
                20 * mm - h * scale / 2,
                w * scale,
                h * scale,
                mask="auto",
            )


def render_pdf(
    *,
    issuer: str,
    title: str,
    fields: list[tuple[str, str]],
    paragraphs: list[str],
    table: list[list[str]] | None,
    code: str,
    url: str,
    footer: str = "",
    table_widths: list[float] | None = None,
    department: str = "",
    dated: str = "",
    seal: bytes | None = None,
) -> bytes:
    """One A4 page: the issuing office, the title, the facts as a table, the text, an optional
    table (e.g. the materials to correct), the issuing department's name and date under its
    seal image (when it has one), and the verification code with its QR.

    ``issuer`` is the hall; ``department``, when given, is named as the issuer instead and the
    hall stays in the small print."""
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=13, textColor=colors.grey)
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=18, alignment=1)
    big = ParagraphStyle("title", parent=body, fontSize=20, leading=30, alignment=1)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f4f7")),
        ]
    )
    story: list[Any] = [p(department or issuer, head), p(title, big), Spacer(1, 4 * mm)]
    story.append(
        Table([[p(k), p(v)] for k, v in fields], colWidths=[38 * mm, 132 * mm], style=grid)
    )
    story.append(Spacer(1, 5 * mm))
    story.extend(p(text) for text in paragraphs)
    if table:
        story.append(Spacer(1, 3 * mm))
        shares = table_widths or [1.0] * len(table[0])
        widths = [170 * mm * share / sum(shares) for share in shares]
        rows = Table([[p(c) for c in row] for row in table], colWidths=widths, repeatRows=1)
        rows.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f4f7")),
                ]
            )
        )
        story.append(rows)
    if department:
        story.append(Spacer(1, 4 * mm))
        story.append(_Signature(font, department, dated, seal))
    story.append(Spacer(1, 8 * mm))
    verify = [
        p(f"验证码：{code}"),
        p(
            f"扫描二维码或访问下方网址，在{issuer}核验本文书的真实性。"
            if department
            else "扫描二维码或访问下方网址核验本文书的真实性。",
            small,
        ),
        p(url, small),
    ]
    if footer:
        verify.append(p(footer, small))
    story.append(Table([[_qr(url), verify]], colWidths=[38 * mm, 132 * mm]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        invariant=1,  # no creation time or random id: the same notice renders to the same bytes
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        title=title,
        author=department or issuer,
    )
    doc.build(story)
    return out.getvalue()


def _facts(case: Case) -> list[tuple[str, str]]:
    facts = [
        ("办件编号", case.number),
        ("申请事项", f"{case.item_name}（{case.item_code}）"),
        ("申请人", case.applicant_name),
    ]
    if case.agent_name and case.channel == "counter":
        facts.append(("窗口经办人", f"{case.agent_name}（窗口代为录入申请）"))
    elif case.agent_name:
        facts.append(("代办人", f"{case.agent_name}（村级代办，已取得申请人授权）"))
    return facts


def issue_notice(
    session: Any,
    tenant: Tenant,
    case: Case,
    kind: str,
    paragraphs: list[str],
    *,
    table: list[list[str]] | None = None,
    extra: list[tuple[str, str]] | None = None,
    table_widths: list[float] | None = None,
    sealed: bool = False,
) -> Notice:
    """Record a notice in the caller's transaction (the caller commits).

    Only the facts are written here; the PDF is rendered from them when it is first asked
    for (:func:`notice_pdf`). Rendering is deterministic, so the fingerprint recorded then is
    the fingerprint of every later download, and a submission does not wait ~0.1 s for
    reportlab inside its transaction."""
    title = NOTICE_TITLES[kind]
    code = verification_code()
    issued = clock.now()
    department = issuer_of(session, tenant, case.department_code)
    fields = [
        *_facts(case),
        *(extra or []),
        ("出具日期", f"{issued.astimezone(clock.TZ):%Y年%m月%d日}"),
    ]
    notice = Notice(
        tenant_id=tenant.id,
        case_id=case.id,
        kind=kind,
        code=code,
        title=title,
        body={
            "issuer": tenant.display_name,
            # the department that issues it, and its seal as it was when the notice was issued
            "department": department.name,
            "seal_key": department.seal_key,
            "dated": f"{issued.astimezone(clock.TZ):%Y年%m月%d日}",
            "url": verify_url(tenant, code),
            "fields": [list(f) for f in fields],
            "paragraphs": paragraphs,
            "table": None if sealed else table,
            **({"table_widths": table_widths} if table_widths else {}),
            # what the applicant typed may hold anything personal: encrypted at rest
            **({"sealed_table": _seal(table, code)} if sealed else {}),
        },
        storage_key=tenant_key(tenant.id, "notices", str(case.id), f"{code}.pdf"),
        sha256="",
        issued_at=issued,
    )
    session.add(notice)
    return notice


def _seal(table: list[list[str]] | None, code: str) -> str:
    plain = json.dumps(table or [], ensure_ascii=False).encode()
    return base64.b64encode(encrypt_bytes(plain, code.encode())).decode()


def _unseal(body: dict[str, Any], code: str) -> list[list[str]] | None:
    sealed = body.get("sealed_table")
    if not sealed:
        return body.get("table")
    table: list[list[str]] = json.loads(decrypt_bytes(base64.b64decode(sealed), code.encode()))
    return table


def _render_notice(notice: Notice) -> bytes:
    body = notice.body
    return render_pdf(
        issuer=body["issuer"],
        title=notice.title,
        fields=[(k, v) for k, v in body["fields"]],
        paragraphs=body["paragraphs"],
        table=_unseal(body, notice.code),
        code=notice.code,
        url=body["url"],
        table_widths=body.get("table_widths"),
        department=body.get("department", ""),
        dated=body.get("dated", ""),
        seal=seal_image(notice.tenant_id, body.get("seal_key")),
    )


def ensure_rendered(session: Any, notice: Notice) -> bytes:
    """The notice's PDF: read from storage, or rendered, stored and fingerprinted on first use
    (the caller commits the fingerprint; two first readers store identical bytes)."""
    if notice.sha256:
        return get_storage().read(notice.storage_key)
    pdf = _render_notice(notice)
    get_storage().put(notice.storage_key, io.BytesIO(pdf), "application/pdf")
    notice.sha256 = hashlib.sha256(pdf).hexdigest()
    session.flush()
    return pdf


def notice_pdf(session: Any, case: Case, code: str) -> tuple[bytes, str]:
    """One of the case's notices as PDF bytes and a file name (404 otherwise)."""
    from sqlalchemy import select

    row = session.scalars(
        select(Notice).where(Notice.case_id == case.id, Notice.code == code)
    ).first()
    if row is None:
        raise NotFound("文书不存在", field="code")
    pdf = ensure_rendered(session, row)
    session.commit()
    return pdf, f"{row.code}.pdf"
