"""Which fonts stand in for hands and typewriters, found on disk with a fallback.

The lists name Debian font packages' files; a machine missing some of them
still generates (with less variety) as long as one font of each kind exists.

Two sets: the default one, which every generated set for fitting, tuning and
the benchmark writes with, and a held-out one no such set ever uses (`synth
--fonts held-out`, `bench --fonts held-out`), to measure how the reader does
on writing it was never fitted or tuned on, as real mail will be.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

from pipeline.errors import MissingDependencyError

FONT_ROOT = Path("/usr/share/fonts")


@dataclass(frozen=True)
class FontChoice:
    path: Path
    cursive: bool = False  # joined letters: no per-glyph rotation, or the joins break


_HAND = (
    ("truetype/breip/Breip.ttf", False),
    ("truetype/fifthhorseman/dkg.ttf", False), ("truetype/fifthhorseman/dkgIt.ttf", False),
    ("truetype/humor-sans/Humor-Sans.ttf", False), ("truetype/klee/KleeOne-Regular.ttf", False),
    ("truetype/kristi/Kristi.ttf", True), ("truetype/rufscript/Rufscript010.ttf", False),
    ("opentype/bwht/BecauseWeBuild-Regular.otf", False),
    ("opentype/bwht/BecauseWeConnect-Regular.otf", False),
    ("opentype/bwht/BecauseWeCreate-Regular.otf", False),
    ("opentype/bwht/BecauseWeLearn-Regular.otf", False),
    ("opentype/bwht/BecauseWeMentor-Regular.otf", False),
    ("opentype/bwht/BecauseWeOrganize-Regular.otf", False),
    ("opentype/comic-neue/ComicNeue-Regular.otf", False),
    ("opentype/comic-neue/ComicNeue-LightItalic.otf", False),
    ("opentype/dancingscript/DancingScript-Regular.otf", True),
    ("opentype/kaushanscript/KaushanScript-Regular.otf", True),
)
_TYPED = (
    "truetype/liberation/LiberationSans-Regular.ttf",
    "truetype/liberation/LiberationSerif-Regular.ttf",
    "truetype/liberation/LiberationMono-Regular.ttf", "truetype/dejavu/DejaVuSans.ttf",
    "truetype/dejavu/DejaVuSerif.ttf", "truetype/freefont/FreeSerif.ttf",
    "truetype/freefont/FreeSans.ttf", "truetype/gnutypewriter/GNUTypewriter.ttf",
    "truetype/liberation2/LiberationSans-Regular.ttf",
)
# (Not femkeklaver: its capitals are hollow outlines, which no one writes.)
_HAND_HELD_OUT = (
    ("truetype/klee/KleeOne-SemiBold.ttf", False),
    ("opentype/comic-neue/ComicNeue-Light.otf", False),
    ("opentype/comic-neue/ComicNeue-Bold.otf", False),
    ("opentype/comic-neue/ComicNeue-Italic.otf", False),
)
_TYPED_HELD_OUT = (
    "truetype/dejavu/DejaVuSansCondensed.ttf", "truetype/dejavu/DejaVuSerifCondensed.ttf",
    "truetype/dejavu/DejaVuSerif-Italic.ttf", "truetype/dejavu/DejaVuSansMono.ttf",
    "truetype/liberation/LiberationSansNarrow-Regular.ttf",
    "truetype/liberation/LiberationSans-Italic.ttf",
    "truetype/freefont/FreeMono.ttf", "truetype/freefont/FreeSansOblique.ttf",
)
FONT_SETS = {"default": (_HAND, _TYPED), "held-out": (_HAND_HELD_OUT, _TYPED_HELD_OUT)}
_active = "default"


@contextmanager
def font_set(name: str) -> Iterator[None]:
    """Generate with the fonts of set `name` (see FONT_SETS) inside the block."""
    global _active
    if name not in FONT_SETS:
        raise ValueError(f"unknown font set {name!r} (known: {', '.join(FONT_SETS)})")
    before, _active = _active, name
    try:
        yield
    finally:
        _active = before


_BOLD = ("truetype/liberation/LiberationSans-Bold.ttf", "truetype/dejavu/DejaVuSans-Bold.ttf",
         "truetype/liberation2/LiberationSans-Bold.ttf")


def _existing(rel: tuple[str, ...]) -> tuple[Path, ...]:
    return tuple(FONT_ROOT / r for r in rel if (FONT_ROOT / r).exists())


def hand_fonts(mixed_case: bool = False) -> tuple[FontChoice, ...]:
    """Handwriting fonts of the active set; with `mixed_case`, only those with lower case."""
    return _hand_fonts(mixed_case, _active)


@cache
def _hand_fonts(mixed_case: bool, name: str) -> tuple[FontChoice, ...]:
    hand = FONT_SETS[name][0]
    found = tuple(FontChoice(FONT_ROOT / r, c) for r, c in hand if (FONT_ROOT / r).exists())
    if mixed_case:
        found = tuple(f for f in found if not caps_only(f.path))
    return found or tuple(FontChoice(p) for p in typed_fonts())


def caps_only(path: Path) -> bool:
    """Some hand fonts draw (small) capitals for every letter: unfit for a mixed-case writer."""
    return path.parent.name in ("bwht", "humor-sans")


def typed_fonts() -> tuple[Path, ...]:
    """Typewriter and printer fonts of the active set."""
    return _typed_fonts(_active)


@cache
def _typed_fonts(name: str) -> tuple[Path, ...]:
    found = _existing(FONT_SETS[name][1])
    if not found:
        raise MissingDependencyError(
            "no typed font found under /usr/share/fonts (Debian: apt-get install fonts-liberation)"
        )
    return found


@cache
def bold_font() -> Path:
    found = _existing(_BOLD)
    return found[0] if found else typed_fonts()[0]


@cache
def font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), max(4, size_px))


@cache
def cap_ratio(path: Path) -> float:
    """Cap height / em, so a hand can be sized by the height of its capitals in mm."""
    f = font(path, 200)
    top = f.getbbox("H", anchor="ls")[1]
    return max(0.3, -top / 200)


@cache
def _tofu(path: Path) -> tuple[bytes, ...]:
    f = font(path, 48)
    return tuple(bytes(f.getmask(c)) for c in ("\ue000", "\U0010fff0"))


@cache
def has_glyph(path: Path, ch: str) -> bool:
    """False when the font would draw its 'missing glyph' box for `ch`."""
    if ch.isspace():
        return True
    m = font(path, 48).getmask(ch)
    return m.size[0] > 0 and bytes(m) not in _tofu(path)


def decompose(ch: str) -> tuple[str, str]:
    """'é' -> ('e', 'acute'): the base letter and the accent to draw by hand."""
    d = unicodedata.normalize("NFD", ch)
    if len(d) < 2:
        return ch, ""
    names = {"\u0301": "acute", "\u0300": "grave", "\u0302": "circumflex", "\u0308": "diaeresis",
             "\u0327": "cedilla"}
    return d[0], names.get(d[1], "")
