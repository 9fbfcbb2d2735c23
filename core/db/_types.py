"""Field-level encryption of personal data (ID numbers, phones) and blind indexes for lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, String, Text, TypeDecorator

from core.config import get_settings

__all__ = [
    "EncryptedJSON",
    "EncryptedString",
    "EncryptedText",
    "blind_index",
    "decrypt_bytes",
    "encrypt_bytes",
    "file_keys",
]

_PREFIX = "enc1:"

#: what a stored free text that cannot be decrypted reads as
UNREADABLE_TEXT = "【此内容无法解密，可能被改动过】"
log = logging.getLogger("govhall.db")


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"govhall", info=purpose).derive(master)


@lru_cache(maxsize=8)
def _keys(current: str, old: str) -> tuple[tuple[bytes, bytes], ...]:
    """(key id, AES key) pairs; the first encrypts, every one decrypts."""
    out = []
    for raw in [current, *[k for k in old.split(",") if k.strip()]]:
        master = base64.urlsafe_b64decode(raw.strip())
        aes = _derive(master, b"field-encryption")
        kid = hashlib.sha256(aes).digest()[:4]
        out.append((kid, aes))
    return tuple(out)


@lru_cache(maxsize=4)
def _index_key(current: str) -> bytes:
    return _derive(base64.urlsafe_b64decode(current), b"blind-index")


def _active_keys() -> tuple[tuple[bytes, bytes], ...]:
    s = get_settings()
    return _keys(s.data_key, s.data_keys_old)


def encrypt_bytes(plain: bytes, associated: bytes = b"") -> bytes:
    kid, key = _active_keys()[0]
    nonce = os.urandom(12)
    return kid + nonce + AESGCM(key).encrypt(nonce, plain, associated)


def decrypt_bytes(blob: bytes, associated: bytes = b"") -> bytes:
    kid, nonce, body = blob[:4], blob[4:16], blob[16:]
    for candidate, key in _active_keys():
        if candidate == kid:
            return AESGCM(key).decrypt(nonce, body, associated)
    raise ValueError("no configured data key matches this ciphertext")


def blind_index(value: str) -> str:
    """A keyed hash for equality lookups (find an account by phone) without storing it plain."""
    key = _index_key(get_settings().data_key)
    return hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator[str]):
    """A string stored AES-GCM encrypted with ``GOVHALL_DATA_KEY`` (key rotation: see docs)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _PREFIX + base64.b64encode(encrypt_bytes(value.encode())).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not value.startswith(_PREFIX):
            raise ValueError("unencrypted value in an encrypted column")
        return decrypt_bytes(base64.b64decode(value[len(_PREFIX) :])).decode()


class EncryptedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON document stored AES-GCM encrypted (a plugin's configuration, with its vendor
    credentials): the database holds ``enc1:`` and ciphertext, never the secrets."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        plain = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return _PREFIX + base64.b64encode(encrypt_bytes(plain)).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        if not value.startswith(_PREFIX):
            raise ValueError("unencrypted value in an encrypted column")
        document: dict[str, Any] = json.loads(
            decrypt_bytes(base64.b64decode(value[len(_PREFIX) :]))
        )
        return document


class EncryptedText(TypeDecorator[str]):
    """Free text a person typed (a complaint, a rating comment, an SMS reply, a reason),
    stored AES-GCM encrypted: people put phone and ID numbers anywhere. The empty string
    stays empty (most reasons are), so it costs nothing where nothing was said."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if not value:
            return value
        return _PREFIX + base64.b64encode(encrypt_bytes(value.encode())).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if not value:
            return value
        try:
            if not value.startswith(_PREFIX):
                raise ValueError("unencrypted value in an encrypted column")
            return decrypt_bytes(base64.b64decode(value[len(_PREFIX) :])).decode()
        except (ValueError, InvalidTag) as exc:
            # Written around the application (or with a key no longer configured): say so in
            # place rather than take down every page that shows the case; the trail's hash
            # check then names the event as changed.
            log.error("free text that does not decrypt: %s", exc)
            return UNREADABLE_TEXT


@lru_cache(maxsize=8)
def _file_keys(current: str, old: str) -> tuple[tuple[bytes, bytes], ...]:
    out = []
    for raw in [current, *[k for k in old.split(",") if k.strip()]]:
        aes = _derive(base64.urlsafe_b64decode(raw.strip()), b"file-encryption")
        out.append((hashlib.sha256(aes).digest()[:4], aes))
    return tuple(out)


def file_keys() -> tuple[tuple[bytes, bytes], ...]:
    """(key id, AES key) pairs for uploaded files; the first encrypts, all decrypt."""
    s = get_settings()
    return _file_keys(s.data_key, s.data_keys_old)
