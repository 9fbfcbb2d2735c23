"""Checks of the identifiers people type: the resident ID number (GB 11643, ISO 7064 MOD 11-2
check digit), the unified social credit code (GB 32100, its MOD 31 check character) and the
mainland mobile number, each normalised the way people write it."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CheckFailed",
    "normalize_credit_code",
    "normalize_id_number",
    "normalize_mobile",
]

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
#: what people put between digits: spaces (the ideographic one too, after NFKC), dashes of
#: every width, dots, brackets
_PUNCT = re.compile(r"[\s\-‐‑‒–—―.·()]")


class CheckFailed(ValueError):
    """The value is not what it claims to be; ``args[0]`` says why, in Chinese."""


def _fold(value: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def normalize_id_number(value: str) -> str:
    """The 18-character resident ID number, its check digit verified."""
    text = _fold(value)
    if not _ID_RE.match(text):
        raise CheckFailed("身份证号码应为 18 位")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != text[17]:
        raise CheckFailed("身份证号码有误（校验位不符），请逐位核对")
    return text


def normalize_credit_code(value: str) -> str:
    """The 18-character unified social credit code, its check character verified."""
    text = _fold(value)
    if len(text) != 18 or any(c not in _CREDIT_CHARS for c in text):
        raise CheckFailed("统一社会信用代码应为 18 位数字或大写字母")
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(text[:17], _CREDIT_WEIGHTS, strict=True))
    if _CREDIT_CHARS[(31 - total % 31) % 31] != text[17]:
        raise CheckFailed("统一社会信用代码有误（校验位不符），请逐位核对")
    return text


def normalize_mobile(value: str) -> str:
    """The 11-digit mainland mobile number, however it was typed (``+86``, dashes, full
    width)."""
    text = _fold(value)
    for prefix in ("+86", "0086"):
        text = text.removeprefix(prefix)
    if len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not _PHONE_RE.match(text):
        raise CheckFailed("请输入 11 位手机号码")
    return text
