"""Rendering pages: one layout, tenant branding, language, plugin variables, CSRF."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from core.audit.query import FIELD_LABELS
from core.cases.action_types import ACTION_LABELS
from core.cases.mine import rating_label
from core.config import get_settings
from core.forms.model import date_bound
from core.identity import ROLE_LABELS
from core.notify.sms import DEFAULT_TEMPLATES
from core.tenancy import Tenant
from core.tenancy.models import UNIT_KIND_LABELS
from web.flash import checked
from web.i18n import LANGUAGES, translations
from web.idempotency import hidden_input

__all__ = [
    "TEMPLATES",
    "css_color",
    "css_rgb",
    "css_shade",
    "lang_of",
    "page",
    "script_json",
    "template_config",
    "upload_limit_mb",
]

TEMPLATES = Path(__file__).parent / "templates"


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # Templates ship with the code and change only with a restart: no file's modification time
    # is checked on every render (about 3% of a search page's time did that).
    env.auto_reload = False
    env.policies["ext.i18n.trimmed"] = True
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["ROLE_LABELS"] = {r.value: label for r, label in ROLE_LABELS.items()}
    #: the largest upload in MB, for pages to say before a file is chosen (upload.js checks it)
    env.globals["upload_limit_mb"] = upload_limit_mb()
    env.globals["ACTION_LABELS"] = ACTION_LABELS
    #: a score's words (95 → 非常满意), however it was given
    env.globals["rating_words"] = rating_label
    #: a date field's min / max for the browser's date picker (``today`` as today's date)
    env.globals["date_bound"] = lambda text: date_bound(text).isoformat()
    #: the hidden Idempotency-Key of a case form: posted twice, its work is done once
    env.globals["idempotency_input"] = hidden_input
    env.globals["UNIT_KIND_LABELS"] = {k.value: label for k, label in UNIT_KIND_LABELS.items()}
    env.filters["localtime"] = _localtime
    env.filters["plain"] = plain_codes
    env.filters["css_color"] = css_color
    env.filters["css_rgb"] = css_rgb
    env.filters["css_shade"] = css_shade


def upload_limit_mb() -> int | float:
    """The largest body or upload (``GOVHALL_MAX_UPLOAD_BYTES``) in MB: 20, or 7.5."""
    mb = get_settings().max_upload_bytes / 1_048_576
    return int(mb) if mb == int(mb) else round(mb, 1)


_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def css_color(value: Any, default: str) -> str:
    """A colour for a style block: ``#rrggbb`` or the default — never text that could close
    the rule (packs validate colours; this holds even for a row edited by hand)."""
    return value if isinstance(value, str) and _HEX_COLOR.fullmatch(value) else default


def css_rgb(value: Any, default: str) -> str:
    """``r, g, b`` of a colour, for Bootstrap's ``--bs-primary-rgb`` (tints and badges)."""
    color = css_color(value, default)
    return ", ".join(str(int(color[i : i + 2], 16)) for i in (1, 3, 5))


def css_shade(value: Any, default: str, factor: float = 0.82) -> str:
    """The colour darkened (``factor`` < 1) for hover and pressed states."""
    color = css_color(value, default)
    parts = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{max(0, min(255, round(p * factor))):02x}" for p in parts)


def script_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: no ``<``, ``>`` or ``&`` in it,
    so no name typed by a user can close the block or open a comment."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _localtime(value: Any) -> str:
    """A timestamp as Beijing time, to the minute (stored in UTC)."""
    from core.cases.clock import TZ

    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if value else ""


_SMS_NAMES = {key: FIELD_LABELS.get(key, key) for key in DEFAULT_TEMPLATES}
_SMS_CODE = re.compile(
    r"(?<![A-Za-z0-9_])("
    + "|".join(sorted(_SMS_NAMES, key=len, reverse=True))
    + r")(?![A-Za-z0-9_])"
)


def plain_codes(text: str) -> str:
    """A plugin's or vendor's own words with our SMS template names (``case_received``) put
    as an admin calls them (“收件通知”): the one vocabulary of the audit log."""
    return _SMS_CODE.sub(lambda m: f"“{_SMS_NAMES[m.group(1)]}”", str(text))


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def _newstyle(text: str, context: Context, variables: dict[str, Any]) -> str:
    """As Jinja's i18n extension does it: escaped when the template autoescapes, and always
    a format string (``_("共 %(n)s 项", n=3)``)."""
    # our own translated text, escaped by the template like any literal: as Jinja's i18n does
    shown: str = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    return shown % variables


@lru_cache(maxsize=4)
def _callables(lang: str) -> tuple[Callable[..., str], Callable[..., str]]:
    """New-style gettext and ngettext for one language."""
    trans = translations(lang)

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        return _newstyle(trans.gettext(message), context, variables)

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        return _newstyle(trans.ngettext(singular, plural, num), context, variables)

    return gettext, ngettext


def lang_of(request: Request[Any, Any, Any]) -> str:
    """The visitor's chosen language (the ``lang`` cookie), else ``GOVHALL_DEFAULT_LANG``."""
    default = get_settings().default_lang
    default = default if default in LANGUAGES else "zh"
    lang = request.cookies.get("lang", default)
    return lang if lang in LANGUAGES else default


def page(
    request: Request[Any, Any, Any],
    name: str,
    *,
    tenant: Tenant | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A full page (or, for an htmx request, the same template: partials start with ``_``)."""
    lang = lang_of(request)
    gettext, ngettext = _callables(lang)
    ctx: dict[str, Any] = {
        "request": request,
        "tenant": tenant,
        "lang": lang,
        "elder": request.cookies.get("elder") == "1",
        "gettext": gettext,
        "ngettext": ngettext,
        "_": gettext,
        "principal": request.scope.get("state", {}).get("principal"),
        "base": f"/t/{tenant.slug}" if tenant else "",
        "plugin_vars": {},
        "calendar_warnings": [],
    }
    session = request.scope.get("session")
    #: a province admin managing this county after entering it (web.auth.enter_tenant)
    ctx["entered"] = bool(
        tenant is not None
        and isinstance(session, dict)
        and session.get("entered") == str(tenant.id)
    )
    if tenant is not None:
        ctx["branding"] = tenant.branding
        ctx["plugin_vars"] = request.scope.get("state", {}).get("plugin_vars", {})
    ctx.update(context)
    checked(request.query_params, ctx)
    return Template(template_name=name, context=ctx, status_code=status_code)
