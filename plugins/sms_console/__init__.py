"""sms_console: an SMS vendor for development that writes each message to the log and to an
inspectable outbox file (one JSON object a line).

Its callbacks take JSON lists and the configured ``webhook_token`` in ``X-Console-Token``:
``POST /api/v1/t/{slug}/sms/console/inbound`` ``[{"id", "phone", "text"}]`` and
``…/receipts`` ``[{"id": OUR_ID, "status": "DELIVRD" | other, "error"}]``; with no token
configured they are refused."""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import msgspec

from core.plugins import (
    CallbackRefused,
    PluginMeta,
    Secret,
    SendResult,
    SmsInbound,
    SmsInboundAnswer,
    SmsMessage,
    SmsReceipt,
    SmsReceiptsAnswer,
    hookimpl,
    var_dir,
)

log = logging.getLogger("govhall.sms_console")
_lock = threading.Lock()


class Config(msgspec.Struct, kw_only=True):
    #: the file messages are appended to, relative to GOVHALL_VAR_DIR and inside it (a
    #: county admin must not choose where on the server we write); empty: sms-outbox.jsonl
    outbox_path: str = ""
    priority: int = 0
    #: a shared secret the webhooks (inbound replies, receipts) must send as
    #: ``X-Console-Token``; empty: the webhooks are refused
    webhook_token: Secret = ""


def _path(config: Config | None) -> Path:
    root = var_dir()
    if not (config and config.outbox_path):
        return root / "sms-outbox.jsonl"
    path = (root / config.outbox_path).resolve()
    if root not in path.parents:
        raise ValueError("outbox_path 须为 var 目录内的文件")
    return path


def _validate(session: object, tenant: object, config: Config | None) -> list[str]:
    try:
        _path(config)
    except ValueError as exc:
        return [str(exc)]
    return []


def _check(config: Config | None) -> list[str]:
    try:
        path = _path(config)
    except ValueError as exc:
        return [str(exc)]
    directory = path.parent
    if directory.exists() and not directory.is_dir():
        return [f"cannot create {path}: {directory} is not a directory"]
    if not directory.exists():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return [f"cannot create {directory}: {exc}"]
    if not os.access(directory, os.W_OK):
        return [f"{directory} is not writable"]
    return []


meta = PluginMeta(
    name="sms_console",
    version="0.1.0",
    title="控制台短信（开发用）",
    description="演示用短信通道：短信写入日志和输出文件，不实际发送。",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
    validate=_validate,
    # its outbox file holds every text and phone number in the clear
    development_only=True,
)


class ConsoleVendor:
    name = "console"

    def __init__(self, config: Config | None) -> None:
        self.config = config or Config()
        self.priority = self.config.priority

    def send(self, message: SmsMessage) -> SendResult:
        record = msgspec.to_builtins(message)
        line = json.dumps(record, ensure_ascii=False)
        path = _path(self.config)
        with _lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        log.info("SMS to %s: %s", message.phone[-4:].rjust(11, "*"), message.text)
        return SendResult(ok=True, vendor_ref=message.id)


def _authentic(config: Config, headers: dict[str, str]) -> bool:
    token = config.webhook_token
    return bool(token) and hmac.compare_digest(token, headers.get("x-console-token", ""))


class _Inbound(msgspec.Struct):
    id: str
    phone: str
    text: str = ""


class _Receipt(msgspec.Struct):
    id: str
    status: str
    error: str = ""


@hookimpl
def register_sms_vendors(config: Config | None) -> list[ConsoleVendor]:
    return [ConsoleVendor(config)]


@hookimpl
def read_sms_inbound(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsInboundAnswer | CallbackRefused | None:
    """``[{"id": ..., "phone": ..., "text": ...}, ...]``"""
    if vendor != ConsoleVendor.name:
        return None
    if not _authentic(config or Config(), headers):
        return {"error": "X-Console-Token 不符或未配置"}
    try:
        replies = msgspec.json.decode(body, type=list[_Inbound])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {"messages": [SmsInbound(reference=m.id, phone=m.phone, text=m.text) for m in replies]}


@hookimpl
def read_sms_receipts(
    config: Config | None, vendor: str, headers: dict[str, str], body: bytes
) -> SmsReceiptsAnswer | CallbackRefused | None:
    """``[{"id": OUR_ID, "status": "DELIVRD" | other, "error": ...}, ...]``"""
    if vendor != ConsoleVendor.name:
        return None
    if not _authentic(config or Config(), headers):
        return {"error": "X-Console-Token 不符或未配置"}
    try:
        reports = msgspec.json.decode(body, type=list[_Receipt])
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"error": f"无法解析：{exc}"}
    return {
        "receipts": [
            SmsReceipt(reference=r.id, delivered=r.status == "DELIVRD", error=r.error)
            for r in reports
        ]
    }


def read_outbox(path: Path | None = None) -> list[dict[str, Any]]:
    """Every message written so far (tests and the demo read this)."""
    path = path or _path(None)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
