"""The catalog (权力清单, 公共服务事项, 一次性告知): items, versions, localisation, search."""

from core.catalog.content import CATEGORIES, LICENSE_TYPES, ItemContent
from core.catalog.errors import ItemConflict, ItemNotFound
from core.catalog.listing import ItemPage, catalog_stats, list_items, province_stats
from core.catalog.models import (
    Category,
    DepartmentDuty,
    Item,
    ItemChange,
    ItemStatus,
    ItemVersion,
    Theme,
    VersionState,
)
from core.catalog.service import (
    activate_scheduled,
    adopt_item,
    change_status,
    create_item,
    diff_versions,
    get_item,
    get_item_by_code,
    overrides_of,
    publish_item,
    save_draft,
    versions_of,
)

__all__ = [
    "CATEGORIES",
    "LICENSE_TYPES",
    "Category",
    "DepartmentDuty",
    "Item",
    "ItemChange",
    "ItemConflict",
    "ItemContent",
    "ItemNotFound",
    "ItemPage",
    "ItemStatus",
    "ItemVersion",
    "Theme",
    "VersionState",
    "activate_scheduled",
    "adopt_item",
    "catalog_stats",
    "change_status",
    "create_item",
    "diff_versions",
    "get_item",
    "get_item_by_code",
    "list_items",
    "overrides_of",
    "province_stats",
    "publish_item",
    "save_draft",
    "versions_of",
]
