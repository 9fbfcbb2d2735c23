"""Every hook govhall calls, in one place. Each docstring is that hook's reference.

Plugins implement hooks with ``from core.plugins import hookimpl``. Hooks are called per
tenant, on that tenant's enabled plugins only, one implementation at a time: an
implementation that raises is recorded for the tenant admin and skipped, so the others (and
other tenants' requests) never see its error. Implementations may be plain functions or
``async def``; either way the caller receives the resolved value. No hook is ``firstresult``:
callers receive a list, in call order (``tryfirst`` first, ``trylast`` last).

Hook specifications only ever gain arguments; an implementation may accept fewer.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("govhall")

# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------


@hookspec
def register_sms_vendors(tenant: Any, config: Any) -> list[Any]:
    """Return the SMS vendors this plugin provides for ``tenant``.

    :param tenant: the :class:`core.tenancy.Tenant` the message is sent for.
    :param config: this plugin's validated configuration for that tenant (an instance of the
        plugin's ``meta.config`` struct), or ``None`` when the plugin declares none.
    :returns: a list of objects following :class:`core.notify.SmsVendor` (a ``name``
        attribute and ``send(message) -> SendResult``). The caller tries them in order of
        their ``priority`` (higher first) and fails over on error.
    """


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


@hookspec
def extra_template_vars(tenant: Any, config: Any, template: str) -> dict[str, Any]:
    """Return variables to add to the context of every page rendered for ``tenant``.

    :param tenant: the tenant whose page is rendered.
    :param config: this plugin's validated configuration for that tenant.
    :param template: the template's name, e.g. ``"portal/home.html"``.
    :returns: a dict merged into the template context under ``plugin_vars`` (later plugins
        win on a clash). Keys should be prefixed with the plugin's name.
    """


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------


@hookspec
def create_shipment(tenant: Any, config: Any, shipment: dict[str, Any]) -> dict[str, Any] | None:
    """Book a courier to deliver a case's result (快递送达).

    :param tenant: the tenant delivering.
    :param config: this plugin's validated configuration for that tenant.
    :param shipment: ``reference`` (the case number, use it as your idempotency key),
        ``recipient``, ``phone``, ``address``, ``contents``, ``sender``.
    :returns: ``{"carrier": NAME, "tracking_number": NUMBER}`` when this plugin booked it, or
        ``None`` to leave it to another plugin. The first answer with a tracking number wins;
        with none, the staff member is told that courier delivery is not available.
    """
