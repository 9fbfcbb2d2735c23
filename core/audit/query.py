"""Reading the audit log: filtered pages of entries, before → after in Chinese, CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from core.audit.log import action_label
from core.audit.models import AuditEntry
from core.spreadsheet import safe_row

__all__ = [
    "CHANGED",
    "FIELD_LABELS",
    "AuditFilter",
    "AuditPage",
    "csv_bytes",
    "describe",
    "entries",
    "field_label",
    "local_time",
    "value_text",
]

#: what a changed secret looks like in an entry: only that it changed, never its value
CHANGED = "已更改"
#: Beijing time: the log is read by people in China (stored in UTC)
_TZ = timezone(timedelta(hours=8))

#: how each recorded key is called on the page, in the API's lines and in the CSV
FIELD_LABELS: dict[str, str] = {
    "api_key": "接口密钥",
    # the SMS templates (core.notify.sms.DEFAULT_TEMPLATES), as a vendor's template codes name them
    "otp": "登录验证码",
    "consent": "代办授权验证码",
    "case_received": "收件通知",
    "case_correction": "补正通知",
    "case_accepted": "受理通知",
    "case_refused": "不予受理通知",
    "case_payment": "缴费通知",
    "case_completed": "办结通知",
    "case_shipped": "寄出通知",
    "case_delivered": "送达通知",
    "case_pickup": "改为窗口领取通知",
    "rating_request": "评价邀请",
    "rating_thanks": "评价致谢",
    "rating_thanks_low": "差评致歉",
    "card_yellow": "黄牌催办",
    "card_red": "红牌警告",
    "card_manual": "督办通知",
    "follow_up": "回访提醒",
    "task_assigned": "待办提醒",
    "consult_answered": "咨询答复通知",
    "consult_yellow": "咨询黄牌催办",
    "consult_red": "咨询红牌警告",
    "enabled": "启用",
    "config": "配置",
    "status": "服务状态",
    "name": "名称",
    "display_name": "显示名称",
    "primary_color": "主题颜色",
    "logo_url": "标志图片",
    "branding": "门户外观",
    "settings": "设置",
    "workday": "工作日",
    "day": "日期",
    "year": "年度",
    "confirmed": "已核对",
    "note": "说明",
    "code": "编码",
    "title": "标题",
    "body": "正文",
    "pinned": "置顶",
    "published": "发布",
    "publish_at": "发布时间",
    "expires_at": "截止时间",
    "version": "版本",
    "effective_from": "生效日期",
    "changes": "改动内容",
    "department": "部门",
    "seal": "印章",
    "file": "文件",
    "rows": "行数",
    "created": "新增",
    "updated": "更新",
    "failed": "失败",
    "process": "办理流程",
    "steps": "环节",
    "roles": "角色",
    "phone": "联系电话",
    "active": "账号可用",
    "parent": "上级",
    "kind": "类型",
    "division_code": "行政区划代码",
    "slug": "网址标识",
    "deemed_approval": "超期视为准予",
    "username": "用户名",
    "address": "办公地址",
    "office_hours": "办公时间",
    "totp_required": "要求动态口令",
    "password": "密码",
    "closed": "已撤销",
    "accent_color": "辅色",
    "slogan": "标语",
    "logo": "徽标",
    "codes": "事项编码",
    "departments": "部门对应",
}


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def value_text(value: Any) -> str:
    """A recorded value as a person reads it: 是/否, （空）, lists joined with 、."""
    if value is None or value == "" or value == [] or value == {}:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{field_label(str(k))}：{value_text(v)}" for k, v in value.items())
    return str(value)


def describe(entry: AuditEntry, *, list_limit: int | None = None) -> list[str]:
    """Before → after as Chinese lines (「启用」否 → 是), nested keys flattened with labels.

    A long list that was added (a pack's changes) becomes one line per item, the first
    ``list_limit`` of them when given.
    """
    before, after = entry.before or {}, entry.after or {}
    lines: list[str] = []

    def walk(b: Any, a: Any, path: tuple[str, ...]) -> None:
        if isinstance(b, dict) or isinstance(a, dict):
            b = b if isinstance(b, dict) else {}
            a = a if isinstance(a, dict) else {}
            for key in dict.fromkeys([*b, *a]):
                if key in b and key in a and b[key] == a[key]:
                    continue
                walk(b.get(key), a.get(key), (*path, field_label(str(key))))
            return
        name = "·".join(path) if path else "内容"
        if isinstance(a, list) and len(a) > 3 and not b:
            shown = a if list_limit is None else a[:list_limit]
            lines.append(f"「{name}」共 {len(a)} 项：")
            lines.extend(value_text(item) for item in shown)
            if len(shown) < len(a):
                lines.append(f"……另有 {len(a) - len(shown)} 项，见导出的表格")
            return
        if entry.before is None:
            lines.append(f"「{name}」{value_text(a)}")
        elif entry.after is None:
            lines.append(f"「{name}」{value_text(b)} → 已删除")
        else:
            lines.append(f"「{name}」{value_text(b)} → {value_text(a)}")

    if entry.before is None and entry.after is None:
        return []
    walk(before, after, ())
    return lines


def local_time(at: datetime) -> str:
    """When, in Beijing time to the second (a naive value is UTC, as stored)."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(_TZ).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class AuditFilter:
    """What the audit page, the API and the CLI filter by (all optional)."""

    tenant_ids: Sequence[uuid.UUID] = ()
    actions: Sequence[str] = ()
    actor: str = ""
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""


@dataclass
class AuditPage:
    items: list[AuditEntry] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    limit: int = 50

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def _where(province_id: uuid.UUID, f: AuditFilter) -> list[Any]:
    clauses: list[Any] = [AuditEntry.province_id == province_id]
    if f.tenant_ids:
        clauses.append(AuditEntry.tenant_id.in_(list(f.tenant_ids)))
    if f.actions:
        clauses.append(AuditEntry.action.in_(list(f.actions)))
    if f.actor.strip():
        clauses.append(AuditEntry.actor_name.contains(f.actor.strip(), autoescape=True))
    if f.since is not None:
        clauses.append(AuditEntry.at >= f.since.astimezone(UTC))
    if f.until is not None:
        clauses.append(AuditEntry.at < f.until.astimezone(UTC))
    if f.text.strip():
        needle = f.text.strip()
        clauses.append(
            or_(
                AuditEntry.target_label.contains(needle, autoescape=True),
                AuditEntry.target_id.contains(needle, autoescape=True),
                AuditEntry.reason.contains(needle, autoescape=True),
                cast(AuditEntry.action, String).contains(needle, autoescape=True),
            )
        )
    return clauses


def entries(
    session: Session,
    province_id: uuid.UUID,
    filters: AuditFilter | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """The entries that match, newest first, one page of them and how many in all."""
    clauses = _where(province_id, filters or AuditFilter())
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*clauses)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .where(*clauses)
        .order_by(AuditEntry.at.desc(), AuditEntry.seq.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return AuditPage(list(rows), int(total), offset, limit)


CSV_HEADER = ["时间", "地区", "操作人", "来源地址", "操作", "对象", "变更内容", "原因", "序号"]


def csv_bytes(
    rows: Iterable[AuditEntry],
    *,
    tenant_names: Mapping[uuid.UUID, str],
    actor_line: Any = None,
) -> bytes:
    """The entries as CSV in UTF-8 with a byte-order mark, so Excel opens the Chinese right;
    a cell a spreadsheet would run as a formula (an announcement titled ``=HYPERLINK(…)``) gets
    a ``'`` in front (core/spreadsheet.py).

    ``actor_line(entry)`` says who in words (省级管理员 · 广西); the name alone by default.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in rows:
        writer.writerow(
            safe_row(
                [
                    local_time(e.at),
                    tenant_names.get(e.tenant_id, ""),
                    actor_line(e) if actor_line else e.actor_name,
                    e.origin,
                    action_label(e.action),
                    e.target_label or e.target_id,
                    "\n".join(describe(e)),
                    e.reason,
                    e.seq,
                ]
            )
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
