"""Onboarding a city or county: the wizard's steps, branding, the lifecycle with a reason,
and bulk onboarding from a spreadsheet (校验 every row, then 写入 all or nothing).

Every change here appends an audit entry in the changed tenant's chain (the caller commits).
The wizard remembers which steps are done in ``tenant.settings["onboarding"]``, so leaving
and coming back resumes where one stopped; the tenant stays 筹备中 until the last step.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import changed, record
from core.audit.log import AuditActor
from core.errors import GovhallError, InvalidInput
from core.tenancy.models import Tenant, TenantKind, TenantStatus
from core.tenancy.service import (
    KIND_LABELS,
    STATUS_LABELS,
    check_division_code,
    check_slug,
    division_name,
    onboard_tenant,
    set_tenant_status,
)

__all__ = [
    "BULK_COLUMNS",
    "LOGO_MAX_BYTES",
    "LOGO_SUFFIX",
    "check_branding",
    "check_logo",
    "bulk_template",
    "STEPS",
    "BulkRow",
    "BulkProblem",
    "change_status",
    "check_bulk",
    "current_step",
    "done_steps",
    "mark_done",
    "onboard",
    "skipped_steps",
    "read_bulk_rows",
    "save_branding",
    "write_bulk",
]

#: the wizard's steps in order: (code, what a person reads)
STEPS: list[tuple[str, str]] = [
    ("basics", "基本信息"),
    ("branding", "门户外观"),
    ("admin", "首位管理员"),
    ("catalog", "认领事项"),
    ("plugins", "插件"),
    ("activate", "开通"),
]
STEP_CODES = [code for code, _ in STEPS]

LOGO_MAX_BYTES = 512 * 1024
_LOGO_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}
LOGO_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


# -- the wizard's progress ----------------------------------------------------------------


def done_steps(tenant: Tenant) -> list[str]:
    state = (tenant.settings or {}).get("onboarding") or {}
    done = state.get("done") if isinstance(state, dict) else None
    return [s for s in STEP_CODES if isinstance(done, list) and s in done]


def current_step(tenant: Tenant) -> str:
    """The first step not done yet (the last one once everything is)."""
    done = set(done_steps(tenant)) | {"basics"}  # a tenant that exists has its basics
    if tenant.status is not TenantStatus.onboarding:
        return STEP_CODES[-1]
    return next((s for s in STEP_CODES if s not in done), STEP_CODES[-1])


def skipped_steps(tenant: Tenant) -> list[str]:
    """Steps passed over with 暂不…（下一步）: behind the wizard, but not done."""
    state = (tenant.settings or {}).get("onboarding") or {}
    skipped = state.get("skipped") if isinstance(state, dict) else None
    return [s for s in STEP_CODES if isinstance(skipped, list) and s in skipped]


def mark_done(tenant: Tenant, step: str, *, skipped: bool = False) -> None:
    """``step`` is behind the wizard: done, or (``skipped``) passed over — the summary then
    says 已跳过 with a way back, not a tick. Done later, it is done."""
    done = done_steps(tenant)
    if step not in done:
        done.append(step)
    passed = [s for s in skipped_steps(tenant) if s != step] + ([step] if skipped else [])
    # a new dict, so that the JSON column sees the change
    tenant.settings = {
        **(tenant.settings or {}),
        "onboarding": {"done": done, "skipped": passed},
    }


# -- basics -------------------------------------------------------------------------------


def onboard(
    session: Session,
    *,
    actor_tenant: Tenant,
    actor: AuditActor | None,
    parent: Tenant,
    slug: str,
    name: str,
    division_code: str,
    kind: TenantKind,
) -> Tenant:
    """Step 1 (基本信息): create the tenant 筹备中 under ``parent``, recorded in
    ``actor_tenant``'s audit log."""
    if kind is TenantKind.province:
        raise InvalidInput("省级地区不能在这里开通", field="kind")
    tenant = onboard_tenant(
        session,
        parent=parent,
        slug=slug,
        name=name,
        division_code=division_code,
        kind=kind,
        actor_tenant=actor_tenant,
    )
    mark_done(tenant, "basics")
    # in the chain of the province (or city) that onboards: the new tenant's own chain
    # starts with its first change of its own
    record(
        session,
        actor_tenant,
        actor,
        "tenant.onboard",
        target_type="tenant",
        target_id=tenant.slug,
        target_label=tenant.name,
        after={
            "name": tenant.name,
            "division_code": tenant.division_code,
            "kind": KIND_LABELS[tenant.kind],
            "parent": parent.name,
            "slug": tenant.slug,
        },
    )
    return tenant


# -- branding -----------------------------------------------------------------------------


def check_branding(display_name: str, primary_color: str, accent_color: str, slogan: str) -> None:
    """The branding form's fields, each with its Chinese error."""
    display_name, slogan = display_name.strip(), slogan.strip()
    if not display_name:
        raise InvalidInput("请填写门户名称", field="display_name")
    if len(display_name) > 60:
        raise InvalidInput("门户名称不超过 60 个字", field="display_name")
    for name, value in (("primary_color", primary_color), ("accent_color", accent_color)):
        if not _COLOUR_RE.match(value):
            raise InvalidInput("颜色应为 # 加 6 位十六进制数（如 #1d5fa8）", field=name)
    if len(slogan) > 80:
        raise InvalidInput("标语不超过 80 个字", field="slogan")


def check_logo(data: bytes) -> str:
    """The logo's content type (PNG, JPEG or WebP, at most 512 KB), or a Chinese error."""
    if not data:
        raise InvalidInput("请选择徽标图片", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput("徽标图片不能超过 512 KB", field="logo")
    for content_type, signatures in _LOGO_SIGNATURES.items():
        if any(data.startswith(sig) for sig in signatures):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    raise InvalidInput("徽标只能是 PNG、JPEG 或 WebP 图片", field="logo")


def save_branding(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    *,
    display_name: str,
    primary_color: str,
    accent_color: str,
    slogan: str,
    logo_key: str | None = None,
) -> None:
    """Step 2 (门户外观): name on the portal, colours, slogan and a new logo, if one was
    stored (checked with :func:`check_logo`, stored by the caller under ``logo_key``)."""
    check_branding(display_name, primary_color, accent_color, slogan)
    display_name, slogan = display_name.strip(), slogan.strip()
    before = dict(tenant.branding or {})
    after = {
        **before,
        "display_name": display_name,
        "primary_color": primary_color.lower(),
        "accent_color": accent_color.lower(),
        "slogan": slogan,
    }
    if logo_key is not None:
        after["logo"] = logo_key
    tenant.branding = after
    mark_done(tenant, "branding")
    was, now = changed(before, after)
    if logo_key is not None:
        was["logo"], now["logo"] = ("已上传" if before.get("logo") else "无"), "新徽标"
    if was or now:
        record(
            session,
            tenant,
            actor,
            "tenant.branding",
            target_type="tenant",
            target_id=tenant.slug,
            target_label=tenant.name,
            before=was,
            after=now,
        )


# -- lifecycle ----------------------------------------------------------------------------


def change_status(
    session: Session,
    tenant: Tenant,
    actor: AuditActor | None,
    status: TenantStatus,
    *,
    reason: str,
) -> None:
    """开通, 暂停 or 恢复 a tenant; a reason is required and recorded."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请填写原因", field="reason")
    if len(reason) > 500:
        raise InvalidInput("原因不超过 500 个字", field="reason")
    before = tenant.status
    if status == before:
        raise InvalidInput(f"{tenant.name}已经是“{STATUS_LABELS[status]}”", field="status")
    set_tenant_status(tenant, status)
    if status is TenantStatus.active:
        mark_done(tenant, "activate")
    record(
        session,
        tenant,
        actor,
        "tenant.status",
        target_type="tenant",
        target_id=tenant.slug,
        target_label=tenant.name,
        before={"status": STATUS_LABELS[before]},
        after={"status": STATUS_LABELS[status]},
        reason=reason,
    )


# -- bulk onboarding ----------------------------------------------------------------------

#: the spreadsheet's columns, in order (the template's header row)
BULK_COLUMNS = ["名称", "行政区划代码", "类型", "上级区划代码", "网址标识"]
_KIND_BY_LABEL = {
    "市": TenantKind.city,
    "县": TenantKind.county,
    "区": TenantKind.district,
    "县级市": TenantKind.county,
}


@dataclass
class BulkRow:
    line: int  # the row number as the spreadsheet shows it
    name: str
    division_code: str
    kind: str
    parent_code: str
    slug: str


@dataclass
class BulkProblem:
    line: int
    text: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.text}"


@dataclass
class BulkReport:
    created: list[str] = field(default_factory=list)
    problems: list[BulkProblem] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_bulk_rows(data: bytes) -> list[BulkRow]:
    """The rows of an .xlsx whose first row is :data:`BULK_COLUMNS` (blank rows skipped)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign file: one clear message, whatever openpyxl says
        raise InvalidInput(
            "无法读取这个文件，请用模板另存为 .xlsx 后再上传", field="file"
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    if header[: len(BULK_COLUMNS)] != BULK_COLUMNS:
        raise InvalidInput(
            "第 1 行应是表头：" + "、".join(BULK_COLUMNS) + "（请下载模板填写）", field="file"
        )
    out = []
    for number, values in enumerate(rows, start=2):
        cells = [_cell(v) for v in values][: len(BULK_COLUMNS)]
        cells += [""] * (len(BULK_COLUMNS) - len(cells))
        if not any(cells):
            continue
        out.append(BulkRow(number, *cells))
    book.close()
    if not out:
        raise InvalidInput("表格里没有要开通的地区", field="file")
    return out


def _parent_of(
    session: Session, actor_tenant: Tenant, code: str, planned: dict[str, BulkRow]
) -> Tenant | BulkRow | None:
    tenant = session.scalar(select(Tenant).where(Tenant.division_code == code))
    if tenant is not None:
        return tenant
    return planned.get(code)


def check_bulk(
    session: Session,
    actor_tenant: Tenant,
    rows: list[BulkRow],
    progress: Callable[[int, int], None] | None = None,
) -> list[BulkProblem]:
    """校验: every row's problems (all of them, not only the first), nothing written."""
    problems: list[BulkProblem] = []
    planned: dict[str, BulkRow] = {}
    seen_slugs: set[str] = set()
    for index, row in enumerate(rows, start=1):

        def bad(text: str, row: BulkRow = row) -> None:
            problems.append(BulkProblem(row.line, text))

        if not row.name:
            bad("请填写名称")
        kind = _KIND_BY_LABEL.get(row.kind) or _kind_value(row.kind)
        if kind is None:
            bad(f"类型“{row.kind}”无效，应为 市、县 或 区")
        try:
            check_slug(row.slug)
        except GovhallError as exc:
            bad(exc.detail)
        if row.slug in seen_slugs or session.scalar(
            select(Tenant.id).where(Tenant.slug == row.slug)
        ):
            bad(f"网址标识“{row.slug}”已被使用")
        seen_slugs.add(row.slug)
        if row.division_code in planned or session.scalar(
            select(Tenant.id).where(Tenant.division_code == row.division_code)
        ):
            bad(f"行政区划代码 {row.division_code} 已被使用")
        parent = _parent_of(session, actor_tenant, row.parent_code, planned)
        if parent is None:
            bad(f"上级区划代码 {row.parent_code or '（空）'} 不是已开通或本表中的地区")
        elif kind is not None:
            parent_tenant = parent if isinstance(parent, Tenant) else _shadow(actor_tenant, parent)
            if isinstance(parent, Tenant) and not _inside(actor_tenant, parent):
                bad(f"上级 {parent.name} 不在本省（市）范围内")
            else:
                try:
                    check_division_code(row.division_code, kind, parent_tenant)
                except GovhallError as exc:
                    bad(exc.detail)
        standard = division_name(row.division_code)
        if standard and row.name and standard not in row.name and row.name not in standard:
            bad(f"行政区划代码 {row.division_code} 在国家标准中是“{standard}”，与名称不符")
        planned.setdefault(row.division_code, row)
        if progress is not None:
            progress(index, len(rows))
    return problems


def _kind_value(text: str) -> TenantKind | None:
    try:
        kind = TenantKind(text)
    except ValueError:
        return None
    return None if kind is TenantKind.province else kind


def _inside(actor_tenant: Tenant, parent: Tenant) -> bool:
    if actor_tenant.is_province:
        return parent.province_id == actor_tenant.id
    return parent.id == actor_tenant.id


def _shadow(actor_tenant: Tenant, row: BulkRow) -> Tenant:
    """A parent planned in the same sheet, as the code check needs it."""
    kind = _KIND_BY_LABEL.get(row.kind) or _kind_value(row.kind) or TenantKind.city
    return Tenant(
        name=row.name,
        kind=kind,
        division_code=row.division_code,
        province_id=actor_tenant.province_id,
    )


def write_bulk(
    session: Session,
    actor_tenant: Tenant,
    actor: AuditActor | None,
    rows: Iterable[BulkRow],
    progress: Callable[[int, int], None] | None = None,
) -> list[Tenant]:
    """写入: onboard each row in order (parents first as the sheet lists them)."""
    rows = list(rows)
    created: list[Tenant] = []
    by_code: dict[str, Tenant] = {}
    for index, row in enumerate(rows, start=1):
        parent = by_code.get(row.parent_code) or session.scalar(
            select(Tenant).where(Tenant.division_code == row.parent_code)
        )
        kind = _KIND_BY_LABEL.get(row.kind) or _kind_value(row.kind) or TenantKind.county
        if parent is None:
            raise InvalidInput(f"第 {row.line} 行：上级不存在", field="file")
        try:
            tenant = onboard(
                session,
                actor_tenant=actor_tenant,
                actor=actor,
                parent=parent,
                slug=row.slug,
                name=row.name,
                division_code=row.division_code,
                kind=kind,
            )
        except GovhallError as exc:
            raise InvalidInput(f"第 {row.line} 行：{exc.detail}", field="file") from None
        by_code[row.division_code] = tenant
        created.append(tenant)
        if progress is not None:
            progress(index, len(rows))
    return created


def bulk_template() -> bytes:
    """The .xlsx template: the header row and two example rows."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "开通地区"
    sheet.append(BULK_COLUMNS)
    sheet.append(["宜州区", "451203", "区", "451200", "yizhou"])
    sheet.append(["南丹县", "451221", "县", "451200", "nandan"])
    for column, width in zip("ABCDE", (16, 14, 8, 14, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
