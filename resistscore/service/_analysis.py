"""The one place where the service calls the analysis: the same workflow function as ``resistscore report``.

Nothing here computes a score, a statistic or a figure. :func:`run` calls
:func:`resistscore._workflow.analyze_file` - exactly what the command line runs - on the stored uploads,
then packs its outputs for download (an xlsx workbook of the tables, an h5ad of the scores, a zip of
everything) and writes the "reproduce offline" record: the ``resistscore report`` command and the same
job as public Python calls (``rs.io.read``, ``rs.pp.harmonize_genes``, ``rs.io.read_metadata``,
``rs.analyze``; an h5ad upload: ``rs.analyze(path)``). An h5ad upload is never loaded whole:
``analyze_file`` scores it in chunks, as ``rs.tl.score(path)`` does. After the architecture refactor
(issue 11) only this module needs re-pointing.
"""

from __future__ import annotations

import json
import platform
import shlex
import zipfile
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pandas as pd

from resistscore import get

__all__ = ["OUTPUT_FILES", "reproduce", "run"]

#: the extra downloads written beside the workflow's own outputs
OUTPUT_FILES = {
    "xlsx": "resistscore-tables.xlsx",
    "h5ad": "scores.h5ad",
    "zip": "resistscore-results.zip",
    "reproduce": "reproduce.json",
}
DRUG_FOLDER = "drug-signature"
_COMPRESSED = (".png", ".xlsx", ".zip")
_VERSIONED = ("resistscore", "numpy", "scipy", "pandas", "anndata", "numba", "statsmodels", "lifelines")


def _signatures_argument(spec: dict[str, Any], job_dir: Path, work: Path) -> str | None:
    """``analyze_file(signatures=...)`` for a job's choice: what ``--signatures`` would be given."""
    from resistscore import sig

    kind = spec.get("kind", "all")
    if kind == "all":
        return None
    if kind == "ids":
        return ",".join(spec["ids"])
    if kind == "drug":  # as `resistscore signatures export --drug NAME --format yaml-folder`
        return str(sig.export(sig.drug_signatures([spec["drug"]]), work / DRUG_FOLDER, format="yaml-folder"))
    if kind == "gmt":
        return str(job_dir / spec["file"])
    raise ValueError(f"unknown signature choice {kind!r}")


def job_formats(params: dict[str, Any]) -> list[str]:
    """Return the figure formats of a job: PNG (embedded in the report), plus the vector formats it asked for."""
    return list(params.get("formats") or ["png"])


def run(params: dict[str, Any], job_dir: Path, out: Path) -> list[str]:
    """Run the analysis of one job into the new folder ``out``; return the files written (relative).

    Parameters
    ----------
    params
        The job's parameters as stored (file names inside ``job_dir``, signatures, method, design, seed).
    job_dir
        The job's folder (its uploads).
    out
        Output folder; must not exist yet (the workflow creates it).
    """
    from resistscore._workflow import analyze_file

    work = out.parent
    design = {k: params.get(k) for k in ("group", "response", "time", "event")}
    metadata = job_dir / params["metadata"] if params.get("metadata") else None
    read = {"gene_column": params["gene_column"]} if params.get("gene_column") else {}
    outputs = analyze_file(
        job_dir / params["expression"],
        out,
        metadata=metadata,
        method=params.get("method"),
        seed=int(params.get("seed", 0)),
        signatures=_signatures_argument(params.get("signatures", {}), job_dir, work),
        formats=",".join(job_formats(params)),
        **{k: v for k, v in design.items() if v},
        **read,
    )
    _write_workbook(out)
    _write_h5ad(outputs.result, out, metadata)
    record = reproduce(params, outputs.result)
    (out / OUTPUT_FILES["reproduce"]).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    files = sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    with zipfile.ZipFile(out / OUTPUT_FILES["zip"], "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in files:
            # PNG and xlsx are compressed already: stored as they are (deflating them again gains nothing)
            stored = Path(rel).suffix.lower() in _COMPRESSED
            zf.write(
                out / rel, f"resistscore-results/{rel}", compress_type=zipfile.ZIP_STORED if stored else None
            )
    return sorted([*files, OUTPUT_FILES["zip"]])


# -------------------------------------------------------------------------------------- downloads
def _write_workbook(out: Path) -> None:
    """Every CSV table of the outputs as one sheet of an xlsx workbook; text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for csv_path in sorted(out.glob("*.csv")):
        table = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
        ws = wb.create_sheet(csv_path.stem[:31])
        ws.append([_text_cell(ws, WriteOnlyCell, str(c)) for c in table.columns])
        for row in table.itertuples(index=False):
            ws.append([_text_cell(ws, WriteOnlyCell, v) if isinstance(v, str) else _number(v) for v in row])
    wb.save(out / OUTPUT_FILES["xlsx"])


def _text_cell(ws, cell_type, value: str):
    cell = cell_type(ws, value=value)
    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
    return cell


def _number(value):
    return None if isinstance(value, float) and value != value else value


def _write_h5ad(result, out: Path, metadata: Path | None) -> None:
    """Return the scores as an AnnData: ``X`` = scores (samples x signatures), the run in the keys of :mod:`resistscore.get`."""
    import anndata as ad

    from resistscore import io as rsio

    scores = result.scores
    coverage = result.coverage.reindex(scores.columns)
    adata = ad.AnnData(
        X=scores.to_numpy(dtype="float64"),
        obs=pd.DataFrame(index=scores.index.astype(str)),
        var=coverage.rename(columns=str).astype(
            {c: "str" for c in coverage.columns if coverage[c].dtype == object}
        ),
    )
    adata.var_names = scores.columns.astype(str)
    if metadata is not None:
        meta, _ = rsio.read_metadata(metadata, adata=adata)
        adata.obs = meta.astype({c: "str" for c in meta.columns if meta[c].dtype == object})
        adata.obs_names = scores.index.astype(str)
    result.to_anndata(adata, get.DEFAULT_KEY)
    # h5py stores plain types only: the run's record as JSON-safe values
    adata.uns[get.DEFAULT_KEY] = json.loads(json.dumps(get.run_info(adata), default=str))
    adata.write_h5ad(out / OUTPUT_FILES["h5ad"])


# ------------------------------------------------------------------------------------- reproduce
def reproduce(params: dict[str, Any], result=None) -> dict[str, Any]:
    """Return the exact command line and Python calls that give the same outputs offline, with versions and seed."""
    names = params.get("client_names", {})
    seed = int(params.get("seed", 0))
    files = {"expression": names.get("expression", "expression.csv")}
    if params.get("metadata"):
        files["metadata"] = names.get("metadata", "metadata.csv")
    pre: list[str] = []
    options: list[tuple[str, str]] = []  # (option name, value), in the order of `resistscore report --help`
    if "metadata" in files:
        options.append(("metadata", files["metadata"]))
    for key in ("group", "response", "time", "event"):
        if params.get(key):
            options.append((key, params[key]))
    spec = params.get("signatures", {})
    kind = spec.get("kind", "all")
    if kind == "ids":
        options.append(("signatures", ",".join(spec["ids"])))
    elif kind == "drug":
        cmd = ["resistscore", "signatures", "export", "--drug", spec["drug"], "--format", "yaml-folder"]
        pre.append(shlex.join([*cmd, "--out", DRUG_FOLDER]))
        options.append(("signatures", DRUG_FOLDER + "/"))
    elif kind == "gmt":
        options.append(("signatures", names.get("gmt", "signatures.gmt")))
    if params.get("method"):
        options.append(("method", params["method"]))
    if params.get("gene_column"):
        options.append(("gene_column", params["gene_column"]))
    formats = job_formats(params)
    cli = ["resistscore", "report", files["expression"]]
    for key, value in options:
        cli += [f"--{key.replace('_', '-')}", value]
    cli += ["--seed", str(seed), "--formats", ",".join(formats), "--out", "resistscore-results/"]
    python = _python_call(params, files, formats, seed)
    versions = {}
    for pkg in _VERSIONED:
        try:
            versions[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            continue
    versions["python"] = platform.python_version()
    if result is not None:
        versions["signatures"] = str(result.versions.get("signatures"))
    return {
        "cli": "\n".join([*pre, shlex.join(cli)]),
        "python": "\n".join([*(f"# first: {c}" for c in pre), *python]),
        "seed": seed,
        "versions": versions,
        "method": getattr(result, "method", params.get("method")),
    }


def _python_call(params: dict[str, Any], files: dict[str, str], formats: list[str], seed: int) -> list[str]:
    """Return the lines of the job as public Python calls (``rs.io.read`` ... ``rs.analyze``).

    The same steps as ``resistscore report``: read the file, harmonise its genes, join the metadata,
    then :func:`resistscore.analyze` with the design, signatures, method, seed and figure formats. An h5ad
    upload is given to :func:`resistscore.analyze` as a path (streamed as the job streamed it).
    """
    lines = ["import resistscore as rs", ""]
    if str(params.get("expression", "")).lower().endswith(".h5ad"):
        # an AnnData file: rs.analyze streams it (X is read in chunks, never whole), the metadata joined to it
        args = [repr(files["expression"]), "'resistscore-results'"]
        if "metadata" in files:
            args.append(f"metadata={files['metadata']!r}")
    else:
        read = f", gene_column={params['gene_column']!r}" if params.get("gene_column") else ""
        lines.append(f"adata, mapping = rs.pp.harmonize_genes(rs.io.read({files['expression']!r}{read}))")
        args = ["adata", "'resistscore-results'"]
        if "metadata" in files:
            lines.append(f"metadata, join = rs.io.read_metadata({files['metadata']!r}, adata)")
            args.append("metadata=metadata")
    args += [f"{key}={params[key]!r}" for key in ("group", "response", "time", "event") if params.get(key)]
    spec = params.get("signatures", {})
    kind = spec.get("kind", "all")
    if kind == "ids":
        args.append(f"signatures=rs.sig.load(feature_type=None).select({list(spec['ids'])!r})")
    elif kind == "drug":
        args.append(f"signatures=rs.sig.load({DRUG_FOLDER + '/'!r})")
    elif kind == "gmt":
        args.append(
            f"signatures=rs.sig.load({params.get('client_names', {}).get('gmt', 'signatures.gmt')!r})"
        )
    if params.get("method"):
        args.append(f"method={params['method']!r}")
    args += [f"random_state={seed}", f"formats={tuple(formats)!r}"]
    lines += [
        f"outputs = rs.analyze({', '.join(args)})",
        "outputs.result.scores  # the scores; outputs.stats: the statistics",
    ]
    return lines
