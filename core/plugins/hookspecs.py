"""Every hook govhall calls, in one place. Each docstring is that hook's reference.

Plugins implement hooks with ``from core.plugins import hookimpl``. Hooks are called per
tenant, on that tenant's enabled plugins only, one implementation at a time: an
implementation that raises is recorded for the tenant admin and skipped, so the others (and
other tenants' requests) never see its error. Implementations may be plain functions or
``async def``; either way the caller receives the resolved value.

Two kinds of hook. A *collecting* hook asks every enabled plugin and the caller receives a
list, in call order (``tryfirst`` first, ``trylast`` last). A *first-result* hook (marked
"First-result" below, and listed in :data:`FIRST_RESULT`) is a single decision: plugins are
asked in order of their priority for the tenant (higher first: the config's ``priority``
field when the plugin declares one, else ``PluginMeta.priority``; ties in call order) until
one answers something other than ``None`` (or an empty value); the rest are not called. One
that raises is recorded and the next is asked.

**Callbacks from outside** (an SMS vendor's receipts and replies, a carrier's tracking, a
payment provider's notice) are all first-result hooks of one shape: they receive the name in
the URL (``vendor``, ``carrier``, ``provider``), the request's ``headers`` (lower-case names)
and its raw ``body``, and answer ``None`` when the name is not theirs, ``{"error": REASON}``
(:class:`~core.plugins.types.CallbackRefused`) when the request does not verify, or what it
reports. Nothing changes unless a plugin vouches for the request.

The dict formats are typed in :mod:`core.plugins.types`. Hook specifications only ever gain
arguments; an implementation may accept fewer.
"""

from __future__ import annotations

from typing import Any

import pluggy

from core.plugins.meta import PluginConfig
from core.plugins.types import (
    Booking,
    BundleDefinition,
    CallbackRefused,
    CaseEvent,
    FormProblem,
    ItemDefinition,
    PaymentNotice,
    PaymentOrder,
    PaymentRequest,
    ProcessDefinition,
    Shipment,
    SmsInboundAnswer,
    SmsReceiptsAnswer,
    SmsVendor,
    TrackingAnswer,
    WebhookTarget,
)
from core.tenancy import Tenant

__all__ = ["FIRST_RESULT", "hookspec"]

#: the hooks whose answer is a single decision (the docstrings below say "First-result"):
#: asked in priority order until one plugin answers
FIRST_RESULT = frozenset(
    {
        "create_shipment",
        "track_shipment",
        "create_payment",
        "confirm_payment",
        "department_of_client",
        "read_sms_receipts",
        "read_sms_inbound",
    }
)

hookspec = pluggy.HookspecMarker("govhall")

# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------


@hookspec
def register_sms_vendors(tenant: Tenant, config: PluginConfig) -> list[SmsVendor]:
    """Return the SMS vendors this plugin provides for ``tenant``.

    :param tenant: the :class:`core.tenancy.Tenant` the message is sent for.
    :param config: this plugin's validated configuration for that tenant (an instance of the
        plugin's ``meta.config`` struct), or ``None`` when the plugin declares none.
    :returns: a list of objects following :class:`core.plugins.SmsVendor` (``name``,
        ``priority`` and ``send(message: SmsMessage) -> SendResult``). The caller tries them
        healthy first, then by ``priority`` (higher first), and fails over when ``send``
        raises or answers ``ok=False``. ``[]`` when the plugin is not configured to send.
    """


@hookspec
def read_sms_receipts(
    tenant: Tenant, config: PluginConfig, vendor: str, headers: dict[str, str], body: bytes
) -> SmsReceiptsAnswer | CallbackRefused | None:
    """First-result. Read an SMS vendor's delivery-receipt callback (状态报告).

    Called for ``POST /api/v1/t/{slug}/sms/{vendor}/receipts``.

    :param vendor: the vendor named in the URL (an ``SmsVendor.name``); answer ``None``
        when it is not one of yours.
    :param headers: the request headers, lower-case names.
    :param body: the raw request body, exactly as received (verify its signature over this).
    :returns: ``{"receipts": [SmsReceipt(reference=OUR_MESSAGE_ID, delivered=BOOL,
        error=TEXT), ...]}`` for a callback that verifies (each moves its message from sent
        to delivered or failed; unknown or repeated ones are ignored), or ``{"error":
        REASON}`` for one that does not (answered 403, nothing changed).
    """


@hookspec
def read_sms_inbound(
    tenant: Tenant, config: PluginConfig, vendor: str, headers: dict[str, str], body: bytes
) -> SmsInboundAnswer | CallbackRefused | None:
    """First-result. Read an SMS vendor's callback of messages citizens sent (上行短信).

    Called for ``POST /api/v1/t/{slug}/sms/{vendor}/inbound``.

    :param vendor: the vendor named in the URL; answer ``None`` when it is not one of yours.
    :param headers: the request headers, lower-case names.
    :param body: the raw request body, exactly as received.
    :returns: ``{"messages": [SmsInbound(reference=VENDOR_MESSAGE_ID, phone=SENDER,
        text=TEXT), ...]}`` for a callback that verifies — a reply starting with a score
        (0–100) rates the sender's latest finished case, every message is kept once by its
        ``reference`` — or ``{"error": REASON}`` for one that does not (403).
    """


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


@hookspec
def extra_template_vars(tenant: Tenant, config: PluginConfig, template: str) -> dict[str, Any]:
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
def create_shipment(tenant: Tenant, config: PluginConfig, shipment: Shipment) -> Booking | None:
    """First-result. Book a courier to deliver a case's result (快递送达).

    :param tenant: the tenant delivering.
    :param config: this plugin's validated configuration for that tenant.
    :param shipment: ``reference`` (the case number, use it as your idempotency key),
        ``recipient``, ``phone``, ``address``, ``contents``, ``sender``, ``documents``
        (:class:`core.plugins.Shipment`).
    :returns: ``{"carrier": NAME, "tracking_number": NUMBER}`` when this plugin booked it, or
        ``None`` to leave it to another plugin. The first answer with a tracking number wins;
        with none, the staff member is told that courier delivery is not available.
    """


@hookspec
def register_items(tenant: Tenant, config: PluginConfig) -> list[ItemDefinition]:
    """A county's own items (local procedures), in the tenant pack's item format.

    :param tenant: the tenant the plugin is enabled for.
    :param config: this plugin's validated configuration for that tenant.
    :returns: item contents, each with its ``code`` (``catalog.toml``'s ``[[items]]``,
        :class:`core.plugins.ItemDefinition`). They
        are written into the tenant's catalog when the plugin is enabled (a changed item gets
        a new version), and taken out of service (cancelled, with the reason) when it is
        disabled; cases filed under them go on.
    """


@hookspec
def register_processes(tenant: Tenant, config: PluginConfig) -> list[ProcessDefinition]:
    """Process definitions the plugin adds for ``tenant`` (the workflow format: ``code``,
    ``name``, ``start``, ``steps``: :class:`core.plugins.ProcessDefinition`). Found after
    the tenant's and province's own definitions and before the built-in ones; each is
    validated like a saved definition (an invalid one is recorded as the plugin's error and
    ignored).
    """


@hookspec
def validate_form(
    tenant: Tenant, config: PluginConfig, item: str, form: dict[str, Any]
) -> list[FormProblem] | None:
    """Check an application's form for one item (a county's own rules).

    :param item: the item's code.
    :param form: the form as the applicant filled it.
    :returns: problems, each ``{"field": NAME, "message": TEXT}`` (the application is refused
        with a 422 naming them, and nothing is created), or ``None``/``[]`` when it is fine or
        not your item.
    """


@hookspec
def forward_case_event(
    tenant: Tenant, config: PluginConfig, event: CaseEvent
) -> list[WebhookTarget]:
    """Where a case event goes (departments' own approval systems).

    :param event: ``id``, ``tenant``, ``case`` (number), ``item``, ``item_name``,
        ``department``, ``unit`` (the org unit of the step), ``action``, ``from``, ``to``,
        ``step``, ``at``, ``due_on`` — no personal data.
    :returns: targets ``[{"url": URL, "secret": SHARED_SECRET}]`` (``[]``: nobody). Each gets
        the event as a signed JSON POST through the outbox, retried with backoff until it
        answers 2xx.
    """


@hookspec
def department_of_client(tenant: Tenant, config: PluginConfig, client_id: str) -> str | None:
    """First-result. Which department an OAuth client (a department system with a
    client-credentials token) speaks for: its org-unit code, or ``None`` when it is not yours.
    Its decisions (``POST /api/v1/t/{slug}/departments/decisions``) act on that department's
    steps only.
    """


@hookspec
def register_bundles(tenant: Tenant, config: PluginConfig) -> list[BundleDefinition]:
    """Offer joint-approval bundles (联审联办, 一表通) to ``tenant``.

    :param tenant: the tenant whose applicants may apply for them.
    :param config: this plugin's validated configuration for that tenant.
    :returns: a list of bundles, each ``{"code", "name", "description", "overall_days",
        "department", "items": [{"item": ITEM_CODE, "required": bool}], "shared": [KEY],
        "keys": {ITEM_CODE: {KEY: COMBINED_KEY}}, "form": [FIELD]}``
        (:class:`core.plugins.BundleDefinition`). Applying opens one sub-case per item (each
        with its own process and clock) under a parent with the overall limit and one
        unified fee; the parent completes once every required sub-case is decided and the
        fee is paid.
    """


@hookspec
def track_shipment(
    tenant: Tenant, config: PluginConfig, carrier: str, headers: dict[str, str], body: bytes
) -> TrackingAnswer | CallbackRefused | None:
    """First-result. Read a carrier's tracking callback (物流轨迹推送).

    Called for ``POST /api/v1/t/{slug}/couriers/{carrier}/tracking``; nothing changes unless a
    plugin vouches for the callback.

    :param carrier: the carrier named in the URL; answer ``None`` when it is not yours.
    :param headers: the request headers, lower-case names.
    :param body: the raw request body, exactly as received (verify its signature over this).
    :returns: ``{"events": [{"reference": CASE_NUMBER, "tracking_number": NUMBER, "status":
        "collected" | "in_transit" | "out_for_delivery" | "signed" | "failed", "description":
        TEXT, "at": ISO_TIME}]}`` for a callback whose signature verifies, or ``{"error":
        REASON}`` for one that does not (answered with 422, nothing changed). ``signed``
        marks the case delivered; an event already recorded is not recorded twice.
    """


@hookspec
def create_payment(
    tenant: Tenant, config: PluginConfig, payment: PaymentRequest
) -> PaymentOrder | None:
    """First-result. Start an online payment of a case's fees (网上缴费, 统一收费).

    :param tenant: the tenant collecting.
    :param config: this plugin's validated configuration for that tenant.
    :param payment: ``reference`` (the case number: one order per case, use it as your
        idempotency key), ``amount`` (yuan as an exact decimal string, e.g. ``"12.00"``),
        ``items`` (``[{"name", "amount", "basis"}]``), ``payer`` (the applicant's name),
        ``notify_url`` (where the provider posts its asynchronous notice; put your provider
        name in place of its ``{provider}``) and ``return_url``
        (where the applicant comes back to).
    :returns: ``{"provider": NAME, "pay_url": HTTPS_URL}`` when this plugin takes the
        payment, or ``None``. The first answer wins and the applicant is sent to ``pay_url``.
        ``NAME`` must be the provider part of ``notify_url``.
    """


@hookspec
def confirm_payment(
    tenant: Tenant, config: PluginConfig, provider: str, headers: dict[str, str], body: bytes
) -> PaymentNotice | CallbackRefused | None:
    """First-result. Read a payment provider's asynchronous notice (支付结果通知).

    Called for ``POST /api/v1/t/{slug}/payments/{provider}/notify``; nothing is recorded
    unless a plugin vouches for the notice.

    :param provider: the provider named in the URL; answer ``None`` when it is not yours.
    :param headers: the request headers, lower-case names.
    :param body: the raw request body, exactly as received (verify its signature over this).
    :returns: ``{"reference": CASE_NUMBER, "amount": "12.00", "transaction_id": ID}`` for a
        notice whose signature verifies and which reports a completed payment;
        ``{"error": REASON}`` for one that does not verify (answered with 422, nothing
        recorded). The same ``transaction_id`` twice is recorded once.
    """
