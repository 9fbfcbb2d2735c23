"""Application forms as data: the identifiers people type (checked however they are written),
show-when conditions, tables named row by row, keys a form does not have, the JSON Schema
another front end reads, and the checks of a form definition."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.forms import (
    CheckFailed,
    FormInvalid,
    fill,
    json_schema,
    lines,
    masked,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    parse_form,
    printed,
    require_valid,
)
from core.forms.model import override_problems
from tests.form_values import _CREDIT_CHARS, _CREDIT_WEIGHTS, _ID_WEIGHTS, values_for

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def id_check(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def credit_check(body: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_an_id_number_passes_with_its_check_digit_only(body: str) -> None:
    good = body + id_check(body)
    assert normalize_id_number(good) == good
    assert normalize_id_number(f" {good[:6]} {good[6:14]}-{good[14:]} ") == good  # as typed
    assert normalize_id_number(good.translate(FULL_WIDTH)) == good  # a Chinese keyboard
    assert normalize_id_number(good.lower()) == good
    for wrong in "0123456789X":
        if wrong != good[-1]:
            with pytest.raises(CheckFailed, match="校验位"):
                normalize_id_number(body + wrong)


@given(st.text(alphabet="0123456789", min_size=0, max_size=25).filter(lambda t: len(t) != 18))
def test_an_id_number_of_another_length_is_named_as_such(text: str) -> None:
    with pytest.raises(CheckFailed, match="18 位"):
        normalize_id_number(text)


@given(st.text(alphabet=_CREDIT_CHARS, min_size=17, max_size=17))
def test_a_credit_code_passes_with_its_check_character_only(body: str) -> None:
    good = body + credit_check(body)
    assert normalize_credit_code(good) == good
    assert normalize_credit_code(f"{good[:2]} {good[2:8]} {good[8:]}".lower()) == good
    for wrong in _CREDIT_CHARS:
        if wrong != good[-1]:
            with pytest.raises(CheckFailed, match="校验位"):
                normalize_credit_code(body + wrong)


def test_a_credit_code_with_letters_it_never_uses_is_refused() -> None:
    with pytest.raises(CheckFailed, match="18 位"):
        normalize_credit_code("91450000MA5K0ABCIO")  # I and O are not in GB 32100


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_is_the_same_however_it_is_written(number: str) -> None:
    for typed in (
        number,
        f"+86 {number}",
        f"86{number}",
        f"{number[:3]}-{number[3:7]}-{number[7:]}",
        number.translate(FULL_WIDTH),
    ):
        assert normalize_mobile(typed) == number


@pytest.mark.parametrize("typed", ["1380000000", "23800000000", "138000000001", "电话"])
def test_a_mobile_number_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(CheckFailed):
        normalize_mobile(typed)


# -- a form -------------------------------------------------------------------------------------

MOVE = parse_form(
    [
        {"key": "who", "type": "heading", "label": "申请人"},
        {"key": "name", "label": "姓名", "required": True, "max_length": 20},
        {"key": "id_number", "type": "id_number", "label": "身份证号", "personal": True},
        {
            "key": "reason",
            "type": "choice",
            "label": "迁移原因",
            "required": True,
            "options": [
                {"value": "work", "label": "工作调动"},
                {"value": "family", "label": "投靠亲属"},
                {"value": "other", "label": "其他"},
            ],
        },
        {
            "key": "reason_other",
            "type": "textarea",
            "label": "其他原因",
            "required": True,
            "show_when": [{"field": "reason", "equals": "other"}],
        },
        {
            "key": "host",
            "label": "被投靠人",
            "required": True,
            "show_when": [{"field": "reason", "any_of": ["family"]}],
        },
        {"key": "income", "type": "money", "label": "月收入", "min": "0", "max": "100000"},
        {"key": "born", "type": "date", "label": "出生日期", "max": "2026-12-31"},
        {"key": "home", "type": "address", "label": "现住址"},
        {"key": "agree", "type": "yesno", "label": "同意核查"},
        {
            "key": "members",
            "type": "table",
            "label": "家庭成员",
            "min_rows": 1,
            "columns": [
                {"key": "name", "label": "姓名", "required": True},
                {"key": "id_number", "type": "id_number", "label": "身份证号", "personal": True},
                {"key": "income", "type": "money", "label": "月收入"},
            ],
        },
    ]
)
PERSON = "450102198503120118"


def test_a_hidden_field_is_neither_required_nor_kept() -> None:
    work = fill(MOVE, {"name": "韦一", "reason": "work", "reason_other": "不该留下"}, complete=True)
    assert "reason_other" not in work.values and "form.reason_other" not in work.problems
    other = fill(MOVE, {"name": "韦一", "reason": "other"}, complete=True)
    assert other.problems["form.reason_other"] == "请填写「其他原因」"
    family = fill(MOVE, {"name": "韦一", "reason": "family"}, complete=True)
    assert "form.host" in family.problems and "form.reason_other" not in family.problems


def test_every_problem_is_named_by_its_path_at_once() -> None:
    typed: dict[str, Any] = {
        "id_number": PERSON[:-1] + "9",
        "income": "12.345",
        "born": "2030-01-01",
        "home": {"division": "999999", "street": "x"},
        "members": [
            {"name": "韦一", "id_number": PERSON},
            {},  # an empty row is dropped, not an error
            {"name": "韦二", "income": "abc"},
            {"name": "", "id_number": "450102"},
        ],
        "nope": "a key the form does not have",
    }
    with pytest.raises(FormInvalid) as refused:
        require_valid(MOVE, typed, complete=True)
    problems = refused.value.problems
    assert set(problems) == {
        "form.name",
        "form.reason",
        "form.id_number",
        "form.income",
        "form.born",
        "form.home",
        "form.members[1].income",
        "form.members[2].name",
        "form.members[2].id_number",
        "form.nope",
    }
    assert problems["form.name"] == "请填写「姓名」"
    assert "校验位" in problems["form.id_number"]
    assert refused.value.status == 422 and refused.value.field == "form.name"


def test_a_draft_keeps_what_is_right_and_names_what_is_wrong() -> None:
    draft = fill(MOVE, {"name": " 韦一 ", "income": "1,200.5", "agree": "是"}, complete=False)
    assert draft.problems == {}  # nothing required yet
    assert draft.values == {"name": "韦一", "income": "1200.50", "agree": True}
    wrong = fill(MOVE, {"name": "韦一", "id_number": "1"}, complete=False)
    assert wrong.values == {"name": "韦一"} and list(wrong.problems) == ["form.id_number"]


def test_values_once_converted_convert_to_themselves() -> None:
    typed = values_for(MOVE, "451203")
    once = require_valid(MOVE, typed, complete=True)
    assert require_valid(MOVE, once, complete=True) == once
    assert once["home"]["text"].startswith("广西壮族自治区 河池市 宜州区")


def test_an_item_without_a_form_keeps_what_it_is_sent() -> None:
    assert fill([], {"contact": "韦一", "n": [1]}, complete=True).values == {
        "contact": "韦一",
        "n": [1],
    }


def test_staff_see_personal_values_masked_until_revealed() -> None:
    values = require_valid(MOVE, values_for(MOVE, "451203"), complete=False)
    shown = {line.label: line.text for line in lines(MOVE, values, reveal=False)}
    assert shown["身份证号"] != values["id_number"] and shown["身份证号"].startswith("4512")
    assert "*" in shown["身份证号"] and shown["姓名"] == values["name"]
    revealed = {line.label: line.text for line in lines(MOVE, values, reveal=True)}
    assert revealed["身份证号"] == values["id_number"]
    table = next(line for line in lines(MOVE, values, reveal=False) if line.columns)
    assert all("*" in row[1] for row in table.rows)  # the members' ID numbers too
    assert masked(MOVE, values)["members"][0]["id_number"].count("*") == 10
    page = printed(lines(MOVE, values, reveal=False))
    assert page[0] == ["项目", "填写内容"] and ["【申请人】", ""] in page
    assert any(label == "家庭成员 第 2 行" for label, _ in page)


def test_the_json_schema_validates_what_the_server_accepts() -> None:
    schema = json_schema(MOVE, title="户口迁移申请表")
    jsonschema.Draft202012Validator.check_schema(schema)
    check = jsonschema.Draft202012Validator(schema)
    good = require_valid(MOVE, values_for(MOVE, "451203"), complete=True)
    good["home"] = {k: v for k, v in good["home"].items() if k != "text"}
    assert list(check.iter_errors(good)) == []
    assert not check.is_valid({**good, "name": None})
    assert not check.is_valid({**good, "reason": "other"})  # then 其他原因 is required
    assert check.is_valid({**good, "reason": "other", "reason_other": "照顾老人"})
    assert schema["x-govhall-layout"][0] == {"heading": "申请人", "key": "who"}
    assert schema["properties"]["id_number"]["x-govhall-personal"] is True


@pytest.mark.parametrize(
    ("definition", "named"),
    [
        ([{"key": "a", "label": "甲"}, {"key": "a", "label": "乙"}], "重复"),
        ([{"key": "a", "type": "choice", "label": "甲"}], "选项"),
        ([{"key": "t", "type": "table", "label": "表"}], "没有列"),
        ([{"key": "a", "label": "甲", "pattern": "("}], "正则"),
        ([{"key": "a", "label": "甲", "prefill": "person.shoe_size"}], "预填来源"),
        ([{"key": "a", "label": "甲", "show_when": [{"field": "b"}]}], "前面的字段"),
        ([{"key": "A", "label": "甲"}], "申请表定义有误"),
    ],
)
def test_a_wrong_form_definition_is_named(definition: list[Any], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        parse_form(definition)


def test_a_county_may_add_and_tighten_the_provinces_fields_but_not_drop_or_loosen() -> None:
    province = parse_form(
        [{"key": "a", "label": "甲", "required": True}, {"key": "b", "label": "乙"}]
    )
    tighter = parse_form(
        [
            {"key": "a", "label": "甲", "required": True},
            {"key": "b", "label": "乙", "required": True},
            {"key": "c", "label": "丙"},
        ]
    )
    assert override_problems(province, tighter) == []
    looser = parse_form([{"key": "a", "label": "甲"}])
    assert override_problems(province, looser) == [
        "省级标准要求必填的「甲」不能改为选填",
        "省级标准的字段「乙」不能删除",
    ]


def test_a_mobile_or_id_number_is_masked_for_staff_even_when_not_marked_personal() -> None:
    """The applicant's phone was masked on the case page's 申请人 card but shown whole in the
    form below it: a mobile or an ID number is personal whatever the form's author ticked."""
    from core.forms.display import lines
    from core.forms.model import FormField

    fields = [
        FormField(key="contact", type="mobile", label="联系电话"),
        FormField(key="holder", type="id_number", label="身份证号"),
        FormField(key="shop", type="text", label="店名"),
    ]
    values = {"contact": "13800000008", "holder": "450100199001011234", "shop": "河池粉店"}
    hidden = {line.label: line.text for line in lines(fields, values, reveal=False)}
    # masked as on the 申请人 card above it (the two read 138****0008 and 1380***0008)
    assert hidden["联系电话"] == "138****0008"
    assert "450100199001011234" not in hidden["身份证号"]
    assert hidden["店名"] == "河池粉店"
    shown = {line.label: line.text for line in lines(fields, values, reveal=True)}
    assert shown["联系电话"] == "13800000008"


def test_a_date_that_happened_cannot_be_in_the_future() -> None:
    """``max = "today"``: a residence start date after today is refused in plain words (it
    went through and cost the citizen a correction round); today itself passes."""
    from datetime import date, timedelta

    from core.forms import FormInvalid, parse_form, require_valid
    from core.forms.model import date_bound

    fields = parse_form(
        [{"key": "since", "type": "date", "label": "来本市居住日期", "max": "today"}]
    )
    today = date_bound("today")
    assert require_valid(fields, {"since": today.isoformat()}, complete=True)
    with pytest.raises(FormInvalid) as refused:
        require_valid(fields, {"since": (today + timedelta(days=30)).isoformat()}, complete=True)
    assert "不能晚于今天" in str(refused.value.problems)
    assert date_bound("2026-01-02") == date(2026, 1, 2)
