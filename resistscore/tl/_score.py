"""The scoring engine :func:`resistscore.tl.score`."""

from __future__ import annotations

import inspect
import os
import sys
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm import tqdm

from resistscore._errors import InputFormatError, OrientationError, ResistScoreError, SignatureError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int, check_real
from resistscore.tl._chunks import RowSource, from_h5ad
from resistscore.tl._coverage import coverage_table, resolve_sets, warn_low_coverage
from resistscore.tl._null import (
    PooledNull,
    bh_fdr_counts,
    count_exceed,
    gene_bins,
    make_controls,
    pvalues_from_counts,
)
from resistscore.tl._result import OBSM_SCORES as OBSM_KEY
from resistscore.tl._result import ScoreResult
from resistscore.tl.methods._kernels import workspace
from resistscore.tl.methods._registry import GeneSetIndex, check_dense_size, get_method

__all__ = ["as_network", "default_method", "score"]

#: AnnData with more observations than this (or with sparse X) is treated as single-cell data
SINGLE_CELL_MIN_OBS = 5000
DEFAULT_BULK_METHOD = "singscore"
DEFAULT_SC_METHOD = "ucell"
DEFAULT_N_CONTROLS_BULK = 1000
DEFAULT_N_CONTROLS_SC = 100


# ---------------------------------------------------------------------------------------------------
# signatures
# ---------------------------------------------------------------------------------------------------
def _read_gmt(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            parts = line.rstrip("\n\r").split("\t")
            if not parts or not parts[0].strip():
                continue
            if len(parts) < 3:
                raise SignatureError(
                    f"{path}, line {i}: a GMT line needs a name, a description and genes (tab-separated)."
                )
            out[parts[0]] = [g for g in parts[2:] if g]
    return out


def as_network(signatures) -> tuple[pd.DataFrame, pd.Series, str]:
    """Normalise signatures to a long table ``source, target, weight`` (signed weights).

    Parameters
    ----------
    signatures
        ``None`` (the shipped collection, ``rs.sig.load()``), a ``SignatureSet`` (anything with
        ``.to_network()``), a long DataFrame (``source``, ``target``, optional ``weight``), a dict
        ``{name: [genes]}`` (a trailing ``-`` marks a down gene, as in UCell) or ``{name: {gene: weight}}``,
        or the path of a GMT file.

    Returns
    -------
    tuple
        ``(network, min_coverage by signature, version string)``.

    Examples
    --------
    >>> net, mc, v = as_network({"up_only": ["A", "B"], "signed": {"A": 2.0, "C": -1.0}})
    >>> net
         source target  weight
    0   up_only      A     1.0
    1   up_only      B     1.0
    2    signed      A     2.0
    3    signed      C    -1.0
    """
    version = "user"
    min_cov = pd.Series(dtype=float)
    if signatures is None:
        from resistscore import sig as _sig

        signatures = _sig.load()
    if hasattr(signatures, "to_network"):
        net = signatures.to_network()
        mc = getattr(signatures, "min_coverage", None)
        if isinstance(mc, pd.Series):
            min_cov = mc.astype(float)
        version = str(getattr(signatures, "version", None) or "user")
        coll = getattr(signatures, "collection", None)
        if coll:
            version = f"{coll} {version}"
    elif isinstance(signatures, (str, Path)):
        p = Path(signatures)
        if not p.is_file():
            raise SignatureError(
                f"signature file {p} does not exist; pass an existing GMT file or a dict of gene lists."
            )
        return as_network(_read_gmt(p))[0], min_cov, f"gmt:{p.name}"
    elif isinstance(signatures, pd.DataFrame):
        if not {"source", "target"} <= set(signatures.columns):
            raise SignatureError(
                "a signature table needs the columns 'source' (signature), 'target' (gene) and optionally 'weight'; "
                f"got {list(signatures.columns)}."
            )
        net = signatures[["source", "target"]].copy()
        net["weight"] = signatures["weight"].to_numpy(dtype=float) if "weight" in signatures else 1.0
    elif isinstance(signatures, Mapping):
        rows = []
        for name, genes in signatures.items():
            if isinstance(genes, str):
                raise SignatureError(
                    f"signature {name!r}: give a list of genes, not a single string {genes!r}."
                )
            if isinstance(genes, (Mapping, pd.Series)):
                rows += [(str(name), str(g), float(w)) for g, w in dict(genes).items()]
            else:
                for g in genes:
                    g = str(g)
                    if len(g) > 1 and g[-1] in "+-":
                        rows.append((str(name), g[:-1], -1.0 if g[-1] == "-" else 1.0))
                    else:
                        rows.append((str(name), g, 1.0))
        net = pd.DataFrame(rows, columns=["source", "target", "weight"])
    else:
        raise SignatureError(
            f"cannot use {type(signatures).__name__} as signatures; pass None (the shipped collection), a SignatureSet, "
            "a DataFrame (source, target, weight), a dict {name: [genes]} or {name: {gene: weight}}, or a GMT path."
        )
    net = net.reset_index(drop=True)
    net["source"] = net["source"].astype(str)
    net["target"] = net["target"].astype(str)
    net["weight"] = net["weight"].astype(float)
    if len(net) == 0:
        raise SignatureError("no signature genes were given; pass at least one signature with genes.")
    bad = ~np.isfinite(net["weight"]) | (net["weight"] == 0)
    if bad.any():
        r = net[bad].iloc[0]
        raise SignatureError(
            f"signature {r['source']!r}, gene {r['target']!r}: weight {r['weight']} is not a finite non-zero number; "
            "use positive weights for genes up in resistance and negative for genes down, or drop the gene."
        )
    dup = net.duplicated(["source", "target"])
    if dup.any():
        r = net[dup].iloc[0]
        raise SignatureError(
            f"signature {r['source']!r} lists gene {r['target']!r} more than once; keep one entry per gene."
        )
    return net, min_cov, version


# ---------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------


def _source(data, layer, genes, samples) -> RowSource:
    if is_anndata(data):
        if data.isbacked:
            return from_h5ad(data.filename, layer)
        X = data.X if layer is None else data.layers.get(layer, None)
        if X is None:
            raise InputFormatError(
                f"the AnnData has no {'X' if layer is None else f'layer {layer!r}'}; choose one of "
                f"{list(data.layers.keys())} or layer=None."
            )
        return RowSource(X, data.obs_names, data.var_names)
    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.suffix != ".h5ad" or not p.is_file():
            raise InputFormatError(
                f"{p} is not an existing .h5ad file; read other formats with rs.io.read first."
            )
        return from_h5ad(p, layer)
    if isinstance(data, pd.DataFrame):
        try:
            X = data.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise InputFormatError(
                "the DataFrame has non-numeric columns; pass a samples x genes table of numbers only "
                "(move annotations to a separate metadata table)."
            ) from None
        return RowSource(X, data.index.astype(str), data.columns.astype(str))
    if isinstance(data, np.ndarray) or sp.issparse(data):
        if genes is None:
            raise InputFormatError("a bare matrix needs gene names: pass genes=[...] (one per column).")
        n = data.shape[0]
        samples = [f"sample_{i}" for i in range(n)] if samples is None else samples
        return RowSource(data, pd.Index(samples).astype(str), pd.Index(genes).astype(str))
    raise InputFormatError(
        f"cannot score {type(data).__name__}; pass an AnnData, a samples x genes DataFrame, an .h5ad path, "
        "or a matrix with genes=."
    )


def _is_single_cell(data, source: RowSource) -> bool:
    # sparse data, or an AnnData (or .h5ad) with many observations; a dense table is bulk whatever its size
    return bool(source.sparse or (source.n_obs > SINGLE_CELL_MIN_OBS and (is_anndata(data) or source.h5)))


def default_method(data, source: RowSource) -> str:
    """The default method: UCell for single-cell data, singscore for bulk data.

    Single-cell data are a sparse matrix, or an AnnData / ``.h5ad`` file with more than 5000
    observations; dense tables and arrays are bulk whatever their size (e.g. TCGA). Both methods
    are rank-based and single-sample: a sample's score does not change with the cohort.
    """
    return DEFAULT_SC_METHOD if _is_single_cell(data, source) else DEFAULT_BULK_METHOD


# ---------------------------------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------------------------------
@dataclass
class _Context:
    """What :func:`resistscore.tl.contributions` needs to explain a score."""

    source: RowSource
    net: pd.DataFrame
    sets: GeneSetIndex
    gene_mean: np.ndarray | None
    gene_var: np.ndarray | None
    params: dict


def _check_block(block, a):
    vals = block.data if sp.issparse(block) else block
    if not np.all(np.isfinite(vals)):
        raise InputFormatError(
            f"the expression data contain NaN or infinite values (rows from {a}); impute or drop them before scoring."
        )


def _auto_chunk(source: RowSource, n_sets_total: int, n_jobs: int = 1) -> int:
    """Rows per chunk: ~64 MB of work per chunk, and at least 4 chunks per thread (load balance)."""
    if source.sparse:
        nnz = source.X.nnz if source.X is not None else int(source._indptr[-1])
        per_row = 24 * n_sets_total + 24 * nnz / max(source.n_obs, 1)
    else:
        per_row = 24 * n_sets_total + 16 * source.n_vars
    by_memory = int(64e6 // max(per_row, 1))
    by_threads = -(-source.n_obs // (4 * n_jobs))
    return int(np.clip(min(by_memory, by_threads), 16, 20_000))


def _frame(values, index, columns, reported) -> pd.DataFrame | None:
    """samples x signatures DataFrame over ``values`` (the reported signatures; no copy when all are)."""
    if values is None:
        return None
    if len(reported) == len(columns):
        df = pd.DataFrame(values, index=index, columns=columns, copy=False)
    else:
        full = np.full((values.shape[0], len(columns)), np.nan)
        full[:, columns.get_indexer(reported)] = values
        df = pd.DataFrame(full, index=index, columns=columns, copy=False)
    df.index.name = "sample"
    df.columns.name = "signature"
    return df


def _call(fn, block, sets, params):
    res = fn(block, sets, **params)
    if isinstance(res, dict):
        return np.asarray(res["score"], dtype=np.float64), {k: v for k, v in res.items() if k != "score"}
    return np.asarray(res, dtype=np.float64), {}


def score(
    data,
    signatures=None,
    method: str | None = None,
    *,
    pvalues: bool = True,
    n_controls: int | None = None,
    null: str | None = None,
    seed: int = 0,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    layer: str | None = None,
    copy: bool = False,
    return_result: bool = False,
    progress: bool | None = None,
    min_coverage: float | None = None,
    genes=None,
    samples=None,
    **method_params,
):
    """Score samples (or cells) for gene signatures, with significance and coverage.

    Parameters
    ----------
    data
        An AnnData (in memory or backed; ``obs`` = samples/cells, ``var`` = genes), a samples x genes
        DataFrame, the path of an ``.h5ad`` file (read in chunks), or a matrix with ``genes=``.
    signatures
        ``None`` for the shipped collection (``rs.sig.load()``), a ``SignatureSet``, a long table
        (``source``, ``target``, ``weight``; signed weights), a dict ``{name: [genes]}`` or
        ``{name: {gene: signed weight}}``, or a GMT path.
    method
        A method of :func:`resistscore.tl.show_methods`. Default: ``"singscore"`` for bulk data and
        ``"ucell"`` for single-cell data (a sparse matrix, or an AnnData with more than 5000
        observations; dense tables are bulk whatever their size). Both are
        rank-based and single-sample, so a sample's score is the same whatever other samples are in
        the cohort, and both use up- and down-genes; singscore uses the whole ranking (bulk profiles
        rank all genes reliably), UCell only the top ``max_rank`` genes of each cell (robust to the
        drop-outs of single-cell data, and sparse-friendly).
    pvalues
        Compute empirical p-values against random gene sets matched on expression level and
        variance, and their Benjamini-Hochberg FDR over samples x signatures.
    n_controls
        Control sets per signature (default 1000 for bulk, 100 for single-cell data); with
        ``null="per_sample"`` p-values are at least ``1 / (1 + n_controls)``.
    null
        ``None`` (default): ``"per_sample"`` for bulk data, ``"pooled"`` for single-cell data (where
        per-sample p-values cannot go below ``1 / (1 + n_controls)``, too coarse for an FDR over
        thousands of cells).
        ``"per_sample"``: ``p = (1 + #{control scores >= score}) / (1 + n_controls)`` in each sample.
        ``"pooled"`` (scDRS-like, for many cells): scores standardised by their own controls' mean
        and SD, compared with the standardised control scores pooled over all samples (up to 10^6
        values per signature), so p-values can reach ~1e-6.
    seed
        Seed of the control sets.
    chunk_size
        Rows per chunk (default: chosen from the memory per row). Results do not depend on it.
    n_jobs
        Threads (default: the available cores).
    layer
        AnnData layer to score instead of ``X``.
    copy
        For AnnData: return a scored copy instead of writing into ``data``.
    return_result
        For AnnData: also return the :class:`ScoreResult` (after writing into ``data``, or into the copy,
        which is then reachable as ``adata`` of your own); handy for ``tidy()`` and contributions.
    progress
        Show a progress bar over chunks; ``None`` (default): only when standard error is a terminal.
    min_coverage
        Override every signature's minimal share of measured weight (default: the signature's own,
        0.5 for user signatures). Below it the score is NaN and a ``LowCoverageWarning`` is emitted.
    genes, samples
        Column and row names of a bare matrix.
    **method_params
        Parameters of the method (e.g. ``max_rank`` for UCell, ``stable_genes`` for singscore).

    Returns
    -------
    ScoreResult or AnnData or None
        A :class:`ScoreResult` for DataFrame, matrix and file input. For AnnData, the results are
        written to ``obsm["resistscore_scores"]``, ``obsm["resistscore_pvalues"]``,
        ``obsm["resistscore_fdr"]`` and ``uns["resistscore"]``; returns the copy with ``copy=True``,
        else ``None``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame(rng.normal(size=(4, 300)), columns=[f"G{i}" for i in range(300)])
    >>> df.loc[0, ["G1", "G2", "G3"]] += 5  # sample 0 expresses the programme
    >>> res = rs.tl.score(df, {"prog": ["G1", "G2", "G3"]}, n_controls=99)
    >>> res.method
    'singscore'
    >>> bool(res.scores["prog"].idxmax() == "0"), float(res.pvalues.loc["0", "prog"])
    (True, 0.01)
    """
    seed = check_int("seed", seed, minimum=0)
    if null is not None:
        check_choice("null", null, ("per_sample", "pooled"))
    if min_coverage is not None:
        min_coverage = check_real("min_coverage", min_coverage, minimum=0.0, maximum=1.0)
    is_adata = is_anndata(data)
    if is_adata and copy and data.isbacked:
        raise ResistScoreError(
            "copy=True cannot copy a backed AnnData without loading it; score it in place (copy=False: results go "
            "to its in-memory .obsm/.uns), or pass the .h5ad path to get a ScoreResult."
        )
    source = _source(data, layer, genes, samples)
    try:
        out = _score(
            data, is_adata, source, signatures, method, pvalues, n_controls, seed, chunk_size, n_jobs, copy,
            min_coverage, method_params, null, progress,
        )  # fmt: skip
        if is_adata:
            out, result = out
            (out if copy else data).uns["resistscore"]["layer"] = layer or ""
            if return_result:
                return result
        return out
    finally:
        source.close()  # on-disk sources reopen on demand (e.g. for contributions)


def _score(data, is_adata, source, signatures, method, pvalues, n_controls, seed, chunk_size, n_jobs, copy,
           min_coverage, method_params, null=None, progress=None):  # fmt: skip
    import resistscore

    if not source.var_names.is_unique:
        dup = source.var_names[source.var_names.duplicated()][:3].tolist()
        raise InputFormatError(
            f"gene names are not unique (e.g. {dup}); make them unique (adata.var_names_make_unique()) or "
            "aggregate duplicates with rs.pp.harmonize_genes."
        )
    net, min_cov, sig_version = as_network(signatures)
    targets = pd.Index(net["target"].unique())
    n_in_cols = int(targets.isin(source.var_names).sum())
    if n_in_cols == 0 and int(targets.isin(source.obs_names).sum()) > 0:
        raise OrientationError(
            "no signature gene is among the columns but some are among the rows: the data look genes x samples; "
            "pass the transpose (df.T, or adata.T) so that rows are samples and columns are genes."
        )
    if min_coverage is not None:
        min_cov = pd.Series(min_coverage, index=pd.unique(net["source"]))
    cov = coverage_table(net, source.var_names, min_cov)
    warn_low_coverage(cov)
    reported = cov.index[cov["reported"]].tolist()

    method = default_method(data, source) if method is None else method
    info = get_method(method)
    params = {**info.defaults, **method_params}
    accepted = inspect.signature(info.fn).parameters
    unknown = [k for k in params if k not in accepted or k.startswith("_")]
    if unknown:
        allowed = [k for k in accepted if k not in ("X", "sets", "var_names") and not k.startswith("_")]
        raise ResistScoreError(
            f"method {method!r} has no parameter(s) {unknown}; its parameters are {allowed}."
        )
    call_params = dict(params)
    if "var_names" in accepted:
        call_params["var_names"] = source.var_names

    is_sc = _is_single_cell(data, source)
    if null is None:
        null = "pooled" if is_sc else "per_sample"
    if n_controls is None:
        n_controls = DEFAULT_N_CONTROLS_SC if is_sc else DEFAULT_N_CONTROLS_BULK
    n_controls = check_int("n_controls", n_controls, minimum=1) if pvalues else 0
    n_jobs = check_int("n_jobs", n_jobs, minimum=1) if n_jobs is not None else len(os.sched_getaffinity(0))
    if "n_jobs" in accepted and "n_jobs" not in method_params:
        call_params["n_jobs"] = n_jobs  # methods with their own thread pool (gsva) get the engine's threads

    sets = resolve_sets(net, source.var_names, reported)
    gene_mean = gene_var = None
    if pvalues:
        gene_mean, gene_var, _ = source.gene_stats()
        all_sets = (
            make_controls(sets, gene_bins(gene_mean, gene_var), n_controls, seed) if len(sets) else sets
        )
    else:
        all_sets = GeneSetIndex(
            sets.names, sets.up_idx, sets.up_w, sets.dn_idx, sets.dn_w, sets.n_genes, len(sets)
        )
    n_sets, n_obs = len(sets), source.n_obs
    scores = np.full((n_obs, n_sets), np.nan)
    counts = np.full((n_obs, n_sets), -1, dtype=np.int64) if pvalues and null == "per_sample" else None
    pooled = PooledNull(n_obs, n_sets, n_controls) if pvalues and null == "pooled" else None
    extras: dict[str, np.ndarray] = {}
    scratch: dict[int, dict] = {}  # per worker thread: the kernels' output arrays, reused chunk after chunk

    def work(a, block):
        # runs in a worker thread: everything that is per row happens here, on disjoint rows, so that
        # only the (rows x signatures) extras travel back and the control scores are freed at once
        _check_block(block, a)
        with workspace(
            scratch.setdefault(threading.get_ident(), {})
        ):  # sc is reused by this thread's next chunk
            sc, ex = _call(info.fn, block, all_sets, call_params)
            b = a + sc.shape[0]
            scores[a:b] = sc[:, :n_sets]
            if pvalues:
                if pooled is not None:
                    pooled.add(a, sc)
                else:
                    counts[a:b] = count_exceed(sc, n_sets, n_controls)
            return {k: np.array(np.asarray(v)[:, :n_sets], dtype=np.float64) for k, v in ex.items()}

    def consume(a, b, ex):
        for k, v in ex.items():
            extras.setdefault(k, np.full((n_obs, n_sets), np.nan))[a:b] = v

    cs = (
        _auto_chunk(source, len(all_sets), n_jobs)
        if chunk_size is None
        else check_int("chunk_size", chunk_size, minimum=1)
    )
    if info.prepare is not None and n_sets:
        # cohort-level step (e.g. module_score's control genes from the gene means): then chunkable
        call_params.update(info.prepare(source.column_means(max(cs, 1000)), all_sets, params))
    if n_sets:
        if info.single_sample or info.prepare is not None:
            bar = tqdm(
                total=n_obs,
                unit="cell" if is_sc else "sample",
                desc=f"scoring ({method})",
                disable=not (sys.stderr.isatty() if progress is None else progress),
                leave=False,
            )
            with bar, ThreadPoolExecutor(max_workers=n_jobs) as pool:
                pending: deque = deque()
                for a, b in source.chunks(cs):
                    # read the next block while the workers score (at most n_jobs + 1 blocks in memory)
                    pending.append((a, b, pool.submit(work, a, source.rows(a, b))))
                    while len(pending) > n_jobs:
                        pa, pb, fut = pending.popleft()
                        consume(pa, pb, fut.result())
                        bar.update(pb - pa)
                while pending:
                    pa, pb, fut = pending.popleft()
                    consume(pa, pb, fut.result())
                    bar.update(pb - pa)
        else:
            if source.sparse and not info.sparse_aware:
                check_dense_size(n_obs, source.n_vars, method)  # before reading the data
            whole = source.whole()
            consume(0, n_obs, work(0, whole))
            del whole

    scratch.clear()
    if info.finalize is not None and n_sets:
        scores = info.finalize(scores, params)  # cohort-level step, once on the complete matrix
    cols = cov.index
    idx = source.obs_names
    pv = fdr = None
    if pvalues:
        if pooled is not None:
            counts, n_null = pooled.counts(n_jobs) if n_sets else (np.zeros((n_obs, 0), np.int64), 0)
        else:
            n_null = n_controls
        fdr = bh_fdr_counts(counts, n_null)
        pv = pvalues_from_counts(counts, n_null, inplace=True)  # over the counts: no extra copy
        del counts
    score_df, pv, fdr = (_frame(x, idx, cols, reported) for x in (scores, pv, fdr))
    extra_dfs = {k: _frame(v, idx, cols, reported) for k, v in extras.items()}
    result = ScoreResult(
        scores=score_df,
        pvalues=pv,
        fdr=fdr,
        coverage=cov,
        method=method,
        params=params,
        seed=seed,
        n_controls=n_controls,
        versions={"resistscore": resistscore.__version__, "signatures": sig_version},
        extras=extra_dfs,
        null=null if pvalues else "",
        _context=_Context(source, net, sets, gene_mean, gene_var, call_params),
    )
    if not is_adata:
        return result
    target = data.copy() if copy else data
    result.to_anndata(target)
    target.uns["resistscore"]["network"] = {c: net[c].tolist() for c in ("source", "target", "weight")}
    return (target if copy else None), result


def result_from_anndata(adata) -> ScoreResult:
    """Rebuild the :class:`ScoreResult` of an AnnData scored by :func:`score` (for contributions)."""
    uns = adata.uns.get("resistscore") if hasattr(adata, "uns") else None
    if not uns or "network" not in uns or OBSM_KEY not in adata.obsm:
        raise ResistScoreError("this AnnData has not been scored; run rs.tl.score(adata, ...) first.")
    net = pd.DataFrame({c: list(uns["network"][c]) for c in ("source", "target", "weight")})
    cov = pd.DataFrame({k: list(v) for k, v in uns["coverage"].items()}).set_index("signature")
    cov["reported"] = cov["reported"].astype(bool)
    layer = uns.get("layer") or None
    source = _source(adata, layer, None, None)
    info = get_method(uns["method"])
    params = dict(uns["params"])
    call_params = dict(params)
    if "var_names" in inspect.signature(info.fn).parameters:
        call_params["var_names"] = source.var_names
    sets = resolve_sets(net, source.var_names, cov.index[cov["reported"]].tolist())
    scores = pd.DataFrame(adata.obsm[OBSM_KEY], index=adata.obs_names)
    pv = adata.obsm.get("resistscore_pvalues")
    fdr = adata.obsm.get("resistscore_fdr")
    return ScoreResult(
        scores=scores,
        pvalues=None if pv is None else pd.DataFrame(pv, index=adata.obs_names),
        fdr=None if fdr is None else pd.DataFrame(fdr, index=adata.obs_names),
        coverage=cov,
        method=uns["method"],
        params=params,
        seed=int(uns["seed"]),
        n_controls=int(uns["n_controls"]),
        versions=dict(uns["versions"]),
        null=str(uns.get("null", "")),
        _context=_Context(source, net, sets, None, None, call_params),
    )
