"""Messages carried by a redirect (``?msg=`` / ``?error=``), signed: a page shows one only when
our own redirect put it there, so nobody can make a county's page say, in its green banner,
what a crafted link says ("您的申请已通过，请转账…").

A signature vouches for the words, whoever reads them: so a message is the code's own text
(with at most a count or a fixed word in it), never what someone typed — no form field, query
value, object name or error text that repeats the input ("未知的操作 <text>" let a clerk have
any sentence signed and shown as an official banner to whoever opened the link)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from core.config import get_settings

__all__ = ["checked", "signature", "with_flash"]


def signature(msg: str, error: str) -> str:
    key = hashlib.sha256(get_settings().secret_key.encode() + b"/flash").digest()
    return hmac.new(key, f"{msg}\x00{error}".encode(), hashlib.sha256).hexdigest()[:24]


def with_flash(url: str, *, msg: str = "", error: str = "") -> str:
    """``url`` with the message and its signature in the query (before any ``#fragment``)."""
    if not msg and not error:
        return url
    url, hash_, fragment = url.partition("#")
    parts = [f"msg={quote(msg)}"] if msg else []
    parts += [f"error={quote(error)}"] if error else []
    parts.append(f"sig={signature(msg, error)}")
    return url + ("&" if "?" in url else "?") + "&".join(parts) + hash_ + fragment


def checked(query: Any, context: dict[str, Any]) -> None:
    """Blank ``msg`` and ``error`` in a page's context when they are the query's own text and
    the query's signature does not vouch for them (a handler's own message stays)."""
    msg, error = query.get("msg") or "", query.get("error") or ""
    if not msg and not error:
        return
    if hmac.compare_digest(query.get("sig") or "", signature(msg, error)):
        return
    for key, sent in (("msg", msg), ("error", error)):
        if sent and context.get(key) == sent:
            context[key] = ""
