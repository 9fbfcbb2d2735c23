"""A sample vendor plugin, shipped as its own package: it shows a notice on the portal of
each county that enables it, and offers an SMS vendor that keeps messages in memory."""

from __future__ import annotations

import msgspec

from core.notify import SendResult, SmsMessage
from core.plugins import PluginMeta, hookimpl

SENT: list[SmsMessage] = []


class Config(msgspec.Struct, kw_only=True):
    notice: str = "本地区已接入示例服务商。"
    priority: int = 1


meta = PluginMeta(
    name="sample_vendor",
    version="1.2.0",
    title="示例服务商插件",
    description="第三方服务商示例插件（以安装包方式接入）。",
    core_compat=">=0.1,<1",
    config=Config,
)


class MemoryVendor:
    name = "sample"

    def __init__(self, config: Config) -> None:
        self.priority = config.priority

    def send(self, message: SmsMessage) -> SendResult:
        SENT.append(message)
        return SendResult(ok=True, vendor_ref=message.id)


@hookimpl
def extra_template_vars(config: Config | None, template: str) -> dict[str, str]:
    if template != "portal/home.html":
        return {}
    return {"sample_vendor_banner": (config or Config()).notice}


@hookimpl
def register_sms_vendors(config: Config | None) -> list[MemoryVendor]:
    return [MemoryVendor(config or Config())]
