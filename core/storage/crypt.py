"""Files encrypted before they reach storage, in a streaming format (nothing is held whole):

    b"GHF1" | key id (4) | nonce prefix (8) | chunks…

Each chunk is ``length (4, big-endian) | AES-GCM(ciphertext + tag)`` of at most 64 KiB of
plain text, its nonce the prefix plus a counter, its associated data marking the last chunk —
so reordering, dropping or truncating chunks fails to decrypt.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.db._types import file_keys

__all__ = ["CHUNK", "MAGIC", "Encryptor", "decrypt_stream"]

MAGIC = b"GHF1"
CHUNK = 64 * 1024


class Encryptor:
    """Feed plain bytes, collect encrypted bytes; ``finish()`` seals the last chunk."""

    def __init__(self) -> None:
        self.kid, key = file_keys()[0]
        self.aes = AESGCM(key)
        self.prefix = os.urandom(8)
        self.counter = 0
        self.pending = bytearray()
        self.header_sent = False

    def _seal(self, plain: bytes, last: bool) -> bytes:
        nonce = self.prefix + struct.pack(">I", self.counter)
        self.counter += 1
        sealed = self.aes.encrypt(nonce, plain, b"last" if last else b"more")
        return struct.pack(">I", len(sealed)) + sealed

    def _header(self) -> bytes:
        if self.header_sent:
            return b""
        self.header_sent = True
        return MAGIC + self.kid + self.prefix

    def update(self, data: bytes) -> bytes:
        self.pending += data
        out = [self._header()]
        # keep at least one byte back so the final chunk is always sealed by finish()
        while len(self.pending) > CHUNK:
            out.append(self._seal(bytes(self.pending[:CHUNK]), last=False))
            del self.pending[:CHUNK]
        return b"".join(out)

    def finish(self) -> bytes:
        out = self._header() + self._seal(bytes(self.pending), last=True)
        self.pending.clear()
        return out


def decrypt_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    source = iter(chunks)

    def need(n: int) -> bytes | None:
        while len(buffer) < n:
            try:
                buffer.extend(next(source))
            except StopIteration:
                return None
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    def more() -> bool:
        while not buffer:
            try:
                buffer.extend(next(source))
            except StopIteration:
                return False
        return True

    header = need(16)
    if header is None or header[:4] != MAGIC:
        raise ValueError("not an encrypted file")
    kid, prefix = header[4:8], header[8:16]
    key = next((k for i, k in file_keys() if i == kid), None)
    if key is None:
        raise ValueError("no configured data key matches this file")
    aes, counter = AESGCM(key), 0
    while True:
        size = need(4)
        if size is None:
            raise ValueError("the encrypted file is truncated")
        sealed = need(struct.unpack(">I", size)[0])
        if sealed is None:
            raise ValueError("the encrypted file is truncated")
        nonce = prefix + struct.pack(">I", counter)
        counter += 1
        at_end = not more()
        try:
            plain = aes.decrypt(nonce, sealed, b"last" if at_end else b"more")
        except Exception as exc:
            raise ValueError("the encrypted file was altered") from exc
        yield plain
        if at_end:
            return
