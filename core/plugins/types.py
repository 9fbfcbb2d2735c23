"""What plugins and the core exchange: the SMS vendor interface and its messages, and the
formats of every dict a hook takes or returns (shipments, tracking, payments, case events,
items, process definitions, bundles, form fields).

Everything here is imported by plugins from :mod:`core.plugins`. The dict formats are typed
dicts: at run time plain dicts (a plugin may write them as literals), for a type checker a
list of the keys there are. The core's own validated
structures (``core.catalog.content.ItemContent``, ``core.workflow.ProcessDefinition``,
``core.cases.bundles.Bundle``) read them; ``tests/plugins/test_public_surface.py`` keeps the
keys here equal to those structures' fields.
"""

# No ``from __future__ import annotations`` here: the typed dicts' Required and NotRequired
# keys are read at run time (``__required_keys__``), which string annotations would hide.
from typing import Any, Literal, NotRequired, Protocol, Required, TypedDict, runtime_checkable

import msgspec

__all__ = [
    "Booking",
    "BundleDefinition",
    "BundleItemDefinition",
    "CallbackRefused",
    "CaseEvent",
    "ConditionDefinition",
    "FeeDefinition",
    "FeeLine",
    "FormFieldDefinition",
    "FormProblem",
    "ItemDefinition",
    "MaterialDefinition",
    "OptionDefinition",
    "PaymentNotice",
    "PaymentOrder",
    "PaymentRequest",
    "ProcessDefinition",
    "ResponsibilityDefinition",
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
    "TrackingAnswer",
    "TrackingEvent",
    "TrackingStatus",
    "WebhookTarget",
]

# ---------------------------------------------------------------------------------------------
# SMS
# ---------------------------------------------------------------------------------------------


class SmsMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message to send, as a vendor's ``send`` receives it."""

    #: our id of the message: use it as the vendor reference (a retry of the same message
    #: carries the same id, so the vendor can drop the duplicate); receipts name it
    id: str
    #: the tenant it is sent for (its URL name, e.g. ``"hechi"``)
    tenant_slug: str
    #: the mainland mobile number, 11 digits
    phone: str
    #: our template name (``"otp"``, ``"case_received"`` … see :data:`SMS_TEMPLATES`): a
    #: template-based vendor maps it to its own approved template code
    template: str
    #: the template's parameters (``{"code": "123456", "minutes": 5}``), for template codes
    params: dict[str, Any]
    #: the tenant's approved signature with its brackets, e.g. ``"【河池市政务服务】"``
    signature: str
    #: the whole rendered text, **signature included** (``"【河池市政务服务】您的验证码为…"``):
    #: a vendor that sends free text sends this as it is and adds no signature of its own
    text: str


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ``send`` answers: ``ok=False`` (or raising) fails over to the next vendor."""

    ok: bool
    #: the vendor's id of the message (default: ours)
    vendor_ref: str = ""
    #: why it failed, in the vendor's words (kept for the tenant admin, never shown to citizens)
    error: str = ""


class SmsReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery receipt (状态报告) read from a vendor's callback by ``read_sms_receipts``."""

    #: our id of the message (``SmsMessage.id``)
    reference: str
    #: delivered to the handset (``False``: the vendor gave up)
    delivered: bool
    #: the vendor's reason when not delivered
    error: str = ""


class SmsInbound(msgspec.Struct, frozen=True, kw_only=True):
    """A message a citizen sent us (上行短信), read from a vendor's callback by
    ``read_sms_inbound``: a reply that starts with a score rates the citizen's case."""

    #: the vendor's id of the inbound message: a second message with the same id is a retry
    reference: str
    #: the sender's number as the vendor gives it (``+86…`` and spaces are normalised)
    phone: str
    text: str


@runtime_checkable
class SmsVendor(Protocol):
    """What ``register_sms_vendors`` returns: one object per vendor account."""

    #: the vendor's name, unique per tenant: it names the vendor in the callback URLs
    #: (``/api/v1/t/{slug}/sms/{name}/receipts``) and on the admin pages
    name: str
    #: higher is tried first; vendors that are failing are tried after the healthy ones
    priority: int

    def send(self, message: SmsMessage) -> SendResult: ...


class CallbackRefused(TypedDict):
    """The answer of a callback hook when the request is yours but does not verify (a bad
    signature, a stale timestamp, a body that is not your format): nothing is changed."""

    error: str


class SmsReceiptsAnswer(TypedDict):
    """``read_sms_receipts``' answer for a callback that verifies."""

    receipts: list[SmsReceipt]


class SmsInboundAnswer(TypedDict):
    """``read_sms_inbound``' answer for a callback that verifies."""

    messages: list[SmsInbound]


# ---------------------------------------------------------------------------------------------
# Couriers (快递送达)
# ---------------------------------------------------------------------------------------------


class ShipmentDocument(TypedDict):
    """A document in the parcel: the decision notice or an e-license."""

    #: ``"notice"`` or ``"license"``
    kind: str
    title: str
    #: a notice's verification code
    code: NotRequired[str]
    #: an e-license's number
    number: NotRequired[str]


class Shipment(TypedDict):
    """What ``create_shipment`` is asked to book."""

    #: the case number: your idempotency key (a retried delivery must not book twice)
    reference: str
    recipient: str
    phone: str
    address: str
    #: what is sent, e.g. ``"食品经营许可 办理结果"``
    contents: str
    #: the sending hall's name
    sender: str
    documents: list[ShipmentDocument]


class Booking(TypedDict):
    """``create_shipment``'s answer when it booked the shipment."""

    #: the carrier's name as the applicant reads it (``"邮政快递"``)
    carrier: str
    tracking_number: str


TrackingStatus = Literal["collected", "in_transit", "out_for_delivery", "signed", "failed"]


class TrackingEvent(TypedDict):
    """One event of a carrier's tracking callback."""

    #: the case number the waybill was booked for
    reference: str
    tracking_number: str
    #: ``signed`` marks the case delivered
    status: TrackingStatus
    description: str
    #: ISO 8601 time (``2026-05-01T10:30:00+08:00``); without a zone, Beijing time
    at: str


class TrackingAnswer(TypedDict):
    """``track_shipment``'s answer for a callback that verifies."""

    events: list[TrackingEvent]


# ---------------------------------------------------------------------------------------------
# Payments (网上缴费)
# ---------------------------------------------------------------------------------------------


class FeeLine(TypedDict):
    name: str
    #: yuan as an exact decimal string, e.g. ``"10.00"``
    amount: str
    #: 收费依据
    basis: str


class PaymentRequest(TypedDict):
    """What ``create_payment`` is asked to start."""

    #: the case number: one order per case, your idempotency key
    reference: str
    #: the total in yuan as an exact decimal string (``"12.00"``)
    amount: str
    items: list[FeeLine]
    #: the applicant's name
    payer: str
    #: where the provider posts its notice; put your provider name in place of ``{provider}``
    notify_url: str
    #: where the applicant's browser comes back to
    return_url: str


class PaymentOrder(TypedDict):
    """``create_payment``'s answer when it takes the payment."""

    #: your provider name, the one in ``notify_url``
    provider: str
    #: the provider's cashier page (``https:``), where the applicant is sent
    pay_url: str


class PaymentNotice(TypedDict):
    """``confirm_payment``'s answer for a notice that verifies and reports a payment."""

    reference: str
    #: what was paid, yuan as an exact decimal string: recorded only if it is what is owed
    amount: str
    #: the provider's transaction id: the same one twice is recorded once
    transaction_id: str


# ---------------------------------------------------------------------------------------------
# Cases and departments
# ---------------------------------------------------------------------------------------------

#: A new trail event of a case, as ``forward_case_event`` receives it (no personal data).
#: ``from`` is a Python keyword, hence the functional form.
CaseEvent = TypedDict(
    "CaseEvent",
    {
        "id": str,  # the event's id: a redelivery carries the same
        "tenant": str,  # the tenant's slug
        "case": str,  # the case number
        "item": str,  # the item's code
        "item_name": str,
        "department": str,  # the item's department (org-unit code)
        "unit": str,  # the org unit that worked the step, when one did
        "action": str,  # submit, accept, approve …
        "from": str,  # the case's state before
        "to": str,  # and after
        "step": str,  # the step's code
        "at": str,  # ISO 8601
        "due_on": str,  # the case's promised date, ISO 8601, or ""
    },
)


class WebhookTarget(TypedDict):
    """Where ``forward_case_event`` sends an event: signed with ``secret`` (HMAC-SHA256)."""

    url: str
    secret: str


class FormProblem(TypedDict):
    """One problem ``validate_form`` finds: the field (``members[2].income`` for a table's
    cell) and what is wrong, in Chinese, as the applicant reads it."""

    field: str
    message: str


# ---------------------------------------------------------------------------------------------
# Definitions: items (register_items), processes (register_processes), bundles
# (register_bundles) and their form fields. The keys are those of catalog.toml.
# ---------------------------------------------------------------------------------------------


class OptionDefinition(TypedDict, total=False):
    value: Required[str]
    label: Required[str]
    label_en: str


class ConditionDefinition(TypedDict, total=False):
    """Shown while the earlier ``field`` holds ``equals`` (or any of ``any_of``)."""

    field: Required[str]
    equals: str | int | bool | None
    any_of: list[str]


FieldType = Literal[
    "text",
    "textarea",
    "integer",
    "money",
    "date",
    "choice",
    "multichoice",
    "yesno",
    "id_number",
    "mobile",
    "credit_code",
    "address",
    "table",
    "heading",
]


class FormFieldDefinition(TypedDict, total=False):
    """One field of an application form (docs/forms.md)."""

    key: Required[str]
    label: Required[str]
    type: FieldType
    label_en: str
    required: bool
    help: str
    placeholder: str
    #: strings: a number, or a date for date fields
    min: str | None
    max: str | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    pattern_message: str
    options: list[OptionDefinition]
    show_when: list[ConditionDefinition]
    personal: bool
    prefill: str | None
    columns: list["FormFieldDefinition"]
    min_rows: int
    max_rows: int


class MaterialDefinition(TypedDict, total=False):
    """申报材料."""

    name: Required[str]
    required: Literal["required", "conditional"]
    condition: str
    form: Literal["original", "copy", "original_and_copy", "electronic"]
    copies: int
    template_key: str | None
    license_type: str | None
    note: str


class FeeDefinition(TypedDict, total=False):
    """收费标准 and 收费依据."""

    name: Required[str]
    amount: Required[str]
    basis: str


class ResponsibilityDefinition(TypedDict, total=False):
    """责任清单."""

    duty: Required[str]
    cases: str
    body: str
    basis: str
    liability: str


class ItemDefinition(TypedDict, total=False):
    """An item as ``register_items`` returns it: ``catalog.toml``'s ``[[items]]``
    (docs/tenant-packs.md describes every key)."""

    code: Required[str]
    name: Required[str]
    category: Required[str]
    department: Required[str]
    kind: Literal["power", "public_service"]
    implementing_body: str
    legal_basis: list[str]
    conditions: str
    materials: list[MaterialDefinition]
    fees: list[FeeDefinition]
    legal_days: int
    promised_days: int
    levels: list[Literal["county", "township", "village"]]
    channels: list[Literal["online", "counter", "agent"]]
    delivery: list[Literal["pickup", "courier"]]
    audience: list[Literal["person", "enterprise"]]
    result_license: str | None
    process: str
    contacts: str
    office_hours: str
    keywords: list[str]
    responsibilities: list[ResponsibilityDefinition]
    form: list[FormFieldDefinition]
    license_fields: dict[str, str]


StepRole = Literal[
    "applicant", "window_clerk", "reviewer", "approver", "issuer", "agent", "supervisor"
]
StepAction = Literal[
    "submit",
    "accept",
    "request_correction",
    "refuse",
    "forward",
    "review",
    "approve",
    "deny",
    "issue",
    "decide",
    "return",
]


class StepDefinition(TypedDict, total=False):
    """One step of a process definition."""

    code: Required[str]
    name: Required[str]
    role: Required[StepRole]
    actions: Required[list[StepAction]]
    #: the step's limit in working days
    days: int
    #: the steps that follow; several run in parallel and meet at a ``join`` step
    next: list[str]
    join: bool
    level: Literal["village", "township", "county"]
    #: the org unit (code) that works a parallel branch
    department: str | None


class ProcessDefinition(TypedDict, total=False):
    """A process definition as ``register_processes`` returns it."""

    code: Required[str]
    name: Required[str]
    start: Required[str]
    steps: Required[list[StepDefinition]]
    deemed_approval: bool


class BundleItemDefinition(TypedDict, total=False):
    item: Required[str]
    required: bool


class BundleDefinition(TypedDict, total=False):
    """A joint-approval bundle as ``register_bundles`` returns it."""

    code: Required[str]
    name: Required[str]
    items: Required[list[BundleItemDefinition]]
    #: the overall limit in working days
    overall_days: Required[int]
    description: str
    #: fields of the bundle's own, ahead of the sub-items' in the combined form
    form: list[FormFieldDefinition]
    #: keys several sub-items ask, asked once under 共同信息
    shared: list[str]
    #: per item code, the sub-item's key → the combined form's key
    keys: dict[str, dict[str, str]]
    #: the coordinating org unit's code
    department: str
