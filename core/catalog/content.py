"""What an item says (its one-time guide, 一次性告知), as a validated structure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec

from core.catalog._messages import explain_validation, tidy_name
from core.errors import InvalidInput
from core.forms.model import FormField, form_problems

__all__ = [
    "CATEGORIES",
    "LICENSE_TYPES",
    "OVERRIDABLE",
    "Fee",
    "ItemContent",
    "Material",
    "Responsibility",
    "parse_content",
    "parse_overrides",
]

#: The standard categories, seeded into ``item_categories`` (code, name, kind).
CATEGORIES = [
    ("xzxk", "行政许可", "power"),
    ("xzqr", "行政确认", "power"),
    ("xzba", "行政备案", "power"),
    ("xzgf", "行政给付", "power"),
    ("xzys", "行政验收", "power"),
    ("xzns", "行政年审", "power"),
    ("shzb", "审核转报", "power"),
    ("xzcf", "行政处罚", "power"),
    ("xzjc", "行政检查", "power"),
    ("xzqz", "行政强制", "power"),
    ("xzzs", "行政征收", "power"),
    ("xzjl", "行政奖励", "power"),
    ("xzcj", "行政裁决", "power"),
    ("qtql", "其他行政权力", "power"),
    ("ggfw", "公共服务", "public_service"),
]

#: E-license types a material can be replaced by (电子证照目录).
LICENSE_TYPES = {
    "id_card": "居民身份证",
    "household_register": "居民户口簿",
    "business_license": "营业执照",
    "marriage_certificate": "结婚证",
    "birth_certificate": "出生医学证明",
    "property_certificate": "不动产权证书",
    "social_security_card": "社会保障卡",
    "driving_license": "机动车驾驶证",
    "disability_certificate": "残疾人证",
    "food_business_license": "食品经营许可证",
    "planning_permit": "建设工程规划许可证",
    "land_use_permit": "建设用地规划许可证",
    "construction_permit": "建筑工程施工许可证",
    "seal_record": "印章备案证明",
}

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Material(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """申报材料: one document the applicant hands in."""

    name: Short
    required: Literal["required", "conditional"] = "required"
    condition: str = ""
    form: Literal["original", "copy", "original_and_copy", "electronic"] = "original"
    copies: Annotated[int, msgspec.Meta(ge=0, le=20)] = 1
    template_key: str | None = None  # a form template file in storage
    license_type: str | None = None  # an e-license that can stand in for it
    note: str = ""


class Fee(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """收费标准 with its 收费依据."""

    name: Short
    amount: str  # yuan, as a decimal string: exact
    basis: str = ""


class Responsibility(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """责任清单: the five parts."""

    duty: Short  # 责任事项
    cases: str = ""  # 追责情形
    body: str = ""  # 追责主体
    basis: str = ""  # 追责依据
    liability: str = ""  # 应负责任


Level = Literal["county", "township", "village"]
Channel = Literal["online", "counter", "agent"]
Delivery = Literal["pickup", "courier"]
#: 服务对象: a person (自然人, 个人办事) or a legal person (法人, 法人办事)
Audience = Literal["person", "enterprise"]


class ItemContent(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Short
    kind: Literal["power", "public_service"] = "power"
    category: str
    department: str  # the org unit code of the responsible department
    implementing_body: str = ""  # 承办机构
    legal_basis: list[str] = []  # 设定依据
    conditions: Text = ""  # 办理条件
    materials: list[Material] = []
    fees: list[Fee] = []
    legal_days: Annotated[int, msgspec.Meta(ge=0, le=3650)] = 20
    promised_days: Annotated[int, msgspec.Meta(ge=0, le=3650)] = 10
    levels: list[Level] = msgspec.field(default_factory=lambda: ["county"])
    channels: list[Channel] = msgspec.field(default_factory=lambda: ["online", "counter"])
    delivery: list[Delivery] = msgspec.field(default_factory=lambda: ["pickup"])
    #: 服务对象; none named: the item serves persons
    audience: list[Audience] = []
    #: the e-license a successful case issues (an e-license type); None: an approval decision
    result_license: str | None = None
    #: the code of a process definition (built-in, the province's or the tenant's own)
    process: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = "short"
    contacts: str = ""
    office_hours: str = ""
    keywords: list[str] = []
    responsibilities: list[Responsibility] = []
    #: the application form (申请表, 表单化): what the applicant fills in, in order
    form: list[FormField] = []
    #: the e-license's particulars taken from the form: particular → form field key; the
    #: particular ``holder`` names whose license it is (default: the applicant)
    license_fields: dict[str, str] = {}

    @property
    def is_free(self) -> bool:
        return not self.fees or all(_decimal(f.amount) == 0 for f in self.fees)


#: Fields a county may override when it adopts a province item.
OVERRIDABLE = {f.name for f in msgspec.structs.fields(ItemContent)}


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"收费金额「{value}」不是数字", field="fees") from None


def parse_content(
    raw: dict[str, Any],
    *,
    categories: set[str],
    departments: set[str],
    processes: set[str] | None = None,
) -> ItemContent:
    """Validate ``raw``; every refusal names its field, in Chinese."""
    try:
        content = msgspec.convert(raw, ItemContent, strict=False)
    except msgspec.ValidationError as exc:
        field, message = explain_validation(str(exc))
        raise InvalidInput(message, field=field) from None
    if content.category not in categories:
        raise InvalidInput(f"事项类别「{content.category}」不存在", field="category")
    if content.department not in departments:
        raise InvalidInput(f"实施部门「{content.department}」不是本地的部门", field="department")
    if processes is not None and content.process not in processes:
        raise InvalidInput(f"办理流程「{content.process}」不存在", field="process")
    if content.promised_days > content.legal_days:
        raise InvalidInput(
            f"承诺时限（{content.promised_days} 个工作日）不能超过法定时限"
            f"（{content.legal_days} 个工作日）",
            field="promised_days",
        )
    for i, material in enumerate(content.materials):
        if material.license_type and material.license_type not in LICENSE_TYPES:
            raise InvalidInput(
                f"电子证照类型「{material.license_type}」不存在",
                field=f"materials[{i}].license_type",
            )
    if content.result_license and content.result_license not in LICENSE_TYPES:
        raise InvalidInput(
            f"电子证照类型「{content.result_license}」不存在", field="result_license"
        )
    for i, fee in enumerate(content.fees):
        if _decimal(fee.amount) < 0:
            raise InvalidInput("收费金额不能为负数", field=f"fees[{i}].amount")
    problems = form_problems(content.form)
    if problems:
        raise InvalidInput(
            "；".join(m for _, m in problems), field=problems[0][0], fields=[p for p, _ in problems]
        )
    by_key = {f.key: f for f in content.form if f.holds_value}
    for particular, key in content.license_fields.items():
        if key not in by_key:
            raise InvalidInput(
                f"证照内容「{particular}」引用的表单字段「{key}」不存在", field="license_fields"
            )
        if by_key[key].personal:  # a license is shown to whoever verifies it
            raise InvalidInput(
                f"证照内容「{particular}」不能取自个人信息字段「{by_key[key].label}」",
                field="license_fields",
            )
    _tidy_names(content)
    return content


def _tidy_names(content: ItemContent) -> None:
    """Names are searched and compared: a full-width space typed inside one must not split it."""
    content.name = tidy_name(content.name)
    content.implementing_body = tidy_name(content.implementing_body)
    parts: list[Material | Fee] = [*content.materials, *content.fees]
    for part in parts:
        part.name = tidy_name(part.name)


def parse_overrides(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - OVERRIDABLE)
    if unknown:
        raise InvalidInput(f"没有「{unknown[0]}」这一项，不能调整", field=unknown[0])
    return raw
