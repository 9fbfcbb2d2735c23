"""The scheduler: exactly one runs (a Redis lock), and it only sends messages."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import dramatiq

from core.config import get_settings

log = logging.getLogger("govhall.scheduler")

LOCK_KEY = "govhall:scheduler:leader"

# Renew only if we still hold the lock; release only our own lock.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LeaderLock:
    """A Redis lease: ``acquire_or_renew()`` is True while this process leads."""

    def __init__(self, redis_url: str, ttl_seconds: float) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self.token = secrets.token_hex(16)
        self.ttl_ms = int(ttl_seconds * 1000)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def acquire_or_renew(self) -> bool:
        try:
            if self._renew(keys=[LOCK_KEY], args=[self.token, self.ttl_ms]):
                return True
            return bool(self.client.set(LOCK_KEY, self.token, nx=True, px=self.ttl_ms))
        except Exception as exc:
            log.warning("scheduler lock unavailable: %s", exc)
            return False

    def release(self) -> None:
        try:
            self._release(keys=[LOCK_KEY], args=[self.token])
        except Exception as exc:
            log.info("could not release the scheduler lock: %s", exc)


class LocalLock:
    """The embedded default: one process, so this process always leads."""

    def acquire_or_renew(self) -> bool:
        return True

    def release(self) -> None:
        return None


class Scheduler:
    """Sends each periodic actor a message when its interval has passed, while leading."""

    def __init__(
        self,
        jobs: Sequence[tuple[float | None, dramatiq.Actor[Any, Any]]],
        lock: LeaderLock | LocalLock,
        tick: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        # a job's ``None`` is the base interval: GOVHALL_SCHEDULER_INTERVAL unless given
        base = interval if interval is not None else get_settings().scheduler_interval
        self.jobs = [(every if every is not None else base, actor) for every, actor in jobs]
        self.lock = lock
        self.tick = tick
        self.clock = clock
        self._due = {actor.actor_name: 0.0 for _, actor in self.jobs}
        self._stop = threading.Event()
        self.leading = False
        self.sent = 0

    def run_once(self) -> int:
        """One tick: renew leadership, send what is due. Returns the messages sent."""
        self.leading = self.lock.acquire_or_renew()
        if not self.leading:
            return 0
        now = self.clock()
        sent = 0
        for interval, actor in self.jobs:
            if now >= self._due[actor.actor_name]:
                try:
                    actor.send()
                except Exception as exc:
                    log.warning("could not send %s: %s", actor.actor_name, exc)
                    continue
                self._due[actor.actor_name] = now + interval
                sent += 1
        self.sent += sent
        return sent

    def run_forever(self) -> None:
        log.info("scheduler started with %d jobs", len(self.jobs))
        try:
            while not self._stop.is_set():
                self.run_once()
                self._stop.wait(self.tick)
        finally:
            self.lock.release()

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="govhall-scheduler", daemon=True)
        thread.start()
        return thread
