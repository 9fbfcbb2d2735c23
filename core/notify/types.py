"""What an SMS vendor plugin implements and exchanges with the core. The types are defined
in :mod:`core.plugins.types` (plugins import them from :mod:`core.plugins`); they are named
here too for the core's notification code, and for plugins written for 0.1 (deprecated:
import them from ``core.plugins``)."""

from __future__ import annotations

from core.errors import GovhallError
from core.plugins.types import SendResult, SmsInbound, SmsMessage, SmsReceipt, SmsVendor

__all__ = ["NoSmsVendor", "SendResult", "SmsInbound", "SmsMessage", "SmsReceipt", "SmsVendor"]


class NoSmsVendor(GovhallError):
    code = "sms_unavailable"
    status = 503
