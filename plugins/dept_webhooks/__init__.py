"""dept_webhooks: connect departments' own approval systems (Guangxi linked 232 of them).

Per department: where its case events go (a URL and a shared secret; optionally only some
actions), and the OAuth client (client-credentials grant) its system uses to post decisions
back to ``POST /api/v1/t/{slug}/departments/decisions``."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from core.plugins import (
    CaseEvent,
    Lookup,
    PluginMeta,
    Secret,
    Tenant,
    WebhookTarget,
    hookimpl,
    lookup_for,
    url_problem,
)


class Department(msgspec.Struct, kw_only=True):
    #: the org-unit code of the department
    code: str
    url: str
    secret: Secret
    #: the OAuth client its system posts decisions with
    client_id: str = ""
    #: only these actions (e.g. ["accept", "approve"]); empty: every event of its cases
    events: list[str] = []


class Config(msgspec.Struct, kw_only=True):
    departments: list[Department] = []


def _check(config: Config | None) -> list[str]:
    problems = []
    for d in config.departments if config else []:
        if urlsplit(d.url).scheme not in ("http", "https"):
            problems.append(f"{d.code}: 地址应以 http:// 或 https:// 开头")
        elif problem := url_problem(d.url):
            problems.append(f"{d.code}: {problem}")
        if len(d.secret) < 16:
            problems.append(f"{d.code}: 签名密钥至少 16 个字符")
    return problems


def _validate(lookup: Lookup, tenant: Tenant, config: Config | None) -> list[str]:
    lookup = lookup_for(lookup, tenant)
    known = {unit.code for unit in lookup.org_units()}
    departments = config.departments if config else []
    missing = [f"没有编码为 {d.code} 的部门" for d in departments if d.code not in known]
    return missing + _check(config)


meta = PluginMeta(
    name="dept_webhooks",
    version="1.0.0",
    title="部门审批系统对接",
    description="向部门业务系统推送办件动态（签名），并接收部门回传的审批结果。",
    core_compat=">=0.1,<1",
    config=Config,
    check=_check,
    validate=_validate,
    tags=("departments",),
)


@hookimpl
def forward_case_event(config: Config | None, event: CaseEvent) -> list[WebhookTarget]:
    return [
        {"url": d.url, "secret": d.secret}
        for d in (config.departments if config else [])
        if d.code in (event.get("department"), event.get("unit"))
        and (not d.events or event.get("action") in d.events)
    ]


@hookimpl
def department_of_client(config: Config | None, client_id: str) -> str | None:
    for d in config.departments if config else []:
        if d.client_id and d.client_id == client_id:
            return d.code
    return None
