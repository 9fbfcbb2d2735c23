"""The Litestar application: tenant resolution, pages (Jinja2 + htmx) and the JSON API."""
