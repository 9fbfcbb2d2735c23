"""A per-process memo for the small reference data every public page reads.

Departments, categories, themes, a tenant's plugin states, its process definitions, org units
and calendar change a few times a year and are read on every page or action; a popular search
is repeated many times a minute. :func:`remembered` keeps such a value for a couple
of seconds per database, and forgets it:

- at once in this process, when a transaction that wrote one of the watched tables commits
  (the ORM flush and ORM ``UPDATE``/``DELETE``/``INSERT`` statements are seen);
- within ``ttl`` seconds in every other process (a second web process, a worker), which is the
  same bound the tenant cache in ``web/deps.py`` keeps.

Inside a transaction that has written a watched table the memo is bypassed, so a service reads
its own writes. Values must be immutable or treated as such: ORM rows are stored as
:class:`Snapshot` copies, never as instances that belong to a session.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

__all__ = [
    "MEMO_SECONDS",
    "Snapshot",
    "forget_remembered",
    "install_memo",
    "remembered",
    "snapshot",
    "watch",
]

T = TypeVar("T")
MEMO_SECONDS = 2.0
_WATCHED: set[type] = set()
_FLAG = "govhall.memo_dirty"
_lock = threading.Lock()
_stores: weakref.WeakKeyDictionary[
    Engine | Connection, dict[Hashable, dict[Hashable, tuple[float, Any]]]
] = weakref.WeakKeyDictionary()
#: Entries kept per namespace (the first element of a key) before that namespace is emptied.
#: Kept pages (web/pages/_kept.py) are 30–60 KB each: some 50 of each kind, the popular
#: guides and searches of the last seconds, hold a process's memory to a few MB.
LIMITS: dict[Hashable, int] = {
    "catalog-search": 256,
    "api-items": 128,
    "item-page": 48,
    "items-page": 48,
}
DEFAULT_LIMIT = 10_000


class Snapshot(SimpleNamespace):
    """A detached, read-only copy of a row's column values (attribute access, as in templates)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a snapshot is read-only ({name})")


def snapshot(row: Any) -> Snapshot:
    values = {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}
    snap = Snapshot()
    snap.__dict__.update(values)
    return snap


def watch(*classes: type) -> None:
    """Declare mapped classes whose writes invalidate remembered values."""
    _WATCHED.update(classes)


def _is_watched(cls: type) -> bool:
    return any(issubclass(cls, w) for w in _WATCHED)


def remembered(
    session: Session, key: tuple[Hashable, ...], load: Callable[[], T], *, ttl: float = MEMO_SECONDS
) -> T:
    """``load()``'s value for ``key`` on this session's database, kept up to ``ttl`` seconds.
    ``key[0]`` names the namespace, which :data:`LIMITS` may bound more tightly."""
    if session.info.get(_FLAG):
        return load()  # this transaction wrote reference data: read it, do not share it
    engine = session.get_bind()
    now = time.monotonic()
    with _lock:
        stores = _stores.setdefault(engine, {})
        store = stores.setdefault(key[0], {})
        hit = store.get(key)
    if hit is not None and now - hit[0] < ttl:
        return cast(T, hit[1])
    value = load()
    # A commit that forgot everything while we loaded dropped ``store`` from ``stores``: what
    # we put there now, possibly read before that commit, is never served.
    if not session.info.get(_FLAG):
        with _lock:
            if len(store) >= LIMITS.get(key[0], DEFAULT_LIMIT):
                store.clear()
            store[key] = (now, value)
    return value


def forget_remembered() -> None:
    with _lock:
        for stores in _stores.values():
            stores.clear()


def _after_flush(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _is_watched(type(obj)):
            session.info[_FLAG] = True
            return


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select or state.session.info.get(_FLAG):
        return
    if any(_is_watched(m.class_) for m in state.all_mappers):
        state.session.info[_FLAG] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        forget_remembered()


def _after_rollback(session: Session, previous: Any) -> None:
    if not previous.nested:  # a savepoint's rollback leaves the outer writes in place
        session.info.pop(_FLAG, None)


def install_memo(session_class: type[Session]) -> None:
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "do_orm_execute", _on_execute)
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_soft_rollback", _after_rollback)
