"""Command-line entry point ``resistscore``.

Every subcommand parses its options, calls one function of the public API and prints where the
outputs went. Input problems (our ``ResistScoreError``) become one line on stderr and exit code 2;
no traceback, no partial output file.
"""

from __future__ import annotations

import functools
import sys
import warnings
from pathlib import Path

import click

from resistscore._errors import ResistScoreError, ResistScoreWarning, SignatureError
from resistscore._version import __version__

EXIT_BAD_INPUT = 2


def _friendly(fn):
    """Turn our input errors (and missing/unreadable files) into one clear line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("default", ResistScoreWarning)
            warnings.showwarning = _show_warning
            try:
                return fn(*args, **kwargs)
            except ResistScoreError as err:
                click.echo(f"error: {err}", err=True)
                sys.exit(EXIT_BAD_INPUT)
            except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
                name = getattr(err, "filename", None) or str(err)
                reason = {
                    FileNotFoundError: "does not exist; check the path",
                    IsADirectoryError: "is a folder, not a file; give the path of a file",
                    PermissionError: "cannot be read or written (permission denied); check its permissions",
                }[type(err)]
                click.echo(f"error: {name} {reason}.", err=True)
                sys.exit(EXIT_BAD_INPUT)

    return wrapper


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"warning: {message}", err=True)


def _done(paths: dict[str, object]) -> None:
    for what, path in paths.items():
        click.echo(f"{what}: {path}")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="resistscore")
def cli() -> None:
    """Score gene expression for the mechanisms of cancer drug resistance.

    Signatures follow Mansoori et al., Adv Pharm Bull 2017;7(3):339-348 (doi:10.15171/apb.2017.041),
    corrected where the review errs. Run `resistscore demo --out DIR` for a complete example.
    """


# ----------------------------------------------------------------------------------------- demo
@cli.command()
@click.option(
    "--out", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option(
    "--kind", type=click.Choice(["bulk", "sc"]), default="bulk", show_default=True, help="Toy cohort flavour."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed of the toy cohort and the null sets."
)
@_friendly
def demo(outdir: Path, kind: str, seed: int) -> None:
    """Run the whole analysis on the toy cohort: scores, statistics, figures and an HTML report."""
    from resistscore._workflow import run_demo

    outputs = run_demo(outdir, kind=kind, seed=seed)
    click.echo(f"resistscore demo ({kind} toy cohort) finished; outputs in {outdir}")
    _done(outputs.summary())


# ---------------------------------------------------------------------------------------- score
@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Scores file (.csv, .tsv).",
)
@click.option(
    "--signatures",
    default=None,
    help="Signature ids (comma-separated), a signature folder/YAML, or a GMT file. Default: all shipped mechanisms.",
)
@click.option(
    "--method",
    default=None,
    help="Scoring method (see `resistscore methods`). Default: singscore for bulk, UCell for single cell.",
)
@click.option(
    "--orientation",
    type=click.Choice(["auto", "genes_x_samples", "samples_x_genes"]),
    default="auto",
    show_default=True,
)
@click.option("--gene-column", default=None, help="Column holding the gene identifiers (default: detected).")
@click.option("--sheet", default=None, help="Excel sheet name (default: the first sheet).")
@click.option(
    "--pvalues/--no-pvalues",
    default=True,
    show_default=True,
    help="Empirical p-values against matched random gene sets.",
)
@click.option(
    "--n-controls", type=int, default=None, help="Number of matched control gene sets per signature."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--tidy", is_flag=True, help="Write a long table (sample, signature, score, pvalue, fdr, coverage)."
)
@_friendly
def score(
    input_path: Path,
    out: Path,
    signatures,
    method,
    orientation,
    gene_column,
    sheet,
    pvalues,
    n_controls,
    seed,
    tidy,
) -> None:
    """Score an expression file (CSV/TSV, Excel, parquet, GCT, GEO series matrix, h5ad, 10x) for resistance mechanisms."""
    from resistscore._workflow import score_file

    outputs = score_file(
        input_path,
        out,
        signatures=signatures,
        method=method,
        orientation=orientation,
        gene_column=gene_column,
        sheet=sheet,
        pvalues=pvalues,
        n_controls=n_controls,
        seed=seed,
        tidy=tidy,
    )
    _done(outputs.summary())


# ------------------------------------------------------------------------------------- methods
@cli.command()
def methods() -> None:
    """List the scoring methods and their properties."""
    from resistscore.tl import show_methods

    table = show_methods()
    click.echo(table.drop(columns=["reference", "validated_against"], errors="ignore").to_string())


# ---------------------------------------------------------------------------------- signatures
@cli.group()
def signatures() -> None:
    """List, show and export the shipped signatures."""


@signatures.command("list")
@click.option("--level", type=click.Choice(["all", "mechanism", "sub"]), default="all", show_default=True)
@_friendly
def signatures_list(level: str) -> None:
    """List the signatures (id, name, genes up/down, version)."""
    from resistscore import sig

    table = sig.list(level=level)
    click.echo(table.to_string())


@signatures.command("show")
@click.argument("signature_id")
@_friendly
def signatures_show(signature_id: str) -> None:
    """Show one signature: its metadata and genes with direction, weight and evidence."""
    from resistscore import sig

    click.echo(sig.describe(signature_id))


@signatures.command("validate")
@click.argument("source", required=False, type=click.Path(path_type=Path))
@_friendly
def signatures_validate(source) -> None:
    """Validate signatures (default: the shipped collection; or a folder / YAML / GMT of your own)."""
    from resistscore import sig

    report = sig.validate(source)
    click.echo(report.table.to_string() if len(report.table) else "no problems found")
    if not report.ok:
        raise SignatureError(f"{len(report.errors)} problem(s) in the signatures; see the table above.")


@signatures.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output file (.gmt, .tsv) or folder (yaml-folder).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gmt", "tsv", "yaml-folder"]),
    default=None,
    help="Default: from the suffix of --out.",
)
@click.option("--ids", default=None, help="Comma-separated signature ids (default: all).")
@click.option(
    "--drug", default=None, help="Export the drug-specific signature of this drug (synonyms accepted)."
)
@_friendly
def signatures_export(out: Path, fmt, ids, drug) -> None:
    """Export signatures as GMT (directional sets as _UP/_DN pairs), a long table, or a YAML+TSV folder."""
    from resistscore._workflow import export_signatures

    path = export_signatures(out, fmt=fmt, ids=ids, drug=drug)
    click.echo(f"signatures written: {path}")


# ----------------------------------------------------------------------------------------- test
@cli.command("test")
@click.argument("scores_path", metavar="SCORES", type=click.Path(path_type=Path))
@click.option(
    "--metadata",
    type=click.Path(path_type=Path),
    required=True,
    help="Sample metadata table (first column or --id-column: sample ids).",
)
@click.option("--group", default=None, help="Metadata column with the groups to compare.")
@click.option(
    "--response", default=None, help="Metadata column with a continuous drug response (IC50, AUC, GI50)."
)
@click.option("--time", "time_col", default=None, help="Metadata column with survival time (with --event).")
@click.option("--event", default=None, help="Metadata column with the event indicator (1 = event).")
@click.option(
    "--covariates", default=None, help="Comma-separated metadata columns to adjust for (e.g. tissue,batch)."
)
@click.option(
    "--test",
    "test_name",
    default=None,
    help="Group test: welch (default; every pair of groups), mannwhitney, anova, kruskal.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Result table (.csv, .tsv)."
)
@_friendly
def test_cmd(scores_path, metadata, group, response, time_col, event, covariates, test_name, out) -> None:
    """Test scores against groups, drug response or survival (one tidy table, BH FDR across mechanisms)."""
    from resistscore._workflow import test_file

    outputs = test_file(
        scores_path,
        metadata,
        out,
        group=group,
        response=response,
        time=time_col,
        event=event,
        covariates=covariates,
        test=test_name,
    )
    _done(outputs.summary())


# ----------------------------------------------------------------------------------------- plot
@cli.command()
@click.argument("scores_path", metavar="SCORES", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(path_type=Path), default=None, help="Sample metadata table.")
@click.option("--group", default=None, help="Metadata column with groups (box plots, forest plot).")
@click.option("--response", default=None, help="Metadata column with a drug response (scatter plots).")
@click.option(
    "--out", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option(
    "--formats", default="png,pdf", show_default=True, help="Comma-separated figure formats (png, pdf, svg)."
)
@_friendly
def plot(scores_path, metadata, group, response, outdir, formats) -> None:
    """Draw the standard figures of a scores table (heatmap, group plots, profiles, response scatter)."""
    from resistscore._workflow import plot_file

    outputs = plot_file(
        scores_path, outdir, metadata=metadata, group=group, response=response, formats=formats
    )
    _done(outputs.summary())


# --------------------------------------------------------------------------------------- report
@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(path_type=Path), default=None, help="Sample metadata table.")
@click.option("--group", default=None, help="Metadata column with the groups to compare.")
@click.option("--response", default=None, help="Metadata column with a continuous drug response.")
@click.option("--time", "time_col", default=None, help="Metadata column with survival time.")
@click.option("--event", default=None, help="Metadata column with the event indicator.")
@click.option("--method", default=None, help="Scoring method.")
@click.option(
    "--out", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option("--seed", type=int, default=0, show_default=True)
@_friendly
def report(input_path, metadata, group, response, time_col, event, method, outdir, seed) -> None:
    """Full analysis of an expression file: scores, tests, figures and one self-contained HTML report."""
    from resistscore._workflow import analyze_file

    outputs = analyze_file(
        input_path,
        outdir,
        metadata=metadata,
        group=group,
        response=response,
        time=time_col,
        event=event,
        method=method,
        seed=seed,
    )
    _done(outputs.summary())


# ---------------------------------------------------------------------------------------- nci60
@cli.command()
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option(
    "--out", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@_friendly
def nci60(data_dir: Path, outdir: Path) -> None:
    """Reproduce the NCI-60 P-glycoprotein validation (tables and figures) from the public NCI-60 files in DATA_DIR."""
    from resistscore._workflow import run_nci60

    outputs = run_nci60(data_dir, outdir)
    _done(outputs.summary())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``resistscore`` console script."""
    cli.main(args=argv, prog_name="resistscore")
