"""Compile resistscore's numba kernels once, into numba's on-disk cache: ``rs.precompile()`` / ``resistscore compile``.

Every kernel is decorated with ``cache=True``: numba compiles it on the first call with a new type signature
and writes the machine code to its cache, from which every later process loads it (~0.4 s instead of ~8 s of
CPU for the default single-cell run). :func:`precompile` fills that cache at install time, as pip byte-compiles
the ``.py`` files, so that the first real run is as fast as the next ones. It does not list signatures by hand
(such a list would drift from the code): it calls the public API on small synthetic data written to a
temporary folder - the same calls, data layouts and value types as real runs - so exactly the type
signatures of real runs are compiled. What it covers, and that a fresh process running each of these entry
points then compiles nothing, is held by ``tests/test_precompile.py``.
"""

from __future__ import annotations

import glob
import inspect
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from resistscore._errors import ResistScoreError, ResistScoreWarning, warn

__all__ = ["precompile"]

#: cells and genes of the synthetic single-cell data (the kernels' types do not depend on the sizes; small
#: data take the same code paths as large ones: see _cases)
N_CELLS = 400
N_GENES = 2000
#: samples of the synthetic bulk table
N_SAMPLES = 24
#: control sets per signature in the cases of ``methods`` (the default entry points use the defaults)
N_CONTROLS_METHODS = 50

_FIX = (
    "set NUMBA_CACHE_DIR to a writable folder (export NUMBA_CACHE_DIR=$HOME/.cache/numba, in the environment of "
    "every process that runs resistscore) and run `resistscore compile` again"
)


@dataclass
class _Case:
    name: str
    description: str
    run: Callable[[Path], None]


@dataclass
class _Compiles:
    """A ``numba:compile`` listener: what each case compiled (every function; the top-level ones; their CPU)."""

    events: int = 0
    kernels: list = field(default_factory=list)
    cpu: float = 0.0
    _local: threading.local = field(default_factory=threading.local)

    def listener(self):
        from numba.core import event

        outer = self

        class Listener(event.Listener):
            def on_start(self, ev):
                outer._local.__dict__.setdefault("stack", []).append(time.thread_time())

            def on_end(self, ev):
                t0 = outer._local.stack.pop()
                outer.events += 1
                # a top-level kernel: one cache entry (the functions compiled inside it are in it)
                if not outer._local.stack:
                    outer.kernels.append(ev.data["dispatcher"])
                    outer.cpu += time.thread_time() - t0

        return Listener()


def precompile(methods=None, *, verbose: bool = False):
    """Compile resistscore's numba kernels into numba's on-disk cache, so that the first run is not slower.

    numba compiles each kernel on its first call with a new type signature (~8 s of CPU for the default
    single-cell run) and caches the result on disk, from which every later process loads it. Run this once
    after installing resistscore (``resistscore compile`` does the same; ``bash run.sh`` runs it when it
    installs), as pip byte-compiles the Python files: the first real run is then as fast as the next ones.
    Without it nothing is wrong, the first call just compiles.

    It scores small synthetic data (written to a temporary folder, removed afterwards) through the public
    API, so exactly the type signatures of real runs are compiled:

    * ``h5ad_csr_float32``: ``rs.tl.score("cells.h5ad")`` of a CSR float32 file, the default single-cell run
      (UCell, the pooled null, p-values and FDR), read in chunks;
    * ``h5ad_csr_float64``: the same with float64 values;
    * ``h5ad_csr_float32_no_pvalues``: the same without p-values (scores only);
    * ``h5ad_csr_float32_results``: the same with the results kept in float32 (``dtype="float32"``,
      ``--float32``);
    * ``anndata_csr_float32``: ``rs.tl.score(adata)`` of an AnnData in memory;
    * ``dataframe_dense_float64``: a bulk samples x genes DataFrame (singscore, p-values and FDR);
    * ``null_per_sample``: ``null="per_sample"`` (each sample's own control sets) on the AnnData and the
      DataFrame;
    * ``cli_score_h5ad_float32``, ``cli_score_h5ad_float64``: ``resistscore score cells.h5ad --out
      scores.csv`` (which also takes the quality control in the pass that scores the rows).

    It also writes the cache of the HGNC lookups of gene harmonisation (built from the shipped gene tables,
    ~0.2 s of CPU in every process that harmonises gene names; loaded from the cache in a fraction of it):
    the folder ``RESISTSCORE_CACHE_DIR`` names, else a ``__pycache__`` folder beside the gene tables if that
    is writable, else the user's cache folder (``~/.cache/resistscore``). A run that finds no valid cache
    writes it too; a stale or damaged one is ignored.

    Nothing is written outside the temporary folder but these caches; numba's: by default a ``__pycache__`` folder
    beside resistscore's sources if that is writable, else the user's cache folder (``~/.cache/numba``), or
    the folder ``NUMBA_CACHE_DIR`` names. The cache is specific to the CPU and to the versions of Python,
    numba and resistscore: run it where resistscore runs (e.g. in the image of the upload service's workers),
    again after an upgrade, and with the same ``NUMBA_CACHE_DIR`` as the runs. Never run two at once on the
    same cache.

    Parameters
    ----------
    methods
        Also compile these scoring methods (:func:`resistscore.tl.show_methods`), each on sparse (CSR float32
        AnnData) and dense (float64 DataFrame) data with p-values (``"all"``: about twice as long): ``"all"``, a list of
        method names, or a comma-separated string of them. ``None`` (default): the default methods only, on the entry points
        above.
    verbose
        Print a line for each case when it is done.

    Returns
    -------
    pandas.DataFrame
        One row per case: ``case``, ``description``, ``seconds`` (wall), ``cpu_seconds`` (CPU of the
        process, all threads), ``functions_compiled`` (numba's compile events: the kernels and the functions
        compiled inside them), ``kernels_compiled`` (the top-level kernels, each one cache entry) and
        ``compile_cpu_seconds`` (CPU time of those compiles). A second call compiles nothing (everything is
        loaded from the cache). ``attrs["cache_dirs"]``: the folders of numba's cache that hold the kernels;
        ``attrs["gene_lookup_cache"]``: the file of the HGNC lookups' cache (``None`` if none could be written).

    Raises
    ------
    ResistScoreError
        When numba cannot write its cache (a read-only installation and no writable cache folder): the
        message names ``NUMBA_CACHE_DIR`` as the fix.

    Examples
    --------
    >>> import resistscore as rs
    >>> table = rs.precompile()  # doctest: +SKIP
    >>> table[["case", "seconds", "kernels_compiled"]].head(2)  # doctest: +SKIP
                   case  seconds  kernels_compiled
    0  h5ad_csr_float32     8.02                 6
    1  h5ad_csr_float64     5.52                 2

    A second call finds every kernel in the cache and compiles nothing (``kernels_compiled`` 0);
    ``rs.precompile("all")`` adds every scoring method.
    """
    import pandas as pd
    from numba.core import event

    cache_dir = _check_cache_dir()  # first: without a writable cache the kernels cannot even be defined
    cases = _cases(_check_methods(methods))
    lookups = _write_gene_lookups(verbose)
    rows, used = [], []
    with tempfile.TemporaryDirectory(prefix="resistscore-compile-") as tmp:
        folder = Path(tmp)
        for case in cases:
            compiles = _Compiles()
            t0, c0 = time.perf_counter(), time.process_time()
            with event.install_listener("numba:compile", compiles.listener()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # warnings about the synthetic data are nobody's concern
                try:
                    case.run(folder)
                except OSError as err:  # numba's save of a compiled kernel: name the fix
                    where = str(err.filename or "")
                    if not where or not where.startswith(tuple(filter(None, [cache_dir, *_cache_dirs()]))):
                        raise
                    raise ResistScoreError(f"numba could not write its cache ({err}); {_FIX}.") from err
            used += compiles.kernels
            rows.append(
                {
                    "case": case.name,
                    "description": case.description,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "cpu_seconds": round(time.process_time() - c0, 2),
                    "functions_compiled": compiles.events,
                    "kernels_compiled": len(compiles.kernels),
                    "compile_cpu_seconds": round(compiles.cpu, 2),
                }
            )
            if verbose:
                r = rows[-1]
                print(
                    f"{r['case']}: {r['kernels_compiled']} kernel{'' if r['kernels_compiled'] == 1 else 's'} "
                    f"compiled in {r['seconds']:.1f} s "
                    f"({r['cpu_seconds']:.1f} s of CPU)",
                    flush=True,
                )
    table = pd.DataFrame(rows)
    _check_written(used, cache_dir)
    table.attrs["cache_dirs"] = _cache_dirs()
    table.attrs["gene_lookup_cache"] = lookups
    return table


def _write_gene_lookups(verbose: bool) -> str | None:
    """Write the cache of the HGNC lookups (:func:`resistscore._gene_tables.write_lookup_cache`); its path.

    Warns (and returns ``None``) when no cache folder is writable: every process then builds the lookups.
    """
    from resistscore._gene_cache import ENV
    from resistscore._gene_tables import write_lookup_cache

    t0 = time.perf_counter()
    path = write_lookup_cache()
    if path is None:
        warn(
            "the HGNC lookups could not be cached (no writable cache folder): every process builds them from the "
            f"gene tables (~0.2 s). Set {ENV} to a writable folder in the environment of the runs and run "
            "`resistscore compile` again.",
            ResistScoreWarning,
        )
        return None
    if verbose:
        print(f"gene lookups: cached in {time.perf_counter() - t0:.1f} s ({path})", flush=True)
    return str(path)


def case_names(methods=None) -> list[str]:
    """Return the names of the cases :func:`precompile` runs for ``methods``, in their order.

    Examples
    --------
    >>> case_names()[0]
    'h5ad_csr_float32'
    """
    return [c.name for c in _cases(_check_methods(methods))]


def _check_methods(methods) -> list[str]:
    """Return the method names ``methods`` asks for (``None``: none, ``"all"``: every registered one), or raise."""
    from resistscore.tl.methods import registry

    if methods is None:
        return []
    names = methods.split(",") if isinstance(methods, str) else methods
    try:
        names = [str(n).strip() for n in names]
    except TypeError:
        names = [methods]
    if names == ["all"]:
        return list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown or not names:
        raise ResistScoreError(
            f"`methods` must be 'all' or names of scoring methods ({', '.join(registry)}); got {methods!r}."
        )
    return list(dict.fromkeys(names))


def _check_cache_dir() -> str | None:
    """Check that numba can cache resistscore's kernels; return ``NUMBA_CACHE_DIR`` when numba uses it.

    numba caches a kernel in the first writable of: ``NUMBA_CACHE_DIR``, a ``__pycache__`` folder beside the
    source, the user's cache folder. If none is writable, the kernels cannot even be defined.
    """
    from numba.core import config

    try:
        import resistscore.tl  # noqa: F401  (defines the kernels: each finds its cache folder)
    except RuntimeError as err:
        if "cannot cache function" not in str(err):
            raise
        raise ResistScoreError(
            f"numba cannot cache resistscore's compiled kernels: no writable cache folder ({err}); {_FIX}."
        ) from err
    cache_dir = config.CACHE_DIR or None
    if cache_dir:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            tempfile.TemporaryFile(dir=cache_dir).close()
        except OSError as err:
            warn(
                f"NUMBA_CACHE_DIR={cache_dir} is not a writable folder ({err.strerror or err}): numba caches the "
                f"kernels in {', '.join(_cache_dirs())} instead, where runs with this NUMBA_CACHE_DIR also look; "
                f"to keep the cache where you want it, {_FIX}.",
                ResistScoreWarning,
            )
            cache_dir = None
    return cache_dir


def _cache_dirs() -> list[str]:
    """Return the folders of numba's cache that hold resistscore's kernels (of the modules imported so far)."""
    from numba.core.dispatcher import Dispatcher

    folders = set()
    for name, module in list(sys.modules.items()):
        if name.startswith("resistscore.") and module is not None:
            for obj in list(vars(module).values()):
                if isinstance(obj, Dispatcher):
                    path = getattr(getattr(obj, "_cache", None), "cache_path", None)
                    if path:
                        folders.add(path)
    return sorted(folders)


def _check_written(kernels: list, cache_dir: str | None) -> list[str]:
    """Warn when a compiled kernel has no index in numba's cache (it would be compiled again in every run).

    Returns the names of those kernels.
    """
    missing = []
    for d in kernels:
        fn = d.py_func
        path = getattr(getattr(d, "_cache", None), "cache_path", None)
        base = f"{Path(inspect.getfile(fn)).stem}.{fn.__qualname__}-{fn.__code__.co_firstlineno}"
        if path is None or not glob.glob(os.path.join(glob.escape(path), f"{glob.escape(base)}.py*.nbi")):
            missing.append(f"{fn.__module__}.{fn.__qualname__}")
    missing = sorted(set(missing))
    if missing:
        warn(
            f"numba did not write its cache for {', '.join(missing)}: every run compiles "
            f"{'it' if len(missing) == 1 else 'them'} again. Check that numba's cache folder "
            f"({cache_dir or 'beside the sources, or ~/.cache/numba'}) is writable; {_FIX}.",
            ResistScoreWarning,
        )
    return missing


# ---------------------------------------------------------------------------------------------------
# the synthetic data and the cases
# ---------------------------------------------------------------------------------------------------
def _genes() -> list[str]:
    """Every gene of the shipped signatures, then approved protein-coding HGNC symbols up to ``N_GENES``."""
    from resistscore import pp, sig

    signature_genes = sorted(set(sig.load(confounders=True).to_network()["target"]))
    table = pp.gene_table()
    coding = table.loc[table["locus_group"].astype(str).str.startswith("protein-coding"), "symbol"]
    filler = [g for g in coding.astype(str) if g not in set(signature_genes)]
    return signature_genes + filler[: max(N_GENES - len(signature_genes), 0)]


def _cells(dtype):
    """Single-cell data as they are scored: log1p-normalised values, ~85 % zeros, CSR ``dtype``."""
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    genes = _genes()
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.2, (N_CELLS, len(genes))).astype(np.float64)  # ~82 % zeros
    X = sp.csr_matrix(np.log1p(counts))
    obs = pd.DataFrame(index=pd.Index([f"cell{i}" for i in range(N_CELLS)], name="cell"))
    return ad.AnnData(X.astype(dtype), obs=obs, var=pd.DataFrame(index=pd.Index(genes, name="gene")))


def _h5ad(folder: Path, dtype) -> Path:
    path = folder / f"cells_{dtype}.h5ad"
    if not path.exists():
        _cells(dtype).write_h5ad(path)
    return path


def _bulk():
    """Return a bulk samples x genes table of log2 expression values (float64)."""
    import numpy as np
    import pandas as pd

    genes = _genes()
    rng = np.random.default_rng(1)
    values = np.abs(rng.normal(6.0, 2.5, (N_SAMPLES, len(genes))))
    return pd.DataFrame(values, index=[f"S{i + 1:02d}" for i in range(N_SAMPLES)], columns=genes)


def _score_path(values, **options):
    def run(folder: Path) -> None:
        from resistscore import tl

        tl.score(_h5ad(folder, values), progress=False, **options)

    return run


def _score_anndata(folder: Path) -> None:
    from resistscore import tl

    tl.score(_cells("float32"), pvalues=True, progress=False)


def _score_bulk(folder: Path) -> None:
    from resistscore import tl

    tl.score(_bulk(), pvalues=True, progress=False)


def _score_per_sample(folder: Path) -> None:
    from resistscore import tl

    # null="per_sample" (each sample's own control sets), on sparse and on dense data
    tl.score(_cells("float32"), null="per_sample", progress=False)
    tl.score(_bulk(), null="per_sample", progress=False)


def _cli_score(dtype):
    def run(folder: Path) -> None:
        from resistscore._workflow import score_file  # what `resistscore score` runs

        score_file(_h5ad(folder, dtype), folder / f"scores_{dtype}.csv")

    return run


def _score_method(method: str, layout: str):
    def run(folder: Path) -> None:
        from resistscore import tl

        data = _cells("float32") if layout == "csr" else _bulk()
        # fewer control sets than by default (module_score and GSVA take seconds per 1000 of them): their
        # number changes no type (the pooled UCell's uint16 set slots hold up to 65,535 sets)
        tl.score(data, method=method, pvalues=True, n_controls=N_CONTROLS_METHODS, progress=False)

    return run


def _cases(methods: list[str]) -> list[_Case]:
    """Return the cases: the default entry points, then each of ``methods`` on sparse and dense data.

    The sizes do not change which kernels run or their types: the engine picks its path by the method, the
    null, the layout and the kind of data (single cell: >= 70 % zeros), never by the number of rows (the
    pooled null's stride, the chunk size and the rows of the gene statistics are runtime values); the one
    size-dependent type, the pooled UCell's uint16 set slots (uint32 beyond 65,535 sets), is that of the
    shipped signatures with their default controls.
    """
    cases = [
        _Case(
            "h5ad_csr_float32",
            "rs.tl.score(path.h5ad): CSR float32, read in chunks; UCell, pooled null, p-values and FDR",
            _score_path("float32"),
        ),
        _Case("h5ad_csr_float64", "the same with float64 values", _score_path("float64")),
        _Case(
            "h5ad_csr_float32_no_pvalues",
            "rs.tl.score(path.h5ad, pvalues=False): scores only (UCell without the one-pass null)",
            _score_path("float32", pvalues=False),
        ),
        _Case(
            "h5ad_csr_float32_results",
            "rs.tl.score(path.h5ad, dtype='float32'): scores, p-values and FDR kept in float32 (--float32)",
            _score_path("float32", dtype="float32"),
        ),
        _Case(
            "anndata_csr_float32",
            "rs.tl.score(adata): an AnnData in memory, CSR float32; UCell, p-values and FDR",
            _score_anndata,
        ),
        _Case(
            "dataframe_dense_float64",
            "rs.tl.score(df): a bulk samples x genes DataFrame, float64; singscore, p-values and FDR",
            _score_bulk,
        ),
        _Case(
            "null_per_sample",
            "rs.tl.score(data, null='per_sample'): each sample's own control sets, CSR float32 and a bulk DataFrame",
            _score_per_sample,
        ),
        _Case(
            "cli_score_h5ad_float32",
            "resistscore score cells.h5ad --out scores.csv: harmonised, quality-controlled and scored in chunks",
            _cli_score("float32"),
        ),
        _Case("cli_score_h5ad_float64", "the same with float64 values", _cli_score("float64")),
    ]
    for method in methods:
        cases += [
            _Case(
                f"method_{method}_csr_float32",
                f"rs.tl.score(adata, method={method!r}): CSR float32, p-values and FDR",
                _score_method(method, "csr"),
            ),
            _Case(
                f"method_{method}_dense_float64",
                f"rs.tl.score(df, method={method!r}): a dense float64 DataFrame, p-values and FDR",
                _score_method(method, "dense"),
            ),
        ]
    return cases
