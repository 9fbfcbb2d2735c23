"""The Dramatiq broker: Redis when ``GOVHALL_REDIS_URL`` is set, in-process otherwise."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from core.config import get_settings

__all__ = ["broker", "is_in_process", "make_broker"]


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=5),
    ]


def make_broker(redis_url: str | None = None) -> dramatiq.Broker:
    if redis_url:
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=redis_url, namespace="govhall", middleware=_middleware())
    stub = StubBroker(middleware=_middleware())
    stub.emit_after("process_boot")
    return stub


broker = make_broker(get_settings().redis_url or None)
dramatiq.set_broker(broker)


def is_in_process() -> bool:
    return isinstance(broker, StubBroker)
