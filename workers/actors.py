"""Actors. Each takes ids, is idempotent, and states its retries and time limit."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import delete

from core.cases.idempotency import forget_expired
from core.db import PLATFORM, get_database, utcnow
from core.effects import install as install_effects
from core.identity.models import ApiToken, LoginThrottle, OAuthCode, OneTimeCode
from core.notify.outbox import set_dispatcher
from workers.broker import broker  # noqa: F401 - binds actors to the configured broker

log = logging.getLogger("govhall.workers")


@dramatiq.actor(queue_name="maintenance", max_retries=3, time_limit=60_000)
def purge_expired() -> None:
    """Delete spent sign-in material (expired codes, tokens and stale throttle rows) and the
    answers kept for retries (``Idempotency-Key``) past their day.

    Idempotent: running it twice deletes nothing more the second time.
    """
    now = utcnow()
    with get_database().session(scope=PLATFORM) as session:
        counts = {}
        for model, condition in (
            (OneTimeCode, OneTimeCode.expires_at < now - timedelta(days=1)),
            (OAuthCode, OAuthCode.expires_at < now - timedelta(days=1)),
            (ApiToken, ApiToken.expires_at < now - timedelta(days=7)),
            (
                LoginThrottle,
                (LoginThrottle.window_start < now - timedelta(days=1))
                & ((LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now)),
            ),
        ):
            result = session.execute(delete(model).where(condition))
            counts[model.__tablename__] = getattr(result, "rowcount", 0)
        counts["idempotent_requests"] = forget_expired(session, now)
        session.commit()
    log.info("purged expired rows: %s", counts)


@dramatiq.actor(queue_name="maintenance", max_retries=1, time_limit=30 * 60_000)
def sweep_orphan_objects() -> None:
    """Delete stored materials, notices and e-licenses older than an hour that no row names
    (a process that died between storing a file and committing its row). Idempotent."""
    from core.cases.orphans import sweep

    report = sweep(get_database())
    if report.deleted:
        log.info("object sweep: deleted %d of %d objects", report.deleted, report.scanned)


@dramatiq.actor(queue_name="catalog", max_retries=2, time_limit=30 * 60_000)
def run_catalog_import(tenant_id: str, job_id: str) -> None:
    """Run one catalog import; a second delivery of the same message does nothing.

    run_import ends the job itself, failed with a Chinese reason, whatever goes wrong in the
    file or the rows; only an outage (the database unreachable) reaches the broker's retries.
    """
    from core.catalog.imports import run_import

    status = run_import(uuid.UUID(tenant_id), uuid.UUID(job_id))
    log.info("catalog import %s finished: %s", job_id, status)


@dramatiq.actor(queue_name="catalog", max_retries=3, time_limit=10 * 60_000)
def activate_catalog_versions() -> None:
    """Put item versions live whose validity window has begun. Idempotent."""
    from core.catalog import activate_scheduled

    with get_database().session(scope=PLATFORM) as session:
        count = activate_scheduled(session)
        session.commit()
    if count:
        log.info("activated %d scheduled item versions", count)


@dramatiq.actor(queue_name="notify", max_retries=0, time_limit=60_000)
def relay_message(message_id: str) -> None:
    """Send one outbox row now (queued after the commit that wrote it). No broker retries:
    the row keeps its own attempts and backoff, and the relay sweep picks it up again."""
    from core.notify.relay import deliver

    with get_database().session(scope=PLATFORM) as session:
        outcome = deliver(session, uuid.UUID(message_id))
        session.commit()
    log.debug("outbox %s: %s", message_id, outcome)


@dramatiq.actor(queue_name="notify", max_retries=0, time_limit=5 * 60_000)
def relay_pending() -> None:
    """Every row still due (written while the broker was down, or waiting for a retry)."""
    from core.notify.relay import deliver, due_ids

    counts: dict[str, int] = {}
    with get_database().session(scope=PLATFORM) as session:
        ids = due_ids(session)
        session.rollback()
        for message_id in ids:
            outcome = deliver(session, message_id)
            session.commit()
            counts[outcome] = counts.get(outcome, 0) + 1
    if ids:
        log.info("relay sweep: %s", counts)


@dramatiq.actor(queue_name="supervision", max_retries=1, time_limit=10 * 60_000)
def sweep_deadlines() -> None:
    """Yellow and red cards for every active tenant (see core.supervision.sweep)."""
    from core.supervision.sweep import run_sweep

    total = run_sweep(get_database())
    if total.yellow or total.red:
        log.info("deadline sweep: %s", total)


@dramatiq.actor(queue_name="supervision", max_retries=1, time_limit=30 * 60_000)
def update_dashboards() -> None:
    """Roll closed days into the dashboards and recompute the performance scores."""
    from core.supervision.scores import run_dashboards

    totals = run_dashboards(get_database())
    if totals["days"]:
        log.info("dashboards: %s", totals)


def _dispatch(ids: list[uuid.UUID]) -> None:
    for message_id in ids:
        relay_message.send(str(message_id))


# The workers' own wiring: outbox rows go to the relay actor, and the core's commit-time
# effects are installed (the web app and the command line do the same).
set_dispatcher(_dispatch)
install_effects()

#: (seconds between runs, actor) — what the scheduler triggers; ``None``: every
#: ``GOVHALL_SCHEDULER_INTERVAL`` seconds (60 unless set), the pace of deadlines and the outbox.
PERIODIC: list[tuple[float | None, Any]] = [
    (3600.0, purge_expired),
    (3600.0, sweep_orphan_objects),
    (600.0, activate_catalog_versions),
    (None, sweep_deadlines),
    (None, relay_pending),
    (600.0, update_dashboards),
]
