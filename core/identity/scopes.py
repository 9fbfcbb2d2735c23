"""What a bearer token may reach: OAuth 2.0 scopes.

A browser session is limited by the person's roles alone. A token is limited twice: by the
roles of whoever it acts for, and by its scopes. ``openid``, ``profile`` and ``phone`` open
only ``/oauth/userinfo``; every route of the JSON API names the API scope it needs (see
``web/api/scoped.py``), which a client must be registered for and the person must have
consented to. ``cases:write`` includes ``cases:read``.
"""

from __future__ import annotations

__all__ = [
    "API_SCOPES",
    "OIDC_SCOPES",
    "SCOPE_LABELS",
    "covers",
    "parse_scope",
    "unknown_scopes",
]

#: the OpenID Connect scopes: who the person is, for ``/oauth/userinfo`` only
OIDC_SCOPES = ("openid", "profile", "phone")

#: the JSON API's scopes, each with what a person is asked to allow (consent page, docs)
API_SCOPES = {
    "cases:read": "查看办件、材料、文书和电子证照",
    "cases:write": "代为申请、提交、补正、撤回、评价办件，办理办件环节",
    "catalog:write": "编辑和发布事项目录",
    "supervision": "电子监察：监察名单、督办、统计和考核",
    "admin": "管理机构、工作人员、插件和下级单位",
    "department": "部门业务系统回传审批结果",
}

SCOPE_LABELS = {
    "openid": "身份标识",
    "profile": "姓名",
    "phone": "手机号码",
    **API_SCOPES,
}

#: what the scope ``api`` of tokens issued before scopes existed stands for
_LEGACY_FULL = "api"

_IMPLIED = {"cases:write": {"cases:read"}}


def parse_scope(text: str | None) -> frozenset[str]:
    """The scopes a stored scope string grants (implied ones included)."""
    granted = set((text or "").split())
    if _LEGACY_FULL in granted:
        granted |= set(API_SCOPES)
    for scope in list(granted):
        granted |= _IMPLIED.get(scope, set())
    return frozenset(granted)


def covers(granted: frozenset[str], needed: str | tuple[str, ...]) -> bool:
    """Whether ``granted`` includes ``needed`` (a tuple: any one of them)."""
    options = (needed,) if isinstance(needed, str) else needed
    return any(option in granted for option in options)


def unknown_scopes(text: str) -> list[str]:
    known = set(OIDC_SCOPES) | set(API_SCOPES)
    return [s for s in text.split() if s not in known]
