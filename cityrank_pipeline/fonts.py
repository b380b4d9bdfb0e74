"""A Korean font that travels with the brief, so Hangul renders where no Korean font is installed.

The city's staff open briefs on whatever machine is at hand; a page that names a Korean font
renders empty boxes where that font is missing. So the brief carries its own font: the glyphs
it uses, cut from one committed font file and inlined as a data: URI in an @font-face rule.
The same file gives matplotlib its Korean labels.

The committed file (data/fonts/CityrankSansKR-Regular.otf) is a subset of Noto Sans CJK KR
Regular (SIL Open Font License 1.1, which allows subsetting and redistribution; the licence is
data/fonts/OFL.txt). It holds ASCII, Latin-1, common punctuation and symbols, the 2,350 Hangul
syllables of KS X 1001 and every character of the catalog's Korean names, and is renamed
CityrankSansKR as the licence asks of modified versions. It is rebuilt from Debian's
fonts-noto-cjk package with `python -m cityrank_pipeline.fonts build PATH/NotoSansCJK-Regular.ttc`
(needed only when a catalog name uses a syllable outside that set: tests/test_brief_korean.py
says so).
"""

from __future__ import annotations

import base64
import io
import sys
from functools import lru_cache
from pathlib import Path

FONT_FAMILY = "CityrankSansKR"
FONT_PATH = Path(__file__).resolve().parent / "data" / "fonts" / "CityrankSansKR-Regular.otf"
SOURCE_FACE = "Noto Sans CJK KR"

# Characters every subset keeps whatever the text: Latin, punctuation and the symbols the
# brief prints (▲▼, —, ·, ±, %), so the embedded face sets the whole page in one design.
BASE_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203A), (0x2190, 0x2193),
               (0x25B2, 0x25BC), (0x3000, 0x3003), (0x3008, 0x3011), (0xFF01, 0xFF5E))


def _ks_x_1001_hangul() -> str:
    """The 2,350 precomposed Hangul syllables of KS X 1001 (EUC-KR rows 0xB0-0xC8)."""
    out = []
    for lead in range(0xB0, 0xC9):
        for trail in range(0xA1, 0xFF):
            try:
                out.append(bytes((lead, trail)).decode("euc-kr"))
            except UnicodeDecodeError:
                continue
    return "".join(out)


def _base_text() -> str:
    return "".join(chr(c) for lo, hi in BASE_RANGES for c in range(lo, hi + 1))


@lru_cache(maxsize=1)
def _font_bytes() -> bytes:
    return FONT_PATH.read_bytes()


@lru_cache(maxsize=1)
def covered_characters() -> frozenset[str]:
    from fontTools.ttLib import TTFont

    return frozenset(chr(c) for c in TTFont(io.BytesIO(_font_bytes()), lazy=True).getBestCmap())


def missing_characters(text: str) -> set[str]:
    """Visible characters of `text` the committed font cannot draw."""
    return {ch for ch in text if not ch.isspace() and ch not in covered_characters()}


def _subset(font, text: str) -> None:
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "vhea", "vmtx"]  # horizontal text only
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)


# Bump when _subset's options change, so subsets cut by another recipe are not reused.
SUBSET_RECIPE = 2
# Subsets kept on disk per home; the oldest go beyond this (each is ~75 KB).
CACHE_LIMIT = 256


def _subset_text(text: str) -> str:
    """The base set, then the text's other characters once each in code-point order: texts
    that need the same glyphs give the same string (the cache key), whatever their digits."""
    base = _base_text()
    return base + "".join(sorted(set(text) - set(base)))


@lru_cache(maxsize=64)
def _cut_subset(chars: str) -> bytes:
    from fontTools.ttLib import TTFont

    # The bounding boxes are kept from the committed font instead of recomputed from every
    # kept glyph's outline (a third of the time of a subset, ~0.15 s, and a brief refresh
    # cuts 18): a superset's box is still a valid box for the subset. The modification time
    # is kept too: fontTools would stamp the clock into `head`, and the same text would give
    # different bytes (and a rewritten brief) on every refresh.
    font = TTFont(io.BytesIO(_font_bytes()), recalcBBoxes=False, recalcTimestamp=False)
    _subset(font, chars)
    buffer = io.BytesIO()
    font.save(buffer, reorderTables=True)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _font_digest() -> bytes:
    import hashlib

    return hashlib.sha256(_font_bytes()).digest()


def _cache_key(chars: str) -> str:
    import hashlib

    import fontTools

    digest = hashlib.sha256(f"{SUBSET_RECIPE}\0{fontTools.version}\0".encode())
    digest.update(_font_digest())
    digest.update(chars.encode("utf-8"))
    return digest.hexdigest()


def _store(cache_dir: Path, path: Path, data: bytes) -> None:
    """Write atomically (a reader never sees half a font), then keep the folder bounded."""
    from .atomic_files import atomic_write

    atomic_write(path, data)
    kept = sorted(cache_dir.glob("*.otf"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[CACHE_LIMIT:]:
        old.unlink(missing_ok=True)


def subset_for_text(text: str, cache_dir: Path | None = None) -> bytes:
    """OpenType bytes holding only the glyphs `text` needs (plus the base set), deterministic.

    Cutting a subset takes ~0.35 s and every refresh re-renders 18 briefs whose text rarely
    changes, so with `cache_dir` (CITYRANK_HOME/cache/fonts) a subset is cut once per distinct
    character set, keyed by the recipe, fontTools' version and the committed font's bytes.
    A cached file is only ever a pure function of that key; an unreadable one is cut again.
    """
    chars = _subset_text(text)
    if cache_dir is None:
        return _cut_subset(chars)
    path = cache_dir / f"{_cache_key(chars)}.otf"
    try:
        cached = path.read_bytes()
    except OSError:
        cached = b""
    if cached.startswith(b"OTTO"):  # an OpenType (CFF) font; anything else is cut again
        return cached
    data = _cut_subset(chars)
    try:
        _store(cache_dir, path, data)
    except OSError:  # a full or read-only disk costs time, never the brief
        pass
    return data


def font_face_css(text: str, cache_dir: Path | None = None) -> str:
    """An @font-face rule embedding the subset for `text` as a data: URI."""
    data = base64.b64encode(subset_for_text(text, cache_dir)).decode("ascii")
    return (f"@font-face{{font-family:'{FONT_FAMILY}';font-style:normal;font-weight:100 900;"
            f"src:url(data:font/otf;base64,{data}) format('opentype')}}")


@lru_cache(maxsize=1)
def register_with_matplotlib() -> str:
    """Make the committed font known to matplotlib; returns its family name for fontfamily=[...]."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FONT_PATH))
    return font_manager.FontProperties(fname=str(FONT_PATH)).get_name()


def build_committed_font(source_ttc: Path, target: Path = FONT_PATH, extra_text: str = "") -> Path:
    """Cut the committed subset from Debian's NotoSansCJK-Regular.ttc (face Noto Sans CJK KR)."""
    from fontTools.ttLib import TTCollection

    from .catalog import load_catalog
    from .settings import PROJECT_ROOT

    collection = TTCollection(str(source_ttc))
    font = next((f for f in collection.fonts if f["name"].getDebugName(1) == SOURCE_FACE), None)
    if font is None:
        raise SystemExit(f"{source_ttc}: no {SOURCE_FACE} face")
    catalog = load_catalog(PROJECT_ROOT / "assets")
    names = [e.name_ko for e in catalog] + [m.name_ko or "" for e in catalog for m in e.measures]
    names += [c.name_ko or "" for c in catalog.cities.cities] + list(catalog.departments_ko.values())
    _subset(font, _base_text() + _ks_x_1001_hangul() + "".join(names) + extra_text)
    table = font["name"]
    for record in list(table.names):
        if record.nameID in (1, 3, 4, 6, 16):
            text = record.toUnicode().replace("Noto Sans CJK KR", FONT_FAMILY).replace("NotoSansCJKkr", FONT_FAMILY)
            table.setName(text if FONT_FAMILY in text else FONT_FAMILY, record.nameID, record.platformID,
                          record.platEncID, record.langID)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(target), reorderTables=True)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        raise SystemExit("usage: python -m cityrank_pipeline.fonts build PATH/NotoSansCJK-Regular.ttc")
    print(build_committed_font(Path(sys.argv[2])))
