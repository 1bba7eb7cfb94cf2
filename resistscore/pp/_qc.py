"""Quality control of an expression matrix: NaN/inf, empty or constant samples and genes, duplicates, scale."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore import get
from resistscore._errors import InputFormatError
from resistscore._kind import DataKind, judge
from resistscore._types import is_anndata
from resistscore._validate import check_choice
from resistscore.pp._harmonize import COLLAPSE_RULES, _aggregate, _collapse_matrix
from resistscore.pp._scale import ScaleReport, _sample_rows, detect_scale

__all__ = ["QCReport", "StreamQC", "clean", "qc"]

_MAX_LISTED = 20


@dataclass
class QCReport:
    """What :func:`qc` found in an expression matrix and what :func:`clean` did about it.

    Attributes
    ----------
    n_samples, n_genes
        Shape of the data examined.
    scale
        The :class:`ScaleReport` of :func:`detect_scale`.
    findings
        ``{check: value}``: ``n_nan``, ``n_inf``, ``n_negative``, ``empty_samples`` (all missing or all
        zero), ``constant_samples``, ``empty_genes`` (all missing), ``constant_genes``,
        ``duplicated_genes``, ``duplicated_samples``, ``samples_mostly_missing`` (> 50% missing).
        Lists hold ids (at most 20 are kept; ``n_*`` counts are complete).
    actions
        What :func:`clean` did (empty for :func:`qc`).
    data_kind
        Single cell or bulk, by the one rule of resistscore (:func:`resistscore.pp.data_kind`).
    """

    n_samples: int
    n_genes: int
    scale: ScaleReport
    findings: dict[str, Any] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    data_kind: DataKind | None = None

    @property
    def problems(self) -> list[str]:
        """One sentence per problem found."""
        f = self.findings
        out = []
        for key, what in [
            ("n_nan", "missing (NaN) values"),
            ("n_inf", "infinite values"),
            ("n_empty_samples", "empty samples (all missing or all zero)"),
            ("n_constant_samples", "constant samples"),
            ("n_empty_genes", "genes with no value"),
            ("n_duplicated_genes", "duplicated gene ids"),
            ("n_duplicated_samples", "duplicated sample ids"),
            ("n_samples_mostly_missing", "samples with more than half of the values missing"),
        ]:
            if f.get(key):
                out.append(f"{f[key]} {what}")
        if f.get("n_negative") and self.scale.kind in ("counts", "cpm_tpm"):
            out.append(f"{f['n_negative']} negative values on a {self.scale.kind} scale")
        if self.scale.problem:
            out.append(self.scale.problem)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``adata.uns["resistscore"]["qc"]``."""
        return {
            "n_samples": self.n_samples,
            "n_genes": self.n_genes,
            "scale": self.scale.to_dict(),
            "findings": {
                k: (list(v) if isinstance(v, list | tuple) else v) for k, v in self.findings.items()
            },
            "problems": self.problems,
            "actions": list(self.actions),
            "data_kind": None
            if self.data_kind is None
            else {"kind": self.data_kind.kind, "reason": self.data_kind.reason},
        }

    def store(self, adata) -> None:
        """Store the report in ``adata.uns["resistscore"]["qc"]`` (modifies ``adata.uns`` only)."""
        get.store_record(adata, get.QC, self.to_dict())

    def __repr__(self) -> str:
        probs = "; ".join(self.problems) or "no problems found"
        acts = f"; actions: {'; '.join(self.actions)}" if self.actions else ""
        kind = f"; {self.data_kind.kind.replace('_', '-')} data" if self.data_kind is not None else ""
        return f"QCReport({self.n_samples} samples x {self.n_genes} genes{kind}; scale={self.scale.kind}; {probs}{acts})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{p}</li>" for p in self.problems) or "<li>no problems found</li>"
        acts = "".join(f"<li>{a}</li>" for a in self.actions)
        return (
            f"<b>QC: {self.n_samples} samples x {self.n_genes} genes, scale {self.scale.kind}</b>"
            f"<p>{self.scale.reason}</p><ul>{rows}</ul>" + (f"<b>actions</b><ul>{acts}</ul>" if acts else "")
        )


def _unpack(data):
    import anndata as ad

    if isinstance(data, ad.AnnData):
        if data.isbacked:
            raise InputFormatError("qc needs the data in memory; call adata.to_memory() first.")
        X = data.X
        X = X.toarray() if sp.issparse(X) else np.asarray(X)
        return np.asarray(X, dtype=float), list(map(str, data.obs_names)), list(map(str, data.var_names))
    if isinstance(data, pd.DataFrame):
        try:
            X = data.to_numpy(dtype=float)
        except (TypeError, ValueError) as err:
            raise InputFormatError(
                "the table has non-numeric values; pass a numeric samples x genes table."
            ) from err
        return X, list(map(str, data.index)), list(map(str, data.columns))
    raise InputFormatError(f"qc takes an AnnData or a samples x genes DataFrame, not {type(data).__name__}.")


def _ids(names: list[str], mask: np.ndarray) -> list[str]:
    return [names[i] for i in np.flatnonzero(mask)[:_MAX_LISTED]]


def qc(data) -> QCReport:
    """Check an expression matrix for problems that bias gene-set scores.

    Parameters
    ----------
    data
        AnnData or samples x genes DataFrame (never modified).

    Returns
    -------
    QCReport
        Findings (NaN/inf, negative values, empty or constant samples/genes, duplicated ids, scale).
        ``report.problems`` also lists a scale unsuitable for scoring (z-scores, an unrecognised scale:
        :attr:`ScaleReport.problem`). Store it with ``report.store(adata)``; fix the problems with :func:`clean`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame(
    ...     {"ABCB1": [1.0, np.nan, 3.0], "ABCG2": [2.0, 2.0, np.inf], "TP53": [5.0, 5.0, 6.0]},
    ...     index=["s1", "s2", "s3"],
    ... )
    >>> report = qc(df)
    >>> report.problems
    ['1 missing (NaN) values', '1 infinite values']
    """
    X, samples, genes = _unpack(data)
    nan = np.isnan(X)
    inf = np.isinf(X)
    finite = ~(nan | inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        Xf = np.where(finite, X, np.nan)
        s_min, s_max = np.nanmin(Xf, axis=1), np.nanmax(Xf, axis=1)
        g_min, g_max = np.nanmin(Xf, axis=0), np.nanmax(Xf, axis=0)
    counts = (nan.sum(), inf.sum(), (Xf < 0).sum())
    per_sample = (s_min, s_max, finite.sum(axis=1))
    findings = _findings(samples, genes, counts, per_sample, (g_min, g_max, finite.sum(axis=0)))
    scale = detect_scale(Xf)
    ann = {"obs": data.obs, "uns": data.uns, "obsm": data.obsm} if is_anndata(data) else None
    kind = judge(_sample_rows(X, np.random.default_rng(0)), ann, scale)
    return QCReport(len(samples), len(genes), scale, findings, data_kind=kind)


class StreamQC:
    """:func:`qc` of a matrix read in blocks of rows, in the pass that scores it: the same findings, no second read.

    Each block given to :meth:`add` updates per-sample and per-gene minima, maxima and counts of finite values
    and the totals of NaN, infinite and negative values (rows already seen are skipped, so blocks may overlap
    and come in any order); sparse blocks are never densified. Memory: about 21 bytes per sample and 20 per gene.
    :meth:`report` gives the :class:`QCReport` that :func:`qc` gives on the whole matrix, except that the scale
    and the kind of data are judged on a sample of rows (``probe``: e.g. the rows the scoring engine probes).

    Parameters
    ----------
    n_obs, n_vars
        Shape of the matrix.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = np.array([[1.0, 2.0, np.nan], [0.0, 0.0, 0.0], [3.0, 3.0, 3.0]])
    >>> acc = StreamQC(3, 3)
    >>> acc.add(0, X[:2])
    >>> acc.add(2, X[2:])
    >>> report = acc.report(["s1", "s2", "s3"], ["A", "B", "C"], X)
    >>> report.problems
    ['1 missing (NaN) values', '1 empty samples (all missing or all zero)', '1 constant samples']
    """

    def __init__(self, n_obs: int, n_vars: int):
        self.n_obs, self.n_vars = int(n_obs), int(n_vars)
        self.seen = np.zeros(self.n_obs, dtype=bool)
        self.s_min = np.full(self.n_obs, np.nan)
        self.s_max = np.full(self.n_obs, np.nan)
        self.n_fin_s = np.zeros(self.n_obs, dtype=np.int32)
        self.g_min = np.full(self.n_vars, np.inf)
        self.g_max = np.full(self.n_vars, -np.inf)
        self.n_fin_g = np.zeros(self.n_vars, dtype=np.int64)
        self.n_nan = self.n_inf = self.n_negative = 0

    @property
    def complete(self) -> bool:
        """Whether every row has been seen."""
        return bool(self.seen.all())

    def missing(self, block: int = 10_000) -> list[tuple[int, int]]:
        """Row ranges not seen yet (at most ``block`` rows each), to read before :meth:`report`."""
        rows = np.flatnonzero(~self.seen)
        if not len(rows):
            return []
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        out = []
        for run in np.split(rows, breaks):
            for lo in range(int(run[0]), int(run[-1]) + 1, block):
                out.append((lo, min(lo + block, int(run[-1]) + 1)))
        return out

    def add(self, a: int, block) -> None:
        """Take rows ``a : a + block.shape[0]`` into account (rows seen before are skipped)."""
        m = block.shape[0]
        new = ~self.seen[a : a + m]
        if not new.any():
            return
        if not new.all():
            keep = np.flatnonzero(new)
            block = block[keep] if sp.issparse(block) else np.asarray(block)[keep]
            rows = a + keep
        else:
            rows = np.arange(a, a + m)
        if sp.issparse(block):
            self._add_sparse(rows, sp.csr_matrix(block))
        else:
            self._add_dense(rows, np.asarray(block, dtype=np.float64))
        self.seen[rows] = True

    def _add_dense(self, rows: np.ndarray, X: np.ndarray) -> None:
        nan, inf = np.isnan(X), np.isinf(X)
        fin = ~(nan | inf)
        self.n_nan += int(nan.sum())
        self.n_inf += int(inf.sum())
        Xf = np.where(fin, X, np.nan)
        self.n_negative += int((Xf < 0).sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.s_min[rows], self.s_max[rows] = np.nanmin(Xf, axis=1), np.nanmax(Xf, axis=1)
            g_min, g_max = np.nanmin(Xf, axis=0), np.nanmax(Xf, axis=0)
        self.n_fin_s[rows] = fin.sum(axis=1)
        self.n_fin_g += fin.sum(axis=0)
        self.g_min = np.fmin(self.g_min, g_min)
        self.g_max = np.fmax(self.g_max, g_max)

    def _add_sparse(self, rows: np.ndarray, X) -> None:
        # one pass of a numba kernel over the stored values (numba loaded on the first sparse block only)
        from resistscore.pp._qc_kernel import csr_stats

        X.sum_duplicates()
        m, n = X.shape
        s_min, s_max = np.empty(m), np.empty(m)
        s_bad = np.zeros(m, dtype=np.int64)
        g_bad = np.zeros(n, dtype=np.int64)
        g_stored = np.zeros(n, dtype=np.int64)
        n_nan, n_inf, n_neg = csr_stats(
            X.data, X.indices, X.indptr, s_min, s_max, s_bad, self.g_min, self.g_max, g_bad, g_stored
        )
        self.n_nan += int(n_nan)
        self.n_inf += int(n_inf)
        self.n_negative += int(n_neg)
        implicit = np.diff(X.indptr) < n  # rows with implicit zeros
        s_min[implicit] = np.minimum(s_min[implicit], 0.0)
        s_max[implicit] = np.maximum(s_max[implicit], 0.0)
        n_fin_s = n - s_bad
        none = n_fin_s == 0
        s_min[none], s_max[none] = np.nan, np.nan
        self.s_min[rows], self.s_max[rows] = s_min, s_max
        self.n_fin_s[rows] = n_fin_s
        self.n_fin_g += m - g_bad
        zeros = g_stored < m  # columns with implicit zeros in this block
        self.g_min[zeros] = np.minimum(self.g_min[zeros], 0.0)
        self.g_max[zeros] = np.maximum(self.g_max[zeros], 0.0)

    def report(self, samples, genes, probe, annotations=None) -> QCReport:
        """Return the :class:`QCReport` of the rows seen (all of them: check :attr:`complete` first).

        ``probe`` is a sample of rows (dense or sparse) on which the scale and the kind of data are judged;
        ``annotations`` (``{"obs": ..., "uns": ..., "obsm": ...}``) as for :func:`resistscore.pp.data_kind`.
        """
        samples, genes = list(map(str, samples)), list(map(str, genes))
        g_min = np.where(np.isfinite(self.g_min), self.g_min, np.nan)
        g_max = np.where(np.isfinite(self.g_max), self.g_max, np.nan)
        findings = _findings(
            samples,
            genes,
            (self.n_nan, self.n_inf, self.n_negative),
            (self.s_min, self.s_max, self.n_fin_s),
            (g_min, g_max, self.n_fin_g),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            scale = detect_scale(probe)
        kind = judge(probe, annotations, scale)
        return QCReport(len(samples), len(genes), scale, findings, data_kind=kind)


def _findings(samples, genes, counts, per_sample, per_gene) -> dict:
    """Return the findings of :func:`qc` from the value counts and the per-sample and per-gene summaries.

    ``counts`` is ``(n_nan, n_inf, n_negative)``; ``per_sample`` and ``per_gene`` are ``(min, max, n_finite)``
    of the finite values (NaN where there is none).
    """
    n_nan, n_inf, n_negative = counts
    s_min, s_max, n_fin_s = per_sample
    g_min, g_max, n_fin_g = per_gene
    empty_s = (n_fin_s == 0) | ((s_min == 0) & (s_max == 0))
    const_s = (n_fin_s > 1) & (s_min == s_max) & ~empty_s
    empty_g = n_fin_g == 0
    const_g = (n_fin_g > 1) & (g_min == g_max)
    dup_g = pd.Index(genes).duplicated(keep=False)
    dup_s = pd.Index(samples).duplicated(keep=False)
    mostly_missing = (1 - n_fin_s / max(len(genes), 1)) > 0.5
    return {
        "n_nan": int(n_nan),
        "n_inf": int(n_inf),
        "n_negative": int(n_negative),
        "n_empty_samples": int(empty_s.sum()),
        "empty_samples": _ids(samples, empty_s),
        "n_constant_samples": int(const_s.sum()),
        "constant_samples": _ids(samples, const_s),
        "n_samples_mostly_missing": int((mostly_missing & ~empty_s).sum()),
        "samples_mostly_missing": _ids(samples, mostly_missing & ~empty_s),
        "n_empty_genes": int(empty_g.sum()),
        "empty_genes": _ids(genes, empty_g),
        "n_constant_genes": int(const_g.sum()),
        "n_duplicated_genes": int(pd.Index(genes)[dup_g].nunique()),
        "duplicated_genes": sorted(set(_ids(genes, dup_g))),
        "n_duplicated_samples": int(pd.Index(samples)[dup_s].nunique()),
        "duplicated_samples": sorted(set(_ids(samples, dup_s))),
    }


def clean(data, *, duplicates: str = "mean", drop_empty: bool = True):
    """Fix what :func:`qc` finds, without guessing values: inf -> NaN, drop empty samples and genes, collapse duplicated genes.

    Missing values are kept as NaN (the scoring methods ignore them gene by gene); constant samples are
    dropped because no within-sample ranking or standardisation is defined for them.

    Parameters
    ----------
    data
        AnnData or samples x genes DataFrame (never modified).
    duplicates
        Rule for duplicated gene ids (see :data:`~resistscore.pp.COLLAPSE_RULES`): ``"mean"`` (default:
        their mean within each sample, so a sample's values never depend on the other samples),
        ``"max_mean"`` (cohort-level: the column with the highest mean over all samples), ``"sum"`` or
        ``"first"``.
    drop_empty
        Drop samples that are empty (all missing or all zero) or constant, and genes with no value.
        Duplicated sample ids raise instead (they cannot be told apart).

    Returns
    -------
    tuple
        ``(cleaned, report)``; for AnnData the report is also in ``cleaned.uns["resistscore"]["qc"]``.

    Raises
    ------
    InputFormatError
        If sample ids are duplicated, or nothing is left after cleaning.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame(
    ...     [[1.0, np.inf, 2.0], [0.0, 0.0, 0.0], [3.0, 4.0, 5.0]],
    ...     index=["s1", "empty", "s3"],
    ...     columns=["ABCB1", "ABCG2", "ABCB1"],
    ... )
    >>> out, report = clean(df)
    >>> out
        ABCB1  ABCG2
    s1    1.5    NaN
    s3    4.0    4.0
    >>> report.actions
    ['1 infinite values set to NaN', 'dropped 1 empty/constant samples: empty', '1 duplicated gene ids collapsed (mean)']
    """
    import anndata as ad

    check_choice("duplicates", duplicates, tuple(COLLAPSE_RULES))
    report = qc(data)
    f = report.findings
    if f["n_duplicated_samples"]:
        raise InputFormatError(
            f"sample ids are duplicated ({f['duplicated_samples'][:5]}); make them unique "
            "(e.g. adata.obs_names_make_unique()) before cleaning."
        )
    X, samples, genes = _unpack(data)
    actions = []
    if f["n_inf"]:
        X = np.where(np.isinf(X), np.nan, X)
        actions.append(f"{f['n_inf']} infinite values set to NaN")
    keep_s = np.ones(len(samples), dtype=bool)
    keep_g = np.ones(len(genes), dtype=bool)
    if drop_empty:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            s_min, s_max = np.nanmin(X, axis=1), np.nanmax(X, axis=1)
        n_fin = np.isfinite(X).sum(axis=1)
        bad_s = (n_fin == 0) | (s_min == s_max)
        if bad_s.any():
            keep_s = ~bad_s
            actions.append(
                f"dropped {int(bad_s.sum())} empty/constant samples: {', '.join(_ids(samples, bad_s))}"
            )
        bad_g = np.isfinite(X[keep_s]).sum(axis=0) == 0
        if bad_g.any():
            keep_g = ~bad_g
            actions.append(f"dropped {int(bad_g.sum())} genes without values")
    if not keep_s.any() or not keep_g.any():
        raise InputFormatError(
            "no sample or no gene is left after removing empty ones; check the input data."
        )
    Xk = X[np.ix_(keep_s, keep_g)]
    genes_k = [g for g, k in zip(genes, keep_g) if k]
    samples_k = [s for s, k in zip(samples, keep_s) if k]
    uniq, first = np.unique(genes_k, return_index=True)
    order = np.argsort(first)
    uniq = uniq[order]
    pos = {g: i for i, g in enumerate(uniq)}
    groups = np.array([pos[g] for g in genes_k], dtype=int)
    if len(uniq) < len(genes_k):
        sel, _ = _collapse_matrix(groups, len(genes_k), duplicates, Xk)
        Xk = Xk[:, sel] if duplicates in ("max_mean", "first") else _aggregate(Xk, sel, duplicates)
        actions.append(f"{f['n_duplicated_genes']} duplicated gene ids collapsed ({duplicates})")
    report.actions = actions
    if isinstance(data, ad.AnnData):
        if len(uniq) == len(genes_k):
            out = data[keep_s][:, keep_g].copy()
            out.X = Xk
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*names are not unique.*")
                out = ad.AnnData(X=Xk, obs=data.obs.loc[keep_s].copy(), var=pd.DataFrame(index=list(uniq)))
            out.uns = copy.deepcopy(dict(data.uns))
        report.store(out)
        return out, report
    out = pd.DataFrame(Xk, index=pd.Index(samples_k, name=data.index.name), columns=pd.Index(list(uniq)))
    out.attrs = {"resistscore_qc": report.to_dict()}
    return out, report
