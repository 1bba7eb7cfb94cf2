"""Input coercion, alignment and saving shared by the plotting functions."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from resistscore import get
from resistscore._atomic import atomic_path
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_score_table
from resistscore.pl._theme import DIVERGING_CMAP, SEQUENTIAL_CMAP, theme

RATIO_EFFECTS = ("hazard_ratio", "odds_ratio", "ratio", "fold_change", "hr", "or")


def scores_frame(data: Any, *, name: str = "scores", key: str = get.DEFAULT_KEY) -> pd.DataFrame:
    """Return the samples x signatures score table of a DataFrame, ScoreResult or AnnData (its run ``key``)."""
    if isinstance(data, pd.DataFrame):
        df = data
    elif is_anndata(data):
        try:
            df = get.obsm_frame(data, key)
        except ResistScoreError as err:
            raise ResistScoreError(f"`{name}`: {err}") from None
    elif isinstance(getattr(data, "scores", None), pd.DataFrame):
        df = data.scores
    else:
        raise ResistScoreError(
            f"`{name}` must be a samples x signatures DataFrame, a ScoreResult or a scored AnnData; "
            f"got {type(data).__name__}."
        )
    return check_score_table(df, name)


def metadata_frame(
    data: Any,
    metadata: Any,
    *,
    required: Sequence[str] = (),
    name: str = "metadata",
    key: str = get.DEFAULT_KEY,
) -> pd.DataFrame:
    """Return sample metadata aligned to the samples of ``data`` (``adata.obs`` when not given)."""
    scores = scores_frame(data, key=key)
    if metadata is None:
        if is_anndata(data):
            metadata = data.obs
        else:
            raise ResistScoreError(
                f"`{name}` is required: pass a DataFrame of sample annotations indexed by sample "
                "(or an AnnData, whose .obs is used)."
            )
    elif is_anndata(metadata):
        metadata = metadata.obs
    if isinstance(metadata, pd.Series):
        metadata = metadata.to_frame()
    if not isinstance(metadata, pd.DataFrame):
        raise ResistScoreError(
            f"`{name}` must be a DataFrame indexed by sample; got {type(metadata).__name__}."
        )
    missing_cols = [c for c in required if c not in metadata.columns]
    if missing_cols:
        raise ResistScoreError(
            f"`{name}` has no column(s) {missing_cols}; available columns: {list(metadata.columns)[:20]}."
        )
    missing = scores.index.difference(metadata.index)
    if len(missing) == len(scores.index):
        raise ResistScoreError(
            f"`{name}` shares no sample with the scores (scores index e.g. {scores.index[:3].tolist()}, "
            f"metadata index e.g. {metadata.index[:3].tolist()}); index the metadata by sample name."
        )
    if len(missing):
        raise ResistScoreError(
            f"{len(missing)} scored samples are missing from `{name}` (e.g. {missing[:3].tolist()}); "
            "add them, or plot the annotated samples only: scores.loc[metadata.index]."
        )
    return metadata.loc[scores.index]


def select_signatures(scores: pd.DataFrame, signatures: Any, *, name: str = "signatures") -> list[str]:
    """Return the signature names to plot, validating them against the score columns."""
    if signatures is None:
        return list(scores.columns)
    if isinstance(signatures, str):
        signatures = [signatures]
    signatures = list(signatures)
    unknown = [s for s in signatures if s not in scores.columns]
    if unknown:
        raise ResistScoreError(
            f"`{name}` {unknown[:5]} not among the scored signatures; choose from {list(scores.columns)[:20]}."
        )
    if not signatures:
        raise ResistScoreError(f"`{name}` is empty; give at least one signature.")
    return signatures


def stats_table(stats: Any, *, required: Sequence[str] = (), name: str = "stats") -> pd.DataFrame:
    """Return the tidy table of a statistics result (its ``.table``) or a DataFrame."""
    table = stats if isinstance(stats, pd.DataFrame) else getattr(stats, "table", None)
    if not isinstance(table, pd.DataFrame):
        raise ResistScoreError(
            f"`{name}` must be a statistics result with a `.table` (rs.tl.compare_groups, rs.tl.fit_model, ...) "
            f"or its tidy DataFrame; got {type(stats).__name__}."
        )
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ResistScoreError(
            f"`{name}` table lacks column(s) {missing}; it has {list(table.columns)}. Pass the `.table` of a "
            "resistscore statistics result or a DataFrame with these columns."
        )
    if table.empty:
        raise ResistScoreError(f"`{name}` table is empty: there is nothing to plot.")
    return table


def significance_column(table: pd.DataFrame, which: str | None) -> str:
    """Pick 'fdr' (default when present) or 'pvalue' as the significance column."""
    if which is None:
        which = "fdr" if "fdr" in table.columns and table["fdr"].notna().any() else "pvalue"
    if which not in table.columns:
        raise ResistScoreError(f"the statistics table has no {which!r} column; use one of 'fdr', 'pvalue'.")
    return which


def format_p(p: float, label: str = "p") -> str:
    """Format a p-value for an annotation: ``p=0.012``, ``p=3.1e-05``, ``p=n/a``."""
    if p is None or not np.isfinite(p):
        return f"{label}=n/a"
    if p >= 0.001:
        return f"{label}={p:.3f}" if p < 0.1 else f"{label}={p:.2f}"
    return f"{label}={p:.1e}"


def is_ratio_effect(table: pd.DataFrame) -> bool:
    if "effect_type" not in table.columns:
        return False
    kinds = {str(k).lower() for k in table["effect_type"].dropna().unique()}
    return bool(kinds) and all(k in RATIO_EFFECTS or "ratio" in k for k in kinds)


def score_cmap(values: np.ndarray, cmap: str | None, center: float | None | str) -> tuple[str, float | None]:
    """Choose a colormap and centre: diverging at 0 when scores take both signs, else sequential."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if center == "auto":
        center = 0.0 if v.size and v.min() < 0 < v.max() else None
    if cmap is None:
        cmap = DIVERGING_CMAP if center is not None else SEQUENTIAL_CMAP
    return cmap, center


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    elif not isinstance(ax, Axes):
        raise ResistScoreError(f"`ax` must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax


def figure_of(obj: Any) -> Figure:
    if isinstance(obj, Figure):
        return obj
    if isinstance(obj, Axes):
        return obj.figure
    fig = getattr(obj, "figure", None) or getattr(obj, "fig", None)
    if isinstance(fig, Figure):
        return fig
    raise TypeError(f"cannot find the figure of {type(obj).__name__}")  # pragma: no cover


def save_figure(obj: Any, path: str | os.PathLike[str], *, dpi: float | None = None) -> Path:
    """Write the figure of ``obj`` atomically, in the format given by the file suffix."""
    fig = figure_of(obj)
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ResistScoreError(
            f"cannot save a figure as {path.name!r}: give the file a suffix among {sorted(supported)} "
            "(e.g. .pdf or .svg for vector graphics, .png for a raster image)."
        )
    metadata = None
    if fmt == "pdf":
        metadata = {"CreationDate": None, "Producer": None}
    elif fmt == "svg":
        metadata = {"Date": None}
    elif fmt == "png":
        metadata = {"Software": None}
    with theme(), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    return path


def uns_palette(source: Any, column: str | None) -> dict[Any, str] | None:
    """Scanpy's colours of a categorical obs column (``uns["<column>_colors"]``), or ``None``.

    The colours are aligned with the column's categories (sorted levels of a non-categorical column),
    as scanpy stores them; keys are the levels and their text form.

    Examples
    --------
    >>> import anndata as ad, pandas as pd
    >>> adata = ad.AnnData(obs=pd.DataFrame({"arm": pd.Categorical(["b", "a", "b"])}, index=list("xyz")))
    >>> adata.uns["arm_colors"] = ["#111111", "#222222"]
    >>> uns_palette(adata, "arm")
    {'a': '#111111', 'b': '#222222'}
    """
    if column is None or not is_anndata(source) or column not in source.obs.columns:
        return None
    colours = source.uns.get(f"{column}_colors")
    if colours is None or isinstance(colours, (str, bytes)):
        return None
    values = source.obs[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = list(values.cat.categories)
    else:
        levels = sorted(values.dropna().unique().tolist(), key=str)
    colours = list(colours)
    if len(colours) < len(levels):  # stale colours (scanpy would make new ones): ignore them
        return None
    import matplotlib.colors as mcolors

    out: dict[Any, str] = {}
    for level, colour in zip(levels, colours):
        out[level] = out[str(level)] = mcolors.to_hex(colour)
    return out


def unit_of_test(stats: Any) -> str | None:
    """Return the column of the replicate a statistics result was computed on (its ``params["sample_key"]``).

    Per-replicate means (pseudobulk) and mixed models with a random effect per replicate are tested at
    the replicate level; ``None`` when the rows of the test were the samples themselves, or cells
    taken as replicates (``unit="cell"``).
    """
    params = getattr(stats, "params", None)
    if not isinstance(params, Mapping):
        return None
    key = params.get("sample_key")
    cells = str(params.get("unit", "sample")) == "cell"
    if cells and params.get("model") != "mixed":  # cells as replicates (unit="cell"): cells were tested
        return None
    return key if isinstance(key, str) else None


def obs_source(*candidates: Any) -> Any:
    """Return the first AnnData among ``candidates`` (the owner of ``obs`` and of scanpy's ``uns`` colours)."""
    return next((c for c in candidates if is_anndata(c)), None)


def unit_means(
    scores: pd.DataFrame, meta: pd.DataFrame, keys: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean score per unit (e.g. patient, or patient x group) and the metadata of the units.

    Metadata columns constant within every unit are kept; numeric columns that vary within a unit
    (a per-cell measure) are averaged; other columns are dropped. Units are named by their keys
    joined with ``"|"``.
    """
    for key in keys:
        if key not in meta.columns:
            raise ResistScoreError(
                f"`sample_key` {key!r} is not a metadata column; available: {list(meta.columns)[:20]}."
            )
        if meta[key].isna().any():
            raise ResistScoreError(
                f"`sample_key` {key!r} has missing values; every cell needs its replicate."
            )
    unit = meta[keys[0]].astype(str)
    for key in keys[1:]:
        unit = unit.str.cat(meta[key].astype(str), sep="|")
    agg = scores.groupby(unit, sort=True).mean()
    grouped = meta.groupby(unit, sort=True)
    others = [c for c in meta.columns if c not in keys]
    constant = [c for c in others if (grouped[c].nunique(dropna=False) <= 1).all()]
    varying = [c for c in others if c not in constant and pd.api.types.is_numeric_dtype(meta[c])]
    first = grouped[[*keys, *constant]].first()
    unit_meta = first.join(grouped[varying].mean()) if varying else first
    unit_meta = unit_meta[[c for c in meta.columns if c in unit_meta.columns]]
    agg.index = agg.index.astype(str)
    unit_meta.index = unit_meta.index.astype(str)
    return agg, unit_meta


def finish(obj: Any, save: str | os.PathLike[str] | None) -> Any:
    if save is not None:
        save_figure(obj, save)
    return obj
