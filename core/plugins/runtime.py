"""What the running installation offers a plugin besides hooks: its data directory, a pooled
HTTP client (for vendors' addresses only: see :mod:`core.plugins.outbound`), and the SMS
templates the core sends."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import httpx

from core.config import get_settings
from core.plugins.outbound import guarded_transport

__all__ = ["SMS_TEMPLATES", "provide_sms_templates", "pooled_client", "var_dir"]


def var_dir() -> Path:
    """The installation's own writable directory (``GOVHALL_VAR_DIR``), resolved. A plugin
    writing files keeps them inside it, never where a tenant's config points."""
    return Path(get_settings().var_dir).resolve()


_clients: dict[float, httpx.Client] = {}


def pooled_client(timeout: float) -> httpx.Client:
    """A thread-safe HTTP client shared by every caller asking for the same ``timeout``: a
    vendor object may be made for every message, its connections must not be.

    Its connections reach public addresses only (loopback, private, link-local and reserved
    ones are refused when the connection is made, whatever the name resolves to; see
    :mod:`core.plugins.outbound`), it follows no redirect and uses no environment proxy."""
    client = _clients.get(timeout)
    if client is None:
        client = _clients.setdefault(
            timeout,
            httpx.Client(
                timeout=timeout,
                transport=guarded_transport(),
                follow_redirects=False,
                trust_env=False,
            ),
        )
    return client


_templates: dict[str, str] = {}

#: Every SMS template the core sends, by name, with its default text (a tenant may reword
#: them; the parameters stay): a vendor sending by template code needs one code per name.
#: Read-only; filled by :mod:`core.notify` (which owns the texts) when it is imported, as it
#: is wherever messages are sent.
SMS_TEMPLATES: Mapping[str, str] = MappingProxyType(_templates)


def provide_sms_templates(templates: Mapping[str, str]) -> None:
    """Called by :mod:`core.notify` with its templates; not for plugins."""
    _templates.clear()
    _templates.update(templates)
