"""Every SMS template has a Chinese name in the audit log: a vendor's template codes are
recorded keyed by template, and the log must not show `case_accepted` to a county admin."""

from __future__ import annotations

from core.audit.query import FIELD_LABELS
from core.notify.sms import DEFAULT_TEMPLATES


def test_every_sms_template_is_named_in_chinese() -> None:
    missing = sorted(set(DEFAULT_TEMPLATES) - set(FIELD_LABELS))
    assert not missing, missing
