"""Detect the scale of expression values (raw counts, CPM/TPM, log, z-scores) and bring data to log scale."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._errors import InputFormatError, ScaleWarning, warn
from resistscore._types import is_anndata  # never imports anndata (scoring a DataFrame does not need it)
from resistscore._validate import check_choice, check_real

__all__ = [
    "METHOD_SCALE_NEEDS",
    "SCALE_KINDS",
    "ScalePlan",
    "ScaleReport",
    "detect_scale",
    "ensure_log",
    "scale_plan",
]

SCALE_KINDS = ("counts", "cpm_tpm", "log", "zscore", "other")
_MAX_VALUES = 2_000_000


@dataclass
class ScaleReport:
    """What :func:`detect_scale` found.

    Attributes
    ----------
    kind
        ``"counts"`` (non-negative integers with a long right tail), ``"cpm_tpm"`` (non-negative,
        non-integer, linear scale), ``"log"`` (log-transformed: values within a few tens, possibly
        negative log ratios), ``"zscore"`` (every gene, or every sample, has mean 0 and SD 1) or
        ``"other"``.
    evidence
        The statistics the decision was based on.
    reason
        One sentence saying why.
    """

    kind: str
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def is_log(self) -> bool:
        """True for log-scale data (``log`` or ``zscore``, which is usually standardised log data)."""
        return self.kind in ("log", "zscore")

    @property
    def problem(self) -> str | None:
        """One sentence on why these values are unsuitable for gene-set scoring, or None if they are fine.

        z-scored data (``kind="zscore"``) and data of an unrecognised scale (``kind="other"``) are
        problems; :func:`~resistscore.pp.qc` lists this sentence and :func:`~resistscore.tl.score` warns with it.
        """
        if self.kind == "zscore":
            if self.evidence.get("zscored_axis") == "samples":
                return (
                    f"the values are z-scores ({self.reason}): within-sample ranks are unchanged, but expression "
                    "levels are lost, so methods that average values (module_score, wmean, ulm, gsva) compare "
                    "z-scores; score the un-standardised log expression"
                )
            return (
                f"the values are z-scores ({self.reason}): each gene is centred on this cohort, so a sample's "
                "ranks compare each gene with the other samples instead of with the sample's own genes and "
                "single-sample scores depend on the cohort; score the un-standardised log expression"
            )
        if self.kind == "other":
            return (
                f"the scale of the values could not be recognised ({self.reason}); scores need counts, CPM/TPM "
                "or log expression"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``adata.uns``."""
        return {"kind": self.kind, "reason": self.reason, "evidence": dict(self.evidence)}

    def __repr__(self) -> str:
        return f"ScaleReport(kind={self.kind!r}: {self.reason})"


def _matrix(data) -> tuple[Any, str]:

    if is_anndata(data):
        X = data.X
        if data.isbacked:
            n = min(data.n_obs, max(1, _MAX_VALUES // max(data.n_vars, 1)))
            X = data.X[:n]
        return X, "obs x var"
    if isinstance(data, pd.DataFrame):
        try:
            return data.to_numpy(dtype=float), "samples x genes"
        except (TypeError, ValueError) as err:
            raise InputFormatError(
                "the table has non-numeric values; pass a numeric samples x genes table."
            ) from err
    if sp.issparse(data):
        return data, "samples x genes"
    try:
        return np.asarray(data, dtype=float), "samples x genes"
    except (TypeError, ValueError) as err:
        raise InputFormatError(
            f"cannot read {type(data).__name__} as a numeric matrix; pass an AnnData, DataFrame or array."
        ) from err


def _sample_rows(X, rng: np.random.Generator):
    n = X.shape[0]
    per_row = max(X.shape[1], 1)
    if n * per_row <= _MAX_VALUES:
        return X
    rows = np.sort(rng.choice(n, size=max(1, _MAX_VALUES // per_row), replace=False))
    return X[rows]


def detect_scale(data) -> ScaleReport:
    """Guess the scale of an expression matrix (samples x genes).

    Rules, in order (statistics on finite values; large matrices are subsampled by rows with a fixed seed):

    1. ``zscore``: the median absolute gene mean is < 0.05 and the median gene SD is within 0.1 of 1
       (genes standardised), or the same holds for samples.
    2. ``counts``: no negative values, >= 99.9% integers, and a 99th percentile above 20 or a
       maximum above 100 (small integers alone could be log values rounded in a file).
    3. ``log``: the 99th percentile is below 30 (log2 expression rarely exceeds 20; negative values are
       then log ratios or centred log values).
    4. ``cpm_tpm``: no negative values and a linear, non-integer scale (99th percentile >= 30).
    5. ``other``: anything else (e.g. negative values on a linear scale).

    Parameters
    ----------
    data
        AnnData (``X``), samples x genes DataFrame, array or sparse matrix.

    Returns
    -------
    ScaleReport

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> counts = rng.negative_binomial(2, 0.01, size=(20, 500))
    >>> detect_scale(counts).kind
    'counts'
    >>> detect_scale(np.log2(counts + 1)).kind
    'log'
    >>> z = (counts - counts.mean(0)) / counts.std(0)
    >>> detect_scale(z).kind
    'zscore'
    """
    X, _ = _matrix(data)
    rng = np.random.default_rng(0)
    X = _sample_rows(X, rng)
    if sp.issparse(X):
        X = X.toarray()
    X = np.asarray(X, dtype=float)
    finite = np.isfinite(X)
    all_finite = bool(finite.all())  # the usual case: no copy of the finite values, no NaN mask
    vals = X.ravel() if all_finite else X[finite]
    ev: dict[str, Any] = {
        "n_values": int(X.size),
        "n_nan": 0 if all_finite else int(np.isnan(X).sum()),
        "n_inf": 0 if all_finite else int(np.isinf(X).sum()),
    }
    if vals.size == 0:
        return ScaleReport("other", ev, "no finite values")
    q = np.quantile(vals, [0.0, 0.01, 0.5, 0.99, 1.0])
    ev.update(
        {
            "min": float(q[0]),
            "q01": float(q[1]),
            "median": float(q[2]),
            "q99": float(q[3]),
            "max": float(q[4]),
            "share_negative": float((vals < 0).mean()),
            "share_zero": float((vals == 0).mean()),
            "share_integer": float((vals == np.round(vals)).mean()),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        Xm = X if all_finite else np.where(finite, X, np.nan)
        gmean, gsd = np.nanmean(Xm, axis=0), np.nanstd(Xm, axis=0, ddof=1)
        smean, ssd = np.nanmean(Xm, axis=1), np.nanstd(Xm, axis=1, ddof=1)
    ok_g = np.isfinite(gsd) & (gsd > 0)
    ok_s = np.isfinite(ssd) & (ssd > 0)
    g_abs_mean = float(np.median(np.abs(gmean[ok_g]))) if ok_g.any() else np.nan
    g_sd = float(np.median(gsd[ok_g])) if ok_g.any() else np.nan
    s_abs_mean = float(np.median(np.abs(smean[ok_s]))) if ok_s.any() else np.nan
    s_sd = float(np.median(ssd[ok_s])) if ok_s.any() else np.nan
    ev.update(
        {
            "median_abs_gene_mean": g_abs_mean,
            "median_gene_sd": g_sd,
            "median_abs_sample_mean": s_abs_mean,
            "median_sample_sd": s_sd,
        }
    )
    if X.shape[0] >= 3 and g_abs_mean < 0.05 and abs(g_sd - 1) < 0.1:
        ev["zscored_axis"] = "genes"
        return ScaleReport(
            "zscore", ev, "every gene has mean ~0 and SD ~1 across samples (z-scored per gene)"
        )
    if X.shape[1] >= 3 and s_abs_mean < 0.05 and abs(s_sd - 1) < 0.1:
        ev["zscored_axis"] = "samples"
        return ScaleReport(
            "zscore", ev, "every sample has mean ~0 and SD ~1 across genes (z-scored per sample)"
        )
    nonneg = q[0] >= 0
    if nonneg and ev["share_integer"] >= 0.999 and (q[3] > 20 or q[4] > 100):
        return ScaleReport("counts", ev, f"non-negative integers up to {q[4]:.0f}: raw counts")
    if q[3] < 30:
        why = f"99% of values below {q[3]:.3g}: log scale"
        if not nonneg:
            why += " (negative values: log ratios or centred log values)"
        if not nonneg and g_abs_mean < 0.05:
            why += (
                "; genes are centred (mean ~0), so only relative comparisons between samples are meaningful"
            )
            ev["centred_per_gene"] = True
        return ScaleReport("log", ev, why)
    if nonneg:
        return ScaleReport(
            "cpm_tpm", ev, f"non-negative, non-integer, 99th percentile {q[3]:.3g}: linear (CPM/TPM-like)"
        )
    return ScaleReport("other", ev, f"negative values on a linear scale (99th percentile {q[3]:.3g})")


def ensure_log(data, *, base: float = 2.0, pseudocount: float = 1.0, report: ScaleReport | None = None):
    """Return data on a log scale, doing only what its detected scale needs.

    * ``counts``: normalised to counts per million per sample, then ``log_base(CPM + pseudocount)``.
    * ``cpm_tpm``: ``log_base(x + pseudocount)``.
    * ``log``: unchanged.
    * ``zscore``: unchanged, with a :class:`~resistscore.ScaleWarning` (z-scores cannot be turned back
      into expression; relative scores are still valid, absolute ones are not).
    * ``other``: raises, since no transformation is safe.

    Parameters
    ----------
    data
        AnnData or samples x genes DataFrame (never modified).
    base, pseudocount
        Logarithm base and the value added before the log.
    report
        A :class:`ScaleReport` from :func:`detect_scale` (computed if None).

    Returns
    -------
    tuple
        ``(result, actions)``: a new AnnData/DataFrame and the list of actions taken (strings).

    Raises
    ------
    InputFormatError
        If the scale is ``other``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ABCB1": [0, 10, 500], "ABCG2": [100, 990, 500]}, index=["a", "b", "c"])
    >>> out, actions = ensure_log(df)
    >>> out.round(3)
          ABCB1   ABCG2
    a     0.000  19.932
    b    13.288  19.918
    c    18.932  18.932
    >>> actions
    ['detected scale: counts', 'counts -> CPM per sample (library size = row sum)', 'log2(x + 1)']
    """
    import anndata as ad

    check_real("base", base, minimum=1.0, inclusive=False)
    check_real("pseudocount", pseudocount, minimum=0.0, inclusive=False)
    rep = report or detect_scale(data)
    actions = [f"detected scale: {rep.kind}"]
    if rep.kind == "log":
        return (data.copy(), actions + ["already log scale: unchanged"])
    if rep.kind == "zscore":
        warn(
            "the data are z-scores; they cannot be turned back into expression values. Scores relative to "
            "other samples are valid; use the un-standardised log data for absolute scores.",
            ScaleWarning,
        )
        return (data.copy(), actions + ["z-scores: unchanged"])
    if rep.kind == "other":
        raise InputFormatError(
            f"cannot bring these data to log scale safely ({rep.reason}); transform them yourself "
            "(e.g. to log2 expression) or pass already log-scaled data."
        )
    if isinstance(data, ad.AnnData):
        X = data.X
    else:
        X = data.to_numpy(dtype=float)
    if rep.kind == "counts":
        if sp.issparse(X):
            lib = np.asarray(X.sum(axis=1)).ravel()
            X = sp.diags(np.divide(1e6, lib, out=np.zeros_like(lib, dtype=float), where=lib > 0)) @ X
        else:
            X = np.asarray(X, dtype=float)
            lib = np.nansum(X, axis=1, keepdims=True)
            X = np.divide(X * 1e6, lib, out=np.zeros_like(X), where=lib > 0)
        actions.append("counts -> CPM per sample (library size = row sum)")
    if sp.issparse(X):
        X = X.astype(float).toarray()
    X = np.log(np.asarray(X, dtype=float) + pseudocount) / np.log(base)
    pc = int(pseudocount) if float(pseudocount).is_integer() else pseudocount
    b = int(base) if float(base).is_integer() else base
    actions.append(f"log{b}(x + {pc})")
    if isinstance(data, ad.AnnData):
        out = data.copy()
        out.X = X
        return out, actions
    return pd.DataFrame(X, index=data.index.copy(), columns=data.columns.copy()), actions


#: what each scoring method needs from the data scale. ``rank``: only the order of genes within a
#: sample matters, so any monotone scale works (counts, CPM, log); ``log``: the method averages or
#: regresses expression values, which assumes log-scale (roughly homoscedastic) data.
METHOD_SCALE_NEEDS = {
    "ucell": "rank",
    "aucell": "rank",
    "singscore": "rank",
    "ssgsea": "rank",
    "gsva": "log",
    "module_score": "log",
    "ulm": "log",
    "wmean": "log",
}


@dataclass
class ScalePlan:
    """What to do with data of a given scale before scoring with a given method.

    Attributes
    ----------
    method, scale, need
        The method, the detected scale kind and the method's need (``"rank"`` or ``"log"``).
    action
        ``"none"`` (use as is), ``"log"`` (log-transform with :func:`ensure_log`), ``"warn"`` (use as
        is, but results need care) or ``"refuse"`` (no safe transformation).
    reason
        One sentence for the QC report.
    """

    method: str
    scale: str
    need: str
    action: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """Plain-dict form for ``adata.uns``."""
        return {
            "method": self.method,
            "scale": self.scale,
            "need": self.need,
            "action": self.action,
            "reason": self.reason,
        }


def scale_plan(scale: ScaleReport | str, method: str) -> ScalePlan:
    """Decide how data of a detected scale must be prepared for a scoring method.

    Parameters
    ----------
    scale
        A :class:`ScaleReport` or its ``kind``.
    method
        A scoring-method name (see :data:`METHOD_SCALE_NEEDS`).

    Returns
    -------
    ScalePlan

    Examples
    --------
    >>> scale_plan("counts", "ucell").action
    'none'
    >>> scale_plan("counts", "wmean").action
    'log'
    >>> scale_plan("zscore", "singscore").reason
    'ranks of per-gene z-scores compare each gene with the cohort, not within the sample; scores are relative to this cohort'
    """
    kind = scale.kind if isinstance(scale, ScaleReport) else scale
    check_choice("scale", kind, SCALE_KINDS)
    check_choice("method", method, tuple(METHOD_SCALE_NEEDS))
    need = METHOD_SCALE_NEEDS[method]
    if need == "rank":
        if kind == "zscore":
            return ScalePlan(
                method,
                kind,
                need,
                "warn",
                "ranks of per-gene z-scores compare each gene with the cohort, not within the sample; "
                "scores are relative to this cohort",
            )
        if kind == "other":
            return ScalePlan(method, kind, need, "warn", "unknown scale; rank-based scores are still defined")
        return ScalePlan(
            method, kind, need, "none", f"{method} uses within-sample ranks, which any {kind} scale preserves"
        )
    if kind in ("counts", "cpm_tpm"):
        return ScalePlan(
            method,
            kind,
            need,
            "log",
            f"{method} averages expression values: {kind} data are log-transformed first",
        )
    if kind == "log":
        return ScalePlan(method, kind, need, "none", "already log scale")
    if kind == "zscore":
        return ScalePlan(method, kind, need, "warn", "z-scored data: scores are relative to this cohort")
    return ScalePlan(
        method, kind, need, "refuse", f"{method} needs log-scale data and the scale could not be recognised"
    )
