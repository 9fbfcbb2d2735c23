"""The plugin system (pluggy): hook specs, plugin metadata, per-tenant manager.

**The public surface.** A plugin imports from here and nowhere else in govhall
(``tests/plugins/test_public_surface.py`` fails on any other ``core``, ``web`` or ``workers``
import in ``plugins/`` and ``tests/sample_vendor``):

- declaring: :data:`hookimpl`, :class:`PluginMeta`, :data:`PluginConfig`, :data:`Secret`,
  :data:`SecretMap`, :data:`SECRET_MASK`;
- SMS: :class:`SmsVendor`, :class:`SmsMessage`, :class:`SendResult`, :class:`SmsReceipt`,
  :class:`SmsInbound`, the callback answers :class:`SmsReceiptsAnswer`,
  :class:`SmsInboundAnswer` and :class:`CallbackRefused`, :data:`SMS_TEMPLATES`;
- couriers, payments, departments: :class:`Shipment`, :class:`Booking`,
  :class:`TrackingEvent`, :class:`TrackingAnswer`, :class:`PaymentRequest`,
  :class:`PaymentOrder`, :class:`PaymentNotice`, :data:`CaseEvent`, :class:`WebhookTarget`,
  :class:`FormProblem`;
- definitions: :class:`ItemDefinition`, :class:`ProcessDefinition`,
  :class:`BundleDefinition`, :class:`FormFieldDefinition` and their parts;
- reading and running: :class:`Lookup` (with :class:`OrgUnitView`, :class:`ItemView`,
  :class:`CaseView`), :func:`lookup_for`, :func:`open_lookup`, :func:`pooled_client` (which
  reaches public addresses only), :func:`url_problem` (the same check on a configured
  address, for a self-check), :func:`var_dir`, and :class:`Tenant` for annotations (read its
  attributes, never change it).

Everything else here (the manager) is for the core. docs/plugins.md is the guide.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("govhall")

from core.plugins.manager import (  # noqa: E402
    PluginManager,
    TenantHooks,
    await_me_maybe,
    get_plugin_manager,
    set_plugin_manager,
)
from core.plugins.meta import PluginConfig, PluginMeta  # noqa: E402
from core.plugins.outbound import url_problem  # noqa: E402
from core.plugins.query import (  # noqa: E402
    CaseView,
    ItemView,
    Lookup,
    OrgUnitView,
    lookup_for,
    open_lookup,
)
from core.plugins.runtime import SMS_TEMPLATES, pooled_client, var_dir  # noqa: E402
from core.plugins.secrets import SECRET_MASK, Secret, SecretMap  # noqa: E402
from core.plugins.testing import registered, sample_tenant, undeclared_secrets  # noqa: E402
from core.plugins.types import (  # noqa: E402
    Booking,
    BundleDefinition,
    BundleItemDefinition,
    CallbackRefused,
    CaseEvent,
    ConditionDefinition,
    FeeDefinition,
    FeeLine,
    FormFieldDefinition,
    FormProblem,
    ItemDefinition,
    MaterialDefinition,
    OptionDefinition,
    PaymentNotice,
    PaymentOrder,
    PaymentRequest,
    ProcessDefinition,
    ResponsibilityDefinition,
    SendResult,
    Shipment,
    ShipmentDocument,
    SmsInbound,
    SmsInboundAnswer,
    SmsMessage,
    SmsReceipt,
    SmsReceiptsAnswer,
    SmsVendor,
    StepDefinition,
    TrackingAnswer,
    TrackingEvent,
    TrackingStatus,
    WebhookTarget,
)
from core.tenancy import Tenant  # noqa: E402

__all__ = [
    "SECRET_MASK",
    "SMS_TEMPLATES",
    "Booking",
    "BundleDefinition",
    "BundleItemDefinition",
    "CallbackRefused",
    "CaseEvent",
    "CaseView",
    "ConditionDefinition",
    "FeeDefinition",
    "FeeLine",
    "FormFieldDefinition",
    "FormProblem",
    "ItemDefinition",
    "ItemView",
    "Lookup",
    "MaterialDefinition",
    "OptionDefinition",
    "OrgUnitView",
    "PaymentNotice",
    "PaymentOrder",
    "PaymentRequest",
    "PluginConfig",
    "PluginManager",
    "PluginMeta",
    "ProcessDefinition",
    "ResponsibilityDefinition",
    "Secret",
    "SecretMap",
    "SendResult",
    "Shipment",
    "ShipmentDocument",
    "SmsInbound",
    "SmsInboundAnswer",
    "SmsMessage",
    "SmsReceipt",
    "SmsReceiptsAnswer",
    "SmsVendor",
    "StepDefinition",
    "Tenant",
    "TenantHooks",
    "TrackingAnswer",
    "TrackingEvent",
    "TrackingStatus",
    "WebhookTarget",
    "await_me_maybe",
    "get_plugin_manager",
    "hookimpl",
    "lookup_for",
    "open_lookup",
    "pooled_client",
    "registered",
    "sample_tenant",
    "set_plugin_manager",
    "undeclared_secrets",
    "url_problem",
    "var_dir",
]
