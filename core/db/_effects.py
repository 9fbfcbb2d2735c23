"""Effects at commit, registered in one visible place.

Some work belongs to a transaction's end rather than to any one service: texting the staff
whose step just opened, turning a case's new events into department notifications, handing
the outbox rows just written to the workers. Each capability describes such work as a
:class:`CommitEffect`; ``core.effects`` lists them all, in order, and installs them with
:func:`register_commit_effect` where the application is put together (the web app, the
workers, the command line, the tests). The session class carries one dispatcher per event
that runs the registered effects; a commit with none registered is a wiring mistake and
fails loudly instead of silently dropping messages.

Effects run inside SQLAlchemy's commit: they may read and add rows, never call plugin hooks
(a plugin's own database work would wait on this very transaction). A caller that flushes
with :func:`core.db.flush_with_effects` (a staff action) runs the ``before_commit`` effects
early, for what the transaction has done so far, so their rows go out with that flush; at
commit they run again only for what was collected since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = [
    "CommitEffect",
    "clear_commit_effects",
    "commit_effects",
    "install_effect_dispatch",
    "register_commit_effect",
]

Step = Callable[[Session], None]


@dataclass(frozen=True)
class CommitEffect:
    """What one capability does as a transaction ends.

    ``before_commit`` may add rows (they are flushed and committed with the rest);
    ``after_flush`` sees each flush's new objects; ``after_commit`` runs once the data is
    durable (hand work to the broker); ``after_rollback`` forgets what was collected.
    """

    name: str
    before_commit: Step | None = None
    after_flush: Step | None = None
    after_commit: Step | None = None
    after_rollback: Step | None = None


_effects: dict[str, CommitEffect] = {}


def register_commit_effect(effect: CommitEffect) -> None:
    """Add (or replace, by name) an effect; they run in the order first registered."""
    _effects[effect.name] = effect


def commit_effects() -> list[str]:
    return list(_effects)


def clear_commit_effects() -> None:
    _effects.clear()


def _run(step: str, session: Session) -> None:
    for effect in list(_effects.values()):
        fn = getattr(effect, step)
        if fn is not None:
            fn(session)


def _before_commit(session: Session) -> None:
    if not _effects:
        raise RuntimeError(
            "no commit effects are installed: call core.effects.install() where the "
            "application is put together"
        )
    _run("before_commit", session)


def _after_flush(session: Session, _context: object) -> None:
    _run("after_flush", session)


def _after_commit(session: Session) -> None:
    _run("after_commit", session)


def _after_rollback(session: Session) -> None:
    _run("after_rollback", session)


def install_effect_dispatch(session_class: type[Session]) -> None:
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_rollback", _after_rollback)
