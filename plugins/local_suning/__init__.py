"""local_suning: Suning's own procedures (肃宁县三级网上审批便民服务平台) — village-level items
that a village agent (代办员) takes at the village station and that travel up to the township
and the county, their three-level process, their application forms (表单化) and the county's
rule for 低保: a household whose income per head is above the county's standard cannot apply."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from core.plugins import PluginMeta, hookimpl

PROCESS = {
    "code": "sn_three_level",
    "name": "肃宁三级联办（村代办、乡初审、县审批）",
    "start": "collect",
    "steps": [
        {
            "code": "collect",
            "name": "村级代办",
            "role": "agent",
            "level": "village",
            "days": 1,
            "actions": ["forward", "request_correction"],
            "next": ["township"],
        },
        {
            "code": "township",
            "name": "乡镇初审",
            "role": "window_clerk",
            "level": "township",
            "days": 2,
            "actions": ["forward", "request_correction", "refuse"],
            "next": ["accept"],
        },
        {
            "code": "accept",
            "name": "县级受理",
            "role": "window_clerk",
            "days": 1,
            "actions": ["accept", "request_correction", "refuse"],
            "next": ["approve"],
        },
        {
            "code": "approve",
            "name": "县级审批",
            "role": "approver",
            "days": 5,
            "actions": ["approve", "deny"],
        },
    ],
}


def _field(key: str, type: str, label: str, label_en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type, "label": label, "label_en": label_en, **extra}


def _options(*triples: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"value": v, "label": label, "label_en": en} for v, label, en in triples]


def _heading(key: str, label: str, label_en: str) -> dict[str, Any]:
    return _field(key, "heading", label, label_en)


#: 肃宁县 has six towns and three townships
TOWNSHIPS = _options(
    ("suning", "肃宁镇", "Suning"),
    ("liangcun", "梁村镇", "Liangcun"),
    ("wobei", "窝北镇", "Wobei"),
    ("shangcun", "尚村镇", "Shangcun"),
    ("wanli", "万里镇", "Wanli"),
    ("shisu", "师素镇", "Shisu"),
    ("liushansi", "河北留善寺乡", "Hebei Liushansi"),
    ("fujiazuo", "付家佐乡", "Fujiazuo"),
    ("shaozhuang", "邵庄乡", "Shaozhuang"),
)

APPLICANT = [
    _heading("applicant_heading", "申请人", "Applicant"),
    _field(
        "applicant_name",
        "text",
        "申请人姓名",
        "Applicant's name",
        required=True,
        max_length=50,
        prefill="person.name",
        help="户主或家庭成员中的一人。",
    ),
    _field(
        "applicant_id_number",
        "id_number",
        "申请人身份证号",
        "Applicant's ID number",
        required=True,
        personal=True,
        prefill="person.id_number",
    ),
    _field(
        "contact_phone",
        "mobile",
        "联系电话（手机）",
        "Mobile phone",
        required=True,
        prefill="person.phone",
        help="没有手机的，填代办员或家人的手机，办理进度以短信通知。",
    ),
    _field("township", "choice", "所在乡镇", "Township", required=True, options=TOWNSHIPS),
    _field(
        "village",
        "text",
        "所在村",
        "Village",
        required=True,
        max_length=30,
        placeholder="如：张庄村",
    ),
]

BANK = [
    _field(
        "bank_name",
        "text",
        "开户银行",
        "Bank",
        required=True,
        max_length=60,
        placeholder="如：肃宁县农村信用合作联社梁村信用社",
    ),
    _field(
        "bank_account",
        "text",
        "银行账号",
        "Bank account number",
        required=True,
        personal=True,
        pattern=r"^\d{12,30}$",
        pattern_message="应为 12 到 30 位数字，不要加空格",
        placeholder="6228480000000000000",
        help="须为申请人本人名下的账户，补助资金按规定直接打入。",
    ),
]

#: 农村低保: who lives in the household, what each earned last year, what the family owns
LOW_INCOME_FORM = [
    *APPLICANT,
    _field(
        "reason",
        "choice",
        "申请原因",
        "Why you apply",
        required=True,
        options=_options(
            ("illness", "因病", "Illness"),
            ("disability", "因残", "Disability"),
            ("disaster", "因灾", "Disaster"),
            ("no_labour", "缺乏劳动能力", "No one able to work"),
            ("other", "其他", "Other"),
        ),
    ),
    _field(
        "reason_other",
        "textarea",
        "其他原因说明",
        "Other reason (explain)",
        required=True,
        min_length=5,
        max_length=500,
        show_when=[{"field": "reason", "equals": "other"}],
    ),
    _heading("family_heading", "家庭成员及收入", "Household and income"),
    _field(
        "household_size",
        "integer",
        "共同生活的家庭人口",
        "People in the household",
        required=True,
        min="1",
        max="20",
        help="包括申请人本人；应与下面家庭成员表的人数一致。",
    ),
    _field(
        "members",
        "table",
        "家庭成员",
        "Household members",
        required=True,
        min_rows=1,
        max_rows=20,
        prefill="last_case",
        help="共同生活的家庭成员每人一行，含申请人本人；收入填上一年全年的收入（务农、务工、"
        "养老金等都算），没有收入的填 0。",
        columns=[
            _field("name", "text", "姓名", "Name", required=True, max_length=50),
            _field(
                "relation",
                "choice",
                "与申请人关系",
                "Relation to the applicant",
                required=True,
                options=_options(
                    ("self", "本人", "Self"),
                    ("spouse", "配偶", "Spouse"),
                    ("child", "子女", "Child"),
                    ("parent", "父母", "Parent"),
                    ("grandparent", "祖父母、外祖父母", "Grandparent"),
                    ("grandchild", "孙子女、外孙子女", "Grandchild"),
                    ("sibling", "兄弟姐妹", "Brother or sister"),
                    ("in_law", "儿媳、女婿", "Son- or daughter-in-law"),
                    ("other", "其他", "Other"),
                ),
            ),
            _field(
                "id_number",
                "id_number",
                "身份证号",
                "ID number",
                required=True,
                personal=True,
                help="未满 16 周岁的，填户口簿上的公民身份号码。",
            ),
            _field(
                "health",
                "choice",
                "健康状况",
                "Health",
                required=True,
                options=_options(
                    ("healthy", "健康", "Healthy"),
                    ("chronic", "慢性病", "Chronic illness"),
                    ("serious", "重病", "Serious illness"),
                    ("disabled", "残疾", "Disability"),
                ),
            ),
            _field(
                "income",
                "money",
                "上年收入（元）",
                "Income last year (yuan)",
                required=True,
                min="0",
                max="10000000",
            ),
        ],
    ),
    _heading("assets_heading", "家庭财产", "What the household owns"),
    _field(
        "has_vehicle",
        "yesno",
        "是否有机动车",
        "Own a motor vehicle?",
        required=True,
        help="残疾人功能性补偿代步车、农用车不算。",
    ),
    _field(
        "has_other_house",
        "yesno",
        "除自住房外是否还有其他房产",
        "Own housing besides your home?",
        required=True,
    ),
    _field(
        "savings",
        "money",
        "家庭存款（元）",
        "Savings (yuan)",
        required=True,
        min="0",
        help="全家人名下的存款合计。",
    ),
    _field(
        "consent",
        "yesno",
        "同意民政部门核对家庭经济状况",
        "Agree to a check of the household's income and assets",
        required=True,
        help="低保须核对全家的收入和财产（银行存款、车辆、房产等）；不同意核对的，无法受理。",
    ),
    _heading("payment_heading", "低保金发放", "Payment"),
    *BANK,
]

#: 农村危房改造: the house as it stands, how it is to be made safe
HOUSING_FORM = [
    *APPLICANT,
    _field(
        "household_kind",
        "choice",
        "户类",
        "Household category",
        required=True,
        help="建档立卡贫困户、低保户、分散供养特困人员和贫困残疾人家庭优先安排。",
        options=_options(
            ("poor", "建档立卡贫困户", "Registered poor household"),
            ("dibao", "低保户", "Low-income household (dibao)"),
            ("tekun", "农村分散供养特困人员", "Person in extreme poverty"),
            ("disabled", "贫困残疾人家庭", "Poor household with a disabled member"),
            ("other", "其他", "Other"),
        ),
    ),
    _field(
        "household_size",
        "integer",
        "家庭人口",
        "People in the household",
        required=True,
        min="1",
        max="20",
        help="包括申请人本人。",
    ),
    _heading("house_heading", "房屋现状", "The house now"),
    _field(
        "house_address",
        "text",
        "房屋坐落",
        "Where the house is",
        required=True,
        max_length=100,
        placeholder="如：梁村镇张庄村二街 12 号",
    ),
    _field(
        "structure",
        "choice",
        "房屋结构",
        "Built of",
        required=True,
        options=_options(
            ("earth", "土坯", "Adobe"),
            ("brick_wood", "砖木", "Brick and timber"),
            ("brick_concrete", "砖混", "Brick and concrete"),
            ("stone_wood", "石木", "Stone and timber"),
            ("other", "其他", "Other"),
        ),
    ),
    _field(
        "built_year",
        "integer",
        "建造年份",
        "Year built",
        required=True,
        min="1900",
        max="2030",
    ),
    _field(
        "house_area",
        "text",
        "现有建筑面积（平方米）",
        "Floor area now (m²)",
        required=True,
        max_length=12,
        pattern=r"^\d+(\.\d{1,2})?$",
        pattern_message="应为数字，最多两位小数，如 120.5",
        placeholder="68.5",
    ),
    _field(
        "danger_level",
        "choice",
        "危房等级",
        "How dangerous",
        required=True,
        help="以住建部门的鉴定结果为准；还没鉴定的，选估计的等级，村里会安排鉴定。",
        options=_options(
            ("c", "C 级（局部危险）", "C (partly unsafe)"),
            ("d", "D 级（整栋危险）", "D (unsafe throughout)"),
        ),
    ),
    _heading("plan_heading", "改造方式", "The work"),
    _field(
        "plan",
        "choice",
        "改造方式",
        "Kind of work",
        required=True,
        help="C 级危房一般修缮加固，D 级危房一般拆除重建。",
        options=_options(
            ("repair", "修缮加固", "Repair and strengthen"),
            ("rebuild", "拆除重建", "Pull down and rebuild"),
        ),
    ),
    _field(
        "new_area",
        "integer",
        "重建面积（平方米）",
        "Floor area to build (m²)",
        required=True,
        min="20",
        max="150",
        help="1 至 3 人户控制在 40 至 60 平方米，每多 1 人可增加 15 至 18 平方米。",
        show_when=[{"field": "plan", "equals": "rebuild"}],
    ),
    _field(
        "own_funds",
        "money",
        "自筹资金（元）",
        "Own funds (yuan)",
        required=True,
        min="0",
    ),
    _heading("payment_heading", "补助发放", "Payment"),
    *BANK,
]


def _item(
    code: str, name: str, department: str, body: str, materials: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "kind": "public_service",
        "category": "ggfw",
        "department": department,
        "implementing_body": body,
        "legal_basis": extra.pop("basis", ["《社会救助暂行办法》"]),
        "conditions": extra.pop("conditions", "申请人符合条件，材料齐全。"),
        "legal_days": 20,
        "promised_days": 9,
        "levels": ["village", "township", "county"],
        "channels": ["agent", "counter", "online"],
        "delivery": ["pickup"],
        "process": "sn_three_level",
        "keywords": extra.pop("keywords", []),
        "contacts": f"{body} 窗口咨询电话 12345；村便民服务站代办员",
        "office_hours": "周一至周五 8:30-12:00, 14:30-17:30（法定节假日除外）",
        "materials": [
            {"name": m, "required": "required", "form": "original", "copies": 1} for m in materials
        ],
        **extra,
    }


ITEMS = [
    _item(
        "SN-CJ01",
        "农村居民最低生活保障申请（村级代办）",
        "SN-MZJ",
        "县民政局",
        ["居民身份证", "户口簿", "家庭收入情况说明"],
        keywords=["低保", "代办", "村级"],
        form=LOW_INCOME_FORM,
    ),
    _item(
        "SN-CJ02",
        "农村危房改造补助申请（村级代办）",
        "SN-ZJJ",
        "县住房和城乡建设局",
        ["居民身份证", "房屋现状照片"],
        basis=["《农村危房改造补助资金管理办法》"],
        keywords=["危房", "代办", "村级"],
        form=HOUSING_FORM,
    ),
]


class Config(msgspec.Struct, kw_only=True):
    #: a household above this annual income per head (yuan) cannot apply for 低保
    income_limit: str = "4200"


meta = PluginMeta(
    name="local_suning",
    version="1.0.0",
    title="肃宁县三级代办事项",
    description="村级代办事项：代办员受理，乡镇初审，县级审批。",
    core_compat=">=0.1,<1",
    config=Config,
    tags=("local",),
    applies_to=("suning",),
)


@hookimpl
def register_items() -> list[dict[str, Any]]:
    return copy.deepcopy(ITEMS)


@hookimpl
def register_processes() -> list[dict[str, Any]]:
    return [PROCESS]


def _amount(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _members_income(form: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What is wrong row by row: an income that is no amount, a member listed twice, the
    applicant (本人) missing, listed twice, or listed under another ID number."""
    problems: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    selves: list[int] = []
    for i, row in enumerate(rows):
        income = _amount(row.get("income"))
        if income is None or income < 0:
            who = row.get("name") or "家庭成员"
            problems.append(
                {
                    "field": f"members[{i}].income",
                    "message": f"第 {i + 1} 行（{who}）的上年收入应为不小于 0 的金额",
                }
            )
        number = str(row.get("id_number") or "").upper()
        if number in seen:
            problems.append(
                {
                    "field": f"members[{i}].id_number",
                    "message": f"第 {i + 1} 行与第 {seen[number] + 1} 行的身份证号相同，"
                    "每位家庭成员只填一行",
                }
            )
        elif number:
            seen[number] = i
        if row.get("relation") == "self":
            selves.append(i)
    applicant = str(form.get("applicant_id_number") or "").upper()
    if len(selves) != 1:
        problems.append({"field": "members", "message": "家庭成员表中须有且只有一行是申请人“本人”"})
    elif applicant and str(rows[selves[0]].get("id_number") or "").upper() != applicant:
        problems.append(
            {
                "field": f"members[{selves[0]}].id_number",
                "message": "“本人”一行的身份证号应与申请人身份证号一致",
            }
        )
    return problems


def _low_income_problems(config: Config, form: dict[str, Any]) -> list[dict[str, str]]:
    """低保: the household's income per head last year — the members' incomes added up, over
    the household size — is at most the county's standard (a form without the members table
    may state ``income_per_head`` itself); the household size matches the table."""
    limit = Decimal(config.income_limit)
    rows = [r for r in form.get("members") or [] if isinstance(r, dict)]
    size_text = str(form.get("household_size") or "").strip()
    size = int(size_text) if size_text.isdigit() else 0
    problems: list[dict[str, str]] = []
    if not 1 <= size <= 20:
        problems.append({"field": "household_size", "message": "家庭人口应为 1 到 20 之间的整数"})
    if rows:
        problems += _members_income(form, rows)
        if size and size != len(rows):
            problems.append(
                {
                    "field": "household_size",
                    "message": f"家庭人口填的是 {size} 人，家庭成员表有 {len(rows)} 人，请核对",
                }
            )
        total = sum((_amount(r.get("income")) or Decimal(0) for r in rows), Decimal(0))
        people = size or len(rows)
        per_head = total / people
        if per_head > limit:
            problems.append(
                {
                    "field": "members",
                    "message": f"家庭年人均收入 {per_head:.2f} 元（全家上年收入 {total:.2f} 元 ÷ "
                    f"{people} 人）高于本县低保标准（{config.income_limit} 元），不符合申请条件",
                }
            )
    else:
        stated = _amount(form.get("income_per_head"))
        if stated is None:
            problems.append({"field": "members", "message": "请填写家庭成员及各自的上年收入"})
        elif stated < 0:
            problems.append({"field": "income_per_head", "message": "收入不能为负数"})
        elif stated > limit:
            problems.append(
                {
                    "field": "income_per_head",
                    "message": f"家庭年人均收入高于本县低保标准（{config.income_limit} 元），"
                    "不符合申请条件",
                }
            )
    if form.get("consent") is False:
        problems.append({"field": "consent", "message": "须同意核对家庭经济状况，才能受理低保申请"})
    return problems


@hookimpl
def validate_form(config: Config | None, item: str, form: dict[str, Any]) -> list[dict[str, str]]:
    if item != "SN-CJ01":
        return []
    return _low_income_problems(config or Config(), form)
