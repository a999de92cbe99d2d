"""The yardstick: the same annex laid out by ReportLab's own engine (platypus), no HTML engine.

Used by bench/pdf.py only, to measure how close the xhtml2pdf forms come to the toolkit's ceiling.
The form's content (header, title, field tables, clauses, signature lines) is taken from the
console's own template output once, outside the timing, as the plain data a hand-written
ReportLab form would hold in Python; `build` then does what such code does every time: make the
flowables (CJK-wrapped paragraphs in bordered tables, spans, shading, repeated header rows, the
QR code) and lay out and write the PDF, with the same page size, margins, font and footer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import lxml.html
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from annexes import qr
from annexes.fonts import FONT_NAME, register_font


@dataclass
class Cell:
    text: str
    span: int = 1
    width: float | None = None  # percent
    kind: str = ""  # label | header | section | ""


@dataclass
class Block:
    kind: str  # head | title | heading | para | clause | note | grid | sign
    text: str = ""
    lines: list[str] = field(default_factory=list)
    qr: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    repeat: bool = False


def _text(element) -> str:
    parts = []
    for node in element.iter():
        if node.tag == "br":
            parts.append("\n")
        if node.text and node.tag not in ("pdf:barcode",):
            parts.append(node.text)
        if node is not element and node.tail:
            parts.append(node.tail)
    return "".join(parts).strip()


def structure(html: str) -> list[Block]:
    """The blocks of one rendered form, in order (data a ReportLab form would have in Python)."""
    root = lxml.html.fromstring(html.encode("utf-8"))
    body = root.find("body")
    blocks: list[Block] = []

    def walk(element) -> None:
        for child in element:
            tag, classes = child.tag, (child.get("class") or "").split()
            if tag == "table" and "head" in classes:
                left = child.find(".//td")
                qr = ""
                for node in child.iter():
                    if str(node.tag).endswith("barcode"):
                        qr = node.get("value")
                blocks.append(Block("head", lines=[_text(p) for p in left.findall("p")], qr=qr))
            elif tag == "table":
                rows = []
                for tr in child.iter("tr"):
                    row_kind = "section" if "section" in (tr.get("class") or "") else ""
                    row = []
                    for td in tr:
                        if td.tag not in ("td", "th"):
                            continue
                        kind = (
                            "header"
                            if td.tag == "th"
                            else ("label" if "label" in (td.get("class") or "") else row_kind)
                        )
                        width = td.get("width")
                        qr = ""
                        for node in td.iter():
                            if str(node.tag).endswith("barcode"):
                                qr = node.get("value")
                        text = _text(td) if not qr else "[QR]" + qr + "[/QR]" + _text(td)
                        row.append(
                            Cell(
                                text,
                                int(td.get("colspan", "1")),
                                float(width[:-1]) if width and width.endswith("%") else None,
                                kind,
                            )
                        )
                    rows.append(row)
                blocks.append(
                    Block("sign" if "sign" in classes else "grid", rows=rows, repeat=child.get("repeat") == "1")
                )
            elif tag == "h1":
                blocks.append(Block("title", text=_text(child)))
            elif tag == "h2":
                blocks.append(Block("heading", text=_text(child)))
            elif tag == "div" and "clauses" in classes:
                for p in child.findall("p"):
                    blocks.append(Block("heading" if "heading" in (p.get("class") or "") else "clause", text=_text(p)))
            elif tag == "p":
                blocks.append(Block("note" if "note" in classes else "para", text=_text(child)))
            elif tag == "div":
                walk(child)

    walk(body)
    return blocks


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT_NAME, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, alignment=TA_CENTER, spaceAfter=2 * mm),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=11, leading=15, spaceBefore=3 * mm, spaceAfter=1 * mm
        ),
        "clause": ParagraphStyle("clause", parent=base, firstLineIndent=20, spaceAfter=1.4 * mm),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
    }


class _Qr(Flowable):
    """The app's QR drawing (annexes/qr.py), so both engines draw the same codes the same way."""

    def __init__(self, value: str, size: float) -> None:
        super().__init__()
        self.value, self.size = value, size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self) -> None:
        qr.draw(self.canv, self.value, 0, 0, self.size)


def _qr(value: str, size: float) -> _Qr:
    return _Qr(value, size)


def _cell(text: str, style: ParagraphStyle):
    if text.startswith("[QR]"):
        value, rest = text[4:].split("[/QR]", 1)
        return [_qr(value, 22 * mm), Paragraph(rest, style)] if rest else _qr(value, 22 * mm)
    return Paragraph(text.replace("\n", "<br/>"), style)


def _grid(block: Block, width: float, styles) -> Table:
    columns = max(sum(c.span for c in row) for row in block.rows)
    widths: list[float | None] = [None] * columns
    for row in block.rows:
        position = 0
        for cell in row:
            if cell.span == 1 and cell.width and widths[position] is None:
                widths[position] = cell.width
            position += cell.span
    known = sum(w for w in widths if w)
    unknown = [i for i, w in enumerate(widths) if not w]
    for i in unknown:
        widths[i] = (100 - known) / len(unknown) if known < 100 else 10
    col_widths = [width * w / sum(widths) for w in widths]
    data, commands = [], []
    for r, row in enumerate(block.rows):
        line, position = [], 0
        for cell in row:
            style = styles["center"] if cell.kind in ("label", "header") else styles["base"]
            line.append(_cell(cell.text, style))
            line.extend([""] * (cell.span - 1))
            if cell.span > 1:
                commands.append(("SPAN", (position, r), (position + cell.span - 1, r)))
            if cell.kind:
                shade = {"label": "#f4f4f4", "header": "#eeeeee", "section": "#e4e4e4"}[cell.kind]
                commands.append(("BACKGROUND", (position, r), (position + cell.span - 1, r), colors.HexColor(shade)))
            position += cell.span
        line.extend([""] * (columns - position))
        data.append(line)
    table = Table(data, colWidths=col_widths, repeatRows=1 if block.repeat else 0)
    if block.kind == "grid":
        commands += [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("BOX", (0, 0), (-1, -1), 0.8, colors.black)]
    commands += [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("FONTNAME", (0, 0), (-1, -1), FONT_NAME)]
    table.setStyle(TableStyle(commands))
    return table


def build(blocks: list[Block], hotline: str) -> bytes:
    """Lay out and write one form."""
    register_font()
    styles = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm, bottomMargin=20 * mm
    )
    width = doc.width
    story = []
    for block in blocks:
        if block.kind == "head":
            left = [Paragraph(line, styles["base"]) for line in block.lines]
            story.append(
                Table(
                    [[left, [_qr(block.qr, 22 * mm), Paragraph("扫码核验真伪", styles["note"])]]],
                    colWidths=[width - 26 * mm, 26 * mm],
                )
            )
        elif block.kind in ("title", "heading", "clause", "note"):
            story.append(Paragraph(block.text, styles[block.kind]))
        elif block.kind == "para":
            story.append(Paragraph(block.text, styles["base"]))
        else:
            story.append(_grid(block, width, styles))
            story.append(Spacer(0, 2 * mm))
    pages: list[int] = []

    def footer(canvas, document) -> None:
        pages.append(document.page)
        canvas.saveState()
        canvas.setFont(FONT_NAME, 8)
        canvas.line(16 * mm, 14 * mm, A4[0] - 16 * mm, 14 * mm)
        canvas.drawString(16 * mm, 10 * mm, f"监督电话：{hotline}　政务服务便民热线：12345")
        canvas.drawString(A4[0] - 50 * mm, 10 * mm, f"第 {document.page} 页 共 ")
        canvas.translate(A4[0] - 50 * mm + canvas.stringWidth(f"第 {document.page} 页 共 ", FONT_NAME, 8), 10 * mm)
        canvas.doForm("total")
        canvas.restoreState()

    def canvasmaker(*args, **kwargs):
        # The page total is a form object filled in when the document is saved, as in the app.
        canvas = Canvas(*args, **kwargs)
        save = canvas.save

        def finish() -> None:
            canvas.beginForm("total")
            canvas.setFont(FONT_NAME, 8)
            canvas.drawString(0, 0, f"{len(pages)} 页")
            canvas.endForm()
            save()

        canvas.save = finish
        return canvas

    doc.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=canvasmaker)
    return out.getvalue()
