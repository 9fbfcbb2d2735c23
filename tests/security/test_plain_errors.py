"""What a person is shown is Chinese, never a library's English: a body that is not JSON, a
value of the wrong shape (with the path to the field), an unknown org unit, the sign-in page of
an OAuth request that cannot go on; OAuth's JSON refusals keep the RFC's error codes and add
the Chinese ``detail`` every other API error has."""

from __future__ import annotations

import re

import pytest

from core.validation import JSON_NOT_VALID, plain
from tests.helpers import account_token, bearer

LATIN = re.compile(r"[A-Za-z]{4,}")


@pytest.mark.parametrize(
    ("message", "said"),
    [
        (
            "Object missing required field `code` - at `$.departments[0]`",
            "departments[0].code: 缺少必填项",
        ),
        ("Expected `int`, got `str` - at `$.x[2].y`", "x[2].y: 应为整数"),
        ("Object contains unknown field `extra`", "extra: 不是可用的字段"),
        ("Expected `str` of length <= 200 - at `$.name`", "name: 最多 200 个字"),
        ("Expected `str` of length >= 1 - at `$.name`", "name: 不能为空"),
        ("Expected `int` >= 0 - at `$.copies`", "copies: 不能小于 0"),
        ("Expected `array`, got `object`", "应为列表"),
        ("something msgspec never said", "格式不正确"),
    ],
)
def test_msgspec_s_words_in_chinese_with_the_field(message: str, said: str) -> None:
    assert plain(message) == said


def test_the_api_says_what_is_wrong_with_a_body_in_chinese(client, db) -> None:
    token = bearer(account_token(db, "hechi", "13800000001"))
    json_headers = {**token, "content-type": "application/json"}
    for body in (b"{a", b"[1,", b'{"item": "x",}'):
        refused = client.post("/api/v1/t/hechi/cases", content=body, headers=json_headers)
        assert refused.status_code == 400
        assert refused.json() == {"error": "bad_request", "detail": JSON_NOT_VALID}, body
    wrong = client.post("/api/v1/t/hechi/cases", json={"item": 5}, headers=token)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "bad_request", "detail": "item: 应为文字", "field": "item"}
    missing = client.post("/api/v1/t/hechi/cases", json={}, headers=token)
    assert missing.json()["detail"] == "item: 缺少必填项"
    sms = client.post(
        "/api/v1/t/hechi/sms/console/inbound",
        content=b"{x",
        headers={"content-type": "application/json"},
    )
    assert sms.status_code == 422 and sms.json()["detail"] == JSON_NOT_VALID


def test_an_unknown_org_unit_is_said_in_chinese(client, db) -> None:
    from core.errors import NotFound
    from core.tenancy import scope_for
    from tests.helpers import tenant
    from web.api.tenant import _unit

    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s, pytest.raises(NotFound) as refused:
        _unit(s, hechi, __import__("uuid").uuid4())
    assert refused.value.detail == "没有这个机构"


def test_an_oauth_request_that_cannot_go_on_is_a_chinese_page(client) -> None:
    for params in (
        {"response_type": "code", "client_id": "no-such-client", "scope": "openid"},
        {"response_type": "token", "client_id": "no-such-client"},
    ):
        page = client.get("/oauth/authorize", params=params, headers={"accept": "text/html"})
        assert page.status_code == 400
        shown = page.text.split('data-testid="error-page"', 1)[1]
        detail = re.search(r'data-testid="error-detail">([^<]*)<', shown)
        assert detail and not LATIN.search(detail.group(1)), shown[:600]
        assert "does not exist" not in page.text and "unsupported_response_type" not in page.text


def test_an_oauth_json_refusal_keeps_its_code_and_says_it_in_chinese(client) -> None:
    refused = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert refused.status_code in (400, 401)
    body = refused.json()
    assert (
        body["error"] == "invalid_client"
        and body["detail"] == "这个应用未在本平台登记，或应用标识、应用密钥不正确"
    )
    info = client.get("/oauth/userinfo", headers={"authorization": "Bearer nope"})
    assert info.status_code == 401 and info.json()["detail"] == "访问令牌无效或已过期"


def test_a_plugin_configuration_of_the_wrong_shape_is_refused_in_chinese() -> None:
    from core.errors import InvalidInput
    from plugins.dept_webhooks import meta

    with pytest.raises(InvalidInput) as refused:
        meta.parse_config({"departments": [{"url": "https://example.org/hook"}]})
    assert "departments[0].code: 缺少必填项" in refused.value.detail
    assert not LATIN.search(refused.value.detail.replace("departments", "").replace("code", ""))
