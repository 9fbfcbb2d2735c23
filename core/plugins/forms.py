"""A plugin's config form, drawn from its JSON schema: one field per property — text, number,
a checkbox, a choice, or JSON for maps and lists — and the submitted form read back into a
config. Secrets (declared write-only, see :mod:`core.plugins.secrets`) are never sent back to
the browser: a secret field is shown empty and, left blank, keeps the saved value; inside a
JSON field a saved secret shows as the mask, which also keeps it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.plugins.secrets import SECRET_MASK, is_secret, keep_secrets, redact

__all__ = ["Field", "fields_of", "read_form"]

#: one "key: value" pair a line (a full-width colon, = and a tab do too)
_PAIR_SEPARATORS = ("：", ":", "=", "\t")


#: Chinese names for config keys many plugins share; a plugin names its own keys with
#: ``Annotated[str, msgspec.Meta(title="…")]`` (the schema's title wins over this list)
COMMON_LABELS = {
    "endpoint": "接口地址",
    "url": "接口地址",
    "method": "请求方式",
    "encoding": "提交格式",
    "priority": "优先级（数字大者先用）",
    "timeout_seconds": "超时（秒）",
    "secret": "密钥",
    "access_key_id": "访问密钥编号（AccessKey ID）",
    "access_key_secret": "访问密钥（AccessKey Secret）",
    "sign_name": "短信签名",
    "template_codes": "短信模板编号对应",
    "fields": "字段对应",
    "static": "固定参数（按密钥保存）",
    "success_field": "成功标志字段",
    "success_value": "成功标志取值",
    "success_text": "成功标志文字",
    "ref_field": "回执编号字段",
    "partner_id": "客户编号",
    "carrier_name": "快递公司名称",
    "sender_phone": "寄件联系电话",
    "sender_address": "寄件地址",
    "webhook_token": "回调令牌",
    "outbox_path": "短信输出文件",
    "departments": "部门接口",
    "offer": "提供的联办事项",
    "income_limit": "低保收入标准（元/人·年）",
    "notice": "提示语",
}


@dataclass
class Field:
    name: str
    kind: str  # text | secret | integer | number | boolean | choice | json
    value: str  # as shown in the form
    choices: list[str]
    is_set: bool = False  # a secret with a saved value
    label: str = ""  # what the admin reads: the schema's title, a common name, or the key
    help: str = ""  # the schema's description


def _kind(prop: dict[str, Any], name: str) -> str:
    if "enum" in prop:
        return "choice"
    kind = prop.get("type")
    if kind == "string":
        return "secret" if is_secret(prop, name) else "text"
    if kind in ("integer", "number", "boolean"):
        return str(kind)
    return "json"


def fields_of(schema: dict[str, Any], config: dict[str, Any]) -> list[Field]:
    out = []
    shown_config = redact(schema, config)
    for name, prop in (schema.get("properties") or {}).items():
        kind = _kind(prop, name)
        value = shown_config.get(name, prop.get("default", ""))
        if kind == "json" and isinstance(value, str) and value:
            shown = value  # as typed, sent back beside its error
        elif kind == "json":
            shown = json.dumps(value if value != "" else {}, ensure_ascii=False, indent=1)
        elif kind == "secret":
            shown = ""
        elif kind == "boolean":
            shown = "on" if value else ""
        else:
            shown = "" if value is None else str(value)
        label = prop.get("title") or COMMON_LABELS.get(name) or name
        out.append(
            Field(
                name,
                kind,
                shown,
                [str(c) for c in prop.get("enum", [])],
                bool(value),
                label=str(label),
                help=str(prop.get("description") or ""),
            )
        )
    return out


def read_form(
    schema: dict[str, Any], form: dict[str, str], saved: dict[str, Any]
) -> dict[str, Any]:
    """The config a submitted form stands for; a value of the wrong shape is a 422 naming
    its field."""
    config: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind, raw = _kind(prop, name), (form.get(name) or "").strip()
        label = prop.get("title") or COMMON_LABELS.get(name) or name
        if kind == "boolean":
            config[name] = form.get(name) == "on"
        elif kind == "secret":
            if raw:
                config[name] = raw
            elif name in saved:
                config[name] = SECRET_MASK  # kept, if its address stays (keep_secrets)
        elif not raw:
            continue  # the default applies
        elif kind == "integer":
            try:
                config[name] = int(raw)
            except ValueError:
                raise InvalidInput(f"{label}应为整数", field=name) from None
        elif kind == "number":
            try:
                config[name] = float(raw)
            except ValueError:
                raise InvalidInput(f"{label}应为数字", field=name) from None
        elif kind == "json":
            config[name] = _json_or_lines(raw, prop, name, label)
        else:
            config[name] = raw
    return keep_secrets(schema, config, saved)


def _json_or_lines(raw: str, prop: dict[str, Any], name: str, label: str) -> Any:
    """A JSON field as typed: JSON, or — for a map of words (模板编号对应) — one ``名称: 值``
    a line, as an administrator writes it without knowing JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    if prop.get("type") == "object" and not raw.lstrip().startswith(("{", "[")):
        pairs: dict[str, str] = {}
        for line in raw.splitlines():
            if not line.strip():
                continue
            at = min((i for i in (line.find(sep) for sep in _PAIR_SEPARATORS) if i > 0), default=-1)
            if at < 0:
                raise InvalidInput(
                    f"{label}：「{line.strip()[:40]}」应写作 名称: 值（每行一项）", field=name
                )
            pairs[line[:at].strip()] = line[at + 1 :].strip()
        return pairs
    raise InvalidInput(f"{label}的格式不对：请按示例填写（每行一项 名称: 值，或 JSON）", field=name)
