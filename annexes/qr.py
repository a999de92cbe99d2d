"""QR codes drawn as one filled path.

ReportLab's QR widget builds a drawing node per run of dark modules and tries all eight mask
patterns to pick the "best" one; on a form that is a third of the render time. The standard
allows any mask (a reader takes it from the code's format information), so this encodes with
ReportLab's own encoder and mask 0, and draws the modules as one path: the same code, readable
by any scanner, at a fraction of the cost.
"""

from __future__ import annotations

from functools import lru_cache

from reportlab.graphics.barcode import qrencoder

QUIET_ZONE = 2  # modules of white margin inside the given size


@lru_cache(maxsize=256)
def modules(value: str) -> tuple[tuple[bool, ...], ...]:
    """The dark (True) and light modules of `value`, error correction level M."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.version = code.calculate_version()
    code.makeImpl(False, 0)
    return tuple(tuple(bool(m) for m in row) for row in code.modules)


def draw(canvas, value: str, x: float, y: float, size: float) -> None:
    """Draw the code of `value` as a size × size square whose lower-left corner is (x, y)."""
    rows = modules(value)
    count = len(rows) + 2 * QUIET_ZONE
    box = size / count
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        top = y + size - (r + QUIET_ZONE + 1) * box
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + (start + QUIET_ZONE) * box, top, (c - start) * box, box)
            else:
                c += 1
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def install() -> None:
    """Make xhtml2pdf's <pdf:barcode type="qr"> draw through `draw` (other symbologies unchanged)."""
    from xhtml2pdf.tags import pisaTagPDFBARCODE

    original = pisaTagPDFBARCODE._barcodeWrapper
    if getattr(original, "fast_qr", False):
        return

    class Wrapper(original):
        fast_qr = True

        def __init__(self, codeName: str = "Code128", value: str = "", **kw) -> None:
            self.qr_value = value if codeName == "QR" else None
            if self.qr_value is None:
                super().__init__(codeName=codeName, value=value, **kw)
            else:
                self.vertical = 0
                self.size = float(kw["barWidth"])
                modules(value)  # encode now: a value too long for a QR code fails here, like the widget

        def wrap(self, aW, aH):
            return (self.size, self.size) if self.qr_value is not None else super().wrap(aW, aH)

        def draw(self, canvas, xoffset: float = 0, **kw) -> None:
            if self.qr_value is None:
                super().draw(canvas, xoffset, **kw)
            else:
                draw(canvas, self.qr_value, xoffset, 0, self.size)

    pisaTagPDFBARCODE._barcodeWrapper = Wrapper


def is_installed() -> bool:
    from xhtml2pdf.tags import pisaTagPDFBARCODE

    return getattr(pisaTagPDFBARCODE._barcodeWrapper, "fast_qr", False)
