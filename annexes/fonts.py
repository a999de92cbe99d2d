"""The Chinese font of the forms, registered with ReportLab once per process.

WenQuanYi Zen Hei (GPL-2 with the font-embedding exception, see assets/) is a TrueType-outline
font that covers GB 2312, GBK and CJK Ext-A, so rare characters in names print. Registering it
here, and not through CSS @font-face, spares xhtml2pdf reading and hashing the 17 MB file for
every document; it also means the templates never name a file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import xhtml2pdf.default
from reportlab.graphics import shapes
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import tables

FONT_NAME = "zh"
FONT_FILE = Path(__file__).resolve().parent / "assets" / "wqy-zenhei.ttc"

_lock = threading.Lock()


def register_font() -> str:
    """Register face 0 of the shipped .ttc under FONT_NAME (idempotent) and return the name."""
    with _lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0))
            # The face has no bold or italic: every style maps to it (headings use size, not weight).
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(FONT_NAME, bold, italic, FONT_NAME)
            xhtml2pdf.default.DEFAULT_FONT[FONT_NAME] = FONT_NAME
            # ReportLab tables and drawings (the QR codes), and xhtml2pdf's barcode tag asking for
            # OCR-B, select Helvetica before drawing; they draw no text with it, but the PDF would
            # list a font that is not embedded. Every default here is the form's font instead.
            tables.CellStyle.fontname = FONT_NAME
            shapes.STATE_DEFAULTS["fontName"] = FONT_NAME
            xhtml2pdf.default.DEFAULT_FONT["ocrb10"] = FONT_NAME
    return FONT_NAME
