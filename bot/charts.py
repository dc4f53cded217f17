"""The digest's charts as PNG bytes, drawn with matplotlib's object API.

Only `matplotlib.figure.Figure` with its own `FigureCanvasAgg`: no `pyplot`, no backend switch, no
change to `rcParams`, so drawing touches no global state. Every chart is 1,100 px wide (10 in at
110 dpi) and grows in height with its rows; fonts are 13 pt and more, region names sit left of
horizontal rows, percentages are written on the cells or next to the bars, and the title names the
region with the date, local time and H-n. Names are masked with `mask_niks`. Without data a chart
says "Belum ada data" instead of failing.

Speed: at national scale (38 provinces) each chart takes about 0.1 s on a small server. What
makes that possible: the layout is computed here in inches (no constrained layout, which draws
everything twice), cells are one `pcolormesh`, each column of labels is one multi-line text whose
line spacing is fitted to the rows at draw time (`_RowText`) instead of hundreds of texts and
ticks, and each distinct text is laid out and rasterised once per process (`_TextCachingRenderer`:
text was most of the time, and the same labels come back in every chart of every digest).

The bot draws in worker processes (`bot.chart_pool`): `draw` and `init_worker` run there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import math
import multiprocessing
import os
import signal
import sys
import textwrap
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Final, TypeVar

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import RenderMode
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from bot.domain.digest import ChildLogistics, Digest
from bot.domain.models import Status
from bot.domain.privacy import mask_niks
from bot.domain.reporting import ITEMS, KIND_ORDER, ordered
from bot.texts import charts as texts
from bot.texts.digest import child_level
from bot.texts.formatting import NO_VALUE, number, percent_whole, share
from bot.texts.labels import item_label, kind_label
from bot.texts.messages import ELLIPSIS

__all__ = [
    "counting_chart",
    "incidents_chart",
    "logistics_chart",
    "draw",
    "init_worker",
    "render_all",
    "warm_up",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

DPI: Final = 110
WIDTH: Final = 10.0  # inches → 1,100 px
MIN_HEIGHT: Final = 6.0
#: Rows drawn at most (the lowest ones are kept, the title says so): Telegram refuses very tall photos.
MAX_ROWS: Final = 60
#: Height of one row, inches.
ROW_HEIGHT: Final = 0.40
BAR_ROW_HEIGHT: Final = 0.44
KIND_ROW_HEIGHT: Final = 0.8
SIDE_MARGIN: Final = 0.3
#: Longest region name on a row; longer ones end in "…".
MAX_NAME_CHARS: Final = 34
#: Column labels of the heat-map slant by this angle when they do not fit their column.
HEADER_SLANT: Final = 30

TITLE_SIZE: Final = 19
SUBTITLE_SIZE: Final = 14
LABEL_SIZE: Final = 14
VALUE_SIZE: Final = 13
EMPTY_SIZE: Final = 30
#: Smallest font used anywhere (column labels that would not fit at VALUE_SIZE).
MIN_FONT_SIZE: Final = 12

#: PNG compression: zlib level 1 is much faster than the default 6 for a few % more bytes.
PNG_COMPRESS_LEVEL: Final = 1
#: texts (a region name, "87%", a legend label…) whose rendering and metrics are kept, per process:
#: the labels and figures every chart repeats, and the names of the digests drawn lately. At 07:00
#: each of the 552 digests brings names no other one repeats (16,000 in all), so a larger cache
#: only holds memory: 4,000 kept the bot's processes at 413 MB in the fan-out benchmark
_CACHED_TEXTS: Final = 1_000
#: the largest rendered line kept (bytes of coverage: a long region name is about 4 KB)
_CACHED_TEXT_BYTES: Final = 8_000

TEXT_COLOR: Final = "#222222"
MUTED_COLOR: Final = "#555555"
COLOR_DONE: Final = "#9ecae1"
COLOR_SIREKAP: Final = "#08519c"
COLOR_STATUS: Final[dict[str, str]] = {"baru": "#d62728", "ditangani": "#f28e2b", "selesai": "#2ca02c"}
COLOR_OTHER_STATUS: Final = "#7f7f7f"
COLOR_GRID: Final = "#cccccc"


@dataclass(frozen=True, slots=True)
class _Band:
    """One colour band of the logistics heat-map: shares from `low` (inclusive) up."""

    low: float
    color: str
    label: str


#: Completeness bands, lowest first; the last one is "complete". All light enough for black text
#: (contrast ≥ 5:1), so each column of cell labels is a single text of one colour. Their legend
#: is `bot.texts.charts.BAND_LABELS`.
BANDS: Final = tuple(
    _Band(low, color, label)
    for (low, color), label in zip(
        ((-math.inf, "#f26b5b"), (0.50, "#fdae61"), (0.75, "#fee08b"), (0.90, "#c2e487"), (1.00, "#5fba6a")),
        texts.BAND_LABELS,
        strict=True,
    )
)
NO_PLAN_COLOR: Final = "#d9d9d9"
#: a cell with damaged units still to be replaced (light enough for black text)
DAMAGED_COLOR: Final = "#c9a0dc"

STATUS_ORDER: Final = tuple(s.value for s in Status)


# --- the PNG palette -----------------------------------------------------------------------------
#
# A chart is sent as a palette PNG: a third of the bytes of full colour (less to upload at 07:00,
# when every group gets its digest) and quicker to encode. The charts use the dozen colours above
# and, at anti-aliased edges, blends of a colour with what it is drawn on. So the palette is made
# once from those colours, not searched for in each chart's pixels (an octree per chart took 23 ms
# of a 70 ms chart): each colour fading into the white background (bars, lines, text, white text on
# status bars), the black cell labels fading into each cell colour, the Sirekap bar and the hatch
# into the counted bar. A pixel takes the nearest palette colour.


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _ramp(a: str, b: str, steps: int) -> list[tuple[int, int, int]]:
    """`steps` colours from `a` to `b`, both included."""
    (r1, g1, b1), (r2, g2, b2) = _rgb(a), _rgb(b)
    return [
        (
            round(r1 + (r2 - r1) * k / (steps - 1)),
            round(g1 + (g2 - g1) * k / (steps - 1)),
            round(b1 + (b2 - b1) * k / (steps - 1)),
        )
        for k in range(steps)
    ]


def _palette() -> list[int]:
    """The PNG palette (at most 256 colours), as PIL takes it: r, g, b, r, g, b, …"""
    white, black = "#ffffff", "#000000"
    cells = [band.color for band in BANDS] + [NO_PLAN_COLOR, DAMAGED_COLOR]
    inks = [TEXT_COLOR, MUTED_COLOR, COLOR_DONE, COLOR_SIREKAP, COLOR_OTHER_STATUS, COLOR_GRID, black]
    plain = [white, *inks, *COLOR_STATUS.values(), *cells]
    colors = [_rgb(color) for color in plain]  # first: each kept exactly
    for color in plain[1:]:
        colors += _ramp(color, white, 10)
    for cell in [*cells, COLOR_DONE]:
        colors += _ramp(black, cell, 7)
    colors += _ramp(COLOR_SIREKAP, COLOR_DONE, 7) + _ramp(MUTED_COLOR, COLOR_DONE, 7)
    # Pillow finds a pixel's colour through a cache of 64 levels a channel: of two colours in the
    # same cell it may take the wrong one (white became #fbfbfb), so a cell keeps its first colour
    by_cell = {(r >> 2, g >> 2, b >> 2): (r, g, b) for r, g, b in reversed(colors)}
    unique = list(dict.fromkeys(by_cell[(r >> 2, g >> 2, b >> 2)] for r, g, b in colors))
    assert len(unique) <= 256, len(unique)
    return [channel for color in unique for channel in color]


_PALETTE: Final = Image.new("P", (1, 1))
_PALETTE.putpalette(_palette())


# --- layout and text helpers ---------------------------------------------------------------------


def _plain(text: str, limit: int | None = None) -> str:
    """A name from data as chart text: NIKs masked (before any shortening to `limit` characters),
    `$` kept literal (no mathtext)."""
    text = " ".join(mask_niks(text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text.replace("$", r"\$")


def _row_label(name: str) -> str:
    """A region name for the left of a row, shortened so it never needs more than the margin."""
    return _plain(name, MAX_NAME_CHARS)


def _lines_height(size: float, lines: int) -> float:
    """Inches taken by `lines` lines of text of `size` points."""
    return lines * size * 1.3 / 72


#: the legend's geometry in font sizes (matplotlib's `legend` arguments of the same names)
LEGEND_HANDLE: Final = 1.4
LEGEND_HANDLE_PAD: Final = 0.8
LEGEND_COLUMN_SPACING: Final = 1.0
LEGEND_LABEL_SPACING: Final = 0.5


def _legend_grid(handles: Sequence[Patch]) -> tuple[int, int]:
    """(columns, rows) of a legend under the plot: one row when it fits the chart's width, else the
    fewest rows that do (the heat-map's seven entries in one row were cut at both edges:
    "kurang, < 50%" and "ada yang rusak"). Matplotlib fills a legend's columns top to bottom, each
    as wide as its widest entry."""
    em = VALUE_SIZE / 72
    widths = [_text_width([str(h.get_label())], VALUE_SIZE) + (LEGEND_HANDLE + LEGEND_HANDLE_PAD) * em for h in handles]
    spacing = LEGEND_COLUMN_SPACING * em
    for columns in range(len(widths), 1, -1):
        rows = math.ceil(len(widths) / columns)
        used = math.ceil(len(widths) / rows)  # the columns the entries fill
        width = sum(max(widths[c * rows : (c + 1) * rows]) for c in range(used)) + (used - 1) * spacing
        if width <= WIDTH - 2 * SIDE_MARGIN:
            return used, rows
    return 1, len(widths)


def _legend_height(handles: Sequence[Patch]) -> float:
    """Inches a legend's rows take beyond its first (the footer grows by that much)."""
    rows = _legend_grid(handles)[1]
    return (rows - 1) * (VALUE_SIZE * (1 + LEGEND_LABEL_SPACING) / 72)


class _Canvas:
    """A figure of fixed width whose height is its parts in inches: title block, header (column
    labels), rows, footer (axis, legend); the plot area starts right of the longest row name."""

    def __init__(
        self,
        d: Digest,
        title: str,
        *,
        extra: str = "",
        rows_height: float,
        header: float = 0.0,
        footer: float = 0.3,
        left: float = SIDE_MARGIN,
    ) -> None:
        subtitle = texts.subtitle(d, extra)
        heading = texts.HEADING.format(title=title, region=_plain(d.region_title))
        if _text_width([heading], TITLE_SIZE, "bold") > WIDTH - 2 * SIDE_MARGIN:  # a long region name
            heading = texts.HEADING_WRAPPED.format(title=title, region=_plain(d.region_title))
        title_lines = heading.count("\n") + 1
        self.title_height = (
            0.2 + _lines_height(TITLE_SIZE, title_lines) + 0.05 + _lines_height(SUBTITLE_SIZE, subtitle.count("\n") + 1)
        )
        top = self.title_height + 0.25 + header
        height = max(MIN_HEIGHT, top + rows_height + footer)
        extra_height = height - (top + rows_height + footer)  # a short chart: spare room goes to the rows
        self.height = height
        self.fig = Figure(figsize=(WIDTH, height), dpi=DPI)
        self.agg = _CachingCanvasAgg(self.fig)  # attaches itself as `fig.canvas`; kept typed as Agg for `png`
        self.fig.text(
            0.5,
            1 - 0.2 / height,
            heading,
            ha="center",
            va="top",
            fontsize=TITLE_SIZE,
            fontweight="bold",
            color=TEXT_COLOR,
            linespacing=1.2,
        )
        self.fig.text(
            0.5,
            1 - (0.25 + _lines_height(TITLE_SIZE, title_lines)) / height,
            subtitle,
            ha="center",
            va="top",
            fontsize=SUBTITLE_SIZE,
            color=MUTED_COLOR,
            linespacing=1.3,
        )
        self.plot_width = WIDTH - left - SIDE_MARGIN
        self.ax = self.fig.add_axes(
            (left / WIDTH, footer / height, self.plot_width / WIDTH, (rows_height + extra_height) / height)
        )

    def legend(self, handles: Sequence[Patch]) -> None:
        """A legend under the plot, in one row if it fits (`_legend_grid`; the footer given to the
        canvas holds `_legend_height` for the rows after the first)."""
        self.fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.08 / self.height),
            ncols=_legend_grid(handles)[0],
            fontsize=VALUE_SIZE,
            frameon=False,
            handlelength=LEGEND_HANDLE,
            handletextpad=LEGEND_HANDLE_PAD,
            columnspacing=LEGEND_COLUMN_SPACING,
            labelspacing=LEGEND_LABEL_SPACING,
        )

    def png(self) -> bytes:
        """Draw and encode as a palette PNG of the charts' colours (`_PALETTE`: smaller and faster
        than `savefig`'s full-colour RGBA)."""
        canvas = self.agg
        canvas.draw()
        # Agg's RGBA read as RGB (the figure is opaque): the palette PNG has no tRNS chunk for
        # Telegram to misread
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        palette = image.convert("RGB").quantize(palette=_PALETTE, dither=Image.Dither.NONE)
        buffer = BytesIO()
        palette.save(buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
        del image
        # the figure and its canvas are a reference cycle, freed only when the cycle collector
        # runs: the pixels (13 MB for a tall chart) are let go now
        canvas.renderer = None
        return buffer.getvalue()


def _text_width(texts: Sequence[str], size: float, weight: str = "normal") -> float:
    """Width in inches of the widest line of `texts` at `size` points."""
    lines = [line for text in texts for line in text.split("\n")]
    return max((_line_width(line, size, weight) for line in lines), default=0.0) / DPI


@functools.lru_cache(maxsize=_CACHED_TEXTS)
def _line_width(line: str, size: float, weight: str) -> float:
    return float(
        _MEASURE.get_text_width_height_descent(line, FontProperties(size=size, weight=weight), ismath=False)[0]
    )


class _GlyphRecorder:
    """Stands in for Agg's C renderer while a text is laid out, keeping the glyph bitmaps it
    would have drawn (see `_TextCachingRenderer`)."""

    def __init__(self) -> None:
        self.glyphs: list[tuple[np.ndarray, int, int]] = []

    def draw_text_image(self, image: np.ndarray, x: int, y: int, angle: float, gc: Any) -> None:
        if image.size:  # a space has no bitmap (and no meaningful position)
            self.glyphs.append((np.array(image, copy=True), int(x), int(y)))

    def line(self) -> tuple[np.ndarray, int, int]:
        """The glyphs as one coverage image and where it goes: (image, left, bottom) — the way
        Agg's `draw_text_image` takes it (y downwards, the image's bottom edge)."""
        if not self.glyphs:
            return np.zeros((0, 0), np.uint8), 0, 0
        left = min(x for _, x, _ in self.glyphs)
        right = max(x + image.shape[1] for image, x, _ in self.glyphs)
        top = min(y - image.shape[0] for image, _, y in self.glyphs)
        bottom = max(y for _, _, y in self.glyphs)
        line = np.zeros((bottom - top, right - left), np.uint8)
        for image, x, y in self.glyphs:
            area = line[y - image.shape[0] - top : y - top, x - left : x - left + image.shape[1]]
            np.maximum(area, image, out=area)
        return line, left, bottom


def _font_key(prop: FontProperties) -> tuple[Any, ...]:
    return (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
    )


_GLYPHS: OrderedDict[tuple[Any, ...], tuple[np.ndarray, int, int]] = OrderedDict()
#: one glyph's coverage at one sub-pixel offset, with its left and top from the pixel it is
#: placed at; a few thousand (letters, digits and signs at four sizes and four offsets)
_GLYPH_BITMAPS: dict[tuple[Any, ...], tuple[np.ndarray, int, int]] = {}
_CACHED_GLYPHS: Final = 20_000
#: sub-pixel positions of glyphs, in 1/64 px: a quarter pixel (matplotlib: 1/64)
_PHASE: Final = 16
_METRICS: OrderedDict[tuple[Any, ...], tuple[float, float, float]] = OrderedDict()


def _remember(cache: OrderedDict[tuple[Any, ...], V], key: tuple[Any, ...], value: V) -> V:
    cache[key] = value
    if len(cache) > _CACHED_TEXTS:
        cache.popitem(last=False)
    return value


class _TextCachingRenderer(RendererAgg):
    """Agg that lays out and rasterises each distinct horizontal text once per process.

    Most of a chart's time is text: each line is shaped (`_layout`) and each glyph rendered by
    FreeType on every draw, and the same "100%", "Jawa Timur" or legend label comes back in every
    chart and every digest. Here each line is rendered once into one coverage image (keyed by the
    text, font and dpi), kept in a bounded LRU, and stamped at the line's position rounded to the
    pixel; rotated texts and mathtext go
    the usual way. Metrics are kept likewise."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or angle:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        antialiased = bool(gc.get_antialiased())
        key = (s, _font_key(prop), self.dpi, antialiased)
        glyphs = _GLYPHS.get(key)
        if glyphs is None:
            recorder = _GlyphRecorder()
            real, self._renderer = self._renderer, recorder
            try:  # laid out at (0, 0): positions relative to the line's origin
                super().draw_text(gc, 0.0, 0.0, s, prop, 0, False, mtext)
            finally:
                self._renderer = real
            glyphs = recorder.line()
            if glyphs[0].nbytes <= _CACHED_TEXT_BYTES:  # a title, unique to its chart, is not kept
                _remember(_GLYPHS, key, glyphs)
        else:
            _GLYPHS.move_to_end(key)
        image, left, bottom = glyphs
        if image.size:
            self._renderer.draw_text_image(image, left + round(x), bottom + round(y), 0, gc)
        return None

    def _draw_text_glyphs_and_boxes(self, gc, x, y, angle, glyphs, boxes):
        """A new line's glyphs, each rasterised once per process (`_GLYPH_BITMAPS`) and placed at
        its position rounded to a quarter pixel: a digest's names and figures are new lines, but
        their letters are not (FreeType rendering each glyph of each new line again was a third of
        a chart's time). Matplotlib's own way for anything else (rotated, slanted, boxes)."""
        if angle or boxes or not isinstance(self._renderer, _GlyphRecorder):
            return super()._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, boxes)
        flags = get_hinting_flag()
        antialiased = bool(gc.get_antialiased())
        for font, size, index, slant, extend, dx, dy in glyphs:
            if slant or extend != 1:
                super()._draw_text_glyphs_and_boxes(gc, x, y, 0, [(font, size, index, slant, extend, dx, dy)], [])
                continue
            # 26.6 fixed point, as matplotlib places it (FreeType's y is upwards)
            px = (round(0x40 * (x + dx)) + _PHASE // 2) // _PHASE * _PHASE
            py = round(0x40 * (self.height - y + dy))
            key = (font.fname, size, self.dpi, index, px & 0x3F, py & 0x3F, flags, antialiased)
            glyph = _GLYPH_BITMAPS.get(key)
            if glyph is None:
                font.set_size(size, self.dpi)
                font._set_transform([[0x10000, 0], [0, 0x10000]], [px & 0x3F, py & 0x3F])
                bitmap = font._render_glyph(index, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO)
                image = np.array(bitmap.buffer, copy=True)
                if not antialiased:
                    image *= 0xFF
                glyph = _GLYPH_BITMAPS[key] = (image, bitmap.left, bitmap.top)
                if len(_GLYPH_BITMAPS) > _CACHED_GLYPHS:
                    _GLYPH_BITMAPS.pop(next(iter(_GLYPH_BITMAPS)))
            image, left, top = glyph
            # draw_text_image's y is downwards and the bitmap's bottom side
            self._renderer.draw_text_image(
                image, (px >> 6) + left, int(self.height) - ((py >> 6) + top) + image.shape[0], 0, gc
            )
        return None

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, _font_key(prop), self.dpi)
        metrics = _METRICS.get(key)
        if metrics is None:
            metrics = _remember(_METRICS, key, super().get_text_width_height_descent(s, prop, ismath))
        return metrics


class _CachingCanvasAgg(FigureCanvasAgg):
    """Agg canvas drawing with `_TextCachingRenderer`."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _TextCachingRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer


#: measures texts (`_text_width`) through the same metrics cache as the charts' canvases: a name
#: measured for the margin is not measured again when its chart is drawn
_MEASURE: Final = _TextCachingRenderer(8, 8, DPI)


def _fits(labels: Sequence[str], size: float, column_width: float) -> bool:
    """Whether labels centred on columns `column_width` inches apart leave a gap between neighbours."""
    widths = [_text_width([label], size) for label in labels]
    return all((a + b) / 2 + 0.08 <= column_width for a, b in zip(widths, widths[1:], strict=False))


def _names_margin(names: Sequence[str]) -> float:
    """Left margin (inches) that holds the longest region name, capped at 45 % of the width."""
    return min(SIDE_MARGIN + _text_width(names, LABEL_SIZE) + 0.15, WIDTH * 0.45)


class _RowText(Text):
    """One label per row of an axes whose y data runs from -0.5 (top) to rows - 0.5 (bottom),
    drawn as a single multi-line text with its line spacing fitted to the rows at draw time.

    One text per column instead of one per cell or tick. `x` is in data coordinates, or in axes
    coordinates with `x_in_axes`.
    """

    def __init__(
        self, ax: Axes, lines: Sequence[str], x: float, *, x_in_axes: bool = False, ha: str = "center", **props: Any
    ) -> None:
        transform = blended_transform_factory(ax.transAxes if x_in_axes else ax.transData, ax.transData)
        rows = len(lines)
        super().__init__(
            x,
            (rows - 1) / 2,
            "\n".join(lines),
            ha=ha,
            va="center",
            linespacing=1.0,
            transform=transform,
            clip_on=False,
            **props,
        )
        self._rows = rows

    def draw(self, renderer: RendererBase) -> None:
        if self.get_visible() and self._rows and self.axes is not None:
            wanted = self.axes.get_window_extent(renderer).height / self._rows
            self.set_linespacing(wanted / _line_pitch(self, renderer))
        super().draw(renderer)


_PITCH_CACHE: dict[tuple[int, float], float] = {}


def _line_pitch(text: Text, renderer: Any) -> float:
    """Pixels between two lines of `text`'s font at line spacing 1 (measured once per font)."""
    font = text.get_fontproperties()
    figure = text.get_figure(root=True)
    assert figure is not None, "measured while drawing, so the text is in a figure"
    key = (hash(font), figure.dpi)
    if key not in _PITCH_CACHE:
        heights = []
        for probe_text in ("0\n0", "0\n0\n0"):
            probe = Text(0, 0, probe_text, fontproperties=font, linespacing=1.0)
            probe.set_figure(figure)
            heights.append(probe.get_window_extent(renderer).height)
        _PITCH_CACHE[key] = heights[1] - heights[0]
    return _PITCH_CACHE[key]


def _row_names(ax: Axes, names: Sequence[str]) -> None:
    """Region names left of the rows, right-aligned; row 0 on top."""
    rows = len(names)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_yticks([])
    ax.add_artist(_RowText(ax, names, -0.015, x_in_axes=True, ha="right", fontsize=LABEL_SIZE, color=TEXT_COLOR))


def _wrap(label: str, width: int = 10) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _keep_lowest(rows: Sequence[T], key: Callable[[T], float]) -> tuple[list[T], bool]:
    """At most MAX_ROWS rows: the ones with the lowest `key`, in their original order."""
    if len(rows) <= MAX_ROWS:
        return list(rows), False
    keep = set(sorted(range(len(rows)), key=lambda i: (key(rows[i]), i))[:MAX_ROWS])
    return [row for i, row in enumerate(rows) if i in keep], True


def _empty_chart(title: str, d: Digest, message: str) -> bytes:
    canvas = _Canvas(d, title, rows_height=3.0)
    ax = canvas.ax
    ax.set_axis_off()
    ax.text(
        0.5,
        0.6,
        texts.NO_DATA,
        ha="center",
        va="center",
        fontsize=EMPTY_SIZE,
        fontweight="bold",
        color=MUTED_COLOR,
        transform=ax.transAxes,
    )
    ax.text(
        0.5, 0.42, message, ha="center", va="center", fontsize=LABEL_SIZE, color=MUTED_COLOR, transform=ax.transAxes
    )
    return canvas.png()


def _band(value: float) -> int:
    """Index in BANDS of a completeness share."""
    return max(i for i, band in enumerate(BANDS) if value >= band.low)


# --- logistics -----------------------------------------------------------------------------------


def _logistics_items(children: Sequence[ChildLogistics]) -> list[str]:
    present = {i.item for c in children for i in c.items if i.planned}
    return [name for name in ITEMS if name in present] + sorted(present - set(ITEMS))


def logistics_chart(d: Digest) -> bytes:
    """Readiness heat-map per child region (rows) and item (columns): each cell the item's
    completeness (damaged units count as missing), coloured complete / short (by how short) /
    damaged; the last column the PPK with every item complete, "n/N", coloured by their share.
    Nothing adds units of different items together: a row is as ready as its weakest cell."""
    children = [c for c in d.logistics_children if c.share is not None]
    items = _logistics_items(children)
    if not children or not items:
        return _empty_chart(texts.TITLE_LOGISTICS, d, texts.NO_DATA_LOGISTICS)
    total_children = len(children)
    children, cut = _keep_lowest(children, lambda c: c.ready_share if c.ready_share is not None else -1.0)
    extra = (
        texts.ROWS_CUT.format(shown=len(children), level=child_level(d.region_code), total=total_children)
        if cut
        else ""
    )

    values: list[list[float | None]] = []
    damaged: list[list[bool]] = []
    for child in children:
        by_item = {i.item: i for i in child.items}
        values.append([by_item[name].ready_share if name in by_item else None for name in items] + [child.ready_share])
        damaged.append([name in by_item and by_item[name].damaged > 0 for name in items] + [False])
    rows, cols = len(values), len(items) + 1
    names = [_row_label(c.name) for c in children]
    left = _names_margin(names)
    headers = [item_label(name) for name in items] + [texts.READY_COLUMN]
    wrapped = [_wrap(h) for h in headers]
    column_width = (WIDTH - left - SIDE_MARGIN) / cols
    header_size = next((size for size in (VALUE_SIZE, MIN_FONT_SIZE) if _fits(wrapped, size, column_width)), None)
    slanted = header_size is None
    if header_size is None:  # one line each, slanted up to the left from the column (over the names)
        header_size = VALUE_SIZE
        slant = math.radians(HEADER_SLANT)
        header = _text_width(headers, header_size) * math.sin(slant) + _lines_height(header_size, 1) + 0.1
    else:
        header = _lines_height(header_size, max(w.count("\n") + 1 for w in wrapped)) + 0.1
    legend = [Patch(color=band.color, label=band.label) for band in BANDS]
    if any(hurt for row in damaged for hurt in row):
        legend.append(Patch(color=DAMAGED_COLOR, label=texts.DAMAGED_LABEL))
    if any(v is None for row in values for v in row):
        legend.append(Patch(color=NO_PLAN_COLOR, label=texts.NO_PLAN_LABEL))
    canvas = _Canvas(
        d,
        texts.TITLE_LOGISTICS,
        extra=extra,
        rows_height=ROW_HEIGHT * rows,
        header=header,
        footer=0.55 + _legend_height(legend),
        left=left,
    )
    ax = canvas.ax

    # cells: band index, -1 (drawn grey) without a kebutuhan, len(BANDS) with damaged units
    bands = [
        [len(BANDS) if hurt else (_band(v) if v is not None else -1) for v, hurt in zip(row, harm, strict=True)]
        for row, harm in zip(values, damaged, strict=True)
    ]
    cmap = ListedColormap([NO_PLAN_COLOR] + [band.color for band in BANDS] + [DAMAGED_COLOR])
    ax.pcolormesh(
        [x - 0.5 for x in range(cols + 1)],
        [y - 0.5 for y in range(rows + 1)],
        bands,
        cmap=cmap,
        vmin=-1.5,
        vmax=len(BANDS) + 0.5,
        edgecolors="white",
        linewidth=1.5,
    )
    ready_cells = [
        texts.READY_CELL.format(ready=number(c.kecamatan_ready), total=number(c.kecamatan_planned)) for c in children
    ]
    for c in range(cols):
        if c == cols - 1:
            lines = ready_cells
        else:
            lines = [percent_whole(row[c]) if row[c] is not None else NO_VALUE for row in values]
        ax.add_artist(
            _RowText(ax, lines, c, color="black", fontsize=VALUE_SIZE, fontweight="bold" if c == cols - 1 else "normal")
        )
    ax.set_xlim(-0.5, cols - 0.5)
    ax.xaxis.tick_top()
    if slanted:
        ax.set_xticks(
            range(cols),
            labels=headers,
            fontsize=header_size,
            color=TEXT_COLOR,
            rotation=-HEADER_SLANT,
            ha="right",
            va="bottom",
            rotation_mode="anchor",
        )
    else:
        ax.set_xticks(range(cols), labels=wrapped, fontsize=header_size, color=TEXT_COLOR)
    ax.tick_params(length=0)
    ax.axvline(cols - 1.5, color="white", linewidth=5)
    _row_names(ax, names)
    for spine in ax.spines.values():
        spine.set_visible(False)
    canvas.legend(legend)
    return canvas.png()


# --- counting ------------------------------------------------------------------------------------


def _bars(ax: Axes, rows: Sequence[int], widths: Sequence[float], height: float, **style: Any) -> None:
    """Horizontal bars from 0, one per row, as one collection (`barh` makes a patch per bar, each
    updating the axes' limits: most of the counting chart's time at 60 rows). The axes' limits
    are set by the chart, so the collection does not touch them."""
    half = height / 2
    bars = [[(0.0, y - half), (w, y - half), (w, y + half), (0.0, y + half)] for y, w in zip(rows, widths, strict=True)]
    ax.add_collection(PolyCollection(bars, **style), autolim=False)


def counting_chart(d: Digest) -> bytes:
    """Horizontal bars per child region: share of TPS counted (wide, light) and uploaded to
    Sirekap (narrow, dark, inside), both written in a column right of the 100 % line."""
    if not any(c.has_counting for c in d.counting):
        return _empty_chart(texts.TITLE_COUNTING, d, texts.NO_DATA_COUNTING)
    total_children = len(d.counting)
    children, cut = _keep_lowest(d.counting, lambda c: c.share_done if c.share_done is not None else -1.0)
    total = d.counting_total
    extra = texts.COUNTING_TOTAL.format(
        done=share(total.share_done),
        sirekap=share(total.share_sirekap) if total.share_sirekap is not None else texts.NOT_REPORTED,
    )
    if cut:
        extra += " · " + texts.ROWS_CUT.format(
            shown=len(children), level=child_level(d.region_code), total=total_children
        )

    rows = len(children)
    names = [_row_label(c.name) for c in children]
    positions = range(rows)
    # a Sirekap figure never reported is not 0 %: a hatched outline across the counted bar
    unknown = [y for y, c in zip(positions, children, strict=True) if c.kecamatan_reporting and c.share_sirekap is None]
    legend = [Patch(color=COLOR_DONE, label=texts.LEGEND_DONE), Patch(color=COLOR_SIREKAP, label=texts.LEGEND_SIREKAP)]
    if unknown:
        legend.append(Patch(facecolor="none", edgecolor=MUTED_COLOR, hatch="///", label=texts.LEGEND_SIREKAP_UNKNOWN))
    canvas = _Canvas(
        d,
        texts.TITLE_COUNTING,
        extra=extra,
        rows_height=BAR_ROW_HEIGHT * rows,
        footer=1.05 + _legend_height(legend),
        left=_names_margin(names),
    )
    ax = canvas.ax
    done = [min(100 * (c.share_done or 0.0), 100) for c in children]
    sirekap = [min(100 * (c.share_sirekap or 0.0), 100) for c in children]
    _bars(ax, positions, done, 0.78, facecolor=COLOR_DONE, zorder=2)
    _bars(ax, positions, sirekap, 0.36, facecolor=COLOR_SIREKAP, zorder=3)
    if unknown:
        _bars(
            ax,
            unknown,
            [max(done[y], 2.0) for y in unknown],
            0.36,
            facecolor="none",
            edgecolor=MUTED_COLOR,
            hatch="///",
            linewidth=0.8,
            zorder=3,
        )
    labels = [
        texts.COUNTING_LABEL.format(
            done=share(c.share_done),
            sirekap=share(c.share_sirekap) if c.share_sirekap is not None else texts.NOT_REPORTED,
        )
        if c.kecamatan_reporting
        else texts.NO_COUNTING_REPORT
        for c in children
    ]
    ax.add_artist(_RowText(ax, labels, 102.5, ha="left", fontsize=VALUE_SIZE, color=TEXT_COLOR))
    ax.set_xlim(0, 185)  # room right of 100 % for "100,0% · Sirekap belum dilaporkan"
    ax.set_xticks(
        [0, 25, 50, 75, 100], labels=[percent_whole(t / 100) for t in (0, 25, 50, 75, 100)], fontsize=VALUE_SIZE
    )
    ax.set_xlabel(texts.AXIS_PERCENT_TPS, fontsize=VALUE_SIZE, loc="left")
    ax.grid(axis="x", color=COLOR_GRID, linewidth=0.8, zorder=0)
    ax.axvline(100, color=MUTED_COLOR, linewidth=1, zorder=1)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.spines["bottom"].set_bounds(0, 100)
    _row_names(ax, names)
    canvas.legend(legend)
    return canvas.png()


# --- incidents -----------------------------------------------------------------------------------


def incidents_chart(d: Digest) -> bytes:
    """Stacked horizontal bars per incident kind: baru, ditangani, selesai (all time), the count
    written in each wide enough segment and the total after the bar. `status_by_kind` counts what
    needs handling (routine progress reports are left out by `bot.services.digest`)."""
    counts = {
        kind: {status: n for status, n in statuses.items() if n > 0} for kind, statuses in d.status_by_kind.items()
    }
    counts = {kind: statuses for kind, statuses in counts.items() if statuses}
    if not counts:
        return _empty_chart(texts.TITLE_INCIDENTS, d, texts.NO_DATA_INCIDENTS)
    kinds = ordered(counts, KIND_ORDER)
    statuses = ordered({s for statuses in counts.values() for s in statuses}, STATUS_ORDER)
    totals = [sum(counts[k].values()) for k in kinds]
    widest = max(totals)

    names = [_row_label(kind_label(k)) for k in kinds]
    legend = [
        Patch(color=COLOR_STATUS.get(s, COLOR_OTHER_STATUS), label=_plain(texts.status_legend(s))) for s in statuses
    ]
    canvas = _Canvas(
        d,
        texts.TITLE_INCIDENTS,
        rows_height=KIND_ROW_HEIGHT * len(kinds),
        footer=1.05 + _legend_height(legend),
        left=_names_margin(names),
    )
    ax = canvas.ax
    xmax = widest * 1.12
    inches_per_incident = canvas.plot_width / xmax
    positions = list(range(len(kinds)))
    left = [0] * len(kinds)
    for status in statuses:
        widths = [counts[k].get(status, 0) for k in kinds]
        ax.barh(positions, widths, left=left, height=0.62, zorder=2, color=COLOR_STATUS.get(status, COLOR_OTHER_STATUS))
        for y, start, width in zip(positions, left, widths, strict=True):
            if width and width * inches_per_incident >= _text_width([number(width)], VALUE_SIZE, "bold") + 0.1:
                ax.text(
                    start + width / 2,
                    y,
                    number(width),
                    ha="center",
                    va="center",
                    fontsize=VALUE_SIZE,
                    color="white",
                    fontweight="bold",
                    zorder=3,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, total in zip(positions, totals, strict=True):
        ax.text(
            total + widest * 0.015,
            y,
            number(total),
            va="center",
            ha="left",
            fontsize=LABEL_SIZE,
            fontweight="bold",
            color=TEXT_COLOR,
        )
    ax.set_xlim(0, xmax)
    # whole numbers written as in the bars' labels and the text ("350.000", not "350000"), none past
    # the longest bar (the last would stand at the chart's edge, cut)
    ticks = MaxNLocator(nbins=5, steps=[1, 2, 5, 10], integer=True).tick_values(0, widest)
    ax.set_xticks([t for t in ticks if 0 <= t <= widest])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: number(round(value))))
    ax.tick_params(axis="x", labelsize=VALUE_SIZE)
    ax.set_xlabel(texts.AXIS_INCIDENTS, fontsize=VALUE_SIZE, loc="left")
    ax.grid(axis="x", color=COLOR_GRID, linewidth=0.8, zorder=0)
    ax.spines[["top", "right", "left"]].set_visible(False)
    _row_names(ax, names)
    canvas.legend(legend)
    return canvas.png()


# --- all charts, off the event loop --------------------------------------------------------------


def render_all(
    d: Digest, sections: tuple[str, ...] | None = None, seconds: list[float] | None = None
) -> list[tuple[str, bytes]]:
    """(file name, PNG) of the charts of `sections` in their order (the digest's phase by default),
    e.g. ("logistik_51_20240215_0700.png", b"\\x89PNG…"); the seconds each took are added to
    `seconds`. The rekapitulasi has no chart."""
    pngs = []
    for name, chart in _chosen(d, sections):
        started = time.perf_counter()
        pngs.append((name, chart(d)))
        if seconds is not None:
            seconds.append(time.perf_counter() - started)
    return pngs


def _chosen(d: Digest, sections: tuple[str, ...] | None) -> list[tuple[str, Callable[[Digest], bytes]]]:
    """(file name, chart function) of the charts of `sections` (the digest's phase by default)."""
    charts = {"logistik": logistics_chart, "hitung": counting_chart, "insiden": incidents_chart}
    chosen = d.sections if sections is None else sections
    return [(texts.file_name(name, d), charts[name]) for name in chosen if name in charts]


# --- in a drawing worker (`bot.chart_pool`) -------------------------------------------------------


def init_worker(bot_pid: int) -> None:
    """In a new drawing worker: leave Ctrl-C to the bot (which stops the pool), exit when the bot
    (`bot_pid`, passed in: killed while this worker was still starting, the bot is no longer its
    parent by the time this runs) is gone, and load the fonts now rather than on the first chart."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(bot_pid,), name="parent-watch", daemon=True).start()
    warm_up()


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """A bot killed outright (kill -9, the kernel's OOM killer) cannot stop its workers: each would
    live on, orphaned, holding the bot's memory and its stdout/stderr (a service manager or a pipe
    reading them would wait for ever). Each worker watches its parent and exits once it is gone."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)


#: what a new drawing worker draws once: the letters, digits and signs of names and figures
_WARM_TEXT: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 %,.·:/()–—'-"


def warm_up() -> float:
    """Load matplotlib's fonts and rasterise the glyphs of names and figures at every size the
    charts use (what the first charts of a process would wait for: the first digest drawn after
    the bot starts took 0.17 s a chart instead of 0.12). Returns a width, so that it is computed."""
    fig = Figure(figsize=(WIDTH, 3.0), dpi=DPI)
    canvas = _CachingCanvasAgg(fig)
    # the machinery of the charts' parts, set up on first use: a heat-map, bars, a hatched bar,
    # axis ticks, a grid, a legend
    ax = fig.add_axes((0.3, 0.5, 0.6, 0.4))
    ax.pcolormesh([0, 1, 2], [0, 1], [[0, 1]], cmap=ListedColormap([NO_PLAN_COLOR, COLOR_DONE]))
    _bars(ax, [0, 1], [50.0, 80.0], 0.5, facecolor=COLOR_DONE)
    _bars(ax, [1], [60.0], 0.3, facecolor="none", edgecolor=MUTED_COLOR, hatch="///", linewidth=0.8)
    ax.set_xticks([0, 50, 100], labels=["0%", "50%", "100%"], fontsize=VALUE_SIZE)
    ax.grid(axis="x", color=COLOR_GRID, linewidth=0.8)
    ax.add_artist(_RowText(ax, ["Aceh", "Bali"], 102.5, ha="left", fontsize=VALUE_SIZE, color=TEXT_COLOR))
    fig.legend(handles=[Patch(color=COLOR_DONE, label="a")], loc="lower center", fontsize=VALUE_SIZE)
    sizes = (
        (TITLE_SIZE, "bold"),
        (SUBTITLE_SIZE, "normal"),
        (LABEL_SIZE, "normal"),
        (VALUE_SIZE, "normal"),
        (VALUE_SIZE, "bold"),
        (MIN_FONT_SIZE, "normal"),
    )
    for row, (size, weight) in enumerate(sizes):
        fig.text(0.0, row / (2 * len(sizes)), _WARM_TEXT, fontsize=size, fontweight=weight)
    canvas.draw()
    canvas.renderer = None
    return _text_width([number(1234), share(0.5), percent_whole(0.25)], VALUE_SIZE)  # and babel's locale data


def _release_memory(charts: int) -> None:
    """After `_COLLECT_EVERY` charts or more: collect the figures drawn since (reference cycles,
    which the cycle collector may leave for long: it counts objects, not the memory they hold) and
    give the freed heap back to the system, so each worker stays near its size after the first
    charts. Not after every chart: a full collection costs about as much as drawing one."""
    global _drawn
    _drawn += charts
    if _drawn >= _COLLECT_EVERY:
        _drawn = 0
        gc.collect()
        if _LIBC is not None:
            _LIBC.malloc_trim(0)


_COLLECT_EVERY: Final = 4
_drawn = 0


def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # glibc only  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC: Final = _libc() if sys.platform.startswith("linux") else None


def draw(d: Digest, sections: tuple[str, ...] | None) -> tuple[list[tuple[str, bytes]], list[float], int]:
    """`render_all` for `bot.chart_pool`: the charts, the seconds each took, and the drawing
    process's pid."""
    seconds: list[float] = []
    pngs = render_all(d, sections, seconds)
    if multiprocessing.parent_process() is not None:  # a drawing worker (not the bot's chart thread)
        _release_memory(len(pngs))
    return pngs, seconds, os.getpid()
