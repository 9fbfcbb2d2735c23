"""Storage in a local directory (the embedded default)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from core.storage.base import ObjectInfo, StorageError, note_put

CHUNK = 64 * 1024


class LocalStorage:
    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key escapes the storage root: {key!r}")
        return path

    def put(self, key: str, data: BinaryIO, content_type: str) -> ObjectInfo:
        path = self._path(key)
        note_put(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside, then rename: a reader never sees half an object.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(data, out, CHUNK)
            os.replace(tmp, path)
            path.with_name(path.name + ".type").write_text(content_type)
        except OSError as exc:
            raise StorageError(f"存储不可用: {exc.strerror}") from exc
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=content_type)

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise StorageError("对象不存在") from None
        with fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def read(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        type_file = path.with_name(path.name + ".type")
        content_type = type_file.read_text() if type_file.exists() else "application/octet-stream"
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=content_type)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".type").unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (a folder: ``t/``), in no order;
        the type files beside them and half-written uploads are not objects."""
        top = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not top.is_dir():
            return
        for folder, _dirs, files in os.walk(top):
            for name in files:
                if name.endswith(".type") or name.startswith(".upload-"):
                    continue
                path = Path(folder) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted while we looked
                    continue
                yield ObjectInfo(
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    content_type="",
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                )

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"存储不可用: {exc.strerror}") from exc
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")
