"""Errors of the catalog."""

from core.errors import Conflict, NotFound


class ItemNotFound(NotFound):
    code = "item_not_found"


class ItemConflict(Conflict):
    code = "item_conflict"
