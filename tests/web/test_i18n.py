"""Every string the templates mark for translation has an English translation."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import CATALOGS
from web.templating import TEMPLATES


def test_every_template_string_is_translated_to_english() -> None:
    extracted = {
        message
        for _f, _l, message, _c, _ctx in extract_from_dir(
            str(TEMPLATES),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
        )
    }
    with (CATALOGS / "en.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = sorted(m for m in extracted if not (catalog.get(m) and catalog.get(m).string))
    assert extracted, "no strings extracted: the check itself is broken"
    assert missing == []
