"""Write-only configuration values: vendor passwords, API keys, signing secrets.

**Which fields are secret.** A plugin declares each secret in its config struct, at any depth
(a list of departments each with its ``secret`` included): :data:`Secret` for a string,
:data:`SecretMap` for a mapping whose every value is secret. Both put ``"writeOnly": true``
in the field's JSON schema, which is what everything below reads. As a safety net for
plugins written before the declaration existed, an undeclared string field whose name
contains ``secret``, ``password`` or ``token`` is treated as secret too — deprecated:
:func:`undeclared_secrets` names such fields so they can be declared (the fallback goes in
0.3). Nothing else is secret: ``api_key`` or ``access_key`` are not, unless declared.

**How they are masked.** Everything that shows a config — the API, the admin page, the
command line, the audit log, tenant-pack exports and diffs — passes it through :func:`redact`
first, so a saved secret is never sent back, only :data:`SECRET_MASK` in its place (an empty
secret stays empty: the admin sees it is unset). Texts that might quote one — self-check
results, recorded plugin errors — have every secret value of four characters or more
replaced by the mask (:func:`secret_values`). A config that comes back with the mask where a
secret was keeps the saved value (:func:`keep_secrets`) — unless the address it is sent to
(``url``, ``endpoint``, ``…_url``) changed, when it must be entered again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from core.errors import InvalidInput

__all__ = [
    "SECRET_MASK",
    "Secret",
    "SecretMap",
    "full_schema",
    "is_secret",
    "keep_secrets",
    "redact",
    "secret_values",
    "undeclared_secrets",
]

#: What a saved secret looks like on the way out; sent back unchanged, it keeps the value.
SECRET_MASK = "********"  # noqa: S105 - the placeholder shown instead of a secret

Secret = Annotated[str, msgspec.Meta(extra_json_schema={"writeOnly": True, "format": "password"})]
SecretMap = Annotated[dict[str, str], msgspec.Meta(extra_json_schema={"writeOnly": True})]

_SECRET_WORDS = ("secret", "password", "token")


def full_schema(config_type: type[msgspec.Struct] | None) -> dict[str, Any]:
    """The config's JSON schema with the definitions its ``$ref``s point to."""
    if config_type is None:
        return {"type": "object", "properties": {}}
    _, components = msgspec.json.schema_components([config_type])
    root: dict[str, Any] = components[config_type.__name__]
    return {**root, "$defs": components}


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        found = defs.get(ref.removeprefix("#/$defs/"))
        return found if isinstance(found, dict) else {}
    return node


def is_secret(node: dict[str, Any], name: str | None) -> bool:
    """Whether a field is secret: declared write-only, or (deprecated) a string named so."""
    return bool(node.get("writeOnly")) or _named_secret(node, name)


def _named_secret(node: dict[str, Any], name: str | None) -> bool:
    named = name is not None and any(word in name.lower() for word in _SECRET_WORDS)
    return named and node.get("type") == "string" and not node.get("writeOnly")


def undeclared_secrets(config_type: type[msgspec.Struct] | None) -> list[str]:
    """The fields of a config treated as secret only for their names (``departments[].token``):
    each should be declared :data:`Secret`; the name alone stops counting in 0.3."""
    schema = full_schema(config_type)
    defs = schema.get("$defs") or {}
    found: list[str] = []

    def walk(node: dict[str, Any], path: str, seen: frozenset[str]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return
            seen = seen | {ref}
        node = _resolve(node, defs)
        for option in node.get("anyOf") or []:
            walk(option, path, seen)
        for key, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict):
                here = f"{path}.{key}" if path else key
                if _named_secret(_resolve(prop, defs), key):
                    found.append(here)
                walk(prop, here, seen)
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, f"{path}[]", seen)

    walk(schema, "", frozenset())
    return sorted(set(found))


def _map(
    node: dict[str, Any],
    value: Any,
    defs: dict[str, Any],
    leaf: Callable[[Any, tuple[Any, ...]], Any],
    path: tuple[Any, ...] = (),
    name: str | None = None,
) -> Any:
    """``value`` with every secret leaf replaced by ``leaf(value, path)``."""
    node = _resolve(node, defs)
    if is_secret(node, name):
        if isinstance(value, dict):
            return {k: leaf(v, (*path, k)) for k, v in value.items()}
        return leaf(value, path)
    for option in node.get("anyOf") or []:
        option = _resolve(option, defs)
        if option.get("type") != "null" and value is not None:
            return _map(option, value, defs, leaf, path, name)
    if isinstance(value, dict):
        props = node.get("properties") or {}
        extra = node.get("additionalProperties")
        out = {}
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else {})
            out[key] = _map(sub, item, defs, leaf, (*path, key), key)
        return out
    if isinstance(value, list):
        items: dict[str, Any] = node["items"] if isinstance(node.get("items"), dict) else {}
        return [_map(items, v, defs, leaf, (*path, i)) for i, v in enumerate(value)]
    return value


def redact(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as it may be shown: each secret that is set becomes :data:`SECRET_MASK`."""
    defs = schema.get("$defs") or {}
    shown: dict[str, Any] = _map(schema, config, defs, lambda v, _: SECRET_MASK if v else v)
    return shown


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _is_address(key: object) -> bool:
    return isinstance(key, str) and (key in ("url", "endpoint") or key.endswith("_url"))


def _moved(incoming: dict[str, Any], saved: dict[str, Any], path: tuple[Any, ...]) -> str | None:
    """The address field that changed in the object nearest ``path`` that has one: a secret
    kept from before must not follow its settings to a new address."""
    for depth in range(len(path) - 1, -1, -1):
        new, old = _at(incoming, path[:depth]), _at(saved, path[:depth])
        if not isinstance(new, dict):
            continue
        addresses = [k for k in new if _is_address(k)]
        if addresses:
            old = old if isinstance(old, dict) else {}
            return next((k for k in addresses if new.get(k) != old.get(k)), None)
    return None


def keep_secrets(
    schema: dict[str, Any], incoming: dict[str, Any], saved: dict[str, Any]
) -> dict[str, Any]:
    """``incoming`` with each secret that is :data:`SECRET_MASK` (or left out of a top-level
    field) replaced by the saved value at the same place — unless the address it is sent to
    (``url``, ``endpoint``, ``…_url``) changed: then it must be entered again (422)."""
    defs = schema.get("$defs") or {}

    def keep(value: Any, path: tuple[Any, ...]) -> Any:
        if value != SECRET_MASK:
            return value
        moved = _moved(incoming, saved, path)
        if moved is not None:
            where = ".".join(str(p) for p in path)
            raise InvalidInput(f"地址（{moved}）已更改，请重新填写密钥 {where}", field=where)
        return _at(saved, path) or ""

    merged: dict[str, Any] = _map(schema, incoming, defs, keep)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in merged and name in saved and is_secret(_resolve(prop, defs), name):
            merged[name] = keep(SECRET_MASK, (name,))
    return merged


def secret_values(schema: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Every secret string set in ``config`` (to scrub them out of error texts)."""
    found: list[str] = []

    def collect(value: Any, _: tuple[Any, ...]) -> Any:
        if isinstance(value, str) and value and value != SECRET_MASK:
            found.append(value)
        return value

    _map(schema, config, schema.get("$defs") or {}, collect)
    return found
