"""sms_console: an SMS vendor for development that writes each message to the log and to an
inspectable outbox file (one JSON object a line)."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import msgspec

from core.config import get_settings
from core.notify import SendResult, SmsMessage
from core.plugins import PluginMeta, hookimpl

log = logging.getLogger("govhall.sms_console")
_lock = threading.Lock()


class Config(msgspec.Struct, kw_only=True):
    #: where messages are appended; empty: var/sms-outbox.jsonl
    outbox_path: str = ""
    priority: int = 0


def _path(config: Config | None) -> Path:
    if config and config.outbox_path:
        return Path(config.outbox_path)
    return Path(get_settings().var_dir) / "sms-outbox.jsonl"


def _check(config: Config | None) -> list[str]:
    path = _path(config)
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
    description="Writes SMS messages to the log and to a JSON-lines outbox file.",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
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


@hookimpl
def register_sms_vendors(config: Config | None) -> list[ConsoleVendor]:
    return [ConsoleVendor(config)]


def read_outbox(path: Path | None = None) -> list[dict]:
    """Every message written so far (tests and the demo read this)."""
    path = path or _path(None)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
