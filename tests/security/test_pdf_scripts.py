"""A PDF that would run something when opened — JavaScript, an action on opening or on an
event, launching a program — is refused as a case material and as a form template, with a
plain Chinese 422; however it spells the name and wherever it hides it (an object stream);
an ordinary PDF, and the binary inside one, is not."""

from __future__ import annotations

import io
import random
import zlib
from typing import Any

import pytest

from core.catalog.forms import sniff_form
from core.errors import InvalidInput
from core.storage.pdf_scripts import MESSAGE, UNREADABLE, PdfScripts, message_for, pdf_scripts
from tests.security.test_uploads import _file, _post, _stored, draft  # noqa: F401

HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
OPEN_JS = (
    HEAD + b"1 0 obj\n<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>\nendobj\n"
)
ESCAPED = HEAD + b"1 0 obj\n<</Type/Catalog/OpenAction<</S/J#61vaScript/J#53(app.alert(1))>>>>\n"
EVENT = HEAD + b"3 0 obj\n<</Type/Page/AA<</O 4 0 R>>>>\nendobj\n"
LAUNCH = HEAD + b"4 0 obj\n<</S/Launch/F(cmd.exe)>>\nendobj\n"
HIDDEN = (
    HEAD
    + b"5 0 obj\n<</Type/ObjStm/N 1/First 4/Filter/FlateDecode>>\nstream\r\n"
    + zlib.compress(b"6 0 <</S/JavaScript/JS(this.print())>>")
    + b"\r\nendstream\nendobj\n"
)
PLAIN = (
    HEAD
    + b"1 0 obj\n<</Type/Catalog/Pages 2 0 R/OpenAction[3 0 R/Fit]>>\nendobj\n"
    + b"7 0 obj\n<</Filter/FlateDecode>>\nstream\n"
    + zlib.compress(b"BT /F1 12 Tf (JSON /JSON) Tj ET")
    + b"\nendstream\nendobj\n8 0 obj\n<</Subtype/Image/Filter/DCTDecode>>\nstream\n"
    + random.Random(7).randbytes(400_000).replace(b"endstream", b"xxxxxxxxx")
    + b"\nendstream\nendobj\n%%EOF\n"
)
ACTIVE = {"open": OPEN_JS, "escaped": ESCAPED, "event": EVENT, "launch": LAUNCH, "hidden": HIDDEN}


@pytest.mark.parametrize("name", ACTIVE)
def test_the_scan_finds_it_whole_and_in_pieces(name: str) -> None:
    data = ACTIVE[name]
    assert pdf_scripts(data) is not None
    for size in (1, 5, 64, 4096):
        scan = PdfScripts()
        for at in range(0, len(data), size):
            scan.feed(data[at : at + size])
        assert scan.finish() is not None, size


def test_an_ordinary_pdf_passes() -> None:
    assert pdf_scripts(PLAIN) is None
    scan = PdfScripts()
    for at in range(0, len(PLAIN), 1000):
        scan.feed(PLAIN[at : at + 1000])
    assert scan.finish() is None


@pytest.mark.parametrize("name", ["open", "hidden"])
def test_a_material_with_script_is_refused(client, db, draft: dict[str, Any], name: str) -> None:  # noqa: F811
    before = _stored(db)
    refused = _post(client, draft, **_file("申请书.pdf", ACTIVE[name]))
    assert refused.status_code == 422, refused.text
    assert refused.json() == {"error": "invalid_input", "detail": MESSAGE, "field": "file"}
    assert _stored(db) == before
    kept = _post(client, draft, **_file("申请书.pdf", PLAIN))
    assert kept.status_code == 201, kept.text


def test_a_form_template_with_script_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        sniff_form(OPEN_JS, "申请表.pdf")
    assert refused.value.detail == MESSAGE
    assert sniff_form(PLAIN, "申请表.pdf") == "pdf"
    assert sniff_form(io.BytesIO(b"PK\x03\x04/JS ").read(), "申请表.docx") == "docx"


def _object_stream(filters: bytes, body: bytes) -> bytes:
    return (
        HEAD
        + b"5 0 obj\n<</Type/ObjStm/N 1/First 4"
        + filters
        + b"/Length "
        + str(len(body)).encode()
        + b">>\nstream\r\n"
        + body
        + b"\r\nendstream\nendobj\n%%EOF\n"
    )


#: object streams whose dictionaries this scan cannot read: refused as unreadable
UNREADABLE_PDFS = {
    "lzw": _object_stream(b"/Filter/LZWDecode", b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"),
    "ascii85 over flate": _object_stream(
        b"/Filter[/ASCII85Decode/FlateDecode]",
        b"Gar8O5u,!C&4KP>*9/S6@1#dOr]i5~>",
    ),
    "abbreviated": _object_stream(b"/Filter/A85", b'87cURD]i,"Ebo80~>'),
    "crypt filter": _object_stream(b"/Filter/Crypt", random.Random(3).randbytes(64)),
    # an encrypted file: its object stream reads as noise, so what it holds is unknown
    "encrypted": _object_stream(b"/Filter/FlateDecode", random.Random(5).randbytes(300))
    + b"trailer\n<</Root 1 0 R/Encrypt 9 0 R>>\n",
}


@pytest.mark.parametrize("name", UNREADABLE_PDFS)
def test_an_object_stream_that_cannot_be_read_is_refused_as_unreadable(name: str) -> None:
    data = UNREADABLE_PDFS[name]
    for size in (len(data), 7, 100):
        scan = PdfScripts()
        for at in range(0, len(data), size):
            scan.feed(data[at : at + size])
        found = scan.finish()
        assert found is not None, size
        assert message_for(found) == UNREADABLE
    with pytest.raises(InvalidInput) as refused:
        sniff_form(data, "申请表.pdf")
    assert "已加密或使用了无法检查的压缩方式" in refused.value.detail


def test_a_protected_pdf_without_object_streams_passes_and_its_script_is_still_seen() -> None:
    # only strings and streams are encrypted: the dictionaries, and any /JS in them, are not
    protected = PLAIN.replace(b"%%EOF\n", b"trailer\n<</Root 1 0 R/Encrypt 9 0 R>>\n%%EOF\n")
    assert pdf_scripts(protected) is None
    assert pdf_scripts(OPEN_JS + b"trailer\n<</Encrypt 9 0 R>>\n") == "/JavaScript"
    # a readable object stream with its predictor parameters passes
    readable = _object_stream(
        b"/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 4>>",
        zlib.compress(b"6 0 <</Type/Page/Parent 2 0 R>>"),
    )
    assert pdf_scripts(readable) is None


def test_an_unreadable_material_is_refused_with_its_own_message(
    client,
    db,
    draft: dict[str, Any],  # noqa: F811
) -> None:
    before = _stored(db)
    refused = _post(client, draft, **_file("申请书.pdf", UNREADABLE_PDFS["lzw"]))
    assert refused.status_code == 422, refused.text
    assert refused.json() == {"error": "invalid_input", "detail": UNREADABLE, "field": "file"}
    assert _stored(db) == before
