"""Errors in plain Chinese: branded pages with a way home (in a tenant and outside one), the
framework's English never shown, a bad page number read as page 1, an oversized body refused
at once with the limit said, JSON for the API and scripts; and the favicon."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from tests.helpers import csrf_token

ENGLISH = ("Not Found", "Method Not Allowed", "Request Entity Too Large", "Expected `", "CSRF")


def _plain(text: str) -> None:
    for words in ENGLISH:
        assert words not in text, words


def test_an_unknown_page_in_a_tenant_is_its_own_404_with_a_way_home(client) -> None:
    page = client.get("/t/hechi/no-such-page")
    assert page.status_code == 404
    assert "页面不存在" in page.text and 'data-testid="brand-name"' in page.text
    assert "河池" in page.text
    assert 'href="/t/hechi/" data-testid="error-home"' in page.text
    _plain(page.text)


def test_an_unknown_page_outside_a_tenant_leads_to_the_platform_home(client) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.text
    assert 'href="/" data-testid="error-home"' in page.text
    _plain(page.text)


def test_a_method_a_page_lacks_is_a_branded_405(client) -> None:
    page = client.delete("/t/hechi/login")
    assert page.status_code == 405
    assert "无法这样打开此页面" in page.text and 'data-testid="brand-name"' in page.text
    assert 'href="/t/hechi/" data-testid="error-home"' in page.text
    _plain(page.text)
    api = client.delete("/api/v1/t/hechi/org-units")
    assert api.status_code == 405 and api.json()["error"] == "method_not_allowed"
    _plain(api.text)


def test_outside_a_tenant_405_and_500_lead_to_the_platform_home(client, monkeypatch) -> None:
    import web.pages.platform as platform

    refused = client.delete("/")
    assert refused.status_code == 405 and "无法这样打开此页面" in refused.text
    assert 'href="/" data-testid="error-home"' in refused.text
    _plain(refused.text)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(platform, "list_tenants", broken)
    failed = client.get("/")
    assert failed.status_code == 500 and "系统暂时出了点问题" in failed.text
    assert 'href="/" data-testid="error-home"' in failed.text and "secret" not in failed.text


def test_a_server_failure_is_a_branded_500(client, monkeypatch) -> None:
    import core.supervision.stats as stats

    def broken(*args, **kwargs):
        raise RuntimeError("database exploded: secret internals")

    monkeypatch.setattr(stats, "public_stats", broken)
    page = client.get("/t/hechi/stats")
    assert page.status_code == 500
    assert "系统暂时出了点问题" in page.text and 'data-testid="brand-name"' in page.text
    assert 'href="/t/hechi/" data-testid="error-home"' in page.text
    assert "exploded" not in page.text and "RuntimeError" not in page.text


def test_a_page_number_that_is_not_a_number_reads_as_page_1(client) -> None:
    bad = client.get("/t/hechi/items?page=abc&q=社保", follow_redirects=False)
    assert bad.status_code == 303
    assert bad.headers["location"] == "items?q=%E7%A4%BE%E4%BF%9D"
    page = client.get("/t/hechi/items?page=abc")
    assert page.status_code == 200 and str(page.url).endswith("/t/hechi/items")
    _plain(page.text)


def test_the_api_names_a_bad_parameter_in_chinese(client) -> None:
    bad = client.get("/api/v1/t/hechi/items?limit=abc")
    assert bad.status_code == 400
    assert bad.json() == {"error": "bad_request", "detail": "limit: 应为整数", "field": "limit"}


def test_a_body_over_the_limit_says_the_limit_in_chinese(client, settings) -> None:
    token = csrf_token(client, "/t/hechi/login")
    body = b"x" * (settings.max_upload_bytes + 1)
    mb = settings.max_upload_bytes // 1_048_576
    page = client.post(
        "/t/hechi/login/password",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert page.status_code == 413
    assert f"文件不能超过 {mb} MB" in page.text and 'data-testid="brand-name"' in page.text
    _plain(page.text)
    script = client.post(
        "/t/hechi/login/password",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-csrftoken": token,
            "accept": "application/json",
        },
    )
    assert script.status_code == 413
    assert script.json()["error"] == "payload_too_large"
    assert f"文件不能超过 {mb} MB" in script.json()["detail"]


def test_an_announced_oversized_body_is_refused_before_it_is_read(app, settings) -> None:
    """A Content-Length over the limit is answered at once: not one byte of the body is
    awaited (a browser sending 21 MB learns it in milliseconds, not after the upload)."""
    sent: list[dict] = []
    reads = 0

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        await anyio.sleep(30)  # a slow upload: never finishes within the test
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/t/hechi/org-units",
        "raw_path": b"/api/v1/t/hechi/org-units",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver.local"),
            (b"content-type", b"application/json"),
            (b"content-length", str(settings.max_upload_bytes * 2).encode()),
            (b"authorization", b"Bearer some-token"),  # (without one: 401, also unread)
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
    }

    async def run() -> None:
        with anyio.fail_after(5):
            await app(scope, receive, send)

    # in a thread of its own: the browser tests' session keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, run).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413 and reads == 0


@pytest.mark.parametrize("path", ["/t/hechi/no-such-page", "/t/hechi/login"])
def test_scripts_get_json_errors(client, path: str) -> None:
    answer = (
        client.get(path, headers={"HX-Request": "true"})
        if "no-such" in path
        else client.delete(path, headers={"HX-Request": "true"})
    )
    assert answer.status_code in (404, 405)
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"] in ("not_found", "method_not_allowed")


def test_the_favicon_is_served(client) -> None:
    ico = client.get("/favicon.ico", follow_redirects=False)
    assert ico.status_code == 301 and ico.headers["location"] == "/static/favicon.svg"
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
