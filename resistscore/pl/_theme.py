"""The resistscore plotting theme: one consistent, colour-blind-safe style for every figure.

Importing :mod:`resistscore` never changes matplotlib's global ``rcParams``. Every ``rs.pl``
function draws inside :func:`theme`, a temporary context; :func:`set_theme` applies the same style
globally, for the user's own figures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np

__all__ = [
    "DIVERGING_CMAP",
    "OKABE_ITO",
    "SEQUENTIAL_CMAP",
    "categorical_colors",
    "rc_params",
    "set_theme",
    "theme",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette (black moved last, it reads as "no group").
OKABE_ITO: tuple[str, ...] = (
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#009e73",  # bluish green
    "#0072b2",  # blue
    "#d55e00",  # vermillion
    "#cc79a7",  # reddish purple
    "#f0e442",  # yellow
    "#000000",  # black
)
#: Diverging map for scores centred at 0 (red = up in resistance); readable with red-green colour blindness.
DIVERGING_CMAP = "RdBu_r"
#: Sequential map (perceptually uniform, colour-blind-safe).
SEQUENTIAL_CMAP = "viridis"
#: Neutral colour for "not significant" / "not reported".
GREY = "#9E9E9E"


def rc_params(font_scale: float = 1.0) -> dict[str, Any]:
    """Return the rcParams of the resistscore theme.

    Parameters
    ----------
    font_scale
        Multiplier of the base font size (8 pt, suited to a printed figure column).

    Returns
    -------
    dict
        rcParams to pass to :func:`matplotlib.rc_context` or :func:`matplotlib.rcParams.update`.

    Examples
    --------
    >>> import resistscore.pl as rspl
    >>> rspl.rc_params()["pdf.fonttype"]
    42
    """
    base = 8.0 * float(font_scale)
    return {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
        "font.size": base,
        "axes.titlesize": base + 1,
        "axes.labelsize": base,
        "xtick.labelsize": base - 1,
        "ytick.labelsize": base - 1,
        "legend.fontsize": base - 1,
        "legend.title_fontsize": base,
        "figure.titlesize": base + 2,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.linewidth": 0.8,
        "axes.edgecolor": "#222222",
        "axes.labelcolor": "#222222",
        "axes.grid": False,
        "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO)),
        "xtick.direction": "out",
        "ytick.direction": "out",
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.major.width": 0.8,
        "ytick.major.width": 0.8,
        "lines.linewidth": 1.2,
        "lines.markersize": 4.0,
        "patch.linewidth": 0.6,
        "legend.frameon": False,
        "image.cmap": SEQUENTIAL_CMAP,
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "savefig.dpi": 300,
        "savefig.facecolor": "white",
        "savefig.bbox": "tight",
        # vector export: text stays text (editable in Illustrator/Inkscape), ids are reproducible
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "none",
        "svg.hashsalt": "resistscore",
    }


#: the theme the ``rs.pl`` functions draw with: set by :func:`set_theme`, overridden inside :func:`theme`
_GLOBAL: dict[str, Any] = {"font_scale": 1.0, "rc": {}}
_STACK: list[dict[str, Any]] = []


@contextlib.contextmanager
def theme(font_scale: float | None = None, rc: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Apply the resistscore theme inside a ``with`` block only.

    Every ``rs.pl`` function draws inside this context; a block opened by the user (or
    :func:`set_theme`) sets the font scale and extra rcParams those functions use.

    Parameters
    ----------
    font_scale
        Multiplier of the base font size (default: that of the enclosing ``theme`` block, or of
        :func:`set_theme`, or 1).
    rc
        Extra rcParams that override the theme.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> import resistscore.pl as rspl
    >>> before = mpl.rcParams["axes.spines.top"]
    >>> with rspl.theme(font_scale=1.5):
    ...     mpl.rcParams["axes.spines.top"], mpl.rcParams["font.size"]
    (False, 12.0)
    >>> mpl.rcParams["axes.spines.top"] == before
    True
    """
    if font_scale is not None:
        from resistscore._validate import check_real

        check_real("font_scale", font_scale, minimum=0.1, maximum=10)
    current = _STACK[-1] if _STACK else _GLOBAL
    frame = {
        "font_scale": current["font_scale"] if font_scale is None else float(font_scale),
        "rc": {**current["rc"], **dict(rc or {})} if font_scale is None else dict(rc or {}),
    }
    params = rc_params(frame["font_scale"])
    params.update(frame["rc"])
    _STACK.append(frame)
    try:
        with mpl.rc_context(params):
            yield
    finally:
        _STACK.pop()


def set_theme(font_scale: float = 1.0, rc: Mapping[str, Any] | None = None) -> None:
    """Apply the resistscore theme globally (to every later matplotlib figure).

    ``rs.pl`` functions always draw in the theme; this also applies it to your own figures and sets
    the font scale and extra rcParams the ``rs.pl`` functions use. Undo with
    ``matplotlib.rcdefaults()`` and ``set_theme()``.

    Parameters
    ----------
    font_scale
        Multiplier of the base font size.
    rc
        Extra rcParams that override the theme.
    """
    from resistscore._validate import check_real

    check_real("font_scale", font_scale, minimum=0.1, maximum=10)
    _GLOBAL.update(font_scale=float(font_scale), rc=dict(rc or {}))
    params = rc_params(font_scale)
    params.update(_GLOBAL["rc"])
    mpl.rcParams.update(params)


def categorical_colors(
    levels: Sequence[Any], palette: Mapping[Any, Any] | Sequence[Any] | str | None = None
) -> dict:
    """Map category levels to colours (Okabe-Ito by default).

    Parameters
    ----------
    levels
        The categories, in display order.
    palette
        A mapping level -> colour, a list of colours, a matplotlib colormap name, or ``None``
        (Okabe-Ito; with more than 8 levels the evenly spaced ``"husl"`` hues are used, which are
        no longer colour-blind-safe).

    Returns
    -------
    dict
        level -> hex colour.

    Examples
    --------
    >>> import resistscore.pl as rspl
    >>> rspl.categorical_colors(["resistant", "sensitive"])
    {'resistant': '#e69f00', 'sensitive': '#56b4e9'}
    """
    from resistscore._errors import ResistScoreError

    levels = list(levels)
    if isinstance(palette, Mapping):
        missing = [lv for lv in levels if lv not in palette]
        if missing:
            raise ResistScoreError(
                f"`palette` has no colour for {missing[:5]}; add them to the mapping or pass palette=None."
            )
        return {lv: mcolors.to_hex(palette[lv]) for lv in levels}
    if palette is None:
        if len(levels) <= len(OKABE_ITO):
            colours = list(OKABE_ITO[: len(levels)])
        else:
            import seaborn as sns

            colours = sns.color_palette("husl", len(levels))
    elif isinstance(palette, str):
        cmap = mpl.colormaps[palette]
        colours = [cmap(x) for x in np.linspace(0, 1, max(len(levels), 1))]
    else:
        colours = list(palette)
        if len(colours) < len(levels):
            raise ResistScoreError(
                f"`palette` has {len(colours)} colours for {len(levels)} levels; give at least one per level."
            )
    return {lv: mcolors.to_hex(c) for lv, c in zip(levels, colours)}
