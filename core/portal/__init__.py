"""The portal's own content and figures: announcements (公告) a county admin edits, and what
the home page shows (个人办事, 法人办事, life events, hot items, the power list by category,
departments, the footer's figures) read from the database in a few aggregates."""

from core.portal.announcements import (
    Announcement,
    AnnouncementNotFound,
    create_announcement,
    get_announcement,
    list_announcements,
    published_announcement,
    published_announcements,
    update_announcement,
)
from core.portal.facts import FooterFacts, HomeFacts, footer_facts, home_facts, hot_items

__all__ = [
    "Announcement",
    "AnnouncementNotFound",
    "FooterFacts",
    "HomeFacts",
    "create_announcement",
    "footer_facts",
    "get_announcement",
    "home_facts",
    "hot_items",
    "list_announcements",
    "published_announcement",
    "published_announcements",
    "update_announcement",
]
