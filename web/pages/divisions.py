"""The province → city → county choices of an address field, for htmx to fill in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from core import divisions
from core.tenancy import Tenant
from web.templating import page

__all__ = ["DivisionPages"]


class DivisionPages(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/divisions", name="division_options", sync_to_thread=False)
    def options(
        self, request: Request[Any, Any, Any], tenant: Tenant, level: str = "", name: str = ""
    ) -> Template:
        """``level=city``: the cities of the posted province (and the county list emptied);
        ``level=county``: the counties of the posted city. Public data, like the catalog."""
        field_id = name.replace(".", "-")
        if level == "city":
            parent = request.query_params.get(f"{name}._province", "")
        else:
            parent = request.query_params.get(f"{name}._city", "")
        found = divisions.children(parent) if parent.isdigit() and len(parent) == 6 else []
        return page(
            request,
            "forms/_division_options.html",
            tenant=tenant,
            options=found,
            level=level,
            field_id=field_id,
        )
