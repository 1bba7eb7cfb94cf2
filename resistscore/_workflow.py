"""End-to-end analyses built from the public API: what the CLI and the demo run.

Each function reads its inputs, calls ``rs.io`` / ``rs.pp`` / ``rs.tl`` / ``rs.pl`` / ``rs.report`` and writes
its outputs atomically. Nothing here computes a score or a statistic itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import pandas as pd

from resistscore._atomic import atomic_write
from resistscore._errors import InputFormatError, ResistScoreError

__all__ = ["AnalysisOutputs", "analyze"]


@dataclass
class AnalysisOutputs:
    """The files an analysis wrote, by kind, plus the in-memory results."""

    outdir: Path | None = None
    files: dict[str, list[Path]] = field(default_factory=dict)
    result: object | None = None
    stats: dict[str, object] = field(default_factory=dict)

    def add(self, kind: str, *paths: Path) -> None:
        self.files.setdefault(kind, []).extend(Path(p) for p in paths)

    def summary(self) -> dict[str, str]:
        """One line per kind of output: where it is."""
        out = {}
        for kind, paths in self.files.items():
            out[kind] = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        return out


def _write_table(df: pd.DataFrame, path: Path, index: bool = True) -> Path:
    sep = "\t" if path.suffix.lower() in {".tsv", ".txt"} else ","
    with atomic_write(path) as fh:
        df.to_csv(fh, sep=sep, index=index)
    return path


def _read_table(path: Path, what: str) -> pd.DataFrame:
    """Read a small table written by resistscore or a user (scores, metadata)."""
    from resistscore import io as rsio

    return rsio.read_table(path, what=what)


def _stats_tables(
    result, metadata: pd.DataFrame, *, group, response, time, event, covariates, sample_key, test
):
    """Run the statistics asked for; each is skipped when its column is not given."""
    from resistscore import tl

    common = {"covariates": covariates, "sample_key": sample_key}
    stats: dict[str, object] = {}
    if group is not None:
        stats["groups"] = tl.compare_groups(result, metadata, group=group, test=test or "welch", **common)
    if response is not None:
        stats["response"] = tl.associate(result, response, metadata=metadata, **common)
    if time is not None or event is not None:
        if time is None or event is None:
            raise ResistScoreError("survival needs both `time` and `event` columns; give both (or neither).")
        stats["survival"] = tl.survival(result, metadata, time=time, event=event, **common)
    return stats


def analyze(
    data: ad.AnnData | pd.DataFrame,
    outdir: str | Path,
    *,
    metadata: pd.DataFrame | None = None,
    signatures=None,
    method: str | None = None,
    group: str | None = None,
    response: str | None = None,
    time: str | None = None,
    event: str | None = None,
    covariates: list[str] | None = None,
    sample_key: str | None = None,
    test: str | None = None,
    seed: int = 0,
    formats: tuple[str, ...] = ("png", "pdf"),
    title: str = "resistscore analysis",
    progress: bool | None = None,
) -> AnalysisOutputs:
    """Score, test, plot and report in one call; write everything into ``outdir``.

    Parameters
    ----------
    data
        Expression data: AnnData (obs = samples or cells, var = HGNC symbols) or a samples x genes DataFrame.
    outdir
        Folder for the outputs (created if needed): ``scores.csv``, ``scores_tidy.csv``, ``coverage.csv``,
        ``stats_*.csv``, ``figures/`` (each figure in every format of ``formats``) and ``report.html``.
    metadata
        Sample metadata indexed like the samples (default: ``data.obs`` for AnnData).
    signatures, method, seed
        Passed to :func:`resistscore.tl.score` (defaults: every shipped mechanism signature; singscore
        for bulk, UCell for single cell).
    group, response, time, event, covariates, test
        Metadata columns for the statistics (:func:`resistscore.tl.compare_groups`,
        :func:`resistscore.tl.associate`, :func:`resistscore.tl.survival`); each is skipped when ``None``.
    sample_key
        For single-cell data: the obs column of the biological replicate (e.g. ``"patient"``); tests then run
        on per-sample pseudobulk scores.
    formats
        Figure formats (vector formats such as ``"pdf"`` or ``"svg"`` for publication).
    title
        Title of the HTML report.
    progress
        Show a progress bar (``None``: only when writing to a terminal).

    Returns
    -------
    AnalysisOutputs listing every file written, and holding the score result and statistics.
    """
    from resistscore import pl, pp, report, tl

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    outputs = AnalysisOutputs(outdir=outdir)
    if metadata is None and isinstance(data, ad.AnnData):
        metadata = data.obs
    qc = [pp.qc(data)]
    if isinstance(data, ad.AnnData) and data.uns.get("resistscore", {}).get("gene_mapping") is not None:
        qc.append(pp.GeneMappingReport.from_dict(data.uns["resistscore"]["gene_mapping"]))
    result = tl.score(data, signatures, method=method, seed=seed, progress=progress, return_result=True)
    outputs.result = result
    outputs.add("scores", _write_table(result.scores, outdir / "scores.csv"))
    outputs.add(
        "scores (tidy, with p-values and FDR)",
        _write_table(result.tidy(), outdir / "scores_tidy.csv", index=False),
    )
    outputs.add("coverage", _write_table(result.coverage, outdir / "coverage.csv"))
    if metadata is not None:
        outputs.stats = _stats_tables(
            result,
            metadata,
            group=group,
            response=response,
            time=time,
            event=event,
            covariates=covariates,
            sample_key=sample_key,
            test=test,
        )
        for name, st in outputs.stats.items():
            outputs.add("statistics", _write_table(st.table, outdir / f"stats_{name}.csv", index=False))
    figures = pl.save_all(
        result,
        outdir / "figures",
        metadata=metadata,
        group=group,
        response=response,
        stats=outputs.stats,
        formats=formats,
        sample_key=sample_key,
        adata=data if isinstance(data, ad.AnnData) else None,
    )
    outputs.add("figures", *figures)
    html = report.write(
        result,
        outdir / "report.html",
        metadata=metadata,
        stats=outputs.stats,
        qc=qc,
        title=title,
    )
    outputs.add("report", html)
    return outputs


def run_demo(outdir: str | Path, *, kind: str = "bulk", seed: int = 0) -> AnalysisOutputs:
    """Run :func:`analyze` on the toy cohort (``rs.ds.toy``): the README's main command."""
    from resistscore import ds

    adata = ds.toy(kind, seed=seed)
    if kind == "sc":
        import scanpy as sc

        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)
        return analyze(
            adata,
            outdir,
            group="group",
            response="log10_ic50",
            sample_key="patient",
            seed=seed,
            title="resistscore demo: single-cell toy cohort",
        )
    return analyze(
        adata,
        outdir,
        group="group",
        response="log10_ic50",
        time="survival_months",
        event="event",
        covariates=None,
        seed=seed,
        title="resistscore demo: bulk toy cohort",
    )


def _load_expression(
    path: Path, orientation: str = "auto", gene_column: str | None = None, sheet: str | None = None
) -> ad.AnnData:
    from resistscore import io as rsio
    from resistscore import pp

    adata = rsio.read(path, orientation=orientation, gene_column=gene_column, sheet=sheet)
    adata, _report = pp.harmonize_genes(adata)
    return adata


def score_file(
    input_path: Path,
    out: Path,
    *,
    signatures=None,
    method=None,
    orientation="auto",
    gene_column=None,
    sheet=None,
    pvalues=True,
    n_controls=None,
    seed=0,
    tidy=False,
) -> AnalysisOutputs:
    """Read an expression file, harmonise its genes, score it and write the scores table."""
    from resistscore import sig, tl

    out = Path(out)
    if out.suffix.lower() not in {".csv", ".tsv", ".txt"}:
        raise InputFormatError(
            f"--out {out} must end in .csv or .tsv; give a scores file name such as scores.csv."
        )
    adata = _load_expression(Path(input_path), orientation, gene_column, sheet)
    sigs = sig.load(signatures) if signatures is not None else None
    kwargs = {} if n_controls is None else {"n_controls": n_controls}
    result = tl.score(adata, sigs, method=method, pvalues=pvalues, seed=seed, return_result=True, **kwargs)
    table = result.tidy() if tidy else result.scores
    outputs = AnalysisOutputs(outdir=out.parent, result=result)
    outputs.add("scores", _write_table(table, out, index=not tidy))
    return outputs


def export_signatures(out: Path, *, fmt=None, ids=None, drug=None) -> Path:
    """Export shipped (or drug-specific) signatures in GMT / long-table / folder format."""
    from resistscore import sig

    if drug is not None:
        selected = sig.drug_signature(drug)
    else:
        selected = sig.load()
        if ids:
            selected = selected.select([i.strip() for i in ids.split(",") if i.strip()])
    return sig.export(selected, out, format=fmt)


def test_file(scores_path, metadata_path, out, **kwargs) -> AnalysisOutputs:
    """Run the statistics of :func:`analyze` on a scores table and a metadata table."""
    scores = _read_table(Path(scores_path), "scores")
    metadata = _read_table(Path(metadata_path), "metadata")
    covariates = kwargs.pop("covariates", None)
    covariates = [c.strip() for c in covariates.split(",")] if covariates else None
    stats = _stats_tables(scores, metadata, covariates=covariates, sample_key=None, **kwargs)
    if not stats:
        raise ResistScoreError("nothing to test: give --group, --response, or --time with --event.")
    table = pd.concat([st.table.assign(analysis=name) for name, st in stats.items()], ignore_index=True)
    outputs = AnalysisOutputs(outdir=Path(out).parent, stats=stats)
    outputs.add("statistics", _write_table(table, Path(out), index=False))
    return outputs


def plot_file(
    scores_path, outdir, *, metadata=None, group=None, response=None, formats="png,pdf"
) -> AnalysisOutputs:
    """Draw the standard figures of a scores table into ``outdir``."""
    from resistscore import pl

    scores = _read_table(Path(scores_path), "scores")
    meta = _read_table(Path(metadata), "metadata") if metadata is not None else None
    fmts = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    files = pl.save_all(scores, Path(outdir), metadata=meta, group=group, response=response, formats=fmts)
    outputs = AnalysisOutputs(outdir=Path(outdir))
    outputs.add("figures", *files)
    return outputs


def analyze_file(
    input_path, outdir, *, metadata=None, method=None, seed=0, **stats_kwargs
) -> AnalysisOutputs:
    """Read an expression file (and optional metadata) and run :func:`analyze` on it."""
    from resistscore import io as rsio

    adata = _load_expression(Path(input_path))
    meta = None
    if metadata is not None:
        meta, _join = rsio.read_metadata(Path(metadata), adata=adata)
    return analyze(
        adata,
        outdir,
        metadata=meta,
        method=method,
        seed=seed,
        title=f"resistscore: {Path(input_path).name}",
        **stats_kwargs,
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
    """The NCI-60 P-glycoprotein validation, with the shipped signatures and no parameter fitted to the data.

    Scores every cell line of the panel (``rs.ds.nci60``) for the P-gp sub-signature ``efflux_abc.abcb1``,
    the broad ``efflux_abc`` signature and the drug-specific signatures of doxorubicin, paclitaxel,
    docetaxel, vinblastine and cisplatin; ranks the panel; contrasts NCI/ADR-RES with its parent OVCAR-8
    gene by gene; and correlates each score with -log10 GI50 (Spearman, BH FDR). Writes the tables and
    figures into ``outdir``.

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

    from resistscore import ds, pl, sig, tl

    outdir = Path(outdir)
    figdir = outdir / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    outputs = AnalysisOutputs(outdir=outdir)
    data = ds.nci60(data_dir)
    expr = data.expression.to_df()
    pgp, broad = "efflux_abc.abcb1", "efflux_abc"
    res = tl.score(expr, sig.load(ids=[broad, pgp]), method=method, seed=0)
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
    outputs.add("ranking of the panel", _write_table(ranking, outdir / "ranking_pgp.csv"))
    contrast = tl.compare_samples(res, "NCI/ADR-RES", "OVCAR-8", signatures=[pgp, broad])
    outputs.add(
        "NCI/ADR-RES vs OVCAR-8, per gene",
        _write_table(contrast.table, outdir / "adr_res_vs_ovcar8.csv", index=False),
    )
    assoc = [tl.associate(res, gi50, signatures=[pgp, broad]).table]
    for drug in NCI60_DRUGS:
        assoc.append(tl.associate(dres, gi50[[drug]], signatures=[f"drug.{drug}"]).table)
    associations = pd.concat(assoc, ignore_index=True)
    outputs.add(
        "score vs -log10 GI50", _write_table(associations, outdir / "associations_gi50.csv", index=False)
    )
    outputs.add("scores", _write_table(pd.concat([res.scores, dres.scores], axis=1), outdir / "scores.csv"))

    with pl.theme():
        fig, axes = plt.subplots(1, len(NCI60_DRUGS), figsize=(3.2 * len(NCI60_DRUGS), 3.2), sharex=True)
        for ax, drug in zip(axes, NCI60_DRUGS):
            pl.response(res, gi50[drug], signature=pgp, ax=ax)
            ax.set_title(drug)
            ax.set_ylabel("-log10 GI50" if ax is axes[0] else "")
        figures = [pl.save_figure(fig, figdir / f"pgp_score_vs_gi50.{fmt}") for fmt in formats]
        plt.close(fig)
        ax = pl.contributions(res, samples=["NCI/ADR-RES", "OVCAR-8"], signature=broad)
        figures += [
            pl.save_figure(ax, figdir / f"efflux_contributions_adr_res_vs_ovcar8.{fmt}") for fmt in formats
        ]
        plt.close(ax.figure)
        ax = pl.forest(
            associations.assign(signature=associations["signature"] + " / " + associations["response"])
        )
        figures += [pl.save_figure(ax, figdir / f"associations_forest.{fmt}") for fmt in formats]
        plt.close(ax.figure)
    outputs.add("figures", *figures)
    return outputs
