"""The address a request comes from, believing ``X-Forwarded-For`` only from our own proxies.

uvicorn runs with its proxy-header handling off (it trusts loopback by default, so anyone
on the machine could pick a fresh address per request). Here the peer's own address is the
client unless it is one of ``GOVHALL_TRUSTED_PROXIES``; then the forwarded chain is read
from the right, skipping our proxies, and the first address not ours is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from litestar import Request

from core.config import get_settings

__all__ = ["client_address", "trusted_networks"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(spec: str) -> tuple[_Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; a bad entry stops the start (see config)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _is_trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request[Any, Any, Any]) -> str:
    peer = request.client.host if request.client else ""
    networks = trusted_networks(get_settings().trusted_proxies)
    if not peer or not networks or not _is_trusted(peer, networks):
        return peer or "-"
    chain = [
        hop.strip()
        for value in request.headers.getall("x-forwarded-for", [])
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(chain):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy of ours passed garbage: count it against the proxy
    return peer
