"""Chinese line breaking for the forms (禁则): no line starts with closing punctuation.

xhtml2pdf's CJK wrapper breaks after any character and knows only ReportLab's short list of
marks that may not start a line, which lacks the full-width comma, semicolon, colon, question and
exclamation marks, closing book-title marks and quotes. This replaces it with the same greedy
algorithm plus the rules of GB/T 15834 practice:
- a closing mark that would start a line takes the character before it down to the next line
  (push-down, not hanging punctuation: text inside a bordered cell must never cross the border);
- an opening mark never ends a line.
"""

from __future__ import annotations

import xhtml2pdf.reportlab_paragraph as rp
from reportlab.lib.textsplit import ALL_CANNOT_START
from reportlab.rl_settings import _FUZZ

# xhtml2pdf's own splitter, kept for comparison in tests.
ORIGINAL_SPLIT = rp.cjkFragSplit

CANNOT_START = frozenset(ALL_CANNOT_START + "，。、；：？！）》」』】〕〉”’…％%·—～")
CANNOT_END = frozenset("（《「『【〔〈“‘")


def _break_at(glyphs: list, start: int, overflow: int) -> int:
    """Where the next line starts, given the first glyph (index `overflow`) that does not fit."""
    cut = overflow
    while cut > start + 1 and cut < len(glyphs) and glyphs[cut] in CANNOT_START:
        cut -= 1
    while cut - 1 > start + 1 and glyphs[cut - 1] in CANNOT_END:
        cut -= 1
    return cut


def cjk_frag_split(frags, maxWidths, calcBounds, encoding="utf8"):
    glyphs = []
    for f in frags:
        text = f.text if isinstance(f.text, str) else f.text.decode(encoding)
        if text:
            glyphs.extend(rp.cjkU(t, f, encoding) for t in text)
        else:
            glyphs.append(rp.cjkU(text, f, encoding))

    lines = []
    start = 0
    used = 0.0
    max_width = maxWidths[0]
    i = 0
    while i < len(glyphs):
        glyph = glyphs[i]
        used += glyph.width
        if hasattr(glyph.frag, "lineBreak") or used <= max_width + _FUZZ or i == start:
            i += 1
            continue
        cut = _break_at(glyphs, start, i)
        line_width = sum(g.width for g in glyphs[start:cut])
        lines.append(rp.makeCJKParaLine(glyphs[start:cut], max_width - line_width, calcBounds))
        max_width = maxWidths[min(len(lines), len(maxWidths) - 1)]
        start = cut
        used = sum(g.width for g in glyphs[start : i + 1])
        i += 1
    if start < len(glyphs):
        rest = glyphs[start:]
        lines.append(rp.makeCJKParaLine(rest, max_width - sum(g.width for g in rest), calcBounds))
    return rp.ParaLines(kind=1, lines=lines)


def install() -> None:
    """Make xhtml2pdf use these rules (its paragraph code looks the splitter up by module name)."""
    rp.cjkFragSplit = cjk_frag_split


def is_installed() -> bool:
    return rp.cjkFragSplit is cjk_frag_split
