"""UI language: Chinese (zh-CN) is the source language of every string; English is a Babel
catalog (``web/i18n/en.po``) compiled in memory at start-up."""

from __future__ import annotations

import gettext as _gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["LANGUAGES", "translations"]

CATALOGS = Path(__file__).parent / "i18n"
LANGUAGES = {"zh": "中文", "en": "English"}


@lru_cache(maxsize=4)
def translations(lang: str) -> _gettext.NullTranslations:
    path = CATALOGS / f"{lang}.po"
    if lang == "zh" or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)
