"""What a plugin declares about itself: name, version, compatibility, configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import core
from core.errors import InvalidInput
from core.plugins.secrets import full_schema, redact

__all__ = ["PluginConfig", "PluginMeta"]

#: what a hook receives as ``config``: the plugin's validated config struct for the tenant,
#: or None when the plugin declares none
PluginConfig = msgspec.Struct | None


@dataclass(frozen=True)
class PluginMeta:
    """Module-level ``meta = PluginMeta(...)`` in every plugin.

    ``config`` is a ``msgspec.Struct`` type: its JSON schema draws the admin form and
    validates what a tenant admin saves. ``check`` returns a list of problems (empty: healthy)
    for a given validated config; it may reach the vendor, so it runs only on request.
    """

    name: str
    version: str
    title: str
    description: str = ""
    core_compat: str = ">=0.1"
    config: type[msgspec.Struct] | None = None
    check: Callable[[Any], list[str]] | None = None
    #: ``(session, tenant, config) -> problems``, run when a tenant turns the plugin on:
    #: any problem refuses it (e.g. a bundle naming an item the county does not offer)
    validate: Callable[[Any, Any, Any], list[str]] | None = None
    default_enabled: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: a development aid (the console SMS vendor): it cannot be enabled, and is not called,
    #: when ``GOVHALL_ENV=production``
    development_only: bool = False

    def compatible(self, core_version: str = core.__version__) -> bool:
        return Version(core_version) in SpecifierSet(self.core_compat)

    def config_schema(self) -> dict[str, Any]:
        """The config's JSON schema (with ``$defs``); secrets are marked ``writeOnly``."""
        return full_schema(self.config)

    def redact(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with every secret set replaced by the mask: what may be shown."""
        return redact(self.config_schema(), config)

    def parse_config(self, raw: dict[str, Any] | None) -> Any:
        """Validate ``raw`` against the declared schema; errors name the field."""
        if self.config is None:
            if raw:
                raise InvalidInput(f"插件 {self.name} 没有可配置的项", field="config")
            return None
        try:
            return msgspec.convert(raw or {}, self.config, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"{self.name} 的配置不正确：{exc}", field="config") from exc

    def dump_config(self, config: Any) -> dict[str, Any]:
        return msgspec.to_builtins(config) if config is not None else {}
