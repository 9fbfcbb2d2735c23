"""Item codes (事项编码): one rule at every door — the editor, the API, imports, tenant packs and
plugins' ``register_items`` — so that every item a tenant can create also has a page.

A code is 1–64 characters of ``A–Z a–z 0–9 - _ .``, starting with a letter or a digit. These
characters never need escaping in a URL path, so ``/t/<slug>/items/<code>`` reaches the item;
a ``/`` (``CL/P/E14``) or a space would make an item that is searchable but has no page.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidInput

__all__ = ["CODE_RULE", "MAX_CODE_LENGTH", "check_code", "tidy_code"]

MAX_CODE_LENGTH = 64
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: The rule as a person reads it (messages and docs/catalog.md).
CODE_RULE = "编码只能由英文字母、数字和 - _ . 组成，以字母或数字开头，最多 64 个字符"


def tidy_code(code: str) -> str:
    """Full-width letters and digits as typed in a Chinese spreadsheet become ASCII, and the
    spaces around the code go."""
    return unicodedata.normalize("NFKC", code or "").strip()


def check_code(code: str, *, field: str = "code") -> str:
    """The code, tidied (:func:`tidy_code`); refused in Chinese when it breaks the rule."""
    tidy = tidy_code(code)
    if not tidy:
        raise InvalidInput("编码不能为空", field=field)
    if len(tidy) > MAX_CODE_LENGTH:
        raise InvalidInput(
            f"编码「{_shown(tidy)}」有 {len(tidy)} 个字符，最多 {MAX_CODE_LENGTH} 个", field=field
        )
    if not _CODE.fullmatch(tidy):
        raise InvalidInput(f"编码「{_shown(tidy)}」不可用：{CODE_RULE}", field=field)
    return tidy


def _shown(code: str) -> str:
    return code if len(code) <= 40 else code[:37] + "…"
