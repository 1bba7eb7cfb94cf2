"""End-to-end analyses built from the public API: what the CLI and the demo run.

Each function reads its inputs, calls ``rs.io`` / ``rs.pp`` / ``rs.tl`` / ``rs.pl`` / ``rs.report`` and writes
its outputs. Nothing here computes a score or a statistic itself. The order is always the same:

1. check the options and the output path (never an input, never a folder of someone else's files);
2. read the inputs and check the design (columns exist, times finite, ids match) - before any scoring;
3. compute everything in memory;
4. write: one file atomically (:func:`resistscore._atomic.atomic_path`), or a whole folder into a temporary
   sibling that is swapped in at the end (:func:`resistscore._atomic.atomic_dir`).

A failed run therefore leaves every output path exactly as it was. Every text table goes through
:func:`resistscore.io.write_table` (spreadsheet-safe, atomic).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from resistscore import _anndata_store as store
from resistscore import ds, get, io, pp, sig, tl
from resistscore._atomic import atomic_dir, check_output_file, check_output_folder
from resistscore._design import Design, api_label, pick_confounders
from resistscore._errors import (
    DeprecatedArgumentWarning,
    GeneIdentifierError,
    InputFormatError,
    LowCoverageWarning,
    OrientationError,
    ResistScoreError,
    SampleMismatchWarning,
    SignatureError,
    StatisticsError,
    warn,
)
from resistscore._validate import check_choice
from resistscore.io import restore_formulas, write_table

__all__ = ["AnalysisOutputs", "analyze"]

#: suffixes of the single-table outputs (``score --out``, ``test --out``)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")


def _cli(name: str) -> str:
    """How the command line names an option (``gene_column`` -> ``--gene-column``)."""
    return "--" + name.replace("_", "-")


@dataclass
class AnalysisOutputs:
    """The files an analysis wrote, by kind, plus the in-memory results and the warnings it raised."""

    outdir: Path | None = None
    files: dict[str, list[Path]] = field(default_factory=dict)
    result: object | None = None
    stats: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    confounders: object | None = None
    confounder_correlation: pd.DataFrame | None = None
    mapping: object | None = None  # the GeneMappingReport of the input, when genes were harmonised
    qc: object | None = None  # the QCReport of the input, taken in the scoring pass (``resistscore score``)

    def add(self, kind: str, *paths: Path) -> None:
        self.files.setdefault(kind, []).extend(Path(p) for p in paths)

    def moved(self, src: Path, dst: Path) -> AnalysisOutputs:
        """Return the same outputs with paths under ``src`` (a temporary folder) shown under ``dst``."""
        files = {
            k: [dst / Path(p).relative_to(src) if Path(p).is_relative_to(src) else Path(p) for p in v]
            for k, v in self.files.items()
        }
        return AnalysisOutputs(
            dst,
            files,
            self.result,
            self.stats,
            list(self.warnings),
            self.confounders,
            self.confounder_correlation,
            self.mapping,
            self.qc,
        )

    def summary(self) -> dict[str, str]:
        """One line on the gene mapping (how duplicated identifiers were collapsed), then one per kind of output."""
        out = {}
        if self.mapping is not None:
            m = self.mapping
            out["genes"] = (
                f"{m.n_input} identifiers -> {m.n_genes} HGNC genes; duplicated identifiers: {m.collapse_description} "
                f"(rule {m.collapse_rule!r}; {m.n_collapsed} gene(s) from several identifiers)"
            )
        if self.qc is not None:
            q = self.qc
            out["qc"] = f"{q.n_samples} samples x {q.n_genes} genes, scale {q.scale.kind}; " + (
                "; ".join(q.problems) or "no problems found"
            )
        for kind, paths in self.files.items():
            out[kind] = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        return out


# ---------------------------------------------------------------------------------------- warnings
class WarningLog:
    """Record every warning shown while active (one line each), and still show it as before.

    The command line shows each warning as one ``warning: ...`` line; the report lists them.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._previous: Callable | None = None

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        if text not in self.messages:
            self.messages.append(text)
        assert self._previous is not None
        self._previous(message, category, filename, lineno, file, line)

    def __enter__(self) -> WarningLog:
        self._previous = warnings.showwarning
        warnings.showwarning = self._show
        return self

    def __exit__(self, *exc) -> None:
        warnings.showwarning = self._previous


@contextlib.contextmanager
def _logging(log: WarningLog | None) -> Iterator[WarningLog]:
    if log is not None:  # an outer log is already recording
        yield log
        return
    with WarningLog() as new:
        yield new


# ------------------------------------------------------------------------------------------ options
def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def parse_signatures(spec: str | os.PathLike[str] | None, *, label: Callable[[str], str] = _cli):
    """``--signatures``: ``None`` (every shipped mechanism signature), comma-separated shipped ids, or a path.

    Returns ``(signatures or None, the path read or None)``.
    """
    if spec is None:
        return None, None
    text = os.fspath(spec)
    if not text.strip():
        raise SignatureError(
            f"{label('signatures')} is empty; give signature ids separated by commas (e.g. efflux_abc,apoptosis; "
            "`resistscore signatures list` shows them), a signature folder, YAML or GMT file, or leave it out "
            "to score every mechanism signature."
        )
    if os.path.exists(text):
        return sig.load(text), Path(text)
    ids = _split(text)
    looks_like_path = len(ids) == 1 and (
        os.sep in text
        or "/" in text
        or Path(text).suffix.lower() in {".gmt", ".gz", ".yaml", ".yml", ".tsv", ".csv", ".txt"}
    )
    if looks_like_path:
        raise SignatureError(
            f"{label('signatures')} {text!r}: no such file or folder; check the path (or give shipped signature ids)."
        )
    shipped = sig.load(feature_type=None)
    unknown = [i for i in ids if i not in shipped]
    if unknown:
        raise SignatureError(
            f"{label('signatures')}: unknown signature id(s) {unknown[:5]} and no such file; "
            "`resistscore signatures list` shows the shipped ids (e.g. efflux_abc,apoptosis)."
        )
    return shipped.select(list(dict.fromkeys(ids))), None


def _check_table_suffix(out: Path, label: str = "--out") -> None:
    if not out.name.lower().endswith(TABLE_SUFFIXES):
        raise InputFormatError(
            f"{label} {out} must end in .csv or .tsv (optionally .gz); give a file name such as scores.csv."
        )


def _figure_formats(formats: str | Sequence[str], label: Callable[[str], str] = _cli) -> tuple[str, ...]:
    from matplotlib.backend_bases import FigureCanvasBase

    items = _split(formats) if isinstance(formats, str) else [str(f).strip() for f in formats]
    fmts = tuple(dict.fromkeys(f.lower().lstrip(".") for f in items if f))
    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in fmts if f not in supported]
    if not fmts or bad:
        raise InputFormatError(
            f"{label('formats')} {bad or 'is empty'}: choose comma-separated figure formats among "
            f"{sorted(supported)} (e.g. png,pdf)."
        )
    return fmts


# ------------------------------------------------------------------------------------------ reading
def _read_options(**kwargs) -> dict[str, Any]:
    """Keyword arguments for ``rs.io.read``; ``decimal`` / ``thousands`` only when given (and supported)."""
    params = inspect.signature(io.read).parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    out = {}
    for key, value in kwargs.items():
        if value is None and key in ("decimal", "thousands"):
            continue
        if key not in params and not open_ended:
            raise InputFormatError(
                f"{_cli(key)} is not supported by this version of resistscore's reader; leave it out."
            )
        out[key] = value
    return out


def _load_expression(
    path: Path, *, harmonize: bool = True, probe_collapse: str = pp.DEFAULT_COLLAPSE, **read_kwargs
) -> ad.AnnData:
    """Read an expression file whole and (unless ``harmonize`` is False) harmonise its genes."""
    adata = io.read(path, **_read_options(**read_kwargs))
    if adata.X is None:
        raise InputFormatError(
            f"{Path(path).name} holds no expression matrix (X is empty); give a file with data."
        )
    if harmonize:
        adata, _report = pp.harmonize_genes(adata, probe_collapse=probe_collapse)
    return adata


def _mapping_of(data):
    """Return the :class:`~resistscore.pp.GeneMappingReport` of harmonised input (an AnnData or a stream), or None."""
    if isinstance(data, FileInput):
        data = data.annotations
    if isinstance(data, ad.AnnData):
        record = get.record(data, get.GENE_MAPPING)
        return None if record is None else pp.GeneMappingReport.from_dict(record)
    return getattr(getattr(data, "fn", None), "report", None)  # rs.tl.harmonized_rows: its GeneCollapse


# ------------------------------------------------------------------------------------ streamed files
#: inputs scored straight from the file, in chunks (never loaded whole)
STREAM_SUFFIXES = (".h5ad", ".zarr")


@dataclass
class FileInput:
    """An ``.h5ad`` file or AnnData ``.zarr`` store analysed in chunks: its matrix is never loaded whole.

    ``rows`` are its rows with harmonised genes (:func:`resistscore.tl.harmonized_rows`), read block by block by
    each scoring pass. ``annotations`` is an AnnData without ``X`` holding what the statistics, figures and
    report need besides the scores: the file's ``obs``, its embedding ``obsm["X_<basis>"]``, scanpy's colours
    ``uns["<column>_colors"]`` and the gene mapping (``uns["resistscore"]["gene_mapping"]``).
    """

    rows: Any
    annotations: ad.AnnData


def _streams(path: Path, read_kwargs: dict[str, Any]) -> bool:
    """Return whether ``path`` is read in chunks: an ``.h5ad`` file or ``.zarr`` store, not said to be transposed."""
    if path.suffix.lower() not in STREAM_SUFFIXES or read_kwargs.get("format", "auto") not in (
        "auto",
        "h5ad",
    ):
        return False
    return read_kwargs.get("orientation", "auto") != "genes_x_samples"


def _stored_transposed(path: Path, read_kwargs: dict[str, Any]) -> bool:
    """Return whether an ``.h5ad`` file stores genes as observations, by the orientation rule of :func:`resistscore.io.read`.

    Asked only when no var name of a streamed file maps to a gene; then the file is read whole and transposed,
    unless an ``orientation`` was given. Opening the file backed reads its names, not ``X``.
    """
    if read_kwargs.get("orientation", "auto") != "auto":
        return False
    try:
        adata = io.read(path, backed=True)
    except OrientationError:
        return True
    except ResistScoreError:
        return False
    adata.file.close()
    return False


def _file_annotations(path: Path, obs: pd.DataFrame | None, obs_names: pd.Index, basis: str) -> ad.AnnData:
    """Return an AnnData of the annotations of an AnnData file, without ``X``: ``obs``, the embedding, colours.

    ``obs`` as read with the rows (or read here); of ``obsm`` only ``X_<basis>`` (or ``<basis>``), of ``uns``
    only the ``<column>_colors`` entries: nothing that grows with the genes is read.
    """
    read_elem = store.read_elem()
    with store.reading(path, "obs, obsm and uns"), store.open_store(path) as g:
        if obs is None:
            obs = read_elem(g["obs"]) if "obs" in g else pd.DataFrame(index=obs_names)
        obsm = g["obsm"] if "obsm" in g else {}  # noqa: SIM401 - an HDF5 or zarr group
        embedding = {k: read_elem(obsm[k]) for k in (f"X_{basis}", basis) if k in obsm}
        uns = g["uns"] if "uns" in g else {}  # noqa: SIM401
        colours = {k: read_elem(uns[k]) for k in list(uns) if str(k).endswith("_colors")}
    out = ad.AnnData(obs=obs)
    for key, value in embedding.items():
        out.obsm[key] = value
    out.uns.update(colours)
    return out


def _open_file(path: Path, *, probe_collapse: str = pp.DEFAULT_COLLAPSE, basis: str = "umap") -> FileInput:
    """Return an ``.h5ad`` file or ``.zarr`` store to analyse in chunks: its harmonised rows and its annotations."""
    rows = tl.harmonized_rows(path, probe_collapse=probe_collapse)
    obs = (getattr(rows, "annotations", None) or {}).get("obs")
    annotations = _file_annotations(path, obs, rows.obs_names, basis)
    if not annotations.obs_names.equals(pd.Index(rows.obs_names)):
        annotations.obs_names = pd.Index(rows.obs_names).astype(str)
    get.store_record(annotations, get.GENE_MAPPING, rows.fn.report.to_dict())
    return FileInput(rows, annotations)


def _read_input(
    path: Path, *, probe_collapse: str = pp.DEFAULT_COLLAPSE, **read_kwargs
) -> FileInput | ad.AnnData:
    """Return the expression file of an analysis: streamed when it is an AnnData file (:func:`_streams`), else read whole.

    Either way its genes are harmonised (``probe_collapse`` for identifiers mapped to the same gene). An
    ``.h5ad`` file that stores genes as observations (none of its var names maps to a gene, and
    :func:`resistscore.io.read` finds it transposed) is read whole and transposed, as other formats are.
    """
    path = Path(path)
    if _streams(path, read_kwargs):
        try:
            return _open_file(path, probe_collapse=probe_collapse)
        except GeneIdentifierError:
            if not _stored_transposed(path, read_kwargs):
                raise
    return _load_expression(path, probe_collapse=probe_collapse, **read_kwargs)


def _annotated(data) -> ad.AnnData | None:
    """Return the AnnData of an analysis: an AnnData scored in place, the annotations of a streamed file, or None."""
    if isinstance(data, FileInput):
        return data.annotations
    return data if isinstance(data, ad.AnnData) else None


def read_scores(path: Path) -> pd.DataFrame:
    """Read a scores table as ``resistscore score`` writes it (wide, or long with ``--tidy``).

    Signatures that were not scored (empty columns) stay as NaN columns; text that
    :func:`resistscore.io._write.neutralize_formulas` protected is restored.
    """
    df = io.read_table(path, what="scores", index_col=None)
    df = restore_formulas(df)
    cols = list(df.columns)
    name = Path(path).name
    if len(cols) >= 3 and cols[0] == "sample" and {"signature", "score"} <= set(cols):
        long = df[["sample", "signature", "score"]].copy()
        long["sample"] = long["sample"].astype(str).str.strip()
        long["signature"] = long["signature"].astype(str).str.strip()
        if long.duplicated(["sample", "signature"]).any():
            raise InputFormatError(
                f"the long scores table {name} has a sample-signature pair twice; keep one row per pair."
            )
        wide = long.pivot(index="sample", columns="signature", values="score")
        wide = wide.reindex(index=pd.unique(long["sample"]), columns=pd.unique(long["signature"]))
    else:
        if len(cols) < 2:
            raise InputFormatError(
                f"the scores table {name} has no score column; give the file `resistscore score` wrote "
                "(one row per sample, one column per signature)."
            )
        ids = df[cols[0]].astype(str).str.strip()
        dup = ids[ids.duplicated()].unique()
        if len(dup):
            raise InputFormatError(
                f"the scores table {name} has duplicated sample ids ({list(dup[:5])}); keep one row per sample."
            )
        wide = df.drop(columns=[cols[0]])
        wide.index = pd.Index(ids.to_numpy(), name=cols[0])
    out = {}
    for c in wide.columns:
        values = pd.to_numeric(wide[c], errors="coerce")
        text = wide[c].notna() & values.isna()
        if text.any():
            raise InputFormatError(
                f"column {c!r} of the scores table {name} holds text ({wide[c][text].iloc[0]!r}); a scores table "
                "has one row per sample and one numeric column per signature, as `resistscore score` writes it "
                "(give sample annotations with --metadata)."
            )
        out[str(c)] = values.astype(float)
    scores = pd.DataFrame(out, index=wide.index)
    if not np.isfinite(scores.to_numpy(dtype=float)).any():
        raise InputFormatError(f"no signature in the scores table {name} has a score; nothing to use.")
    return scores


def _join_metadata(
    path: Path, data, id_column: str | None, label: Callable[[str], str] = _cli
) -> pd.DataFrame:
    """Metadata of ``path`` aligned to the samples of ``data``; refuse a join that matches nothing."""
    meta, join = io.read_metadata(path, data, id_column=id_column)
    ids = list(map(str, data.obs_names if isinstance(data, ad.AnnData) else data.index))
    if not join.matched:
        meta_ids = list(join.only_in_metadata[:3])
        raise InputFormatError(
            f"no sample id of the metadata {Path(path).name} (column {join.id_column!r}, e.g. {meta_ids}) matches a "
            f"sample of the data (e.g. {ids[:3]}); give the column of sample ids with {label('id_column')}, "
            "or make the ids agree."
        )
    if join.only_in_data:
        warn(
            f"{len(join.only_in_data)} of {len(ids)} samples have no row in the metadata {Path(path).name} "
            f"(e.g. {join.only_in_data[:3]}); they are left out of the tests.",
            SampleMismatchWarning,
        )
    return meta


def _require_scores(result, *, label: Callable[[str], str] = _cli) -> None:
    """Refuse a result where nothing could be scored (every score NaN), with the reasons."""
    scores = result.scores
    if scores.shape[1] and np.isfinite(scores.to_numpy(dtype=float)).any():
        return
    cov = getattr(result, "coverage", None)
    reasons = []
    if isinstance(cov, pd.DataFrame) and "reason" in cov.columns:
        for sig_id, reason in cov["reason"].items():
            if isinstance(reason, str) and reason:
                reasons.append(f"{sig_id}: {reason}")
    why = "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")
    raise ResistScoreError(
        f"nothing could be scored: every score of the {scores.shape[1]} signature(s) is NaN"
        + (f" ({why})" if why else "")
        + ". Check that the rows or columns hold gene identifiers (see "
        + f"{label('gene_column')} and {label('orientation')}) and that the data are expression values."
    )


# -------------------------------------------------------------------------------------- statistics
def _stats_tables(result, metadata: pd.DataFrame, design: Design, confounders=None) -> dict[str, object]:
    """Run the statistics asked for; each is skipped when its column is not given.

    ``design.adjust`` names confounders (``proliferation`` ...) whose scores are covariates: taken from
    ``confounders`` (their ScoreResult) when given, else from the scores themselves.
    """
    adjust = None
    if design.adjust:
        adjust = list(design.adjust)
        if confounders is not None:
            adjust = pick_confounders(confounders.scores, adjust, arg="adjust")
            unscored = [c for c in adjust.columns if adjust[c].isna().all()]
            if unscored:
                cov = confounders.coverage
                why = "; ".join(f"{c}: {cov.loc[c, 'reason']}" for c in unscored if c in cov.index)
                raise StatisticsError(
                    f"cannot adjust for {', '.join(unscored)}: the data cover too few of its genes ({why}). "
                    "Leave it out of the adjustment."
                )
    common = {
        "covariates": list(design.covariates) or None,
        "sample_key": design.sample_key,
        "adjust": adjust,
    }
    stats: dict[str, object] = {}
    if design.group is not None:
        stats["groups"] = tl.compare_groups(
            result,
            metadata,
            group=design.group,
            test=design.test or "welch",
            paired_by=design.paired_by,
            **common,
        )
    if design.response is not None:
        stats["response"] = tl.associate(result, design.response, metadata=metadata, **common)
    if design.time is not None and design.event is not None:
        stats["survival"] = tl.survival(result, metadata, time=design.time, event=design.event, **common)
    return stats


# ---------------------------------------------------------------------------------------- analysis
def analyze(
    data: ad.AnnData | pd.DataFrame | str | os.PathLike[str],
    outdir: str | Path,
    *,
    metadata: pd.DataFrame | str | os.PathLike[str] | None = None,
    design: Design | None = None,
    signatures=None,
    method: str | None = None,
    random_state: int = 0,
    pvalues: bool = True,
    n_controls: int | None = None,
    formats: tuple[str, ...] = ("png", "pdf"),
    title: str = "resistscore analysis",
    progress: bool | None = None,
    seed: int | None = None,
    **design_fields: Any,
) -> AnalysisOutputs:
    """Score, test, plot and report in one call; write everything into ``outdir``.

    The design (:class:`resistscore.Design`: groups, response, survival, covariates, sample key ...) is
    checked against the metadata before any scoring, and everything is computed before anything is
    written. The outputs are written into a temporary folder beside ``outdir`` that replaces ``outdir``
    only when complete: a failed call leaves ``outdir`` exactly as it was, and a finished one never mixes
    with an earlier run. ``outdir`` must therefore be new, empty, or the output of an earlier run (listed
    in its ``.resistscore-run.json``); a folder holding other files is refused, naming them.

    Parameters
    ----------
    data
        Expression data: AnnData (obs = samples or cells, var = HGNC symbols), a samples x genes DataFrame,
        or the path of an expression file, read as ``resistscore report`` reads it (its gene identifiers
        harmonised to HGNC symbols). An ``.h5ad`` file or AnnData ``.zarr`` store is streamed, never
        loaded whole: it is scored in chunks (as ``rs.tl.score(path)``), and the statistics, figures and
        report are made from the results and the file's ``obs``, its embedding ``obsm["X_umap"]`` and
        scanpy's ``uns["<column>_colors"]`` (no figure needs the matrix). The numbers equal those of the
        file read whole. Other formats are read whole by :func:`resistscore.io.read`.
    outdir
        Folder for the outputs: ``scores.csv``, ``scores_tidy.csv``, ``coverage.csv``,
        ``confounder_scores.csv``, ``confounder_correlation.csv``, ``stats_*.csv``,
        ``figures/`` (each figure in every format of ``formats``), ``report.html`` and
        ``.resistscore-run.json`` (the files written, the version, the warnings).
    metadata
        Sample metadata indexed like the samples (default: ``data.obs`` for AnnData, the file's ``obs``
        for an AnnData file when it has columns). With a file path as ``data``, also the path of a
        metadata table, joined to the samples as ``resistscore report --metadata`` joins it
        (:func:`resistscore.io.read_metadata`).
    design
        The :class:`resistscore.Design` of the statistics, figures and report: a group comparison
        (:func:`resistscore.tl.compare_groups`) for ``group``, an association
        (:func:`resistscore.tl.associate`) for ``response``, survival (:func:`resistscore.tl.survival`)
        for ``time`` and ``event``; each is skipped when not given. For single-cell data its
        ``sample_key`` (the obs column of the biological replicate) makes the tests run on one mean
        score per replicate, and the figures draw those means. Its ``adjust`` names confounder(s)
        whose scores are covariates of every statistic: ``"proliferation"``, ``"stromal"``,
        ``"immune"`` (or their ids ``confounder.*``), e.g. ``adjust=["proliferation"]``. The confounder
        signatures (``rs.sig.confounders()``) are scored in every analysis, with the method of the
        mechanisms and kept apart from them (``confounder_scores.csv``); each mechanism's Spearman
        correlation with them is in ``confounder_correlation.csv``
        (:func:`resistscore.tl.confounder_correlation`).
    signatures, method, random_state, pvalues, n_controls
        Passed to :func:`resistscore.tl.score` (defaults: every shipped mechanism signature; singscore
        for bulk, UCell for single cell; p-values with the default number of control sets).
        An AnnData is scored in place (as scanpy: its run is in ``obsm``/``uns``, see :mod:`resistscore.get`).
    formats
        Figure formats (vector formats such as ``"pdf"`` or ``"svg"`` for publication). Each figure is
        drawn once: the report embeds the PNG file (scaled down), so ``"png"`` costs the report nothing
        extra; without it the report draws its figures itself.
    title
        Title of the HTML report.
    progress
        Show a progress bar (``None``: ``rs.settings.progress``).
    seed
        Deprecated alias of ``random_state``.
    **design_fields
        The fields of the design as keywords instead of ``design``: ``rs.analyze(adata, "out",
        group="group", adjust="proliferation")`` is ``rs.analyze(adata, "out",
        design=rs.Design(group="group", adjust="proliferation"))``.

    Returns
    -------
    AnalysisOutputs
        Lists every file written, and holds the score result, the confounders' result
        (``.confounders``), the statistics and the warnings raised (also listed in the report).
        An AnnData ``data`` also holds both runs (see Notes).

    Raises
    ------
    ResistScoreError
        On any bad option or input, or when no signature could be scored; nothing is written.
    OutputError
        If ``outdir`` is a file, holds an input or files resistscore did not write.

    Notes
    -----
    An AnnData is scored in place with two runs, as scanpy's ``key_added`` keeps several: the mechanisms
    under the default key ``"resistscore"`` (``obsm["resistscore_scores"]``, ``uns["resistscore"]``) and
    the confounder signatures under ``"resistscore_confounders"`` (``obsm["resistscore_confounders_scores"]``,
    ``uns["resistscore_confounders"]``). ``rs.get.runs(adata)`` lists both; read the confounders with
    ``rs.get.scores(adata, "resistscore_confounders")`` (or ``rs.get.result``), and pass
    ``key="resistscore_confounders"`` to a statistic or plot to use them. A later ``analyze`` of the same
    AnnData replaces both runs. A DataFrame ``data`` is not changed. A file path is read once per scoring
    pass (the mechanisms, then the confounders), in chunks for an AnnData file; the results are in the
    returned outputs (``.result``, ``.confounders``).

    Examples
    --------
    A single-cell atlas too large for memory (``.h5ad`` or ``.zarr``), one mean score per donor in the tests:

    >>> outputs = rs.analyze("cells.h5ad", "report/", group="condition", sample_key="donor")  # doctest: +SKIP
    """
    design = Design.resolve(design, **design_fields)
    random_state = _random_state(random_state, seed)
    scoring = {"signatures": signatures, "method": method, "random_state": random_state, "pvalues": pvalues}
    scoring.update({"n_controls": n_controls, "progress": progress})
    if isinstance(data, (str, os.PathLike)):
        return _analyze_path(
            Path(data),
            outdir,
            design,
            scoring,
            metadata=metadata,
            formats=formats,
            title=title,
            label=api_label,
        )
    if isinstance(metadata, (str, os.PathLike)):
        raise InputFormatError(
            "`metadata` as a file path is joined to the samples of a file: pass the expression file's path as "
            "`data`, or read the table first (rs.io.read_metadata(path, adata)) and pass the DataFrame."
        )
    return _analyze(
        data, outdir, design, scoring, metadata=metadata, formats=formats, title=title, label=api_label
    )


def _analyze_path(
    path: Path,
    outdir,
    design: Design,
    scoring: dict[str, Any],
    *,
    metadata=None,
    id_column: str | None = None,
    formats=("png", "pdf"),
    title: str | None = None,
    label: Callable[[str], str] = _cli,
    other_inputs: Sequence[Path | None] = (),
    read_kwargs: dict[str, Any] | None = None,
) -> AnalysisOutputs:
    """:func:`analyze` of an expression file: an AnnData file streamed (:class:`FileInput`), another read whole.

    ``metadata``: a DataFrame indexed by sample, or the path of a table joined to the samples (``id_column``:
    its column of sample ids); by default the file's own ``obs`` when it has columns.
    """
    meta_path = Path(metadata) if isinstance(metadata, (str, os.PathLike)) else None
    inputs = [path, meta_path, *other_inputs]
    design.check_options(True, label)  # time with event; whether there are metadata is known once read
    check_output_folder(outdir, inputs, option=label("out") if label is _cli else label("outdir"))
    with WarningLog() as log:
        data = _read_input(path, **(read_kwargs or {}))
        annotated = _annotated(data)
        # the metadata: a table given, else the annotations of an AnnData file (obs), if it has any
        meta = metadata if meta_path is None else None
        if meta is None and meta_path is None and annotated.obs.shape[1]:
            meta = annotated.obs
        if meta_path is not None:
            meta = _join_metadata(meta_path, annotated, id_column, label)
        meta = design.check(meta, label=label, id_column=id_column)
        return _analyze(
            data,
            outdir,
            design,
            scoring,
            metadata=meta,
            formats=formats,
            title=title or f"resistscore: {path.name}",
            label=label,
            inputs=inputs,
            log=log,
            input_path=path if path.is_file() else None,
        )


def _random_state(random_state: int, seed: int | None) -> int:
    """``random_state``, or the deprecated ``seed`` of :func:`analyze` (with a warning)."""
    if seed is None:
        return random_state
    if random_state not in (0, seed):
        raise ResistScoreError(
            f"`seed` ({seed!r}) and `random_state` ({random_state!r}) were both given; pass random_state only."
        )
    warn(
        "rs.analyze(seed=...) is deprecated; pass random_state=... (scanpy's name).",
        DeprecatedArgumentWarning,
    )
    return seed


def _score_of(data, scoring: dict[str, Any]):
    """Score ``data``: its :class:`~resistscore.tl.ScoreResult` and its QC, taken in the same pass over the rows.

    The QC (:func:`resistscore.tl.qc_rows`) comes from the blocks the engine reads: no second pass, and a large
    sparse matrix is never densified (as :func:`resistscore.pp.qc` would). An AnnData gets the run in place, as
    ``rs.tl.score(adata)`` writes it (scanpy's convention); a streamed file (:class:`FileInput`) is read in
    chunks and gives a result of its own (nothing of it is kept in memory but the result).
    """
    rows = tl.qc_rows(data.rows if isinstance(data, FileInput) else data)
    result = tl.score(rows, **scoring)
    if isinstance(data, ad.AnnData):
        result.to_anndata(data)
        result = get.result(data)
    return result, rows.qc_report()


def _analyze(
    data,
    outdir,
    design: Design,
    scoring: dict[str, Any],
    *,
    metadata=None,
    formats=("png", "pdf"),
    title: str = "resistscore analysis",
    label: Callable[[str], str] = _cli,
    inputs: Sequence[Path | None] = (),
    log: WarningLog | None = None,
    input_path: Path | None = None,
) -> AnalysisOutputs:
    """:func:`analyze` with its options grouped: ``design`` (statistics), ``scoring`` (``rs.tl.score``)."""
    option = label("out") if label is _cli else label("outdir")
    check_output_folder(outdir, inputs, option=option)
    fmts = _figure_formats(formats, label)
    annotated = _annotated(data)
    if metadata is None and annotated is not None:
        metadata = annotated.obs
    metadata = design.check(metadata, label=label)
    scoring = {k: v for k, v in scoring.items() if v is not None or k not in ("n_controls",)}
    record: dict[str, Any] = {"inputs": [str(p) for p in inputs if p is not None]}
    # the temporary folder is made first: an unwritable output fails before any work
    with _logging(log) as log, atomic_dir(outdir, inputs, option=option, record=record) as stage:
        result, conf, stats, qc = _compute(data, metadata, design, scoring, label)
        outputs = AnalysisOutputs(
            outdir=stage, result=result, stats=stats, confounders=conf, mapping=_mapping_of(data), qc=qc
        )
        outputs.confounder_correlation = tl.confounder_correlation(result.scores, conf.scores)
        _write_tables(outputs, stage)
        common = {"metadata": metadata, "design": design, "stats": stats}
        figures = _figures(result, stage / "figures", fmts, adata=annotated, **common)
        outputs.add("figures", *figures)
        # the report embeds the PNG files just written: each figure is drawn once
        html = _report(
            result,
            stage / "report.html",
            data,
            qc,
            log,
            title,
            input_path,
            scoring,
            figures=figures,
            **common,
        )
        outputs.add("report", html)
        outputs.warnings = list(log.messages)
        record["warnings"] = list(log.messages)
    return outputs.moved(stage, Path(outdir))


def _compute(
    data, metadata, design: Design, scoring: dict[str, Any], label
) -> tuple[Any, Any, dict[str, Any], Any]:
    """Score the data (with its QC) and the confounders, and run the statistics of the design."""
    result, qc = _score_of(data, scoring)
    _require_scores(result, label=label)
    conf = _score_confounders(data, result, scoring)
    stats = _stats_tables(result, metadata, design, conf) if metadata is not None else {}
    return result, conf, stats, qc


def _write_tables(outputs: AnalysisOutputs, stage: Path) -> None:
    """Return the scores (wide and tidy), the coverage, the confounders and one table per statistical analysis."""
    result = outputs.result
    outputs.add("scores", write_table(result.scores, stage / "scores.csv"))
    outputs.add(
        "scores (tidy, with p-values and FDR)",
        write_table(result.tidy(), stage / "scores_tidy.csv", index=False),
    )
    outputs.add("coverage", write_table(result.coverage, stage / "coverage.csv"))
    outputs.add("confounder scores", write_table(outputs.confounders.scores, stage / "confounder_scores.csv"))
    outputs.add(
        "correlation with confounders",
        write_table(outputs.confounder_correlation, stage / "confounder_correlation.csv", index=False),
    )
    for name, st in outputs.stats.items():
        outputs.add("statistics", write_table(st.table, stage / f"stats_{name}.csv", index=False))


def _figures(result, folder: Path, formats, **kwargs) -> list[Path]:
    from resistscore import pl

    return pl.save_all(result, folder, formats=formats, **kwargs)


def _report(
    result, path: Path, data, qc_report, log: WarningLog, title, input_path, scoring, **common
) -> Path:
    """Return the HTML report, with the QC (taken while scoring) and gene mapping of the data and the signatures scored."""
    from resistscore import report

    qc = [qc_report]
    data = _annotated(data)
    if data is not None and get.record(data, get.GENE_MAPPING) is not None:
        qc.append(pp.GeneMappingReport.from_dict(get.record(data, get.GENE_MAPPING)))
    signatures = scoring.get("signatures")
    return report.write(
        result,
        path,
        qc=qc,
        title=title,
        input_path=input_path,
        warnings=log.messages,
        signatures=signatures if signatures is not None else sig.load(),
        **common,
    )


#: ``key_added`` of the confounders' run in an AnnData analysed by :func:`analyze`
CONFOUNDER_KEY = "resistscore_confounders"


def _score_confounders(data, result, scoring: dict[str, Any]):
    """Score the confounder signatures as the mechanisms were scored (same method and seed, no p-values).

    A confounder below its minimal coverage gets NaN scores, recorded in the result's coverage; the
    coverage warning is not repeated here (the confounders are context, not the analysis). A streamed file
    is read again, in chunks.
    """
    if isinstance(data, FileInput):
        data = data.rows
    kwargs = {"method": result.method, "random_state": scoring.get("random_state", 0), "pvalues": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowCoverageWarning)
        if isinstance(data, ad.AnnData):  # a run of its own beside the mechanisms' (scanpy's key_added)
            tl.score(data, sig.confounders(), key_added=CONFOUNDER_KEY, progress=False, **kwargs)
            return get.result(data, CONFOUNDER_KEY)
        return tl.score(data, sig.confounders(), progress=False, **kwargs)


def run_demo(outdir: str | Path, *, kind: str = "bulk", seed: int = 0) -> AnalysisOutputs:
    """Run :func:`analyze` on the toy cohort (``rs.ds.toy``): the README's main command."""
    check_output_folder(outdir, option="--out")
    adata = ds.toy(kind, seed=seed)
    scoring = {"random_state": seed}
    if kind == "sc":
        import scanpy as sc

        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)
        design = Design(group="group", response="log10_ic50", sample_key="patient")
        return _analyze(adata, outdir, design, scoring, title="resistscore demo: single-cell toy cohort")
    design = Design(group="group", response="log10_ic50", time="survival_months", event="event")
    return _analyze(adata, outdir, design, scoring, title="resistscore demo: bulk toy cohort")


# ---------------------------------------------------------------------------------- CLI commands
#: outputs of ``resistscore score``: a text table, parquet, or an AnnData of the scores
SCORE_SUFFIXES = (*TABLE_SUFFIXES, ".parquet", ".h5ad")


def score_file(
    input_path: Path,
    out: Path,
    *,
    signatures=None,
    method=None,
    pvalues=True,
    n_controls=None,
    seed=0,
    tidy=False,
    scheduler: str | None = None,
    workers: int | None = None,
    harmonize: bool = True,
    probe_collapse: str = pp.DEFAULT_COLLAPSE,
    float32: bool = False,
    **read_kwargs,
) -> AnalysisOutputs:
    """Read an expression file, harmonise its genes, score it and write the scores table.

    ``read_kwargs`` (``format``, ``orientation``, ``gene_column``, ``sheet``, ``decimal``, ``thousands``)
    go to :func:`resistscore.io.read`. An ``.h5ad`` file or ``.zarr`` store is never loaded whole: it is
    scored as ``rs.tl.score(path)`` scores it - its gene names are harmonised on their own and the rows
    are read, harmonised and scored in chunks (:func:`resistscore.tl.harmonized_rows`) - on the Dask
    cluster at ``scheduler`` or on a local cluster of ``workers`` processes when one is given.
    ``harmonize=False`` scores the genes under the file's own names; ``probe_collapse`` is the rule for
    identifiers mapped to the same gene (``max_mean`` costs one more chunked pass over a streamed file);
    ``float32`` keeps the scores, p-values and FDR in single precision. The output's suffix picks its
    format: ``.csv``/``.tsv`` (optionally ``.gz``), ``.parquet``, or ``.h5ad`` (scores in ``X``, p-values
    and FDR as layers); it is written atomically.
    """
    out = Path(out)
    if not out.name.lower().endswith(SCORE_SUFFIXES):
        raise InputFormatError(
            f"--out {out} must end in .csv or .tsv (optionally .gz), .parquet or .h5ad; give a file name such as "
            "scores.csv."
        )
    if workers is not None and scheduler is not None:
        raise ResistScoreError("give --scheduler or --workers, not both.")
    sigs, sig_path = parse_signatures(signatures)
    check_output_file(out, [input_path, sig_path])
    kwargs = {} if n_controls is None else {"n_controls": n_controls}
    input_path = Path(input_path)
    stream = _streams(input_path, read_kwargs)
    if not stream and (scheduler or workers) and input_path.suffix.lower() in STREAM_SUFFIXES:
        raise InputFormatError(
            f"--scheduler/--workers score AnnData files with samples as observations; {input_path.name} stores "
            "genes as observations (or --format/--orientation say so). Transpose it (adata.T.write_h5ad) or score "
            "it without a cluster."
        )
    if not stream and (scheduler or workers):
        raise InputFormatError(
            f"--scheduler/--workers score .h5ad files and .zarr stores; {input_path.name} is neither. Convert it "
            "(rs.io.read, then adata.write_h5ad) or score it without a cluster."
        )
    check_choice("probe_collapse", probe_collapse, tuple(pp.COLLAPSE_RULES))
    dtype = "float32" if float32 else "float64"
    with dask_client(scheduler, workers) as client:
        if stream:  # read in chunks; harmonised as rs.tl.score(path) harmonises it
            try:
                data = (
                    tl.harmonized_rows(input_path, probe_collapse=probe_collapse) if harmonize else input_path
                )
            except GeneIdentifierError:  # genes stored as observations: read whole and transposed, as before
                if client is not None or not _stored_transposed(input_path, read_kwargs):
                    raise
                stream = False
        if not stream:
            data = _load_expression(
                input_path, harmonize=harmonize, probe_collapse=probe_collapse, **read_kwargs
            )
        mapping = _mapping_of(data)
        if (
            client is None
        ):  # QC taken in the pass that scores the rows (on a cluster the rows stay on the workers)
            data = tl.qc_rows(data)
        scored = tl.score(
            data,
            sigs,
            method=method,
            pvalues=pvalues,
            random_state=seed,
            client=client,
            harmonize=False,  # harmonised above (or asked not to be)
            dtype=dtype,
            **kwargs,
        )
        # an AnnData is scored in place; a stream gives the result
        result = get.result(data) if scored is None else scored
        qc = data.qc_report() if isinstance(data, tl.QCRows) else None
    _require_scores(result)
    outputs = AnalysisOutputs(outdir=out.parent, result=result, mapping=mapping, qc=qc)
    outputs.add("scores", write_scores(result, out, tidy=tidy))
    return outputs


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None):
    """Yield a ``dask.distributed.Client`` for ``--scheduler`` / ``--workers``, or ``None``.

    The client of the cluster at ``scheduler``, or of a local cluster of ``workers`` processes (one
    thread each, on the loopback interface; closed with all its processes at the end), or ``None``
    (the in-process engine).
    """
    if scheduler is None and workers is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ResistScoreError(
            "--scheduler/--workers need dask.distributed; install it (pip install 'resistscore[distributed]')."
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as e:
            raise ResistScoreError(
                f"cannot connect to the Dask scheduler at {scheduler} ({type(e).__name__}: {e}); check the address "
                "(tcp://HOST:PORT) and that the scheduler runs."
            ) from None
        with client:
            yield client
        return
    if workers < 1:
        raise ResistScoreError(f"--workers must be at least 1; got {workers}.")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def write_scores(result, out: Path, *, tidy: bool = False) -> Path:
    """Write a :class:`~resistscore.tl.ScoreResult` by the suffix of ``out`` (atomically).

    A text table (wide scores, or ``tidy()`` with ``tidy``), parquet (the same table), or ``.h5ad`` (an AnnData:
    samples x signatures, scores in ``X``, ``layers["pvalues"]`` and ``layers["fdr"]``, the coverage in ``var``).
    Parquet and h5ad keep the result's type (float32 results stay float32).
    """
    from resistscore._atomic import atomic_path

    out = Path(out)
    name = out.name.lower()
    table = result.tidy() if tidy else result.scores
    if name.endswith(TABLE_SUFFIXES):
        return write_table(table, out, index=not tidy)
    if name.endswith(".parquet"):
        with atomic_path(out) as tmp:
            table.to_parquet(tmp, index=not tidy)
        return out
    scores = result.scores
    a = ad.AnnData(
        X=scores.to_numpy(),
        obs=pd.DataFrame(index=scores.index.astype(str)),
        var=pd.DataFrame(index=scores.columns.astype(str)),
    )
    for key in ("pvalues", "fdr"):
        frame = getattr(result, key)
        if frame is not None:
            a.layers[key] = frame.to_numpy()
    cov = result.coverage.reindex(scores.columns)
    for col in cov.columns:
        a.var[col] = cov[col].to_numpy() if cov[col].dtype != object else cov[col].astype(str).to_numpy()
    with atomic_path(out) as tmp:
        a.write_h5ad(tmp)
    return out


def export_signatures(out: Path, *, fmt=None, ids=None, drug=None) -> Path:
    """Export shipped (or drug-specific) signatures in GMT / long-table / folder format.

    A GMT or TSV file is replaced atomically; a folder is written like every multi-file output
    (:func:`resistscore._atomic.atomic_dir`).
    """
    out = Path(out)
    if fmt is None:
        name = out.name.lower()
        fmt = (
            "gmt"
            if ".gmt" in name
            else "tsv"
            if name.endswith((".tsv", ".tsv.gz", ".txt"))
            else "yaml-folder"
        )
    if ids is not None and drug is not None:
        raise SignatureError("give --ids or --drug, not both.")
    if ids is not None and not _split(ids):
        raise SignatureError(
            "--ids is empty; give signature ids separated by commas, or leave it out for all."
        )
    if fmt == "yaml-folder":
        check_output_folder(out)
    else:
        check_output_file(out)
    if drug is not None:
        selected = sig.drug_signature(drug)
    else:
        selected = sig.load()
        if ids:
            wanted = _split(ids)
            unknown = [i for i in wanted if i not in selected]
            if unknown:
                raise SignatureError(
                    f"--ids: unknown signature id(s) {unknown[:5]}; `resistscore signatures list` shows them."
                )
            selected = selected.select(wanted)
    if fmt != "yaml-folder":
        return sig.export(selected, out, format=fmt, overwrite=True)
    with atomic_dir(out) as stage:
        sig.export(selected, stage, format=fmt, overwrite=True)
    return out


def _cli_design(group, response, time, event, covariates, test, adjust=None) -> Design:
    """Return the design of the command line's options (``--covariates`` and ``--adjust`` separated by commas)."""
    return Design(
        group=group,
        response=response,
        time=time,
        event=event,
        covariates=_split(covariates),
        test=test,
        adjust=adjust,
    )


def stats_file(
    scores_path,
    metadata_path,
    out,
    *,
    id_column=None,
    group=None,
    response=None,
    time=None,
    event=None,
    covariates=None,
    test=None,
    adjust=None,
) -> AnalysisOutputs:
    """Run the statistics of :func:`analyze` on a scores table and a metadata table.

    ``adjust`` names confounder columns of the scores table (e.g. ``proliferation`` for
    ``confounder.proliferation``) to adjust every statistic for.
    """
    out = Path(out)
    _check_table_suffix(out)
    design = _cli_design(group, response, time, event, covariates, test, adjust)
    if not design.has_tests:
        raise StatisticsError("nothing to test: give --group, --response, or --time with --event.")
    design.check_options(True, _cli)
    check_output_file(out, [scores_path, metadata_path])
    scores = read_scores(Path(scores_path))
    meta = _join_metadata(Path(metadata_path), scores, id_column)
    meta = design.check(meta, label=_cli, id_column=id_column)
    stats = _stats_tables(scores, meta, design)
    table = pd.concat([st.table.assign(analysis=name) for name, st in stats.items()], ignore_index=True)
    outputs = AnalysisOutputs(outdir=out.parent, stats=stats)
    outputs.add("statistics", write_table(table, out, index=False))
    return outputs


def plot_file(
    scores_path, outdir, *, metadata=None, id_column=None, group=None, response=None, formats="png,pdf"
) -> AnalysisOutputs:
    """Draw the standard figures of a scores table into ``outdir`` (a folder replaced as a whole)."""
    from resistscore import pl

    fmts = _figure_formats(formats)
    inputs = [scores_path, metadata]
    design = Design(group=group, response=response)
    design.check_options(metadata is not None, _cli)
    check_output_folder(outdir, inputs)
    scores = read_scores(Path(scores_path))
    meta = None
    if metadata is not None:
        meta = _join_metadata(Path(metadata), scores, id_column)
        meta = design.check(meta, label=_cli, id_column=id_column)
    with atomic_dir(outdir, inputs, record={"inputs": [str(p) for p in inputs if p is not None]}) as stage:
        files = pl.save_all(scores, stage, metadata=meta, design=design, formats=fmts)
        outputs = AnalysisOutputs(outdir=stage)
        outputs.add("figures", *files)
    return outputs.moved(stage, Path(outdir))


def analyze_file(
    input_path,
    outdir,
    *,
    metadata=None,
    id_column=None,
    signatures=None,
    method=None,
    seed=0,
    pvalues=True,
    n_controls=None,
    group=None,
    response=None,
    time=None,
    event=None,
    covariates=None,
    test=None,
    adjust=None,
    formats="png,pdf",
    **read_kwargs,
) -> AnalysisOutputs:
    """Read an expression file (and optional metadata) and run :func:`analyze` on it (``resistscore report``).

    An ``.h5ad`` file or ``.zarr`` store is never loaded whole: it is scored in chunks as ``rs.tl.score(path)``
    scores it, and the statistics, figures and report are made from the results and the file's ``obs`` (see
    :class:`FileInput`). Other formats are read whole by :func:`resistscore.io.read`.
    """
    design = _cli_design(group, response, time, event, covariates, test, adjust)
    fmts = _figure_formats(formats)
    sigs, sig_path = parse_signatures(signatures)
    scoring = {
        "signatures": sigs,
        "method": method,
        "random_state": seed,
        "pvalues": pvalues,
        "n_controls": n_controls,
    }
    return _analyze_path(
        Path(input_path),
        outdir,
        design,
        scoring,
        metadata=Path(metadata) if metadata is not None else None,
        id_column=id_column,
        formats=fmts,
        other_inputs=[sig_path],
        read_kwargs=read_kwargs,
    )


NCI60_DRUGS = ("doxorubicin", "paclitaxel", "docetaxel", "vinblastine", "cisplatin")
"""P-glycoprotein substrates of the NCI-60 check, and cisplatin (not a substrate) as the negative control."""


def run_nci60(
    data_dir: str | Path,
    outdir: str | Path,
    *,
    method: str = "singscore",
    formats: tuple[str, ...] = ("png", "pdf"),
) -> AnalysisOutputs:
    """Return the NCI-60 P-glycoprotein validation, with the shipped signatures and no parameter fitted to the data.

    Scores every cell line of the panel (``rs.ds.nci60``) for the P-gp sub-signature ``efflux_abc.abcb1``,
    the broad ``efflux_abc`` signature and the drug-specific signatures of doxorubicin, paclitaxel,
    docetaxel, vinblastine and cisplatin; ranks the panel; contrasts NCI/ADR-RES with its parent OVCAR-8
    gene by gene; and correlates each score with -log10 GI50 (Spearman, BH FDR). Writes the tables and
    figures into ``outdir`` (a folder replaced as a whole when everything is done).

    Parameters
    ----------
    data_dir
        Folder with the three public NCI-60 files (see ``rs.ds.nci60``); nothing of them ships.
    outdir
        Output folder.
    method
        Scoring method (default singscore, the bulk default).
    formats
        Figure formats.

    Returns
    -------
    AnalysisOutputs
    """
    import matplotlib.pyplot as plt

    from resistscore import pl

    with atomic_dir(outdir, [data_dir], record={"inputs": [str(data_dir)]}) as stage:
        data = ds.nci60(data_dir)
        expr = data.expression.to_df()
        pgp, broad = "efflux_abc.abcb1", "efflux_abc"
        res = tl.score(expr, sig.load(ids=[broad, pgp]), method=method, random_state=0)
        dres = tl.score(expr, sig.drug_signatures(NCI60_DRUGS), method=method, pvalues=False)
        gi = data.gi50[data.gi50["cell_line"] != ""]
        gi50 = gi.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
        gi50.columns = [str(c).lower() for c in gi50.columns]
        gi50 = gi50[list(NCI60_DRUGS)]

        ranking = res.scores[[pgp, broad]].sort_values(pgp, ascending=False)
        ranking.insert(0, "rank_pgp", range(1, len(ranking) + 1))
        ranking["pvalue_pgp"] = (
            res.pvalues[pgp].reindex(ranking.index) if res.pvalues is not None else float("nan")
        )
        ranking["panel"] = data.expression.obs["panel"].reindex(ranking.index)
        contrast = tl.compare_samples(res, "NCI/ADR-RES", "OVCAR-8", signatures=[pgp, broad])
        assoc = [tl.associate(res, gi50, signatures=[pgp, broad]).table]
        for drug in NCI60_DRUGS:
            assoc.append(tl.associate(dres, gi50[[drug]], signatures=[f"drug.{drug}"]).table)
        associations = pd.concat(assoc, ignore_index=True)

        outputs = AnalysisOutputs(outdir=stage)
        outputs.add("ranking of the panel", write_table(ranking, stage / "ranking_pgp.csv"))
        outputs.add(
            "NCI/ADR-RES vs OVCAR-8, per gene",
            write_table(contrast.table, stage / "adr_res_vs_ovcar8.csv", index=False),
        )
        outputs.add(
            "score vs -log10 GI50", write_table(associations, stage / "associations_gi50.csv", index=False)
        )
        outputs.add("scores", write_table(pd.concat([res.scores, dres.scores], axis=1), stage / "scores.csv"))
        figdir = stage / "figures"
        with pl.theme():
            fig, axes = plt.subplots(1, len(NCI60_DRUGS), figsize=(3.2 * len(NCI60_DRUGS), 3.2), sharex=True)
            try:
                for ax, drug in zip(axes, NCI60_DRUGS):
                    pl.response(res, gi50[drug], signature=pgp, ax=ax)
                    ax.set_title(drug)
                    ax.set_ylabel("-log10 GI50" if ax is axes[0] else "")
                figures = [pl.save_figure(fig, figdir / f"pgp_score_vs_gi50.{fmt}") for fmt in formats]
            finally:
                plt.close(fig)
            ax = pl.contributions(res, samples=["NCI/ADR-RES", "OVCAR-8"], signature=broad)
            try:
                figures += [
                    pl.save_figure(ax, figdir / f"efflux_contributions_adr_res_vs_ovcar8.{fmt}")
                    for fmt in formats
                ]
            finally:
                plt.close(ax.figure)
            ax = pl.forest(
                associations.assign(signature=associations["signature"] + " / " + associations["response"])
            )
            try:
                figures += [pl.save_figure(ax, figdir / f"associations_forest.{fmt}") for fmt in formats]
            finally:
                plt.close(ax.figure)
        outputs.add("figures", *figures)
    return outputs.moved(stage, Path(outdir))
