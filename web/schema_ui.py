"""The API's Swagger UI at /schema, served from our own origin.

Litestar's page loads Swagger UI (and its favicon) from a CDN, without subresource integrity,
and starts it with an inline script, so it went out without the pages' Content-Security-
Policy. Here the library is the committed copy in web/static/vendor/swagger-ui (package.json
pins it, ``make vendor`` copies it) and web/static/js/schema.js starts it: the page carries the
same policy as every other (no inline script, nothing from another origin), and it works on a
county's network that reaches no CDN. The JSON schema stays at /schema/openapi.json."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

__all__ = ["LocalSwagger"]

VENDOR = "/static/vendor/swagger-ui"


class LocalSwagger(SwaggerRenderPlugin):
    def __init__(self) -> None:
        super().__init__(
            js_url=f"{VENDOR}/swagger-ui-bundle.js",
            css_url=f"{VENDOR}/swagger-ui.css",
            standalone_preset_js_url=f"{VENDOR}/swagger-ui-standalone-preset.js",
            favicon='<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">',
            style='<link href="/static/css/schema.css" rel="stylesheet">',
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        config = request.app.openapi_config
        spec = ((config.path if config else None) or "/schema").rstrip("/") + "/openapi.json"
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link href="{self.css_url}" rel="stylesheet">
  {self.style}
  <script src="{self.js_url}" defer></script>
  <script src="{self.standalone_preset_js_url}" defer></script>
  <script src="/static/js/schema.js" defer></script>
</head>
<body>
  <div id="swagger-container" data-spec="{escape(spec)}"></div>
</body>
</html>
""".encode()
