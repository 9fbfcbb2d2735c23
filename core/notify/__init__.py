"""Notifications: SMS vendors (from plugins), message templates, sending with failover.

The vendor interface and its messages are :mod:`core.plugins`' (a plugin imports them from
there); the names below stay for the core and for plugins written for 0.1.
"""

from core.notify.sms import DEFAULT_TEMPLATES, render_sms, send_sms_now
from core.notify.types import (
    NoSmsVendor,
    SendResult,
    SmsInbound,
    SmsMessage,
    SmsReceipt,
    SmsVendor,
)
from core.plugins.runtime import pooled_client, provide_sms_templates

# what a vendor plugin reads as core.plugins.SMS_TEMPLATES: the texts stay owned here
provide_sms_templates(DEFAULT_TEMPLATES)

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
