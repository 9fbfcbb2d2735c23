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
from core.validation import plain

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
    #: ``(lookup, tenant, config) -> problems``, run when a tenant turns the plugin on: any
    #: problem refuses it (e.g. a bundle naming an item the county does not offer). ``lookup``
    #: is a read-only :class:`core.plugins.Lookup` of the tenant (a raw session before 0.2:
    #: ``lookup_for(lookup, tenant)`` accepts either)
    validate: Callable[[Any, Any, Any], list[str]] | None = None
    default_enabled: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: a development aid (the console SMS vendor): it cannot be enabled, and is not called,
    #: when ``GOVHALL_ENV=production``
    development_only: bool = False
    #: the tenants it is meant for: tenant slugs (``"suning"``) and/or kinds (``"province"``,
    #: ``"city"``, ``"county"``, ``"district"``); empty, everyone. Any other tenant neither
    #: lists it nor can enable it (a county's own procedures stay that county's).
    applies_to: tuple[str, ...] = field(default_factory=tuple)
    #: where it stands among the tenant's plugins answering a first-result hook (higher is
    #: asked first) unless its config declares a ``priority`` field, which then wins per tenant
    priority: int = 0

    def __post_init__(self) -> None:
        given: Any = self.applies_to  # a list, or one slug, is taken as meant
        names = (given,) if isinstance(given, str) else tuple(given)
        object.__setattr__(self, "applies_to", names)

    def applies(self, tenant: Any) -> bool:
        """Whether ``tenant`` (its slug or its kind) is one this plugin is meant for."""
        if not self.applies_to:
            return True
        kind = getattr(tenant.kind, "value", tenant.kind)
        return tenant.slug in self.applies_to or str(kind) in self.applies_to

    def priority_for(self, config: Any) -> int:
        """The priority for a tenant with this validated config (its ``priority`` field, when
        the config declares one, else :attr:`priority`)."""
        value = getattr(config, "priority", None)
        return value if isinstance(value, int) and not isinstance(value, bool) else self.priority

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
            wrong = plain(str(exc))  # in Chinese, with the path to the field
            raise InvalidInput(f"“{self.title}”的配置不正确：{wrong}", field="config") from exc

    def dump_config(self, config: Any) -> dict[str, Any]:
        return msgspec.to_builtins(config) if config is not None else {}
