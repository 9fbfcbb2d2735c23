"""Signing up by SMS code says what one agrees to, and the policy is one click away."""

from __future__ import annotations


def test_the_sign_in_page_links_the_terms_and_privacy_policy(client) -> None:
    login = client.get("/t/hechi/login").text
    assert 'data-testid="consent"' in login and 'href="/t/hechi/privacy"' in login
    policy = client.get("/t/hechi/privacy")
    assert policy.status_code == 200
    assert "用户服务协议和隐私政策" in policy.text and "加密保存" in policy.text
    assert "河池市网上办事大厅" in policy.text  # in the county's own name
