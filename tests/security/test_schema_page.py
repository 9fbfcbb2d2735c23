"""The API's Swagger UI (/schema) loads nothing from another origin and carries the pages'
Content-Security-Policy (no inline script); the JSON schema is still at /schema/openapi.json."""

from __future__ import annotations

import re


def test_the_schema_page_is_served_from_our_origin_under_the_csp(client) -> None:
    page = client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "http" not in page.text  # no CDN, no other origin
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline script
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    spec = re.search(r'data-spec="([^"]+)"', page.text).group(1)
    assert client.get(spec).json()["info"]["title"] == "govhall API"
