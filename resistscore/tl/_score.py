"""The scoring engine :func:`resistscore.tl.score`."""

from __future__ import annotations

import ctypes
import functools
import inspect
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore import get, pp, sig
from resistscore._errors import (
    DeprecatedArgumentWarning,
    InputFormatError,
    OrientationError,
    ResistScoreError,
    ScaleWarning,
    SignatureError,
    UnscorableSampleWarning,
    warn,
)
from resistscore._kind import DataKind, decide
from resistscore._progress import progress_bar
from resistscore._runtime import run_interpreter
from resistscore._settings import default_n_jobs, logger
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int, check_real
from resistscore._version import __version__
from resistscore.tl._chunks import (
    UNSCORABLE_REASONS,
    ReadBuffers,
    RowSource,
    add_column_sums,
    combine_moments,
    finish_column_means,
    gene_stat_ranges,
    read_ahead,
    row_source,
    unscorable_rows,
)
from resistscore.tl._contrib import Context
from resistscore.tl._coverage import coverage_table, examples, resolve_sets, warn_low_coverage
from resistscore.tl._distributed import (
    Plan,
    check_client,
    cluster_threads,
    default_partition_size,
    map_blocks,
    partitions,
    remote_column_sums,
    remote_gene_stats,
    remote_kind,
    run_partitions,
    warm_workers,
)
from resistscore.tl._jit import warm_jit
from resistscore.tl._null import (
    FDR_FAMILIES,
    TAILS,
    PooledNull,
    empirical_pvalues,
    gene_bins,
    make_controls,
    make_null,
)
from resistscore.tl._onepass import score_block, stores_control_scores
from resistscore.tl._result import ScoreResult, check_result_dtype
from resistscore.tl._rows import block_kind, call_rows
from resistscore.tl._stream import file_rows
from resistscore.tl.methods import GeneSetIndex, check_dense_size, get_method
from resistscore.tl.methods._kernels import workspace

__all__ = ["as_network", "default_method", "score"]

DEFAULT_BULK_METHOD = "singscore"
DEFAULT_SC_METHOD = "ucell"
DEFAULT_N_CONTROLS_BULK = 1000
DEFAULT_N_CONTROLS_SC = 100


# ---------------------------------------------------------------------------------------------------
# signatures
# ---------------------------------------------------------------------------------------------------
def as_network(signatures) -> tuple[pd.DataFrame, pd.Series, str]:
    """Normalise signatures to a long table ``source, target, weight`` (signed weights).

    Every form goes through :func:`resistscore.sig.load`, the one entry point for signatures (one GMT
    reader, one parser of dicts and long tables).

    Parameters
    ----------
    signatures
        ``None`` (the shipped collection, ``rs.sig.load()``), a ``SignatureSet`` (anything with
        ``.to_network()``), shipped signature ids (a list or a comma-separated string), a long
        DataFrame (``source``, ``target``, optional signed ``weight`` and/or decoupler's ``mor``), a
        dict ``{name: [genes]}`` (a trailing ``-`` marks a down gene, as in UCell) or
        ``{name: {gene: weight}}``, or the path of a GMT file, a long table or a signature folder / YAML.

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
    if signatures is None:
        signatures = sig.load()
    elif not hasattr(signatures, "to_network"):
        signatures = sig.load(signatures)
    net = signatures.to_network()
    mc = getattr(signatures, "min_coverage", None)
    if isinstance(mc, pd.Series):
        min_cov = mc.astype(float)
    elif isinstance(mc, (int, float)):  # one Signature
        min_cov = pd.Series(float(mc), index=pd.unique(net["source"]))
    else:
        min_cov = pd.Series(dtype=float)
    version = str(getattr(signatures, "version", None) or "user")
    coll = getattr(signatures, "collection", None)
    if coll:
        version = f"{coll} {version}"
    net = net[["source", "target", "weight"]].reset_index(drop=True)
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
def data_kind(data, source: RowSource, client=None) -> DataKind:
    """Judge the data on a sample of rows by the one rule (:mod:`resistscore._kind`).

    Single cell or bulk, and the scale (:func:`resistscore.pp.detect_scale`); with a Dask ``client``
    the rows are read and judged on a worker.
    """
    zeros, scale, sparse = block_kind(source) if client is None else remote_kind(client, source)
    if is_anndata(data):
        ann = {"obs": data.obs, "uns": data.uns, "obsm": data.obsm}
    else:  # e.g. rs.tl.harmonized_rows of a file: its cells' annotations
        ann = getattr(source, "annotations", None)
    return decide(zeros, ann, scale, n_obs=source.n_obs, n_vars=source.n_vars, sparse=sparse)


def default_method(kind: DataKind) -> str:
    """Return the default method: UCell for single-cell data, singscore for bulk data.

    Single-cell data are recognised by the one rule of resistscore (:func:`resistscore.get.is_single_cell`:
    cell annotations, or at least 70 % zeros), never by storage or size alone. Both methods are rank-based and
    single-sample: a sample's score does not change with the cohort.
    """
    return DEFAULT_SC_METHOD if kind.single_cell else DEFAULT_BULK_METHOD


def _warn_scale(kind: DataKind, method: str) -> str:
    """Warn (:class:`ScaleWarning`) when the data's scale is not what ``method`` assumes; the plan's action."""
    if kind.scale is None or method not in pp.METHOD_SCALE_NEEDS:
        return "none"
    if kind.scale.kind == "zscore" and not _zscored_per_gene(kind.scale.evidence):
        return (
            "none"  # z-scored per sample: a monotone transform of each sample, within-sample ranks unchanged
        )
    plan = pp.scale_plan(kind.scale, method)
    if plan.action == "none":
        return plan.action
    fix = {
        "log": "log-transform first (rs.pp.ensure_log) or use a rank-based method (singscore, ucell)",
        "warn": "score data on their own scale (log expression or counts) to compare samples on their own",
        "refuse": "bring the data to log scale, or use a rank-based method (singscore, ucell)",
    }[plan.action]
    warn(f"the data look {kind.scale.kind} ({kind.scale.reason}); {plan.reason}. Fix: {fix}.", ScaleWarning)
    return plan.action


def _zscored_per_gene(evidence: dict) -> bool:
    """Whether the genes (not only the samples) are standardised: each gene then compares with the cohort."""
    mean, sd = evidence.get("median_abs_gene_mean", np.nan), evidence.get("median_gene_sd", np.nan)
    return bool(np.isfinite(mean) and np.isfinite(sd) and mean < 0.05 and abs(sd - 1) < 0.1)


def _log_plan(
    kind: DataKind, method: str, source: RowSource, n_sets: int, null: str, n_controls: int
) -> None:
    """Log what the engine decided, for ``rs.settings.verbosity >= 2``."""
    logger.info(
        "scoring %d %s x %d signatures with %s (%s data: %s); %s",
        source.n_obs,
        "cells" if kind.single_cell else "samples",
        n_sets,
        method,
        kind.kind.replace("_", "-"),
        kind.reason,
        f"p-values from {n_controls} control sets per signature ({null} null)" if null else "no p-values",
    )


# ---------------------------------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------------------------------
def _auto_chunk(source: RowSource, n_sets_total: int, n_jobs: int = 1) -> int:
    """Rows per chunk: ~64 MB of work per chunk, and at least 4 chunks per thread (load balance)."""
    if source.sparse:
        per_row = 24 * n_sets_total + 24 * source.nnz_per_row()
    else:
        per_row = 24 * n_sets_total + 16 * source.n_vars
    by_memory = int(64e6 // max(per_row, 1))
    by_threads = -(-source.n_obs // (4 * n_jobs))
    return int(np.clip(min(by_memory, by_threads), 16, 20_000))


def _frame(values, index, columns, reported) -> pd.DataFrame | None:
    """Return a samples x signatures DataFrame over ``values`` (the reported signatures; no copy when all are)."""
    if values is None:
        return None
    if len(reported) == len(columns):
        df = pd.DataFrame(values, index=index, columns=columns, copy=False)
    else:
        full = np.full((values.shape[0], len(columns)), np.nan, dtype=values.dtype)
        full[:, columns.get_indexer(reported)] = values
        df = pd.DataFrame(full, index=index, columns=columns, copy=False)
    df.index.name = "sample"
    df.columns.name = "signature"
    return df


def _check_method_params(info, method_params: dict, random_state: int | None = None) -> tuple[dict, set]:
    params = {**info.defaults, **method_params}
    accepted = inspect.signature(info.fn).parameters
    if random_state is not None and "random_state" in accepted:
        params["random_state"] = random_state  # one seed for the run (module_score's control genes)
    unknown = [
        k
        for k in method_params
        if k not in accepted or k.startswith("_") or k in ("X", "sets", "random_state")
    ]
    if unknown:
        allowed = [
            k
            for k in accepted
            if k not in ("X", "sets", "var_names", "n_jobs", "random_state") and not k.startswith("_")
        ]
        raise ResistScoreError(
            f"unknown argument(s) {unknown} for rs.tl.score with method {info.name!r}: the method's parameters are "
            f"{allowed}, and rs.tl.score's own are {list(_SCORE_ARGS)}."
        )
    return params, set(accepted)


def _dry_run(info, source: RowSource, sets: GeneSetIndex, call_params: dict, null: str | None = None) -> None:
    """Call the method once on three rows of made-up data: its parameters are checked before any work.

    The made-up rows have the layout (CSR or dense) and value dtype of the source's rows, and go
    through the call the run makes (``null``: the run's null model, None without p-values), so that
    the compiled kernels the run needs are the only ones compiled (a first run compiles each once):
    when the run takes the one-pass UCell of the pooled null, so does the check, with every
    signature as its own single control set.
    """
    if not len(sets):
        return
    n_vars = source.n_vars
    X = np.tile(np.linspace(1.0, 2.0, n_vars), (3, 1))
    X[1] = X[1][::-1]
    X[2, : n_vars // 2] = 0.0
    p = dict(call_params)
    if info.prepare is not None:
        p.update(info.prepare(X.mean(axis=0), sets, {k: v for k, v in p.items() if k in info.defaults}))
    if source.sparse:
        dtype = source.value_dtype()
        X = sp.csr_matrix(X.astype(dtype if dtype.kind == "f" else np.float64))
    code = np.zeros(X.shape[0], dtype=np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only errors matter here
        if null == "pooled" and not stores_control_scores(info.fn, null, source.sparse, p):
            n = len(sets)
            twice = GeneSetIndex(
                sets.names * 2,
                sets.up_idx * 2,
                sets.up_w * 2,
                sets.dn_idx * 2,
                sets.dn_w * 2,
                sets.n_genes,
                n,
            )
            score_block(info.fn, X, twice, p, code, n, PooledNull(X.shape[0], n, 1), 0)
        else:
            call_rows(info.fn, X, sets, p, code)


def _dry_run_rows(reader: RowSource, info, sets: GeneSetIndex, call_params: dict, null: str | None) -> None:
    """:func:`_dry_run` against the rows of ``reader`` (a Dask task: ``client=`` runs the check on a worker)."""
    _dry_run(info, reader, sets, call_params, null)


_SCORE_ARGS = (
    "data", "signatures", "method", "pvalues", "n_controls", "null", "tail", "fdr_family", "random_state",
    "chunk_size", "n_jobs", "layer", "use_raw", "key_added", "copy", "progress", "min_coverage", "genes", "samples",
    "client", "partition_size",
)  # fmt: skip


def score(
    data,
    signatures=None,
    method: str | None = None,
    *,
    pvalues: bool = True,
    n_controls: int | None = None,
    null: str | None = None,
    tail: str | None = "gpd",
    fdr_family: str = "signature",
    random_state: int = 0,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    key_added: str = get.DEFAULT_KEY,
    copy: bool = False,
    progress: bool | None = None,
    min_coverage: float | None = None,
    genes=None,
    samples=None,
    seed: int | None = None,
    client=None,
    partition_size: int | None = None,
    harmonize: bool | None = None,
    dtype="float64",
    **method_params,
):
    """Score samples (or cells) for gene signatures, with significance and coverage.

    Parameters
    ----------
    data
        An AnnData (in memory or backed; ``obs`` = samples/cells, ``var`` = genes), a samples x genes
        DataFrame, the path of an ``.h5ad`` file or AnnData ``.zarr`` store, or a list of them (shards;
        read in chunks, never whole; their gene identifiers harmonised by default, see ``harmonize``), or
        a matrix with ``genes=``.
    signatures
        Anything :func:`resistscore.sig.load` reads: ``None`` for the shipped collection, shipped
        signature ids (``["efflux_abc", "apoptosis"]`` or ``"efflux_abc,apoptosis"``), a
        ``SignatureSet``, a long table (``source``, ``target``, signed ``weight`` and/or decoupler's
        ``mor``), a dict ``{name: [genes]}`` (``"GENE-"`` = down gene) or ``{name: {gene: signed
        weight}}``, or the path of a GMT file (``<id>_UP`` / ``<id>_DN`` pairs are one directional
        signature; a set name used twice is an error), a long table or a signature folder.
    method
        A method of :func:`resistscore.tl.show_methods`. Default: ``"singscore"`` for bulk data and
        ``"ucell"`` for single-cell data: data whose observations carry cell annotations (QC
        metrics, clusters, an embedding, barcodes) or that are at least 70 % zeros, judged on a sample
        of rows (:func:`resistscore.get.is_single_cell`, ``docs/methods.md``; storage and size do not
        decide). Both are rank-based and single-sample, so a sample's score is the same whatever other
        samples are in the cohort, and both use up- and down-genes; singscore uses the whole ranking
        (bulk profiles rank all genes reliably), UCell only the top ``max_rank`` genes of each cell
        (robust to the drop-outs of single-cell data, and sparse-friendly).
    pvalues
        Compute empirical p-values against random gene sets matched on expression level and
        variance, and their Benjamini-Hochberg FDR (see ``fdr_family``).
    n_controls
        Control sets per signature (default 1000 for bulk, 100 for single-cell data).
    null
        ``None`` (default): ``"pooled"``, for bulk and single-cell data alike (calibrated on null data
        down to p = 1e-4 for both; see docs/methods.md, "Significance").
        ``"pooled"`` (scDRS-like): scores standardised by their own controls' mean and SD, compared
        with the standardised control scores of (every k-th of) all samples, each standardised by the
        other controls of its sample; up to 250,000 values per signature (``_null.MAX_POOL``), so
        p-values reach ~4e-6 before the tail.
        ``"per_sample"``: ``p = (1 + #{control scores >= score}) / (1 + n_controls)`` in each sample,
        depending on that sample only (at least ``1 / (1 + n_controls)`` without a tail; the tail needs
        at least 120 controls).
    tail
        ``"gpd"`` (default): a score above every value of its null (the sample's own controls, or
        the pool) gets a generalised Pareto tail estimate (Knijnenburg et al. 2009) fitted to the
        largest null values, when a goodness-of-fit test accepts the fit, instead of the floor
        ``1 / (1 + null size)``; within the null's range the exact empirical p-value is kept.
        ``None``: the empirical p-values only. Deterministic (no random numbers).
    fdr_family
        The family of tests of the Benjamini-Hochberg FDR: ``"signature"`` (default): each signature
        across the samples (cells), so a signature's FDR does not change with the other signatures
        scored (as scDRS, per trait); ``"all"``: all samples x signatures.
    random_state
        Seed of the control sets (and of a method's own draws: module_score's control genes), as
        scanpy names it. A run is reproducible from it; it is recorded as ``result.seed``.
    chunk_size
        Rows per chunk (default: chosen from the memory per row). Results do not depend on it.
    n_jobs
        Threads (default: ``rs.settings.n_jobs``, else the available cores). Results do not depend on it.
    layer
        AnnData layer to score instead of ``X``, as scanpy's ``layer=``.
    use_raw
        Score ``adata.raw`` (its ``X`` and ``var_names``) instead of ``X``, as scanpy's ``use_raw=True``;
        cannot be combined with ``layer``.
    key_added
        For AnnData: where the run goes, ``obsm["<key_added>_scores"]`` (``_pvalues``, ``_fdr``) and
        ``uns["<key_added>"]`` (see :mod:`resistscore.get`). Runs under different keys coexist; a
        run under the same key replaces the earlier one.
    copy
        For AnnData: write into a copy and return it instead of writing into ``data``.
    progress
        Show a progress bar over chunks; ``None`` (default): ``rs.settings.progress`` (automatic: on a
        terminal or in Jupyter, once scoring takes more than a second).
    min_coverage
        Override every signature's minimal share of measured weight (default: the signature's own,
        0.5 for user signatures). Below it the score is NaN and a ``LowCoverageWarning`` is emitted.
    genes, samples
        Column and row names of a bare matrix.
    seed
        Deprecated alias of ``random_state`` (a :class:`~resistscore.DeprecatedArgumentWarning`).
    client
        A ``dask.distributed.Client``: the rows are scored on its workers, in partitions of
        ``partition_size`` rows; each worker reads its rows from the file (a path, shards, a backed
        AnnData or a dask ``X``), and only the per-partition results come back. Scores, p-values
        (also the pooled null, which needs every cell: its pool is gathered, not the matrix) and FDR
        equal the in-process engine's bit for bit, whatever the number of workers and partitions
        (see ``docs/distributed.md``). ``None`` (default): the in-process engine.
    partition_size
        Rows per Dask task with ``client`` (default: about four partitions per thread of the cluster,
        in whole chunks, at most 256 MiB of results each). Results do not depend on it.
    harmonize
        For a file path (or shards): map the gene identifiers to HGNC symbols (Ensembl ids, Entrez ids,
        aliases and previous symbols; duplicates averaged within each cell; identifiers that map to
        nothing kept under their own name) on the names alone, before scoring
        (:func:`resistscore.tl.harmonized_rows`), exactly as ``resistscore score FILE`` does, so that the
        API and the CLI give the same scores on the same file. ``None`` (default): harmonise a path;
        score an AnnData, DataFrame or matrix under its gene names as given (harmonise those with
        :func:`resistscore.pp.harmonize_genes`). ``False``: score a file under its own gene names
        (e.g. signatures of your own identifiers). ``True`` applies to a path only.
    dtype
        ``"float64"`` (default) or ``"float32"``: the type of the scores, p-values and FDR kept in the
        result. Every value is computed in double precision and only stored in single precision, so a
        float32 result equals the float64 one rounded to float32; it halves the memory of the results
        (of the client with ``client=``) for runs of millions of cells.
    **method_params
        Parameters of the method (e.g. ``max_rank`` for UCell, ``stable_genes`` for singscore).

    Returns
    -------
    AnnData or None or ScoreResult
        As scanpy: for an AnnData, ``None`` (the run is written into ``data``) or, with ``copy=True``,
        the scored copy; the whole result is ``rs.get.result(adata, key_added)``, the scores
        ``rs.get.scores(adata, key_added)``. For a DataFrame, a matrix or an ``.h5ad`` path: a
        :class:`ScoreResult`. Its tables are indexed by the sample names: an AnnData's or a DataFrame's own
        index, and for a path (``.h5ad``, ``.zarr``, shards) the names read from the file in pandas' ``str``
        dtype (Arrow-backed, the default for strings from pandas 3; a million names take ~20 MiB instead of
        ~65 MiB as Python ``str`` objects).

    Notes
    -----
    Every argument (including the method's parameters) is checked before any data are read.
    A sample (or cell) with no information - all values NaN, all zero, or one value for every gene -
    cannot be scored: its scores, p-values and FDR are NaN (it is left out of the FDR family), the
    reason is in ``result.unscored``, and an :class:`~resistscore.UnscorableSampleWarning` is emitted.
    Data whose scale does not suit the method (e.g. z-scores for a rank-based method, counts for
    ``wmean``) give a :class:`~resistscore.ScaleWarning`.

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
    if "return_result" in method_params:
        raise ResistScoreError(
            "rs.tl.score no longer takes `return_result`: as in scanpy, an AnnData is scored in place (or into the "
            "copy returned with copy=True); get the whole result with rs.get.result(adata) (see the CHANGELOG)."
        )
    random_state = _random_state(random_state, seed)
    result_dtype = check_result_dtype(dtype)
    opts = _options(
        data,
        pvalues,
        n_controls,
        null,
        random_state,
        chunk_size,
        n_jobs,
        copy,
        min_coverage,
        progress,
        use_raw,
        tail,
        fdr_family,
        client,
        partition_size,
    )
    key_added = _check_key(key_added, data)
    if method is not None:
        _check_method_params(get_method(method), method_params)
    opts.layer, opts.key_added, opts.use_raw = layer, key_added, use_raw
    opts.dtype = result_dtype
    # numba's set-up (~0.3-0.5 s of CPU on a process's first kernel) in a thread of its own, while this one
    # reads and harmonises the gene names (with client=, before this process counts the p-values)
    warm_jit()
    # a short GIL switch interval and the cyclic GC paused while the call runs (rs.settings.tune_interpreter)
    with run_interpreter():
        net, min_cov, sig_version = as_network(signatures)
        data = file_rows(data, harmonize, layer, use_raw)  # a path: its genes harmonised, as the CLI
        source = row_source(data, layer, genes, samples, use_raw)
        try:
            out = _score(
                data, is_anndata(data), source, (net, min_cov, sig_version), method, method_params, opts
            )
            return out[0] if is_anndata(data) else out
        finally:
            source.close()  # on-disk sources reopen on demand (e.g. for contributions)


def _random_state(random_state, seed) -> int:
    """``random_state``, or the deprecated ``seed`` (with a warning); an int >= 0."""
    if seed is not None:
        if random_state not in (0, seed):
            raise ResistScoreError(
                f"`seed` ({seed!r}) and `random_state` ({random_state!r}) were both given; pass random_state only "
                "(seed is its deprecated name)."
            )
        warn(
            "rs.tl.score(seed=...) is deprecated and will be removed; pass random_state=... (scanpy's name).",
            DeprecatedArgumentWarning,
        )
        random_state = seed
    if isinstance(random_state, np.random.Generator | np.random.RandomState):
        raise ResistScoreError(
            "`random_state` must be an integer seed (it is recorded so that the run can be repeated); "
            f"got a {type(random_state).__name__}."
        )
    return check_int("random_state", random_state, minimum=0)


def _check_key(key_added, data) -> str:
    if not isinstance(key_added, str) or not key_added or "/" in key_added:
        raise ResistScoreError(
            f"`key_added` must be a non-empty name without '/' (the run is stored under obsm['<key_added>_scores'] "
            f"and uns['<key_added>']); got {key_added!r}."
        )
    if not is_anndata(data) and key_added != get.DEFAULT_KEY:
        raise ResistScoreError(
            f"`key_added` applies to an AnnData only; got a {type(data).__name__}, which is scored into a "
            "ScoreResult. Drop `key_added`."
        )
    return key_added


def _options(
    data,
    pvalues,
    n_controls,
    null,
    random_state,
    chunk_size,
    n_jobs,
    copy,
    min_coverage,
    progress,
    use_raw,
    tail,
    fdr_family,
    client=None,
    partition_size=None,
):
    """Check the engine's arguments (before any data are read) and group them."""
    for name, value in (("pvalues", pvalues), ("copy", copy), ("use_raw", use_raw)):
        _check_bool(name, value)
    if progress is not None:
        _check_bool("progress", progress)
    if null is not None:
        check_choice("null", null, ("per_sample", "pooled"))
    check_choice("tail", tail, TAILS)
    check_choice("fdr_family", fdr_family, FDR_FAMILIES)
    if min_coverage is not None:
        min_coverage = check_real("min_coverage", min_coverage, minimum=0.0, maximum=1.0)
    if n_controls is not None and pvalues:
        n_controls = check_int("n_controls", n_controls, minimum=1)
    if n_jobs is not None:
        n_jobs = check_int("n_jobs", n_jobs, minimum=1)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    if partition_size is not None:
        partition_size = check_int("partition_size", partition_size, minimum=1)
    if client is not None:
        client = check_client(client)
        warm_workers(client)  # the workers import resistscore while this process harmonises and plans
    if copy and not is_anndata(data):
        raise ResistScoreError(
            f"`copy` applies to an AnnData only; a {type(data).__name__} is never modified (it is scored into a "
            "ScoreResult). Drop `copy`."
        )
    if copy and data.isbacked:
        raise ResistScoreError(
            "copy=True cannot copy a backed AnnData without loading it; score it in place (copy=False: results go "
            "to its in-memory .obsm/.uns), or pass the .h5ad path to get a ScoreResult."
        )
    return _Options(
        pvalues,
        n_controls,
        null,
        random_state,
        chunk_size,
        n_jobs,
        copy,
        min_coverage,
        progress,
        tail,
        fdr_family,
        client=client,
        partition_size=partition_size,
    )


def _check_bool(name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ResistScoreError(f"`{name}` must be True or False; got {value!r}.")


@dataclass
class _Options:
    pvalues: bool
    n_controls: int | None
    null: str | None
    seed: int
    chunk_size: int | None
    n_jobs: int | None
    copy: bool
    min_coverage: float | None
    progress: bool | None
    tail: str | None = "gpd"
    fdr_family: str = "signature"
    layer: str | None = None
    key_added: str = get.DEFAULT_KEY
    use_raw: bool = False
    client: object = None
    partition_size: int | None = None
    dtype: np.dtype = np.dtype(np.float64)


def _check_names(source: RowSource) -> None:
    for names, what, fix in (
        (source.var_names, "gene", "make them unique (adata.var_names_make_unique()) or aggregate duplicates "
         "with rs.pp.harmonize_genes"),
        (source.obs_names, "sample", "make them unique (adata.obs_names_make_unique(), or rename the samples)"),
    ):  # fmt: skip
        if not _unique(names):
            dup = names[names.duplicated()][:3].tolist()
            raise InputFormatError(f"{what} names are not unique (e.g. {dup}); {fix}.")


def _unique(names: pd.Index) -> bool:
    """Whether ``names`` are unique, without leaving a hash table of them on the Index.

    ``Index.is_unique`` builds the Index's lookup table and keeps it as long as the Index lives (in the
    result's tables): 28 MiB at a million cell names, which the run never looks up. The table made
    here is freed on return; a user who looks a name up builds it then. Names of pandas' Arrow-backed ``str``
    dtype (a file's, :func:`~resistscore.tl._chunks.compact_names`) are counted by pyarrow in the C heap: its
    default pool (mimalloc) kept the ~40 MiB of the table of a million names to the end of the run.
    """
    if len(names) < 2:
        return True
    if isinstance(names.dtype, pd.StringDtype) and names.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        distinct = pc.unique(pa.array(names.array), memory_pool=pa.system_memory_pool())
        return len(distinct) == len(names)
    return len(pd.unique(names.to_numpy())) == len(names)


def _score(data, is_adata, source, signatures, method, method_params, opts: _Options):
    """Score ``source`` in named steps: plan, control sets, rows, cohort steps, result."""
    plan = _plan(data, source, signatures, method, method_params, opts)
    # one pool of threads for the gene statistics and the rows (their C heaps serve both)
    with ThreadPoolExecutor(max_workers=plan.n_jobs) as pool:
        gene_mean, gene_var, all_sets = _control_sets(source, plan, opts, pool)
        run = _Arrays.empty(source.n_obs, len(plan.sets), plan, opts)
        _score_rows(source, plan, all_sets, run, opts, pool)
    scores = run.scores
    if plan.info.finalize is not None and len(plan.sets):
        scores = plan.info.finalize(scores, plan.params)  # cohort-level step, once on the complete matrix
    scores = scores.astype(opts.dtype, copy=False)
    _method_nan(scores, run.codes, plan.cov, plan.reported, plan.info)
    null = pv = fdr = None
    if run.null_model is not None:
        null, run.null_model = run.null_model.finish(plan.n_jobs), None  # the pool is freed
    release_freed_memory()  # what the pass over the rows freed goes back to the system before the FDR
    if null is not None:
        # unscorable rows (count -1) are not in the FDR family; p-values are written over the counts
        pv, fdr = empirical_pvalues(null, opts.fdr_family, plan.n_jobs, opts.dtype)
        del null  # its counts' buffer now holds the p-values
    context = Context(
        source, plan.net, plan.sets, gene_mean, gene_var, plan.call_params, opts.layer, opts.use_raw
    )
    result = _result(source, plan, opts, scores, pv, fdr, run, context)
    if not is_adata:
        return result
    target = data.copy() if opts.copy else data
    result.to_anndata(target, opts.key_added, copy=False)  # the result is not returned: no copy of its tables
    return (target if opts.copy else None), result


@dataclass
class _Plan:
    """What a run scores and how: the outcome of the checks before any row is read."""

    net: pd.DataFrame
    sig_version: str
    cov: pd.DataFrame
    reported: list
    kind: DataKind
    method: str
    info: object
    params: dict
    call_params: dict
    sets: GeneSetIndex
    null: str
    n_controls: int
    n_jobs: int

    @property
    def is_sc(self) -> bool:
        return self.kind.single_cell


def _plan(data, source, signatures, method, method_params, opts: _Options) -> _Plan:
    """Check the data, signatures and method; resolve the sets; nothing of the matrix is read but a probe."""
    _check_names(source)
    net, min_cov, sig_version = signatures
    targets = pd.Index(net["target"].unique())
    n_in_cols = int(targets.isin(source.var_names).sum())
    if n_in_cols == 0 and int(targets.isin(source.obs_names).sum()) > 0:
        raise OrientationError(
            "no signature gene is among the columns but some are among the rows: the data look genes x samples; "
            "pass the transpose (df.T, or adata.T) so that rows are samples and columns are genes."
        )
    if opts.min_coverage is not None:
        min_cov = pd.Series(opts.min_coverage, index=pd.unique(net["source"]))
    cov = coverage_table(net, source.var_names, min_cov)
    reported = cov.index[cov["reported"]].tolist()

    kind = data_kind(data, source, opts.client)
    method = default_method(kind) if method is None else method
    info = get_method(method)
    params, accepted = _check_method_params(info, method_params, opts.seed)
    call_params = dict(params)
    if "var_names" in accepted:
        call_params["var_names"] = source.var_names
    null = opts.null or "pooled"
    n_controls = opts.n_controls or (DEFAULT_N_CONTROLS_SC if kind.single_cell else DEFAULT_N_CONTROLS_BULK)
    n_controls = n_controls if opts.pvalues else 0
    n_jobs = opts.n_jobs or default_n_jobs()
    if "n_jobs" in accepted and "n_jobs" not in method_params:
        call_params["n_jobs"] = n_jobs  # methods with their own thread pool (gsva) get the engine's threads
    sets = resolve_sets(net, source.var_names, reported)
    dry = (info, sets, call_params, null if opts.pvalues else None)
    if opts.client is None:
        _dry_run(info, source, *dry[1:])  # the method's checks, before any work
    else:  # on a worker, which loads the compiled kernels anyway: the client never scores a row
        map_blocks(opts.client, source, _dry_run_rows, [dry], "method check")
    warn_low_coverage(cov)
    _warn_scale(kind, method)
    _log_plan(kind, method, source, len(sets), null if opts.pvalues else "", n_controls)
    return _Plan(
        net,
        sig_version,
        cov,
        reported,
        kind,
        method,
        info,
        params,
        call_params,
        sets,
        null,
        n_controls,
        n_jobs,
    )


def _control_sets(source: RowSource, plan: _Plan, opts: _Options, pool: ThreadPoolExecutor):
    """Return ``(gene_mean, gene_var, sets)``: the signatures followed by their matched control sets.

    Without p-values there are no control sets and no gene statistics (``None``). The gene statistics'
    blocks are read in this thread and summed in ``pool``'s.
    """
    sets = plan.sets
    if not opts.pvalues:
        return (
            None,
            None,
            GeneSetIndex(sets.names, sets.up_idx, sets.up_w, sets.dn_idx, sets.dn_w, sets.n_genes, len(sets)),
        )
    if opts.client is None:
        # read here, as the rows are: read in the pool's threads, the blocks' buffers stayed in those threads'
        # malloc arenas and the run's peak memory grew by ~50 MB (100k cells)
        gene_mean, gene_var, _ = source.gene_stats(pool=pool, ahead=plan.n_jobs)
    else:  # the same blocks, read on the workers, added in the same order
        ranges = gene_stat_ranges(source.n_obs)
        gene_mean, gene_var, _ = combine_moments(
            remote_gene_stats(opts.client, source, ranges), source.n_vars
        )
    if len(sets):
        sets = make_controls(sets, gene_bins(gene_mean, gene_var), plan.n_controls, opts.seed)
    return gene_mean, gene_var, sets


@dataclass
class _Arrays:
    """The outputs filled row block by row block: scores, unscorable codes, extras, the null."""

    scores: np.ndarray
    codes: np.ndarray
    extras: dict
    null_model: object

    @classmethod
    def empty(cls, n_obs: int, n_sets: int, plan: _Plan, opts: _Options) -> _Arrays:
        null_model = make_null(plan.null, n_obs, n_sets, plan.n_controls, opts.tail) if opts.pvalues else None
        # the results' type (float32 on request); a cohort-level finalize step works in float64
        dtype = np.float64 if plan.info.finalize else opts.dtype
        # every row's scores are written by the pass over the rows (NaN for unscorable rows): not filled here,
        # the pages are touched first by the threads that score them
        return cls(np.empty((n_obs, n_sets), dtype=dtype), np.zeros(n_obs, dtype=np.int8), {}, null_model)

    def consume(self, a: int, b: int, ex: dict) -> None:
        """Write the extras of rows ``a:b``."""
        n_obs, n_sets = self.scores.shape
        for k, v in ex.items():
            self.extras.setdefault(k, np.full((n_obs, n_sets), np.nan))[a:b] = v

    def put_part(self, res: dict) -> None:
        """Write one Dask partition's results."""
        a, b = res["a"], res["b"]
        self.scores[a:b] = res["scores"]
        self.codes[a:b] = res["codes"]
        self.consume(a, b, res["extras"])
        if "z" in res:
            self.null_model.put(a, res["z"], res["pool"])
        elif "counts" in res:
            self.null_model.put(a, res["counts"], res["tail"])


def _score_rows(
    source: RowSource,
    plan: _Plan,
    all_sets: GeneSetIndex,
    run: _Arrays,
    opts: _Options,
    pool: ThreadPoolExecutor,
) -> None:
    """Score every row (in chunks in ``pool``'s threads, on Dask workers, or whole for a cohort-level method)."""
    info, call_params, n_jobs = plan.info, plan.call_params, plan.n_jobs
    n_sets, n_obs = len(plan.sets), source.n_obs
    scratch: dict[int, dict] = {}  # per worker thread: the kernels' output arrays, reused chunk after chunk

    def work(block, a):
        # runs in a worker thread: everything that is per row happens here, on disjoint rows, so that
        # only the (rows x signatures) extras travel back and the control scores are freed at once
        code = unscorable_rows(block, a)
        run.codes[a : a + block.shape[0]] = code
        with workspace(
            scratch.setdefault(threading.get_ident(), {})
        ):  # the kernels' outputs are reused by this thread's next chunk
            # scores of the signatures; the null model takes the control sets' (counts and tail p-values,
            # or standardised scores of these rows)
            sc, ex = score_block(info.fn, block, all_sets, call_params, code, n_sets, run.null_model, a)
            run.scores[a : a + sc.shape[0]] = sc
            return {k: np.array(v, dtype=np.float64) for k, v in ex.items()}

    # the rows x sets scores held per chunk: of the signatures only when the controls never reach memory
    held = (
        len(all_sets)
        if stores_control_scores(info.fn, plan.null if opts.pvalues else None, source.sparse, call_params)
        else n_sets
    )
    cs = _auto_chunk(source, held, n_jobs) if opts.chunk_size is None else opts.chunk_size
    if info.prepare is not None and n_sets:
        # cohort-level step (e.g. module_score's control genes from the gene means): then chunkable
        if opts.client is None:
            means = source.column_means(max(cs, 1000))
        else:  # the same blocks as in-process, their sums added in the same order
            means = _remote_means(opts.client, source, max(cs, 1000))
        call_params.update(info.prepare(means, all_sets, plan.params))
    if opts.client is not None:
        _score_on_client(source, plan, all_sets, run, opts, cs)
    elif n_sets:
        if info.single_sample or info.prepare is not None:
            unit = "cell" if plan.is_sc else "sample"
            bar = progress_bar(n_obs, f"scoring ({plan.method})", unit, opts.progress)
            ranges = list(source.chunks(cs))
            with bar:
                # the next block is read while the threads score (at most n_jobs + 1 blocks in memory), into
                # the buffers of a block scored (work keeps no reference to its block: it writes the scores,
                # codes and null, and returns copies of the extras)
                blocks = read_ahead(pool, ranges, source.rows_into, work, n_jobs, ReadBuffers())
                for (a, b), ex in zip(ranges, blocks):
                    run.consume(a, b, ex)
                    bar.update(b - a)
        else:
            if source.sparse and not info.sparse_aware:
                check_dense_size(n_obs, source.n_vars, plan.method)  # before reading the data
            whole = source.whole()
            run.consume(0, n_obs, work(whole, 0))
            del whole
    else:
        for a, b in source.chunks(max(cs, 1000)):  # nothing to score: still find the unscorable samples
            run.codes[a:b] = unscorable_rows(source.rows(a, b), a)
    scratch.clear()


def _score_on_client(
    source, plan: _Plan, all_sets: GeneSetIndex, run: _Arrays, opts: _Options, cs: int
) -> None:
    """Score the rows in partitions on the workers of a Dask client; the results come back in order."""
    info, client = plan.info, opts.client
    n_sets = len(plan.sets)
    if n_sets and not (info.single_sample or info.prepare is not None):
        raise ResistScoreError(
            f"method {plan.method!r} scores the whole cohort at once and cannot be split over Dask workers; "
            "score without client=, or choose a single-sample method (rs.tl.show_methods())."
        )
    work_plan = Plan(
        info.fn,
        all_sets,
        plan.call_params,
        n_sets,
        plan.n_controls,
        plan.null if opts.pvalues else None,
        opts.tail,
        source.n_obs,
        cs,
        getattr(run.null_model, "max_pool", None),
        run.scores.dtype,
    )
    size = opts.partition_size or default_partition_size(source.n_obs, cluster_threads(client), cs, n_sets)
    run_partitions(client, source, work_plan, partitions(source.n_obs, size), run.put_part)


def _result(source, plan: _Plan, opts: _Options, scores, pv, fdr, run: _Arrays, context) -> ScoreResult:
    """Assemble the :class:`ScoreResult` (data frames named by samples and signatures) and warn of unscored rows."""
    cols, idx = plan.cov.index, source.obs_names
    score_df, pv, fdr = (_frame(x, idx, cols, plan.reported) for x in (scores, pv, fdr))
    extra_dfs = {k: _frame(v, idx, cols, plan.reported) for k, v in run.extras.items()}
    unscored = unscored_table(idx, run.codes)
    warn_unscored(unscored, source.n_obs, "cell" if plan.is_sc else "sample")
    pvalues = opts.pvalues
    return ScoreResult(
        scores=score_df,
        pvalues=pv,
        fdr=fdr,
        coverage=plan.cov,
        method=plan.method,
        params=plan.params,
        seed=opts.seed,
        n_controls=plan.n_controls,
        versions={"resistscore": __version__, "signatures": plan.sig_version},
        extras=extra_dfs,
        null=plan.null if pvalues else "",
        tail=(opts.tail or "") if pvalues else "",
        fdr_family=opts.fdr_family if pvalues else "",
        unscored=unscored,
        data_kind=plan.kind.kind,
        _context=context,
    )


def _remote_means(client, source: RowSource, block: int) -> np.ndarray:
    """:meth:`RowSource.column_means` with the blocks read on the workers (same blocks, same order of sums)."""
    total = None
    for part in remote_column_sums(client, source, list(source.chunks(block))):
        total = add_column_sums(total, part)
    return finish_column_means(total, source.n_vars)


#: rows per block of :func:`_method_nan`
_NAN_BLOCK = 8192


def _method_nan(scores: np.ndarray, codes: np.ndarray, cov: pd.DataFrame, reported: list, info) -> None:
    """Mark as not scored, with the method's reason, a signature the method scored in no scorable sample.

    E.g. GSVA when none of its genes varies; its column stays NaN.
    """
    ok = codes == 0
    if not ok.any() or not len(reported):
        return
    dead = np.ones(scores.shape[1], dtype=bool)
    nan = np.empty((min(_NAN_BLOCK, len(ok)), scores.shape[1]), dtype=bool)
    for a in range(0, len(ok), _NAN_BLOCK):  # in blocks of rows, into one small buffer: no copy of the scores
        part = nan[: min(_NAN_BLOCK, len(ok) - a)]
        np.isnan(scores[a : a + len(part)], out=part)
        part[~ok[a : a + len(part)]] = True  # unscorable rows do not keep a signature alive
        dead &= part.all(axis=0)
        if not dead.any():
            return
    for j in np.flatnonzero(dead):
        sig = reported[j]
        cov.loc[sig, "reported"] = False
        cov.loc[sig, "reason"] = f"{info.name} gives no score: {info.nan_reason or 'undefined on these data'}"


def release_freed_memory() -> None:
    """Return the C heap's free memory to the system (glibc's ``malloc_trim``; a no-op elsewhere).

    The blocks of rows are read and scored in threads; what they free stays in the C heaps of those
    threads (glibc keeps freed memory below its dynamic mmap threshold, up to 32 MiB a block, for reuse)
    and counts in the peak of the process: 50 MiB after a million cells. Called once after the pass.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)  # absent with musl
    except OSError:  # pragma: no cover - no C library to load
        return None


def unscored_table(obs_names: pd.Index, codes: np.ndarray) -> pd.DataFrame:
    """One row per sample that could not be scored: ``reason`` (index ``sample``)."""
    bad = np.flatnonzero(codes)
    out = pd.DataFrame(
        {"reason": [UNSCORABLE_REASONS[int(c)] for c in codes[bad]]},
        index=pd.Index(obs_names[bad], name="sample"),
    )
    return out


def warn_unscored(unscored: pd.DataFrame, n_obs: int, unit: str) -> None:
    """One :class:`UnscorableSampleWarning` naming the samples that got NaN and why."""
    if not len(unscored):
        return
    warn(
        f"{len(unscored)} of {n_obs} {unit}s cannot be scored and get NaN scores, p-values and FDR: "
        f"{examples(unscored['reason'])}. "
        "Check them (rs.pp.qc) and drop or re-measure them; see result.unscored.",
        UnscorableSampleWarning,
    )
