"""Command-line entry point ``resistscore``.

Every subcommand parses its options, calls one function of ``resistscore._workflow`` (built from the
public API) and prints where the outputs went. The promises, for every command:

* bad input (our ``ResistScoreError``) and every ``OSError`` (missing file, permission denied, read-only
  file system, full disk ...) become exactly one ``error: ...`` line on stderr and exit code 2, with the
  option names of the command line (``--format``, not the API's ``format=``);
* warnings of the API become one ``warning: ...`` line each on stderr (and are listed in the report);
* no command writes over one of its inputs, and a failed command leaves its output path as it was.

Each command imports the workflow (and with it numpy, pandas, anndata and the numba kernels) when it
runs, so that ``resistscore --help`` and errors in the options answer at once: these imports inside the
commands are deliberate, and the only function-local imports of this module.
"""

from __future__ import annotations

import errno
import functools
import re
import sys
import warnings
from pathlib import Path

import click

from resistscore._errors import ResistScoreError, ResistScoreWarning, SignatureError
from resistscore._version import __version__

EXIT_BAD_INPUT = 2

#: what an OSError means for the user, by errno
_OS_REASONS = {
    errno.ENOENT: "does not exist; check the path",
    errno.EACCES: "cannot be read or written (permission denied); check its permissions or choose another path",
    errno.EPERM: "cannot be read or written (operation not permitted); check its permissions or choose another path",
    errno.EROFS: "is on a read-only file system; write the output somewhere else",
    errno.ENOSPC: "cannot be written: no space left on the device; free some space or write somewhere else",
    errno.EDQUOT: "cannot be written: disk quota exceeded; free some space or write somewhere else",
    errno.EISDIR: "is a folder, not a file; give the path of a file",
    errno.ENOTDIR: "is not a folder (a part of the path is a file); check the path",
    errno.ENAMETOOLONG: "has a name too long for the file system; choose a shorter one",
    errno.EEXIST: "already exists; choose another path",
    errno.EXDEV: "is on another file system than its folder; choose another output path",
}


def _cli_names(text: str) -> str:
    """Name the options of the running command the way the command line spells them.

    The API's messages name its arguments (```format```, ``gene_column=``); the same words become
    ``--format`` and ``--gene-column`` when the current command has such an option.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return text
    flags = {}
    for param in ctx.command.params:
        for opt in getattr(param, "opts", ()):
            if opt.startswith("--"):
                flags[opt[2:].replace("-", "_")] = opt
    if "out" in flags:
        flags.setdefault("outdir", flags["out"])
    for name, flag in sorted(flags.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"`{name}`", flag)
        text = re.sub(
            rf"(?<![\w.\-]){re.escape(name)}=(?:'([^']*)'|\"([^\"]*)\"|(\w[\w.\-]*))?",
            lambda m, flag=flag: flag + (f" {m.group(1) or m.group(2) or m.group(3)}" if m.lastindex else ""),
            text,
        )
    return text


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", str(text)).strip()


def _os_message(err: OSError) -> str:
    name = err.filename if err.filename is not None else err.filename2
    reason = _OS_REASONS.get(err.errno)
    if name is None:
        return f"{err.strerror or err}; check the paths and the free space, then try again."
    if reason is None:
        return f"{name}: {err.strerror or err}."
    return f"{name} {reason}."


def _friendly(fn):
    """Turn input errors and OSErrors into one clear line and exit code 2; warnings into one line each."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        shown: set[str] = set()

        def show(message, category, filename, lineno, file=None, line=None):
            text = _cli_names(_one_line(message))
            if text not in shown:
                shown.add(text)
                click.echo(f"warning: {text}", err=True)

        with warnings.catch_warnings():
            warnings.simplefilter("always", ResistScoreWarning)
            warnings.showwarning = show
            try:
                return fn(*args, **kwargs)
            except ResistScoreError as err:
                click.echo(f"error: {_cli_names(_one_line(err))}", err=True)
                sys.exit(EXIT_BAD_INPUT)
            except OSError as err:
                click.echo(f"error: {_one_line(_os_message(err))}", err=True)
                sys.exit(EXIT_BAD_INPUT)

    return wrapper


def _done(paths: dict[str, object]) -> None:
    for what, path in paths.items():
        click.echo(f"{what}: {path}")


def _read_options(fn):
    """Return the options of ``rs.io.read`` shared by ``score`` and ``report``."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(
                ["auto", "csv", "tsv", "excel", "parquet", "gct", "geo", "h5ad", "10x_mtx", "10x_h5"]
            ),
            default="auto",
            show_default=True,
            help="Format of INPUT (default: detected from its content and suffix).",
        ),
        click.option(
            "--orientation",
            type=click.Choice(["auto", "genes_x_samples", "samples_x_genes"]),
            default="auto",
            show_default=True,
            help="Which axis of a table holds the genes (default: detected from the labels).",
        ),
        click.option(
            "--gene-column", default=None, help="Column holding the gene identifiers (default: detected)."
        ),
        click.option("--sheet", default=None, help="Excel sheet name (default: the first sheet)."),
        click.option(
            "--decimal",
            default=None,
            help="Decimal separator of a text table, '.' or ',' (default: decided from the whole file).",
        ),
        click.option(
            "--thousands",
            default=None,
            help="Thousands separator of a text table, e.g. ',' or '.' (default: decided from the whole file).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _stats_options(fn):
    """Return the statistics options shared by ``test`` and ``report``."""
    options = [
        click.option("--id-column", default=None, help=ID_COLUMN_HELP),
        click.option("--group", default=None, help="Metadata column with the groups to compare."),
        click.option(
            "--response",
            default=None,
            help="Metadata column with a continuous drug response (IC50, AUC, GI50).",
        ),
        click.option(
            "--time", "time_col", default=None, help="Metadata column with survival time (with --event)."
        ),
        click.option("--event", default=None, help=EVENT_HELP),
        click.option(
            "--covariates",
            default=None,
            help="Comma-separated metadata columns to adjust for (e.g. tissue,batch).",
        ),
        click.option(
            "--adjust",
            default=None,
            help=(
                "Comma-separated confounders to adjust every statistic for: proliferation, stromal, immune "
                "(their scores become covariates; see docs/statistics.md)."
            ),
        ),
        click.option(
            "--test",
            "test_name",
            type=click.Choice(["welch", "mannwhitney", "anova", "kruskal"]),
            default="welch",
            show_default=True,
            help="Group test: welch (every pair of groups), mannwhitney, anova, kruskal.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _read_kwargs(fmt, orientation, gene_column, sheet, decimal, thousands) -> dict:
    return {
        "format": fmt,
        "orientation": orientation,
        "gene_column": gene_column,
        "sheet": sheet,
        "decimal": decimal,
        "thousands": thousands,
    }


SIGNATURES_HELP = (
    "Shipped signature ids separated by commas (e.g. efflux_abc,apoptosis; see `resistscore signatures "
    "list`), or a signature folder/YAML, GMT file or long table (source, target, weight). "
    "Default: every shipped mechanism signature."
)
ID_COLUMN_HELP = (
    "Metadata column with the sample ids (default: the column that matches the sample names best)."
)
EVENT_HELP = "Metadata column with the event indicator: 1/0, True/False or yes/no (1, True, yes = event)."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="resistscore")
def cli() -> None:
    """Score gene expression for the mechanisms of cancer drug resistance.

    Signatures follow Mansoori et al., Adv Pharm Bull 2017;7(3):339-348 (doi:10.15171/apb.2017.041),
    corrected where the review errs. Run `resistscore demo --out DIR` for a complete example.

    Bad input gets one `error:` line and exit code 2; no command writes over its inputs, and a command
    that fails leaves its output as it was. A folder output (demo, report, plot, nci60) is replaced as a
    whole: it must be new, empty, or the output of an earlier run.
    """


# ----------------------------------------------------------------------------------------- demo
@cli.command()
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (new, empty, or an earlier resistscore output; replaced as a whole).",
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
    type=click.Path(path_type=Path),
    required=True,
    help="Scores file (.csv or .tsv, optionally .gz; .parquet; .h5ad); never one of the inputs.",
)
@click.option("--signatures", default=None, help=SIGNATURES_HELP)
@click.option(
    "--method",
    default=None,
    help="Scoring method (see `resistscore methods`). Default: singscore for bulk, UCell for single cell.",
)
@_read_options
@click.option(
    "--pvalues/--no-pvalues",
    default=True,
    show_default=True,
    help="Empirical p-values against matched random gene sets.",
)
@click.option(
    "--n-controls", type=int, default=None, help="Number of matched control gene sets per signature."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the control sets.")
@click.option(
    "--tidy",
    is_flag=True,
    help="Write a long table instead: one row per sample and signature, with the columns of "
    "ScoreResult.tidy() (score; pvalue and fdr, empty with --no-pvalues; the signature's coverage).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Score on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786); INPUT must be an .h5ad "
    "file or .zarr store that the workers can read at the same path.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Score on a local Dask cluster of this many worker processes (one thread each).",
)
@click.option(
    "--harmonize/--no-harmonize",
    default=True,
    show_default=True,
    help="Map the gene identifiers (Ensembl, Entrez, aliases, probe sets) to HGNC symbols before scoring, as "
    "rs.tl.score(path) does; --no-harmonize scores the genes under the file's own names.",
)
@click.option(
    "--probe-collapse",
    type=click.Choice(["mean", "max_mean", "sum", "first"]),
    default="mean",
    show_default=True,
    help="Rule for identifiers mapped to the same gene (see docs/methods.md); max_mean (cohort-level) reads "
    "an .h5ad/.zarr file once more, in chunks.",
)
@click.option(
    "--float32",
    is_flag=True,
    help="Keep the scores, p-values and FDR in single precision (half the memory; values rounded to float32).",
)
@_friendly
def score(
    input_path: Path,
    out: Path,
    signatures,
    method,
    pvalues,
    n_controls,
    seed,
    tidy,
    scheduler,
    workers,
    harmonize,
    probe_collapse,
    float32,
    **read,
) -> None:
    """Score an expression file (CSV/TSV, Excel, parquet, GCT, GEO series matrix, h5ad, zarr, 10x) for resistance mechanisms.

    An .h5ad file or .zarr store is read in chunks (never whole), on a Dask cluster with --scheduler or
    --workers. --out's suffix picks the format: .csv/.tsv (optionally .gz), .parquet or .h5ad.
    Exits with code 2 and writes nothing when no signature could be scored.
    """
    from resistscore._workflow import score_file

    outputs = score_file(
        input_path,
        out,
        signatures=signatures,
        method=method,
        pvalues=pvalues,
        n_controls=n_controls,
        seed=seed,
        tidy=tidy,
        scheduler=scheduler,
        workers=workers,
        harmonize=harmonize,
        probe_collapse=probe_collapse,
        float32=float32,
        **_read_kwargs(**read),
    )
    _done(outputs.summary())


# -------------------------------------------------------------------------------------- convert
@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option(
    "--chunk-rows",
    type=int,
    default=10_000,
    show_default=True,
    help="Rows copied at a time (and per zarr chunk).",
)
@_friendly
def convert(src: Path, dst: Path, chunk_rows: int) -> None:
    """Convert an .h5ad file into a chunked .zarr store (streaming: the matrix is never loaded whole)."""
    from resistscore.io import convert as _convert

    _done({"zarr": _convert(src, dst, chunk_rows=chunk_rows)})


# ------------------------------------------------------------------------------------- methods
@cli.command()
def methods() -> None:
    """List the scoring methods and their properties."""
    from resistscore.tl import show_methods

    table = show_methods()
    click.echo(table.drop(columns=["reference", "validated_against"], errors="ignore").to_string())


# ------------------------------------------------------------------------------------- compile
@cli.command("compile")
@click.option(
    "--methods",
    default=None,
    metavar="all|NAME,NAME",
    help="Also compile these scoring methods (see `resistscore methods`) on sparse and dense data; 'all': every "
    "method. Default: the default methods (UCell, singscore) on the common entry points.",
)
@click.option("--quiet", is_flag=True, help="Print nothing but warnings and errors (for install scripts).")
@_friendly
def compile_cmd(methods, quiet: bool) -> None:
    """Compile the numba kernels once into numba's cache, so that the first run is as fast as the next.

    Run it once after installing or upgrading resistscore (as rs.precompile() does; `bash run.sh` runs it
    when it installs): it scores small synthetic data through the common entry points (an .h5ad path, an
    AnnData, a bulk table, the per-sample null, `resistscore score`), which compiles the kernels into numba's on-disk cache. Without
    it the first run compiles them (~8 s of CPU). It also caches the HGNC lookups of gene harmonisation
    (RESISTSCORE_CACHE_DIR, else beside the gene tables or in ~/.cache/resistscore). Run it with the same
    NUMBA_CACHE_DIR (and RESISTSCORE_CACHE_DIR) as the runs, and never two at once.
    """
    from resistscore._precompile import precompile

    table = precompile(methods, verbose=not quiet)
    if quiet:
        return
    columns = ["case", "seconds", "cpu_seconds", "functions_compiled", "kernels_compiled"]
    click.echo(table[columns].to_string(index=False))
    click.echo(
        f"total: {table['seconds'].sum():.1f} s ({table['cpu_seconds'].sum():.1f} s of CPU), "
        f"{int(table['kernels_compiled'].sum())} kernels compiled; numba's cache: {', '.join(table.attrs['cache_dirs'])}"
    )


# ---------------------------------------------------------------------------------- signatures
@cli.group()
def signatures() -> None:
    """List, show, validate and export the shipped signatures."""


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
@click.option("--no-hgnc", is_flag=True, help="Skip the checks of gene symbols against HGNC.")
@_friendly
def signatures_validate(source, no_hgnc: bool) -> None:
    """Validate signatures (default: the shipped collection; or a folder / YAML / GMT of your own).

    Problems are listed in a table; any error ends in exit code 2.
    """
    from resistscore import sig

    report = sig.validate(source, gene_table=False if no_hgnc else None)
    click.echo(report.table.to_string() if len(report.table) else "no problems found")
    if not report.ok:
        raise SignatureError(f"{len(report.errors)} problem(s) in the signatures; see the table above.")


@signatures.command("manifest")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@_friendly
def signatures_manifest(folder) -> None:
    """Regenerate manifest.tsv (sha256 of every file) of a signature folder; run it after editing the data.

    FOLDER defaults to the signatures/ folder of the checkout.
    """
    from resistscore import sig

    click.echo(f"manifest written: {sig.build_manifest(folder)}")


@signatures.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output file (.gmt, .tsv; replaced if it exists) or folder (yaml-folder; new, empty or an earlier export).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gmt", "tsv", "yaml-folder"]),
    default=None,
    help="Default: from the suffix of --out (.gmt or .gmt.gz: gmt; .tsv, .tsv.gz or .txt: tsv; anything "
    "else: a folder).",
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
    help="Sample metadata table (CSV/TSV, Excel or parquet; one row per sample).",
)
@_stats_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Result table (.csv or .tsv); never one of the inputs.",
)
@_friendly
def test_cmd(
    scores_path, metadata, id_column, group, response, time_col, event, covariates, adjust, test_name, out
) -> None:
    """Test scores against groups, drug response or survival (one tidy table, BH FDR across mechanisms).

    SCORES is a table written by `resistscore score` (wide, or long with --tidy); signatures that were
    not scored are listed as not tested, with the reason.
    """
    from resistscore._workflow import stats_file

    outputs = stats_file(
        scores_path,
        metadata,
        out,
        id_column=id_column,
        group=group,
        response=response,
        time=time_col,
        event=event,
        covariates=covariates,
        adjust=adjust,
        test=test_name,
    )
    _done(outputs.summary())


# ----------------------------------------------------------------------------------------- plot
@cli.command()
@click.argument("scores_path", metavar="SCORES", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(path_type=Path), default=None, help="Sample metadata table.")
@click.option("--id-column", default=None, help=ID_COLUMN_HELP)
@click.option("--group", default=None, help="Metadata column with groups (profile and box plots).")
@click.option("--response", default=None, help="Metadata column with a drug response (scatter plots).")
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (new, empty, or an earlier resistscore output; replaced as a whole).",
)
@click.option(
    "--formats", default="png,pdf", show_default=True, help="Comma-separated figure formats (png, pdf, svg)."
)
@_friendly
def plot(scores_path, metadata, id_column, group, response, outdir, formats) -> None:
    """Draw the standard figures of a scores table (heatmap, profile, group plots, response scatter)."""
    from resistscore._workflow import plot_file

    outputs = plot_file(
        scores_path,
        outdir,
        metadata=metadata,
        id_column=id_column,
        group=group,
        response=response,
        formats=formats,
    )
    _done(outputs.summary())


# --------------------------------------------------------------------------------------- report
@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(path_type=Path), default=None, help="Sample metadata table.")
@_stats_options
@click.option("--signatures", default=None, help=SIGNATURES_HELP)
@click.option("--method", default=None, help="Scoring method (see `resistscore methods`).")
@_read_options
@click.option(
    "--pvalues/--no-pvalues",
    default=True,
    show_default=True,
    help="Empirical p-values of the scores against matched random gene sets.",
)
@click.option(
    "--n-controls", type=int, default=None, help="Number of matched control gene sets per signature."
)
@click.option(
    "--formats", default="png,pdf", show_default=True, help="Comma-separated figure formats (png, pdf, svg)."
)
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (new, empty, or an earlier resistscore output; replaced as a whole).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the control sets.")
@_friendly
def report(input_path, outdir, time_col, test_name, **options) -> None:
    """Full analysis of an expression file: scores, tests, figures and one self-contained HTML report.

    An .h5ad file or .zarr store is streamed: scored in chunks, never loaded whole (its obs, UMAP and
    colours are read for the statistics and figures). Every option is checked before any work; the outputs are written into a temporary folder that
    replaces OUT only when everything is done, so a failed run leaves OUT as it was.
    """
    from resistscore._workflow import analyze_file

    read = {k: options.pop(k) for k in ("fmt", "orientation", "gene_column", "sheet", "decimal", "thousands")}
    outputs = analyze_file(
        input_path, outdir, time=time_col, test=test_name, **options, **_read_kwargs(**read)
    )
    _done(outputs.summary())


# ---------------------------------------------------------------------------------------- nci60
@cli.command()
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (new, empty, or an earlier resistscore output; replaced as a whole).",
)
@_friendly
def nci60(data_dir: Path, outdir: Path) -> None:
    """Reproduce the NCI-60 P-glycoprotein validation (tables and figures) from the public NCI-60 files in DATA_DIR."""
    from resistscore._workflow import run_nci60

    outputs = run_nci60(data_dir, outdir)
    _done(outputs.summary())


# ---------------------------------------------------------------------------------------- serve
@cli.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: this computer only).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Job store and files."
)
@click.option("--scheduler", default=None, help="Existing Dask scheduler, tcp://HOST:8786 (default: local).")
@click.option("--workers", type=int, default=None, help="Worker processes of the local cluster (default 1).")
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), default=None, help="TOML settings."
)
@click.option("--max-upload-mb", type=float, default=None, help="Largest upload in MiB (default 1024).")
@click.option("--retention-hours", type=float, default=None, help="Hours results are kept (default 72).")
@click.option("--job-timeout", "job_timeout_s", type=float, default=None, help="Seconds a job may run.")
@click.option("--auth", type=click.Choice(["none", "token", "basic"]), default=None, help="Authentication.")
@click.option("--hash-password", is_flag=True, help="Print a password hash for the users setting and exit.")
@click.option("--log-level", default="info", show_default=True)
@_friendly
def serve(hash_password, config, log_level, **options) -> None:
    """Start the upload service: a web page and REST API that score uploaded datasets (needs resistscore[serve])."""
    try:
        from resistscore.service import ServiceSettings
        from resistscore.service import hash_password as make_hash
        from resistscore.service import serve as run_service
    except ImportError as err:
        raise ResistScoreError(
            f"the service needs its extra dependencies ({err.name} is missing): pip install 'resistscore[serve]'."
        ) from err
    if hash_password:
        click.echo(make_hash(click.prompt("password", hide_input=True, confirmation_prompt=True)))
        return
    settings = ServiceSettings.load(config, **options)
    click.echo(f"resistscore service on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    run_service(settings, log_level=log_level)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``resistscore`` console script."""
    cli.main(args=argv, prog_name="resistscore")
