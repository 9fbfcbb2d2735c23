"""Requests to addresses a county configures (SMS gateways, cloud SMS, couriers, department
webhooks) go only to the public internet.

A county administrator types these addresses, so they must not become a way to make the
server reach what only the server can: itself (``127.0.0.1``, ``localhost``), the private
network it sits in (RFC 1918, IPv6 ULA, carrier-grade NAT), the cloud's metadata service
(``169.254.169.254``, link-local), multicast, unspecified and reserved addresses. Two checks:

- **When a config is saved** (:func:`url_problem`, run by the plugin manager on every field
  named ``url``, ``endpoint`` or ``…_url``): an address that *is* or *resolves to* such an
  address is refused with a plain field error. A name that does not resolve yet is accepted
  (the vendor's DNS may be down); the second check still holds.
- **When a connection is made** (:func:`guarded_transport`, behind
  :func:`core.plugins.pooled_client`): the host name is resolved once, every address it
  resolves to is checked, and the socket is opened to a checked address — so a name that
  resolves to a public address when saved and to ``127.0.0.1`` later (DNS rebinding) is still
  refused. Redirects are not followed; were one followed, its connection is checked the same
  way. The process's ``HTTP(S)_PROXY`` variables are not used for these requests (a proxy
  would make every target look like the proxy).

``GOVHALL_OUTBOUND_ALLOW_PRIVATE=1`` turns both checks off: for development and the test
suite, whose fake vendors listen on loopback — never in production.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from core.config import get_settings

__all__ = [
    "OutboundRefused",
    "address_fields",
    "forbidden_address",
    "guarded_transport",
    "is_address_field",
    "url_problem",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 / 8215)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class OutboundRefused(httpcore.ConnectError):
    """A connection to a loopback, private, link-local or reserved address was refused
    (httpx reports it as :class:`httpx.ConnectError`, like any address that cannot be
    reached)."""


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_address(ip: Address) -> bool:
    """Whether ``ip`` is anything but a public unicast address: loopback, private (RFC 1918,
    ULA, carrier-grade NAT), link-local (the metadata service), multicast, unspecified,
    reserved or documentation — also when an IPv6 address carries such an IPv4 one."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None and forbidden_address(inner):
            return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_unspecified
    )


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` names (an address literal is itself); raises ``OSError``."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    found: list[Address] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


def _allowed() -> bool:
    return get_settings().outbound_allow_private


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be a county-configured address (a plain sentence), or ``None``.

    Checks the scheme, that there is a host, and — unless ``GOVHALL_OUTBOUND_ALLOW_PRIVATE``
    — that the host is not, and does not resolve to, a loopback, private, link-local,
    multicast, unspecified or reserved address. A name that does not resolve is accepted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "地址格式不正确"
    if parts.scheme not in ("http", "https"):
        return "地址应以 http:// 或 https:// 开头"
    host = parts.hostname or ""
    if not host:
        return "地址缺少主机名"
    if _allowed():
        return None
    refused = "地址不能指向本机、内网、链路本地或保留地址（{}），请填写服务商的公网地址"
    if host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(".localhost"):
        return refused.format(host)
    try:
        addresses = _resolve(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return None  # not resolvable now: the connection is checked when it is made
    bad = [ip for ip in addresses if forbidden_address(ip)]
    if bad:
        return refused.format(bad[0] if str(bad[0]) == host else f"{host} → {bad[0]}")
    return None


def is_address_field(key: object) -> bool:
    """A config field holding an address requests are sent to: ``url``, ``endpoint`` or a
    name ending in ``_url`` (the same rule that makes a secret be entered again when its
    address changes)."""
    return isinstance(key, str) and (key in ("url", "endpoint") or key.endswith("_url"))


def address_fields(value: Any, path: tuple[Any, ...] = ()) -> Iterable[tuple[tuple[Any, ...], str]]:
    """Every (path, text) of an address field in a raw config, at any depth (a value with no
    ``scheme://`` is no address a request could be sent to, and is left to the plugin)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_address_field(key) and isinstance(item, str) and "://" in item:
                yield (*path, key), item
            else:
                yield from address_fields(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from address_fields(item, (*path, i))


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses when any address it names is not public, and
    connects to a checked address (the TLS name stays the host's: httpcore passes it)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if _allowed():
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = _resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"无法解析 {host}：{exc}") from exc
        bad = [ip for ip in addresses if forbidden_address(ip)]
        if bad or not addresses:
            raise OutboundRefused(
                f"拒绝连接 {host}（{bad[0] if bad else '无地址'}）：不能访问本机、内网、"
                "链路本地或保留地址"
            )
        error: httpcore.ConnectError | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


def guarded_transport() -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through the address check (and
    never through an environment proxy)."""
    transport = httpx.HTTPTransport(trust_env=False)
    pool = transport._pool
    if not isinstance(getattr(pool, "_network_backend", None), httpcore.SyncBackend):
        raise RuntimeError("httpcore changed: the outbound address check cannot be installed")
    pool._network_backend = _GuardedBackend()
    return transport
