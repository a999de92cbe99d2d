"""Reading the PDFs the console produces, the way a reviewer would: text, fonts, line starts."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def reader(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-"), data[:200]
    return PdfReader(io.BytesIO(data))


def text(data: bytes) -> str:
    """All text of the document, with the whitespace removed (CJK wrapping splits words anywhere)."""
    return "".join("".join((page.extract_text() or "").split()) for page in reader(data).pages)


def fonts(data: bytes) -> dict[str, bool]:
    """Every font in the document's pages: base name -> embedded."""
    found: dict[str, bool] = {}
    for page in reader(data).pages:
        for ref in (page["/Resources"].get("/Font") or {}).values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            found[str(font["/BaseFont"])] = embedded
    return found


def runs(data: bytes) -> list[tuple[int, float, float, str]]:
    """Each text-showing run as (page, x, y, text), in drawing order."""
    found: list[tuple[int, float, float, str]] = []
    for number, page in enumerate(reader(data).pages, start=1):

        def visit(text, cm, tm, font_dict, font_size, number=number):
            if text.strip():
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                found.append((number, round(x, 1), round(y, 1), text))

        page.extract_text(visitor_text=visit)
    return found


def line_starts(data: bytes) -> list[str]:
    """The text at the start of every laid-out line of every cell or paragraph.

    pypdf's layout mode puts each printed line on a text line, with cells apart by two spaces or more.
    """
    starts: list[str] = []
    for page in reader(data).pages:
        for line in page.extract_text(extraction_mode="layout").splitlines():
            starts.extend(segment for segment in re.split(r"\s{2,}", line.strip()) if segment)
    return starts
