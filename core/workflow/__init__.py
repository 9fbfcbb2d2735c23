"""The workflow: process definitions as data (and, next, cases moving through them)."""

from core.workflow.definitions import (
    BUILT_IN,
    ProcessDefinition,
    Step,
    parse_definition,
    validate_definition,
)
from core.workflow.service import (
    ProcessUnavailable,
    known_codes,
    resolve_definition,
    save_definition,
)

__all__ = [
    "BUILT_IN",
    "ProcessDefinition",
    "ProcessUnavailable",
    "Step",
    "known_codes",
    "parse_definition",
    "resolve_definition",
    "save_definition",
    "validate_definition",
]
