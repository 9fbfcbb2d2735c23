"""Finding what a PDF would run when opened: JavaScript, actions run on opening or on an event,
launching a program.

A material or form template is shown inline to staff and citizens, so a PDF that carries
``/JavaScript``, ``/JS``, ``/AA`` (additional actions), ``/Launch`` (an ``/OpenAction`` that
runs script names ``/JavaScript`` as well) is refused with :data:`MESSAGE`. The file is read as
it arrives, chunk by chunk (an upload is never held whole): names in the file's own syntax, and
in the text of its streams once inflated (``/FlateDecode``, where object streams hide their
dictionaries). A name written with ``#xx`` escapes (``/J#61vaScript``) is read as the name it
spells. Streams that inflate to binary (images, fonts) are skipped, so their bytes cannot look
like a name by chance. Not covered: other stream filters (LZW, ASCII85 and ASCIIHex), and an
encrypted PDF's strings and streams — a PDF that hides script that way is not caught here.
"""

from __future__ import annotations

import re
import zlib

from core.errors import InvalidInput

__all__ = ["MESSAGE", "PdfScripts", "check_pdf", "pdf_scripts"]

MESSAGE = (
    "PDF 文件含有脚本或自动执行的操作（如 JavaScript），为安全起见不能上传；"
    "请用“打印为 PDF”或扫描另存为普通 PDF 后重新上传"
)

#: the names of actions a viewer runs by itself
ACTIVE = frozenset({b"JavaScript", b"JS", b"AA", b"Launch"})
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /\[\]()<>{}%]*)(?=[\x00\t\n\x0c\r /\[\]()<>{}%])")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"(?<!end)stream(\r\n|\n|\r)")
_ENDSTREAM = b"endstream"
#: bytes kept back between chunks so that a name or keyword split by a chunk is seen whole
_KEEP = 256
#: inflated bytes looked at to tell text from binary
_SAMPLE = 1024
#: at most this much is inflated per file: a "zip bomb" is refused, not unpacked
MAX_INFLATED = 256 * 1_048_576
_STEP = 1_048_576


def _active_names(text: bytes, below: int) -> str | None:
    """The first active name in ``text`` that starts before ``below``."""
    for match in _NAME.finditer(text):
        if match.start() >= below:
            break
        name = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name in ACTIVE:
            return "/" + name.decode("latin-1")
    return None


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def _textual(sample: bytes) -> bool:
    if not sample:
        return True
    plain = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 12, 13))
    return plain >= 0.9 * len(sample)


class _TextScan:
    """Names in a run of text that arrives in pieces."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes, final: bool = False) -> str | None:
        text = self.pending + data
        below = len(text) if final else max(0, len(text) - _KEEP)
        found = _active_names(text + (b" " if final else b""), below)
        self.pending = b"" if final else text[below:]
        return found


class PdfScripts:
    """Feed a PDF's bytes in order; ``found`` names the first active name seen, if any."""

    def __init__(self) -> None:
        self.found: str | None = None
        self._pending = b""
        self._mode = "syntax"  # or "body" (a stream's raw bytes), "inflate", "skip"
        self._inflater: zlib._Decompress | None = None
        self._inner = _TextScan()
        self._sample = b""
        self._inflated = 0
        self._checked = False

    def feed(self, chunk: bytes, final: bool = False) -> str | None:
        if self.found is None:
            self._run(self._pending + chunk, final)
        return self.found

    def finish(self) -> str | None:
        return self.feed(b"", final=True)

    def _run(self, data: bytes, final: bool) -> None:
        rest: bytes | None = data
        while self.found is None and rest is not None:
            step = {
                "syntax": self._syntax,
                "body": self._body,
                "inflate": self._inflate,
                "skip": self._skip,
            }[self._mode]
            rest = step(rest, final)

    # each step takes what it can and returns the rest for the next mode, or None (wait for more)

    def _syntax(self, data: bytes, final: bool) -> bytes | None:
        below = len(data) if final else max(0, len(data) - _KEEP)
        marker = _STREAM.search(data, 0)
        if marker is not None and marker.start() < below and (final or marker.end() <= len(data)):
            self.found = _active_names(data[: marker.start()] + b" ", marker.start())
            self._mode, self._sample = "body", b""
            return data[marker.end() :]
        self.found = _active_names(data + (b" " if final else b""), below)
        # a few bytes before too, so that "end" is still there before a "stream" split off
        self._pending = b"" if final else data[max(0, below - 8) :]
        return None

    def _body(self, data: bytes, final: bool) -> bytes | None:
        """A stream's first bytes: inflated if they are zlib, else read as they are if text."""
        sample = self._sample + data
        if len(sample) < _SAMPLE and not final:
            self._sample, self._pending = sample, b""
            return None
        self._sample = b""
        if _zlib_header(sample):
            self._inflater, self._inner, self._mode = zlib.decompressobj(), _TextScan(), "inflate"
            self._checked = False
        elif _textual(sample[:_SAMPLE]):  # an uncompressed stream of PDF syntax or script
            self._mode = "syntax"
        else:
            self._mode = "skip"
        return sample

    def _inflate(self, data: bytes, final: bool) -> bytes | None:
        inflater = self._inflater
        assert inflater is not None
        while True:
            try:
                out = inflater.decompress(data, _STEP)
            except zlib.error:  # damaged: what is left is skipped as binary
                self._inflater, self._mode = None, "skip"
                return data
            data = inflater.unconsumed_tail
            self._inflated += len(out)
            if self._inflated > MAX_INFLATED:
                self.found = "/FlateDecode"  # too big to look into: refused, not unpacked
                return None
            done = inflater.eof or (final and not data)
            if not self._checked:
                self._sample += out
                if len(self._sample) < _SAMPLE and not done:
                    if data:
                        continue
                    self._pending = b""
                    return None
                self._checked = True
                out, self._sample = self._sample, b""
                if not _textual(out[:_SAMPLE]):  # an image or a font: its bytes are no syntax
                    self._inflater, self._mode = None, "skip"
                    return data + inflater.unused_data
            self.found = self._inner.feed(out, final=done)
            if self.found is not None:
                return None
            if inflater.eof:
                self._inflater, self._mode = None, "syntax"
                return inflater.unused_data
            if not data:
                self._pending = b""
                return None

    def _skip(self, data: bytes, final: bool) -> bytes | None:
        at = data.find(_ENDSTREAM)
        if at >= 0:
            self._mode = "syntax"
            return data[at + len(_ENDSTREAM) :]
        self._pending = b"" if final else data[-len(_ENDSTREAM) :]
        return None


def pdf_scripts(data: bytes) -> str | None:
    """The first active name in a whole PDF, if any."""
    scan = PdfScripts()
    scan.feed(data)
    return scan.finish()


def check_pdf(data: bytes) -> None:
    """Refuse (422) a PDF that would run something when opened."""
    if pdf_scripts(data) is not None:
        raise InvalidInput(MESSAGE, field="file")
