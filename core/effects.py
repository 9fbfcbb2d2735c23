"""Everything the core does as a transaction ends — listed here, in the order it runs, and
nowhere else. Where the application is put together (the web app, the workers, the command
line, the tests) :func:`install` registers them with :mod:`core.db`; a commit before that
fails loudly rather than dropping a message.

1. ``assignment_texts`` — staff whose step opened in the transaction get an SMS (outbox row).
2. ``department_events`` — each new case event of a tenant whose plugins forward events gets
   an outbox row of channel ``event``; a worker later asks the plugins where it goes and
   writes a signed webhook row per department system (no plugin hook runs inside a commit).
3. ``outbox_dispatch`` — the outbox rows the transaction wrote are handed to the workers
   once it has committed (if the broker is down, the relay sweep sends them later).
4. ``catalog_department_names`` — a department renamed in the transaction: the search
   postings of its items are rewritten before it commits (search finds items by it).

Besides: the outbox channel ``event`` is delivered by the departments' forwarding, and a
plugin's enabling or disabling writes or withdraws its own catalog items (the plugin manager
announces it; the catalog listens).
"""

from __future__ import annotations

from core.cases import plugin_views
from core.cases.departments import DEPARTMENT_EVENTS, EVENT_CHANNEL, forward_event_row
from core.catalog.plugin_items import on_plugin_toggled
from core.catalog.renames import DEPARTMENT_NAMES
from core.db import CommitEffect, register_commit_effect
from core.notify.outbox import OUTBOX_DISPATCH
from core.notify.relay import register_channel
from core.plugins.manager import on_toggle
from core.supervision.assignments import ASSIGNMENT_TEXTS

__all__ = ["COMMIT_EFFECTS", "install"]

COMMIT_EFFECTS: tuple[CommitEffect, ...] = (
    ASSIGNMENT_TEXTS,
    DEPARTMENT_EVENTS,
    OUTBOX_DISPATCH,
    DEPARTMENT_NAMES,
)


def install() -> None:
    """Register the commit-time effects, the outbox channels they write, and what follows
    a plugin's enabling or disabling (idempotent)."""
    for effect in COMMIT_EFFECTS:
        register_commit_effect(effect)
    register_channel(EVENT_CHANNEL, forward_event_row)
    on_toggle(on_plugin_toggled)  # a plugin's own items enter or leave the catalog
    plugin_views.install()  # what core.plugins.Lookup reads items and cases with
