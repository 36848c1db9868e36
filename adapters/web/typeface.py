"""The letters of the share cards and chart images: DejaVu Sans, shipped with the package
(Latin with its extensions, Greek, Cyrillic, Armenian, Georgian, Hebrew and more), then fonts
this machine has for what it lacks (Chinese, Japanese, Korean…), in that order. A character no
font here has is drawn as "?", never as an empty box.

Each character is drawn with the first font whose character map holds it, so "Łukasz 李"
mixes fonts within one line; widths and anchors are those of the whole line."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageDraw, ImageFont

SHIPPED = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
# Where Debian and most distributions put fonts for the scripts DejaVu lacks.
FALLBACKS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
MISSING = "?"


@lru_cache(maxsize=1)
def chain() -> tuple[tuple[Path, frozenset[int]], ...]:
    """(font file, the characters it has), the shipped font first."""
    found = []
    for path in (SHIPPED, *map(Path, FALLBACKS)):
        if path.is_file():
            found.append((path, _cmap(path)))
    return tuple(found)


def _cmap(path: Path) -> frozenset[int]:
    if path.suffix.lower() == ".ttc":
        fonts = TTCollection(path, lazy=True).fonts[:1]
    else:
        fonts = [TTFont(path, lazy=True)]
    return frozenset(fonts[0].getBestCmap() or ())


def shipped_covers(char: str) -> bool:
    return ord(char) in chain()[0][1]


@lru_cache(maxsize=64)
def _face(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(chain()[index][0]), size)


@lru_cache(maxsize=4096)
def runs(text: str) -> tuple[tuple[int, str], ...]:
    """The text cut where the font that draws it changes: (font index, piece)."""
    fonts = chain()
    out: list[tuple[int, str]] = []
    for char in text:
        index = next((i for i, (_, has) in enumerate(fonts) if ord(char) in has), 0)
        if not any(ord(char) in has for _, has in fonts):
            char = MISSING
        if out and out[-1][0] == index:
            out[-1] = (index, out[-1][1] + char)
        else:
            out.append((index, char))
    return tuple(out)


def length(text: str, size: int) -> float:
    return float(sum(_face(i, size).getlength(piece) for i, piece in runs(text)))


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: str,
    anchor: str = "ls",
) -> None:
    """As `ImageDraw.text` with `anchor` l/m/r then s (baseline) or m (middle)."""
    x, y = xy
    width = length(text, size)
    x -= {"l": 0.0, "m": width / 2, "r": width}[anchor[0]]
    for index, piece in runs(text):
        face = _face(index, size)
        draw.text((x, y), piece, fill=fill, font=face, anchor="l" + anchor[1])
        x += face.getlength(piece)
