"""在线咨询与投诉: citizens' questions about items and complaints about their cases, answered
by the department within a limit in working days (see docs/consultations.md)."""

from core.consult.models import Consultation
from core.consult.service import (
    DEFAULT_REPLY_DAYS,
    KIND_LABELS,
    STATE_LABELS,
    FaqEntry,
    answer,
    ask,
    askable_items,
    complain,
    department_names,
    get_for_citizen,
    get_for_staff,
    list_for_citizen,
    list_for_staff,
    may_answer,
    open_counts,
    public_faq,
    reply_days,
    state_of,
)

__all__ = [
    "DEFAULT_REPLY_DAYS",
    "KIND_LABELS",
    "STATE_LABELS",
    "Consultation",
    "FaqEntry",
    "answer",
    "ask",
    "askable_items",
    "complain",
    "department_names",
    "get_for_citizen",
    "get_for_staff",
    "list_for_citizen",
    "list_for_staff",
    "may_answer",
    "open_counts",
    "public_faq",
    "reply_days",
    "state_of",
]
