"""Finding what a PDF would run when opened: JavaScript, actions run on opening or on an event,
launching a program.

A material or form template is shown inline to staff and citizens, so a PDF that carries
``/JavaScript``, ``/JS``, ``/AA`` (additional actions), ``/Launch`` (an ``/OpenAction`` that
runs script names ``/JavaScript`` as well) is refused with :data:`MESSAGE`. The file is read as
it arrives, chunk by chunk (an upload is never held whole): names in the file's own syntax, and
in the text of its streams once inflated (``/FlateDecode``, where object streams hide their
dictionaries). A name written with ``#xx`` escapes (``/J#61vaScript``) is read as the name it
spells. Streams that inflate to binary (images, fonts) are skipped, so their bytes cannot look
like a name by chance.

What cannot be read is refused too, where it could hide a name: an object stream (``/ObjStm``,
which holds whole dictionaries) compressed by any filter but ``/FlateDecode`` (LZW, ASCII85,
ASCIIHex …), and any object stream of an encrypted PDF (``/Encrypt``), with
:data:`UNREADABLE`. An encrypted PDF without object streams keeps its dictionaries in the open
(only strings and stream contents are encrypted), so a script in it is still seen, and a
protected statement that is otherwise ordinary passes. Not covered: a script's own text in an
encrypted or LZW stream that no dictionary points to as script — a viewer does not run it.
"""

from __future__ import annotations

import re
import zlib

from core.errors import InvalidInput

__all__ = ["MESSAGE", "UNREADABLE", "PdfScripts", "check_pdf", "message_for", "pdf_scripts"]

MESSAGE = (
    "PDF 文件含有脚本或自动执行的操作（如 JavaScript），为安全起见不能上传；"
    "请用“打印为 PDF”或扫描另存为普通 PDF 后重新上传"
)
UNREADABLE = (
    "PDF 文件已加密或使用了无法检查的压缩方式，为安全起见不能上传；"
    "请用“打印为 PDF”另存为普通 PDF 后重新上传"
)
#: what ``found`` says when the file could not be read for script (:data:`UNREADABLE`)
_OBJECT_STREAM = "/ObjStm"
_ENCRYPTED = "/Encrypt"
#: the one filter an object stream may use and still be read
_READABLE_FILTERS = frozenset({b"FlateDecode", b"Fl"})
#: how far before a stream's keyword its dictionary is looked for
_DICT_BACK = 1024

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
#: filter names not ending in ``Decode``: the abbreviations (inline images' spelling, which
#: some readers accept anywhere) and ``Crypt``
_ABBREVIATED = frozenset({b"AHx", b"A85", b"LZW", b"Fl", b"RL", b"CCF", b"DCT", b"Crypt"})


def message_for(found: str) -> str:
    """What to tell the person whose PDF was refused for ``found``."""
    return UNREADABLE if found in (_OBJECT_STREAM, _ENCRYPTED) else MESSAGE


def _names(text: bytes) -> list[bytes]:
    return [
        _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        for match in _NAME.finditer(text + b" ")
    ]


def _active_names(text: bytes, below: int, seen: set[bytes] | None = None) -> str | None:
    """The first active name in ``text`` that starts before ``below`` (an ``/Encrypt`` seen
    on the way is added to ``seen``)."""
    for match in _NAME.finditer(text):
        if match.start() >= below:
            break
        name = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name in ACTIVE:
            return "/" + name.decode("latin-1")
        if name == b"Encrypt" and seen is not None:
            seen.add(name)
    return None


def _stream_dictionary(before: bytes) -> list[bytes]:
    """The names of the dictionary that a ``stream`` keyword follows (from its object's
    ``obj``, or as far back as is kept)."""
    start = before.rfind(b"obj", max(0, len(before) - _DICT_BACK))
    return _names(before[start + 3 if start >= 0 else max(0, len(before) - _DICT_BACK) :])


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
        #: names seen that matter only together (``Encrypt``; ``ObjStm``, when one was read)
        self._seen: set[bytes] = set()
        #: the syntax read last before what is pending (where a stream's dictionary is)
        self._recent = b""

    def feed(self, chunk: bytes, final: bool = False) -> str | None:
        if self.found is None:
            self._run(self._pending + chunk, final)
            if final and self.found is None and self._seen >= {b"Encrypt", b"ObjStm"}:
                # an encrypted object stream was read as noise: what it holds is unknown
                self.found = _ENCRYPTED
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
            before = data[: marker.start()]
            self.found = _active_names(before + b" ", marker.start(), self._seen)
            if self.found is None:
                self.found = self._object_stream(_stream_dictionary(self._recent + before))
            self._mode, self._sample, self._recent = "body", b"", b""
            return data[marker.end() :]
        self.found = _active_names(data + (b" " if final else b""), below, self._seen)
        # a few bytes before too, so that "end" is still there before a "stream" split off
        self._pending = b"" if final else data[max(0, below - 8) :]
        self._recent = (self._recent + data[: max(0, below - 8)])[-_DICT_BACK:]
        return None

    def _object_stream(self, dictionary: list[bytes]) -> str | None:
        """An object stream its filters leave unreadable here is refused; one that can be
        read is remembered (it matters if the file turns out to be encrypted)."""
        if b"ObjStm" not in dictionary:
            return None
        self._seen.add(b"ObjStm")
        at = dictionary.index(b"Filter") if b"Filter" in dictionary else len(dictionary)
        # the filter names follow /Filter (one name, or an array of them); the dictionary's
        # other keys are not filters
        filters = [n for n in dictionary[at + 1 :] if n and n[:1].isupper()]
        filters = [n for n in filters if n.endswith(b"Decode") or n in _ABBREVIATED]
        return _OBJECT_STREAM if set(filters) - _READABLE_FILTERS else None

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
    found = pdf_scripts(data)
    if found is not None:
        raise InvalidInput(message_for(found), field="file")
