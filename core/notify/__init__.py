"""Notifications: SMS vendors (from plugins), message templates, sending with failover."""

from core.notify.http import pooled_client
from core.notify.sms import DEFAULT_TEMPLATES, render_sms, send_sms_now
from core.notify.types import (
    NoSmsVendor,
    SendResult,
    SmsInbound,
    SmsMessage,
    SmsReceipt,
    SmsVendor,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "NoSmsVendor",
    "SendResult",
    "SmsInbound",
    "SmsMessage",
    "SmsReceipt",
    "SmsVendor",
    "pooled_client",
    "render_sms",
    "send_sms_now",
]
