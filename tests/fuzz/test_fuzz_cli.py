"""Generative fuzzing of every command of the ``resistscore`` command line.

Each generated input (options, metadata joins, output paths) must end in exit 0 with complete,
spreadsheet-safe outputs, or exit 2 with exactly one ``error:`` line - never a traceback, never a
partial or temporary file, never a changed input, and a failed command leaves its output path as it
was. Output paths cover new names (spaces, unicode), existing files and folders, the input itself
(same path, hard link, symbolic link), a folder holding the input, folders of the user's files,
earlier runs, missing parents, a file where a folder should be, a read-only file system, a full disk
and permission errors. Inputs are tiny so that a run costs tens of milliseconds; p-values are off
except where they are the point.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import gzip
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from resistscore.cli import cli

from ._fuzz import count_input, fuzz_settings

RUNNER = CliRunner()
EFFLUX = ["ABCB1", "ABCG2", "ABCC1", "ABCC2", "ABCC3", "ABCC4", "ABCC5", "ABCC10", "ABCB4", "ABCB5", "ABCB11"]
GENES = [*EFFLUX, "BCL2", "BAX", "MCL1", "GAPDH", "ACTB"]
#: odd but legal sample names: spaces, unicode, spreadsheet formulas, punctuation
NAMES = ["S1", "S 2", "Ünïcödé", "名前", "=1+1", "-x", "@at", "+p", "a,b", 'q"uote', "t'ick", "S-5", "x=y"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TEMPORARY = re.compile(r"^\..*\.(part|old)(\.|$)|^\.resistscore-.*\.part$")
#: messages a fault must produce (errno -> words of the error line)
FAULT_WORDS = {errno.EROFS: "read-only", errno.ENOSPC: "no space", errno.EACCES: "permission denied"}


# ---------------------------------------------------------------------------------------------------
# the world of one example: inputs in ``in/``, outputs under ``out/``
# ---------------------------------------------------------------------------------------------------
def _write_expression(folder: Path, names: list[str], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.lognormal(1.0, 1.0, (len(GENES), len(names))).round(4), index=GENES, columns=names)
    path = folder / "expr.csv"
    df.to_csv(path, index_label="gene")
    return path


def _write_scores(folder: Path, names: list[str], seed: int, *, unscored: bool, tidy: bool) -> Path:
    rng = np.random.default_rng(seed)
    scores = pd.DataFrame(
        {"efflux_abc": rng.normal(0, 0.2, len(names)), "apoptosis": rng.normal(0, 0.2, len(names))},
        index=names,
    )
    if unscored:
        scores["dna_repair"] = np.nan
    path = folder / ("scores_tidy.tsv" if tidy else "scores.csv")
    if tidy:
        long = (
            scores.rename_axis("sample")
            .reset_index()
            .melt("sample", var_name="signature", value_name="score")
        )
        long.to_csv(path, sep="\t", index=False)
    else:
        scores.to_csv(path, index_label="sample")
    return path


@contextlib.contextmanager
def world():
    with tempfile.TemporaryDirectory(prefix="rs-fuzz-") as d:
        root = Path(d)
        (root / "in").mkdir()
        (root / "out").mkdir()
        yield root


def snapshot(path: Path):
    """Bytes of a file, or of every file under a folder (None if absent)."""
    if not os.path.lexists(path):
        return None
    if path.is_dir():
        return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}
    return path.read_bytes()


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if TEMPORARY.match(p.name)]


def formula_cells(path: Path) -> list[str]:
    name = path.name.lower().removesuffix(".gz")
    sep = "\t" if name.endswith((".tsv", ".txt")) else ","
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as fh:
        return [
            c
            for row in csv.reader(fh, delimiter=sep)
            for c in row
            if c[:1] in FORMULA_START and not NUMBER.fullmatch(c)
        ]


@contextlib.contextmanager
def fault(os_fault, code: int | None, where: Path):
    if code is None:
        yield
    else:
        with os_fault(code, where):
            yield


def invoke(args: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # third-party warnings are lines for the user, as outside the tests
        return RUNNER.invoke(cli, [str(a) for a in args])


def check(
    result, inputs: dict[Path, object], out: Path, out_before, root: Path, *, expect: str = "any"
) -> None:
    """The promises of every command (see the module docstring)."""
    count_input("cli")
    text = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback: {result.exception!r}\n{text}"
    )
    assert result.exit_code in (0, 2), text
    assert "Traceback" not in text
    for path, before in inputs.items():
        assert snapshot(path) == before, f"input {path} changed"
    assert leftovers(root) == [], "temporary files left behind"
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error:")]
        assert len(errors) == 1, text
        assert snapshot(out) == out_before, "a failed command changed its output"
    if expect in ("refuse", "fault"):
        assert result.exit_code == 2, f"expected an error: {text}"
    if expect == "ok":
        assert result.exit_code == 0, text


# ---------------------------------------------------------------------------------------------------
# output paths
# ---------------------------------------------------------------------------------------------------
FILE_KINDS = [
    "new",
    "spaces and unicode",
    "existing file",
    "existing folder",
    "same as input",
    "hard link to input",
    "symlink to input",
    "missing parents",
    "parent is a file",
    "bad suffix",
    "EROFS",
    "ENOSPC",
    "EACCES",
]
FOLDER_KINDS = [
    "new",
    "spaces and unicode",
    "empty",
    "earlier run",
    "files of the user",
    "is a file",
    "holds the input",
    "missing parents",
    "parent is a file",
    "EROFS",
    "ENOSPC",
    "EACCES",
]
_FAULTS = {"EROFS": errno.EROFS, "ENOSPC": errno.ENOSPC, "EACCES": errno.EACCES}


def out_file(root: Path, kind: str, suffix: str, source: Path) -> tuple[Path, str, int | None]:
    """An output file of the given kind: (path, expected outcome, errno to inject below out/)."""
    out = root / "out"
    code = _FAULTS.get(kind)
    path = out / f"result{suffix}"
    expect = "fault" if code else "ok"
    if kind == "spaces and unicode":
        path = out / f"résultats ü 1{suffix}"
    elif kind == "existing file":
        path.write_text("an older result\n")
    elif kind == "existing folder":
        path.mkdir()
        expect = "refuse"
    elif kind == "same as input":
        path, expect = source, "refuse"
    elif kind == "hard link to input":
        os.link(source, path)
        expect = "refuse"
    elif kind == "symlink to input":
        os.symlink(source, path)
        expect = "refuse"
    elif kind == "missing parents":
        path = out / "a" / "b c" / f"result{suffix}"
    elif kind == "parent is a file":
        (out / "a").write_text("x")
        path, expect = out / "a" / f"result{suffix}", "refuse"
    elif kind == "bad suffix":
        path, expect = out / "result.png", "refuse"
    return path, expect, code


def out_folder(root: Path, kind: str, source: Path) -> tuple[Path, str, int | None]:
    """An output folder of the given kind: (path, expected outcome, errno to inject below out/)."""
    out = root / "out"
    code = _FAULTS.get(kind)
    path = out / "results"
    expect = "fault" if code else "ok"
    if kind == "spaces and unicode":
        path = out / "résultats ü 1"
    elif kind == "empty":
        path.mkdir()
    elif kind == "earlier run":
        (path / "figures").mkdir(parents=True)
        (path / "figures" / "old.png").write_bytes(b"old")
        (path / ".resistscore-run.json").write_text(json.dumps({"files": ["figures/old.png"]}))
    elif kind == "files of the user":
        path.mkdir()
        (path / "notes.txt").write_text("mine")
        expect = "refuse"
    elif kind == "is a file":
        path.write_text("x")
        expect = "refuse"
    elif kind == "holds the input":
        path = source.parent
        expect = "refuse"
    elif kind == "missing parents":
        path = out / "a" / "b c" / "results"
    elif kind == "parent is a file":
        (out / "a").write_text("x")
        path, expect = out / "a" / "results", "refuse"
    return path, expect, code


def _fault_words(result, code, *, strict: bool = True):
    """With valid options, an injected fault is the error, named by its target (not a temporary file)."""
    if code is not None and result.exit_code == 2:
        if strict:
            assert FAULT_WORDS[code] in result.stderr, result.stderr
        assert ".part" not in result.stderr, "the message names the target, not a temporary file"


# ---------------------------------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------------------------------
def _check_scores(path: Path, names: list[str], tidy: bool, signatures: list[str] | None) -> None:
    assert formula_cells(path) == []
    sep = "\t" if path.name.lower().removesuffix(".gz").endswith((".tsv", ".txt")) else ","
    table = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""])
    first = table.columns[0]
    assert first == "sample"
    ids = pd.unique(table[first].astype(str)).tolist()
    restore = [n[1:] if n.startswith("'") else n for n in ids]
    assert sorted(restore) == sorted(names)
    if tidy:
        assert {"signature", "score"} <= set(table.columns)
        got = pd.unique(table["signature"]).tolist()
    else:
        got = list(table.columns[1:])
        assert all(pd.api.types.is_numeric_dtype(table[c]) for c in got)
    if signatures is not None:
        assert got == signatures


@given(
    kind=st.sampled_from(FILE_KINDS),
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz"]),
    tidy=st.booleans(),
    names=st.lists(st.sampled_from(NAMES), min_size=3, max_size=5, unique=True),
    seed=st.integers(0, 1000),
)
@fuzz_settings(180)
def test_fuzz_score_output_paths(os_fault, kind, suffix, tidy, names, seed):
    with world() as root:
        expr = _write_expression(root / "in", names, seed)
        path, expect, code = out_file(root, kind, suffix, expr)
        inputs = {expr: snapshot(expr)}
        before = snapshot(path)
        args = ["score", expr, "--signatures", "efflux_abc", "--no-pvalues", "--out", path]
        with fault(os_fault, code, root / "out"):
            result = invoke([*args, "--tidy"] if tidy else args)
        check(result, inputs, path, before, root, expect=expect)
        _fault_words(result, code)
        if result.exit_code == 0:
            _check_scores(path, names, tidy, ["efflux_abc"])


SIGNATURE_SPECS = [
    None,
    "efflux_abc",
    "efflux_abc,apoptosis",
    " efflux_abc , apoptosis ",
    "apoptosis,efflux_abc,efflux_abc",
    "",
    " , ",
    "nope",
    "efflux_abc,nope",
    "GMT",
    "missing.gmt",
    "missing/folder",
]
METHODS = [
    None,
    "singscore",
    "ucell",
    "aucell",
    "ssgsea",
    "wmean",
    "ulm",
    "module_score",
    "gsva",
    "nope",
    "UCell",
]


@given(
    names=st.lists(st.sampled_from(NAMES), min_size=2, max_size=5, unique=True),
    seed=st.integers(0, 1000),
    signatures=st.sampled_from(SIGNATURE_SPECS),
    method=st.sampled_from(METHODS),
    fmt=st.sampled_from([None, "auto", "csv", "tsv", "excel", "h5ad", "gct"]),
    orientation=st.sampled_from([None, "auto", "genes_x_samples", "samples_x_genes"]),
    gene_column=st.sampled_from([None, "gene", "nope", ""]),
    decimal=st.sampled_from([None, ".", ","]),
    thousands=st.sampled_from([None, ",", "."]),
    n_controls=st.sampled_from([None, 0, -3, 5]),
    tidy=st.booleans(),
    sheet=st.sampled_from([None, "Sheet1"]),
)
@fuzz_settings(220)
def test_fuzz_score_options(
    names,
    seed,
    signatures,
    method,
    fmt,
    orientation,
    gene_column,
    decimal,
    thousands,
    n_controls,
    tidy,
    sheet,
):
    with world() as root:
        expr = _write_expression(root / "in", names, seed)
        gmt = root / "in" / "sigs.gmt"
        gmt.write_text("pump\tmine\tABCB1\tABCG2\tABCC1\n")
        inputs = {expr: snapshot(expr), gmt: snapshot(gmt)}
        out = root / "out" / "scores.csv"
        args = ["score", expr, "--out", out]
        if signatures is not None:
            args += ["--signatures", gmt if signatures == "GMT" else signatures]
        for flag, value in [
            ("--method", method),
            ("--format", fmt),
            ("--orientation", orientation),
            ("--gene-column", gene_column),
            ("--decimal", decimal),
            ("--thousands", thousands),
            ("--sheet", sheet),
        ]:
            if value is not None:
                args += [flag, value]
        if n_controls is None:
            args.append("--no-pvalues")
        else:
            args += ["--n-controls", n_controls]
        if tidy:
            args.append("--tidy")
        result = invoke(args)
        check(result, inputs, out, None, root)
        plain = signatures is None and method is None and fmt in (None, "auto", "csv") and n_controls is None
        plain &= orientation in (None, "auto", "genes_x_samples") and gene_column in (None, "gene")
        if plain and decimal != "," and thousands != ".":
            assert result.exit_code == 0, result.output
        if result.exit_code == 0:
            expected = {"efflux_abc": ["efflux_abc"], "GMT": ["pump"]}.get(str(signatures))
            if signatures in (
                "efflux_abc,apoptosis",
                " efflux_abc , apoptosis ",
                "apoptosis,efflux_abc,efflux_abc",
            ):
                expected = ["efflux_abc", "apoptosis"]
            _check_scores(out, names, tidy, expected)


# ---------------------------------------------------------------------------------------------------
# test: metadata joins and statistics options
# ---------------------------------------------------------------------------------------------------
EVENTS = {
    "0/1": {1: 1, 0: 0},
    "True/False": {1: "True", 0: "False"},
    "yes/no": {1: "yes", 0: "no"},
    "dead/alive": {1: "dead", 0: "alive"},
    "1/2": {1: 2, 0: 1},
}


@st.composite
def metadata_tables(draw, names):
    """A metadata table for the samples ``names`` and how its ids relate to them."""
    n = len(names)
    ids = draw(st.sampled_from(["exact", "case and punctuation", "no match", "subset", "extra rows"]))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    rows = list(names)
    if ids == "case and punctuation":
        rows = [re.sub(r"[ \-]", "_", r).lower() for r in rows]
    elif ids == "no match":
        rows = [f"X{r}X" for r in rows]
    elif ids == "subset":
        rows = rows[: max(1, n - 2)]
    elif ids == "extra rows":
        rows = [*rows, "Z9", "Z10"]
    m = len(rows)
    group_kind = draw(st.sampled_from(["two", "one", "three", "formulas", "with missing"]))
    pool = {
        "two": ["r", "s"],
        "one": ["r"],
        "three": ["a", "b", "c"],
        "formulas": ["=1+1", "-r"],
        "with missing": ["r", "s", ""],
    }
    group = [pool[group_kind][i % len(pool[group_kind])] for i in range(m)]
    time_kind = draw(st.sampled_from(["good", "negative", "inf", "text", "missing"]))
    time = rng.uniform(1, 50, m).round(2).astype(object)
    if time_kind == "negative":
        time[0] = -1.0
    elif time_kind == "inf":
        time[0] = "inf"
    elif time_kind == "text":
        time[0] = "soon"
    elif time_kind == "missing":
        time[0] = ""
    event_kind = draw(st.sampled_from(sorted(EVENTS)))
    event = [EVENTS[event_kind][i % 2] for i in range(m)]
    response_kind = draw(st.sampled_from(["numbers", "text"]))
    response = rng.normal(0, 1, m).round(3).astype(object)
    if response_kind == "text":
        response[0] = "high"
    where = draw(st.sampled_from(["first", "second"]))
    table = pd.DataFrame(
        {
            "group": group,
            "time": time,
            "event": event,
            "response": response,
            "batch": ["b1", "b2"] * (m // 2) + ["b1"] * (m % 2),
        }
    )
    table.insert(0 if where == "first" else 1, "sample_id", rows)
    return table, where


@given(
    data=st.data(),
    names=st.lists(st.sampled_from(NAMES), min_size=4, max_size=6, unique=True),
    seed=st.integers(0, 1000),
    unscored=st.booleans(),
    tidy=st.booleans(),
    group=st.sampled_from([None, "group", "nope", "sample_id"]),
    response=st.sampled_from([None, "response", "nope"]),
    survival=st.sampled_from([None, "both", "time only", "event only"]),
    covariates=st.sampled_from([None, "batch", "nope", "", "batch,nope"]),
    test=st.sampled_from([None, "welch", "mannwhitney", "anova", "kruskal"]),
    id_column=st.sampled_from([None, "sample_id", "nope"]),
    kind=st.sampled_from(["new"] * 6 + FILE_KINDS),
)
@fuzz_settings(300)
def test_fuzz_test_command(
    os_fault, data, names, seed, unscored, tidy, group, response, survival, covariates, test, id_column, kind
):
    with world() as root:
        scores = _write_scores(root / "in", names, seed, unscored=unscored, tidy=tidy)
        meta_table, _ = data.draw(metadata_tables(names))
        meta = root / "in" / "meta.csv"
        meta_table.to_csv(meta, index=False)
        out, expect, code = out_file(root, kind, ".csv", scores)
        inputs = {scores: snapshot(scores), meta: snapshot(meta)}
        before = snapshot(out)
        args = ["test", scores, "--metadata", meta, "--out", out]
        for flag, value in [
            ("--group", group),
            ("--response", response),
            ("--covariates", covariates),
            ("--test", test),
            ("--id-column", id_column),
        ]:
            if value is not None:
                args += [flag, value]
        if survival in ("both", "time only"):
            args += ["--time", "time"]
        if survival in ("both", "event only"):
            args += ["--event", "event"]
        with fault(os_fault, code, root / "out"):
            result = invoke(args)
        check(result, inputs, out, before, root, expect="any" if expect == "ok" else expect)
        _fault_words(result, code, strict=False)
        if survival in ("time only", "event only") or (
            group is None and response is None and survival is None
        ):
            assert result.exit_code == 2
        if result.exit_code == 0:
            assert formula_cells(out) == []
            table = pd.read_csv(out)
            assert {"signature", "pvalue", "fdr", "analysis"} <= set(table.columns)
            if unscored:
                assert table.loc[table["signature"] == "dna_repair", "pvalue"].isna().all()
            assert "no row in the metadata" in result.stderr or not set(meta_table["sample_id"]) < set(names)


# ---------------------------------------------------------------------------------------------------
# folder outputs: plot, report, demo, nci60, signatures export
# ---------------------------------------------------------------------------------------------------
#: commands whose successful run is cheap enough to fuzz; report and demo are fuzzed where they stop early
CHEAP_OK = {"plot", "export folder", "nci60"}


@given(
    # every command writes its folder through the same code: the costly plot is drawn less often
    command=st.sampled_from(
        ["plot", "report", "demo", "nci60", "export folder", "report", "nci60", "export folder"]
    ),
    kind=st.sampled_from(FOLDER_KINDS),
    names=st.lists(st.sampled_from(NAMES), min_size=3, max_size=4, unique=True),
    seed=st.integers(0, 1000),
    fmt=st.sampled_from(["svg", "png", "svg,svg", "docx", ""]),
)
@fuzz_settings(300)
def test_fuzz_folder_outputs(os_fault, command, kind, names, seed, fmt):
    with world() as root:
        scores = _write_scores(root / "in", names, seed, unscored=seed % 3 == 0, tidy=seed % 2 == 0)
        expr = _write_expression(root / "in", names, seed)
        nci = root / "in" / "nci60"
        nci.mkdir()
        (nci / "readme.txt").write_text("not the NCI-60 files")
        source = {"plot": scores, "report": expr, "nci60": nci / "readme.txt"}.get(command, expr)
        path, expect, code = out_folder(root, kind, source)
        if command in ("demo", "export folder") and kind == "holds the input":
            expect = "refuse" if command == "demo" else expect  # no input: the folder of in/ holds user files
        if expect == "ok" and command not in CHEAP_OK:
            expect = "skip"  # a successful report or demo costs seconds: covered by tests/cli
        if command == "nci60" and expect == "ok":
            expect = "refuse"  # the folder has no NCI-60 files: one clear error, nothing written
        if expect == "skip" or (code == errno.ENOSPC and command in ("report", "demo")):
            count_input("cli")
            return
        inputs = {p: snapshot(p) for p in (scores, expr, nci)}
        before = snapshot(path)
        args = {
            "plot": ["plot", scores, "--formats", fmt or "svg", "--out", path],
            "report": [
                "report",
                expr,
                "--signatures",
                "efflux_abc",
                "--no-pvalues",
                "--formats",
                fmt or "svg",
                "--out",
                path,
            ],
            "demo": ["demo", "--out", path],
            "nci60": ["nci60", nci, "--out", path],
            "export folder": [
                "signatures",
                "export",
                "--ids",
                "efflux_abc",
                "--format",
                "yaml-folder",
                "--out",
                path,
            ],
        }[command]
        with fault(os_fault, code, root / "out"):
            result = invoke(args)
        if command in ("plot", "report") and fmt in ("docx", ""):
            expect = "refuse" if fmt == "docx" else expect
        check(result, inputs, path, before, root, expect=expect)
        _fault_words(result, code, strict=fmt not in ("docx", ""))
        if result.exit_code == 0:
            manifest = json.loads((path / ".resistscore-run.json").read_text())
            files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
            assert sorted([*manifest["files"], ".resistscore-run.json"]) == files
            assert "figures/old.png" not in files, "an earlier run never mixes with the new one"
            if command == "plot":
                assert {f.split(".")[0] for f in files if f.endswith(".svg") or f.endswith(".png")} >= {
                    "heatmap"
                }


@given(
    names=st.lists(st.sampled_from(NAMES), min_size=4, max_size=5, unique=True),
    seed=st.integers(0, 1000),
    data=st.data(),
    group=st.sampled_from([None, "group", "nope"]),
    survival=st.sampled_from([None, "both", "time only"]),
    kind=st.sampled_from(["new", "earlier run", "files of the user", "holds the input", "EROFS"]),
)
@fuzz_settings(10)
def test_fuzz_report(os_fault, names, seed, data, group, survival, kind):
    """The full report with odd metadata: either complete or refused with the folder as it was."""
    with world() as root:
        expr = _write_expression(root / "in", names, seed)
        meta_table, _ = data.draw(metadata_tables(names))
        meta = root / "in" / "meta.csv"
        meta_table.to_csv(meta, index=False)
        path, expect, code = out_folder(root, kind, expr)
        inputs = {expr: snapshot(expr), meta: snapshot(meta)}
        before = snapshot(path)
        args = [
            "report",
            expr,
            "--metadata",
            meta,
            "--signatures",
            "efflux_abc",
            "--no-pvalues",
            "--formats",
            "svg",
            "--out",
            path,
        ]
        if group:
            args += ["--group", group]
        if survival:
            args += ["--time", "time"] + (["--event", "event"] if survival == "both" else [])
        with fault(os_fault, code, root / "out"):
            result = invoke(args)
        check(result, inputs, path, before, root, expect="any" if expect == "ok" else expect)
        if result.exit_code == 0:
            assert (path / "report.html").stat().st_size > 1000
            for table in path.glob("*.csv"):
                assert formula_cells(table) == []


# ---------------------------------------------------------------------------------------------------
# signatures export (files) and option validation of every command
# ---------------------------------------------------------------------------------------------------
@given(
    kind=st.sampled_from(FILE_KINDS),
    suffix=st.sampled_from([".gmt", ".tsv", ".gmt.gz"]),
    fmt=st.sampled_from([None, "gmt", "tsv"]),
    ids=st.sampled_from([None, "efflux_abc", "efflux_abc,apoptosis", "", "nope", " , "]),
    drug=st.sampled_from([None, None, "adriamycin", "no-such-drug"]),
)
@fuzz_settings(200)
def test_fuzz_signatures_export(os_fault, kind, suffix, fmt, ids, drug):
    with world() as root:
        source = root / "in" / "mine.gmt"
        source.write_text("pump\tmine\tABCB1\n")
        path, expect, code = out_file(root, kind, suffix, source)
        valid = ids in (None, "efflux_abc", "efflux_abc,apoptosis") and drug in (None, "adriamycin")
        valid &= ids is None or drug is None
        if kind in ("same as input", "hard link to input", "symlink to input", "bad suffix"):
            # export reads no file: a GMT of the user's at --out is an existing file, replaced; a name
            # without a known suffix is a folder export (documented)
            expect = "ok"
        if not valid:
            expect = "refuse"
        inputs = (
            {}
            if kind in ("same as input", "hard link to input", "symlink to input")
            else {source: snapshot(source)}
        )
        before = snapshot(path)
        args = ["signatures", "export", "--out", path]
        for flag, value in [("--format", fmt), ("--ids", ids), ("--drug", drug)]:
            if value is not None:
                args += [flag, value]
        with fault(os_fault, code, root / "out"):
            result = invoke(args)
        check(result, inputs, path, before, root, expect=expect)
        _fault_words(result, code, strict=valid)
        if result.exit_code == 0 and path.is_file():
            assert path.stat().st_size > 0, "an empty export"


@pytest.fixture(scope="module")
def static_world():
    """Inputs shared by the examples of ``test_fuzz_option_values`` (which must never write anything)."""
    with world() as root:
        names = ["S1", "S 2", "=1+1"]
        _write_expression(root / "in", names, 0)
        _write_scores(root / "in", names, 0, unscored=False, tidy=False)
        pd.DataFrame({"sample": names, "group": ["a", "b", "a"]}).to_csv(
            root / "in" / "meta.csv", index=False
        )
        yield root


OPTION_VALUES = st.sampled_from(
    ["", " ", ",", "x", "nope", "png,docx", "-1", "0", "1e9", "ü", "=1+1", "a b", "--"]
)


@given(
    command=st.sampled_from(["score", "test", "plot", "report", "demo", "nci60"]),
    option=st.sampled_from(
        [
            "--formats",
            "--covariates",
            "--signatures",
            "--n-controls",
            "--seed",
            "--time",
            "--event",
            "--group",
            "--method",
            "--kind",
            "--decimal",
            "--id-column",
            "--nope",
        ]
    ),
    value=OPTION_VALUES,
    missing_input=st.booleans(),
)
@fuzz_settings(1300)
def test_fuzz_option_values(static_world, command, option, value, missing_input):
    """Odd values of every option, with a missing input or an output clash: one error line, nothing written."""
    root = static_world
    expr, scores, meta = root / "in" / "expr.csv", root / "in" / "scores.csv", root / "in" / "meta.csv"
    src = root / "in" / "absent.csv" if missing_input else expr if command in ("score", "report") else scores
    out = root / "out" / ("s.csv" if command in ("score", "test") else "results")
    base = {
        "score": ["score", src, "--out", expr if not missing_input else out, "--no-pvalues"],
        "test": ["test", src, "--metadata", meta, "--out", scores if not missing_input else out],
        "plot": ["plot", src, "--out", src.parent],
        "report": ["report", src, "--out", src.parent],
        "demo": ["demo", "--out", expr],
        "nci60": ["nci60", src if missing_input else root / "in", "--out", root / "in"],
    }[command]
    inputs = {p: snapshot(p) for p in (expr, scores, meta)}
    before = snapshot(out)
    result = invoke([*base, option, value])
    # every base command above is refused (missing input, or an output that is an input or holds one)
    check(result, inputs, out, before, root, expect="refuse")
