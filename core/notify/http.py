"""One pooled HTTP client per timeout for the whole process, for vendor plugins: a vendor
object may be made for every message, its connections must not be."""

from __future__ import annotations

import httpx

__all__ = ["pooled_client"]

_clients: dict[float, httpx.Client] = {}


def pooled_client(timeout: float) -> httpx.Client:
    """A thread-safe client shared by every caller asking for the same ``timeout``."""
    client = _clients.get(timeout)
    if client is None:
        client = _clients.setdefault(timeout, httpx.Client(timeout=timeout))
    return client
