"""Text that is safe to store, show and open in a spreadsheet.

Two dangers, one module. Invisible characters (a right-to-left override, a
zero-width space, NUL) make a value look like something it is not, or break the
tools that read it: they are removed from every value a reviewer types. And a
spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, even
when the `=` is full-width or hidden behind a zero-width space: spreadsheet
exports make such cells plain text.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that have no business in a name, an address or a phone number:
# control (Cc: NUL, ESC...), format (Cf: bidi overrides and isolates, zero-width
# space/joiners, BOM, soft hyphen), unassigned, private use, surrogates.
_INVISIBLE = frozenset({"Cc", "Cf", "Cn", "Co", "Cs"})
_SPACES = frozenset({"\t", "\v", "\f"})
_BREAKS = frozenset({"\n", "\r", "\x85", "\u2028", "\u2029"})
FORMULA_START = frozenset("=+-@")
_CELL_BREAKERS = ("\t", "\r", "\n")
MAX_VALUE_CHARS = 500  # longer than any field of the form (the address is two lines)


def is_invisible(ch: str) -> bool:
    """A character that shows nothing, or changes how what follows is shown."""
    return unicodedata.category(ch) in _INVISIBLE


def clean_value(text: str) -> str:
    """`text` without control or invisible characters; tabs become spaces.

    The value stays as written otherwise: letters, accents and punctuation are kept,
    runs of spaces collapse to one, and line breaks (an address has two lines)
    become plain newlines, empty lines dropped.
    """
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch in _SPACES:
            out.append(" ")
        elif ch in _BREAKS:
            out.append("\n")
        elif not is_invisible(ch):
            out.append(ch)
    lines = (" ".join(line.split()) for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


def unsafe_characters(text: str) -> list[str]:
    """The code points `clean_value` removes, as U+XXXX, for messages."""
    return [f"U+{ord(c):04X}" for c in text
            if c not in _SPACES and c not in _BREAKS and is_invisible(c)]


def looks_like_formula(value: str) -> bool:
    """Would a spreadsheet run this cell? Looks past invisible characters and full-width forms."""
    if value.startswith(_CELL_BREAKERS):
        return True
    visible = value.lstrip()
    while visible and (is_invisible(visible[0]) or visible[0].isspace()):
        visible = visible[1:]
    if not visible:
        return False
    first = unicodedata.normalize("NFKC", visible[0])[:1]  # ＝ (U+FF1D) -> =, ＋ -> +
    return first in FORMULA_START


def neutralise(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading `'` on anything that looks like a formula."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
