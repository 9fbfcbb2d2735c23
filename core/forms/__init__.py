"""Application forms as data (表单化): the definition an item carries, the one validator
every channel uses, the JSON Schema other front ends read, and the checks of identifiers."""

from core.forms.checks import (
    CheckFailed,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from core.forms.display import Line, as_text, lines, mask, masked, printed
from core.forms.model import FIELD_TYPES, PREFILL_SOURCES, Condition, FormField, Option, parse_form
from core.forms.schema import json_schema
from core.forms.validate import Filled, FormInvalid, fill, is_empty, require_valid, visible

__all__ = [
    "FIELD_TYPES",
    "PREFILL_SOURCES",
    "CheckFailed",
    "Condition",
    "Filled",
    "FormField",
    "FormInvalid",
    "Line",
    "Option",
    "as_text",
    "fill",
    "is_empty",
    "json_schema",
    "lines",
    "mask",
    "masked",
    "normalize_credit_code",
    "normalize_id_number",
    "normalize_mobile",
    "parse_form",
    "printed",
    "require_valid",
    "visible",
]
