"""Regression tests of issue 10 for the command line and its output files.

Each test names the defect of issue 10 it holds (3, 6, 7, 8, 9, 14, 17, 23, 25, warnings); each failed on
main 5e068cc/043dad9. Promise of every command: exit 0 with complete outputs, or exit 2 with exactly one
``error:`` line, no traceback, no partial file, and every input byte-for-byte unchanged.
"""

from __future__ import annotations

import base64
import csv
import errno
import io
import json
import os
import re
import shutil

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import resistscore as rs
from resistscore.cli import cli

SIGS = "efflux_abc,apoptosis"
#: OWASP: a spreadsheet runs a cell starting with one of these as a formula (unless it is a number)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A small bulk cohort: expression (genes x samples) for two signatures plus background, and metadata."""
    adata = rs.ds.toy(n_samples=10)
    sigs = rs.sig.load(ids=SIGS.split(","))
    genes = sorted({g for s in sigs for g in (*s.up, *s.down)} & set(adata.var_names))
    rng = np.random.default_rng(0)
    background = rng.choice(sorted(set(adata.var_names) - set(genes)), 150, replace=False)
    folder = tmp_path_factory.mktemp("cohort")
    expr = folder / "expr.csv"
    adata[:, genes + sorted(background)].to_df().T.to_csv(expr, index_label="gene")
    meta = adata.obs.copy()
    meta["event"] = meta["event"].astype(int)
    meta_path = folder / "meta.csv"
    meta.to_csv(meta_path, index_label="sample")
    sig_path = rs.sig.export(sigs, folder / "sigs.tsv")  # the two signatures as a file (read by main too)
    return {"expr": expr, "meta": meta_path, "obs": meta, "folder": folder, "sigs": sig_path}


def invoke(runner, *args):
    """Run the command line with ``args`` (paths and numbers are turned into text)."""
    return runner.invoke(cli, [str(a) for a in args])


def snapshot(*paths):
    """Bytes and mtime of every file under the given paths (files or folders)."""
    out = {}
    for p in paths:
        files = [p] if os.path.isfile(p) else sorted(f for f in p.rglob("*") if f.is_file())
        for f in files:
            out[str(f)] = (f.read_bytes(), f.stat().st_mtime_ns)
    return out


def tree(folder):
    return sorted(str(f.relative_to(folder)) for f in folder.rglob("*")) if folder.exists() else None


def assert_one_error(result, *needles):
    """Exit 2, exactly one ``error:`` line naming each needle, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def score_file(runner, cohort, out, *extra):
    result = invoke(runner, "score", cohort["expr"], "--out", out, "--signatures", cohort["sigs"], *extra)
    assert result.exit_code == 0, result.output
    return out


# ------------------------------------------------------------------ 3: never write over an input
def _link(kind, src, dst):
    if kind == "hardlink":
        os.link(src, dst)
    elif kind == "symlink":
        os.symlink(src, dst)
    else:
        shutil.copy(src, dst)


@pytest.mark.parametrize("how", ["same path", "hardlink", "symlink"])
def test_score_never_writes_over_its_input(runner, cohort, tmp_path, how):
    expr = tmp_path / "expr.csv"
    shutil.copy(cohort["expr"], expr)
    out = expr if how == "same path" else tmp_path / "link.csv"
    if how != "same path":
        _link(how, expr, out)
    before = snapshot(expr)
    result = invoke(runner, "score", expr, "--out", out, "--no-pvalues")
    assert_one_error(result, "never writes over its input")
    assert snapshot(expr) == before


def test_score_never_writes_over_its_signature_file(runner, cohort, tmp_path):
    sigs = tmp_path / "sigs.tsv"
    sigs.write_text("source\ttarget\tweight\nmine\tABCB1\t1\nmine\tABCG2\t1\n")
    before = snapshot(sigs)
    result = invoke(runner, "score", cohort["expr"], "--signatures", sigs, "--out", sigs)
    assert_one_error(result, str(sigs))
    assert snapshot(sigs) == before


@pytest.mark.parametrize("which", ["scores", "metadata"])
def test_test_never_writes_over_its_inputs(runner, cohort, tmp_path, which):
    scores = score_file(runner, cohort, tmp_path / "scores.csv", "--no-pvalues")
    meta = tmp_path / "meta.csv"
    shutil.copy(cohort["meta"], meta)
    target = scores if which == "scores" else meta
    before = snapshot(scores, meta)
    result = invoke(runner, "test", scores, "--metadata", meta, "--group", "group", "--out", target)
    assert_one_error(result, "never writes over its input")
    assert snapshot(scores, meta) == before


@pytest.mark.parametrize("command", ["report", "plot"])
def test_folder_commands_never_replace_a_folder_holding_their_input(runner, cohort, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    if command == "report":
        src = out / "scores.csv"  # on main, report wrote its scores.csv over this input
        shutil.copy(cohort["expr"], src)
        args = ["report", str(src), "--out", str(out)]
    else:  # on main, plot left the input alone; now the folder is replaced as a whole, so it must refuse
        src = score_file(runner, cohort, out / "scores.csv", "--no-pvalues")
        args = ["plot", str(src), "--out", str(out)]
    before = snapshot(out)
    result = runner.invoke(cli, args)
    assert_one_error(result, "inside the output folder")
    assert snapshot(out) == before


def test_folder_commands_refuse_the_current_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, "demo", "--out", ".")
    assert_one_error(result, "current folder")
    assert list(tmp_path.iterdir()) == []


def test_nci60_never_writes_into_its_data_folder(runner, tmp_path):
    data = tmp_path / "nci60"
    data.mkdir()
    (data / "readme.txt").write_text("mine")
    result = invoke(runner, "nci60", data, "--out", data)
    assert_one_error(result, "inside the output folder")
    assert tree(data) == ["readme.txt"]


# ------------------------------------------------------------------- 6: spreadsheet formula injection
EVIL = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "=1+1"]


def _formula_cells(path):
    """Text cells (and headers) of a CSV/TSV file that a spreadsheet would run as a formula."""
    sep = "\t" if path.suffix == ".tsv" else ","
    bad = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter=sep):
            bad += [c for c in row if c[:1] in FORMULA_START and not NUMBER.fullmatch(c)]
    return bad


@pytest.fixture(scope="module")
def evil_cohort(cohort, tmp_path_factory):
    """Sample names, group labels and a signature name that are spreadsheet formulas."""
    folder = tmp_path_factory.mktemp("evil")
    expr = pd.read_csv(cohort["expr"], index_col=0)
    names = EVIL + [f"S{i}" for i in range(expr.shape[1] - len(EVIL))]
    expr.columns = names
    expr_path = folder / "expr.csv"
    expr.to_csv(expr_path, index_label="gene")
    meta = pd.DataFrame(
        {"group": ["=1+1", "-resistant"] * (len(names) // 2), "response": np.linspace(-1.5, 2, len(names))},
        index=names,
    )
    meta_path = folder / "meta.csv"
    meta.to_csv(meta_path, index_label="sample")
    gmt = folder / "sigs.gmt"
    gmt.write_text("@pump\tdesc\tABCB1\tABCG2\tABCC1\n=evil\tdesc\tBCL2\tMCL1\tBCL2L1\n")
    return {"expr": expr_path, "meta": meta_path, "gmt": gmt, "names": names}


def test_every_text_export_neutralises_formulas(runner, evil_cohort, tmp_path):
    scores = tmp_path / "scores.csv"
    tidy = tmp_path / "tidy.tsv"
    for out, extra in ((scores, []), (tidy, ["--tidy"])):
        r = invoke(
            runner,
            "score",
            evil_cohort["expr"],
            "--signatures",
            evil_cohort["gmt"],
            "--no-pvalues",
            "--out",
            out,
            *extra,
        )
        assert r.exit_code == 0, r.output
        assert _formula_cells(out) == [], out
    # the values are kept, with a quote in front
    table = pd.read_csv(scores, index_col=0)
    assert '\'=HYPERLINK("http://x")' in table.index and "'@pump" in table.columns
    stats = tmp_path / "stats.csv"
    args = ["--group", "group", "--response", "response", "--out", str(stats)]
    r = invoke(runner, "test", scores, "--metadata", evil_cohort["meta"], *args)
    assert r.exit_code == 0, r.output
    assert _formula_cells(stats) == []
    numbers = pd.read_csv(stats).select_dtypes("number").to_numpy()
    assert (numbers < 0).any(), "negative numbers are written as numbers"
    groups = pd.read_csv(stats)[["group1", "group2"]].stack()
    assert set(groups) == {"'=1+1", "'-resistant"}
    rep = tmp_path / "report"
    args = ["--metadata", str(evil_cohort["meta"]), "--group", "group", "--out", str(rep)]
    r = invoke(runner, "report", evil_cohort["expr"], *args)
    assert r.exit_code == 0, r.output
    written = sorted(rep.glob("*.csv"))
    assert {p.name for p in written} >= {"scores.csv", "scores_tidy.csv", "coverage.csv", "stats_groups.csv"}
    for path in written:
        assert _formula_cells(path) == [], path
    # the downloads embedded in the report too (scores, statistics, coverage)
    html = (rep / "report.html").read_text(encoding="utf-8")
    downloads = re.findall(r"data:text/csv;base64,([A-Za-z0-9+/=]+)", html)
    assert len(downloads) >= 3
    for i, b64 in enumerate(downloads):
        download = tmp_path / f"download{i}.csv"
        download.write_bytes(base64.b64decode(b64))
        assert _formula_cells(download) == [], download.read_text(encoding="utf-8")[:200]


def test_neutralised_scores_still_join_their_metadata(runner, evil_cohort, tmp_path):
    """The quote added on writing is removed when resistscore reads its own scores table back."""
    scores = tmp_path / "scores.csv"
    r = invoke(runner, "score", evil_cohort["expr"], "--signatures", evil_cohort["gmt"], "--out", scores)
    assert r.exit_code == 0, r.output
    out = tmp_path / "t.csv"
    r = invoke(
        runner, "test", scores, "--metadata", evil_cohort["meta"], "--response", "response", "--out", out
    )
    assert r.exit_code == 0, r.output
    assert "no row in the metadata" not in r.output
    assert (pd.read_csv(out)["n"] == len(evil_cohort["names"])).all()


def test_io_write_neutralises_csv_and_excel(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    df = pd.DataFrame({"=cmd()": [-1.0, 2.0]}, index=["@S1", "S2"])
    rs.io.write(df, tmp_path / "x.csv")
    assert _formula_cells(tmp_path / "x.csv") == []
    rs.io.write(df, tmp_path / "x.xlsx")
    cells = [c for row in openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows() for c in row]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert {"'=cmd()", "'@S1", -1.0} <= {c.value for c in cells}


# --------------------------------------------- 7: validate before writing; never mix runs
@pytest.fixture(scope="module")
def previous_report(cohort, tmp_path_factory):
    """A finished report (with group statistics) to run again into."""
    out = tmp_path_factory.mktemp("prev") / "report"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(cohort["expr"]),
            "--metadata",
            str(cohort["meta"]),
            "--group",
            "group",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def _bad_meta(cohort, tmp_path, change):
    meta = cohort["obs"].copy()
    change(meta)
    path = tmp_path / "bad_meta.csv"
    meta.to_csv(path, index_label="sample")
    return path


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing group column", "--group 'nope' is not a column"),
        ("time without event", "--event is missing"),
        ("negative time", "negative time"),
        ("infinite time", "infinite time"),
        ("no id matches", "no sample id of the metadata"),
        ("unknown signature", "unknown signature id"),
        ("bad figure format", "--formats"),
    ],
)
def test_failed_report_leaves_the_folder_as_it_was(runner, cohort, previous_report, tmp_path, case, needle):
    meta = cohort["meta"]
    extra = ["--group", "group"]
    if case == "missing group column":
        extra = ["--group", "nope"]
    elif case == "time without event":
        extra = ["--time", "survival_months"]
    elif case in ("negative time", "infinite time"):
        value = -1.0 if case == "negative time" else np.inf
        meta = _bad_meta(cohort, tmp_path, lambda m: m.__setitem__("survival_months", value))
        extra = ["--time", "survival_months", "--event", "event"]
    elif case == "no id matches":
        meta = tmp_path / "ids.csv"
        cohort["obs"].set_axis("X" + cohort["obs"].index).to_csv(meta, index_label="sample")
    if case == "unknown signature":
        extra += ["--signatures", "nope_signature"]
    if case == "bad figure format":
        extra += ["--formats", "png,docx"]
    before = snapshot(previous_report)
    result = invoke(runner, "report", cohort["expr"], "--metadata", meta, *extra, "--out", previous_report)
    assert snapshot(previous_report) == before
    assert [p.name for p in previous_report.parent.iterdir()] == ["report"], "no temporary folder left"
    error = assert_one_error(result, needle)
    assert "0 level" not in error


def test_report_into_a_new_folder_that_fails_leaves_nothing(runner, cohort, tmp_path):
    out = tmp_path / "a" / "b" / "report"
    result = invoke(
        runner, "report", cohort["expr"], "--metadata", cohort["meta"], "--group", "nope", "--out", out
    )
    assert_one_error(result, "nope")
    assert list(tmp_path.iterdir()) == []


def test_finished_report_never_mixes_with_the_previous_one(runner, cohort, tmp_path):
    out = tmp_path / "report"
    args = ["report", str(cohort["expr"]), "--out", str(out)]
    first = invoke(runner, *args, "--metadata", cohort["meta"], "--group", "group")
    assert first.exit_code == 0, first.output
    assert (out / "stats_groups.csv").exists() and (out / "figures" / "groups.png").exists()
    second = runner.invoke(cli, args)  # no metadata: no statistics, no group figures
    assert second.exit_code == 0, second.output
    names = tree(out)
    assert "stats_groups.csv" not in names and "figures/groups.png" not in names
    manifest = json.loads((out / ".resistscore-run.json").read_text())
    assert sorted(manifest["files"]) == sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != ".resistscore-run.json"
    )


def test_folder_with_files_of_the_user_is_refused(runner, cohort, previous_report, tmp_path):
    out = tmp_path / "mine"
    shutil.copytree(previous_report, out)
    (out / "notes.txt").write_text("my notes")
    before = snapshot(out)
    result = invoke(runner, "report", cohort["expr"], "--out", out)
    assert_one_error(result, "did not write", "notes.txt")
    assert snapshot(out) == before


# ------------------------------------------------------------------ 8: the CLI reads its own output
@pytest.fixture
def scores_with_unscored(runner, cohort, tmp_path):
    """A scores table where one signature was not scored (an empty column), as `score` writes it."""
    sigs = tmp_path / "sigs.tsv"
    sigs.write_text(
        "source\ttarget\tweight\n"
        + "".join(f"pump\t{g}\t1\n" for g in ("ABCB1", "ABCG2", "ABCC1"))
        + "".join(f"absent\t{g}\t1\n" for g in ("NOTAGENE1", "NOTAGENE2", "NOTAGENE3"))
    )
    out = tmp_path / "scores.csv"
    result = invoke(runner, "score", cohort["expr"], "--signatures", sigs, "--no-pvalues", "--out", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out, index_col=0)["absent"].isna().all()
    return out


def test_test_accepts_unscored_signatures(runner, cohort, scores_with_unscored, tmp_path):
    out = tmp_path / "t.csv"
    result = invoke(
        runner, "test", scores_with_unscored, "--metadata", cohort["meta"], "--group", "group", "--out", out
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out).set_index("signature")
    assert np.isfinite(table.loc["pump", "pvalue"])
    assert np.isnan(table.loc["absent", "pvalue"]) and "not reported" in table.loc["absent", "note"]


def test_plot_accepts_unscored_signatures(runner, cohort, scores_with_unscored, tmp_path):
    out = tmp_path / "figs"
    result = invoke(
        runner,
        "plot",
        scores_with_unscored,
        "--metadata",
        cohort["meta"],
        "--group",
        "group",
        "--formats",
        "png",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert {"heatmap.png", "groups.png"} <= set(tree(out))


def test_test_accepts_the_tidy_scores_table(runner, cohort, tmp_path):
    wide = score_file(runner, cohort, tmp_path / "wide.csv", "--no-pvalues")
    tidy = score_file(runner, cohort, tmp_path / "tidy.tsv", "--no-pvalues", "--tidy")
    tables = []
    for scores in (wide, tidy):
        out = tmp_path / f"t_{scores.stem}.csv"
        r = invoke(runner, "test", scores, "--metadata", cohort["meta"], "--group", "group", "--out", out)
        assert r.exit_code == 0, r.output
        tables.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(*tables)


# --------------------------------------------------------------------------------- 9: tracebacks
def test_infinite_survival_time_is_one_line(runner, cohort, tmp_path):
    scores = score_file(runner, cohort, tmp_path / "scores.csv", "--no-pvalues")
    meta = _bad_meta(cohort, tmp_path, lambda m: m.__setitem__("survival_months", np.inf))
    result = invoke(
        runner,
        "test",
        scores,
        "--metadata",
        meta,
        "--time",
        "survival_months",
        "--event",
        "event",
        "--out",
        tmp_path / "t.csv",
    )
    assert_one_error(result, "--time", "infinite")
    assert not (tmp_path / "t.csv").exists()


def test_plot_with_a_missing_group_column_is_one_line(runner, cohort, tmp_path):
    scores = score_file(runner, cohort, tmp_path / "scores.csv", "--no-pvalues")
    out = tmp_path / "figs"
    result = invoke(runner, "plot", scores, "--metadata", cohort["meta"], "--group", "nope", "--out", out)
    assert_one_error(result, "--group 'nope'", "available columns")
    assert not out.exists()


def test_h5ad_without_matrix_is_one_line(runner, tmp_path):
    path = tmp_path / "empty.h5ad"
    ad.AnnData(obs=pd.DataFrame(index=["a", "b"]), var=pd.DataFrame(index=["ABCB1", "ABCG2"])).write_h5ad(
        path
    )
    result = invoke(runner, "score", path, "--out", tmp_path / "s.csv")
    assert_one_error(result, "empty.h5ad")
    assert not (tmp_path / "s.csv").exists()


def _writing_commands(cohort, scores, out):
    """Every writing command, with options that main had too."""
    meta, sigs = str(cohort["meta"]), str(cohort["sigs"])
    expr = str(cohort["expr"])
    return {
        "score": ["score", expr, "--signatures", sigs, "--no-pvalues", "--out", str(out / "s.csv")],
        "score --tidy": [
            "score",
            expr,
            "--signatures",
            sigs,
            "--no-pvalues",
            "--tidy",
            "--out",
            str(out / "s.tsv"),
        ],
        "test": ["test", str(scores), "--metadata", meta, "--group", "group", "--out", str(out / "t.csv")],
        "plot": ["plot", str(scores), "--metadata", meta, "--group", "group", "--out", str(out / "figs")],
        "report": ["report", expr, "--metadata", meta, "--group", "group", "--out", str(out / "rep")],
        "demo": ["demo", "--out", str(out / "demo")],
        "export gmt": ["signatures", "export", "--out", str(out / "s.gmt")],
        "export tsv": ["signatures", "export", "--out", str(out / "s.tsv")],
        "export folder": ["signatures", "export", "--out", str(out / "sigs")],
    }


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES], ids=["EROFS", "ENOSPC", "EACCES"])
@pytest.mark.parametrize(
    "command",
    ["score", "score --tidy", "test", "plot", "report", "demo", "export gmt", "export tsv", "export folder"],
)
def test_os_errors_while_writing_are_one_line(runner, cohort, tmp_path, os_fault, code, command):
    if command == "demo" and code == errno.ENOSPC:
        pytest.skip(
            "the demo reaches its first write only after scoring the toy cohort (slow); EROFS covers it"
        )
    scores = score_file(runner, cohort, tmp_path / "in" / "scores.csv", "--no-pvalues")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("a file of the user")
    args = _writing_commands(cohort, scores, out)[command]
    inputs = snapshot(cohort["folder"], tmp_path / "in")
    with os_fault(code, out):
        result = runner.invoke(cli, args)
    error = assert_one_error(result, str(out / args[-1].split(os.sep)[-1]))
    assert {errno.EROFS: "read-only", errno.ENOSPC: "no space", errno.EACCES: "permission denied"}[
        code
    ] in error
    assert ".part" not in error, "the message names the target, not a temporary file"
    assert tree(out) == ["keep.txt"], "nothing partial is left"
    assert snapshot(cohort["folder"], tmp_path / "in") == inputs


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_folder_is_one_line(runner, cohort, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = invoke(
            runner, "score", cohort["expr"], "--signatures", cohort["sigs"], "--out", out / "s.csv"
        )
        assert_one_error(result, "permission denied")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


# -------------------------------------------------------------------- 14: event as True/False, yes/no
@pytest.mark.parametrize(
    ("spelling", "ok"),
    [
        ({1: "True", 0: "False"}, True),
        ({1: "yes", 0: "no"}, True),
        ({1: "TRUE", 0: "false"}, True),
        ({1: "1", 0: "0"}, True),
        ({1: "dead", 0: "alive"}, False),
    ],
)
def test_event_column_spellings(runner, cohort, tmp_path, spelling, ok):
    scores = score_file(runner, cohort, tmp_path / "scores.csv", "--no-pvalues")
    args = ["--time", "survival_months", "--event", "event"]
    ref = tmp_path / "ref.csv"
    r = invoke(runner, "test", scores, "--metadata", cohort["meta"], *args, "--out", ref)
    assert r.exit_code == 0, r.output
    meta = _bad_meta(cohort, tmp_path, lambda m: m.__setitem__("event", m["event"].map(spelling)))
    out = tmp_path / "t.csv"
    r = invoke(runner, "test", scores, "--metadata", meta, *args, "--out", out)
    if ok:
        assert r.exit_code == 0, r.output
        pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(ref))
    else:
        assert_one_error(r, "--event", "'alive'")


# ------------------------------------------------------------------------------ 17: help that lies
def test_signatures_takes_comma_separated_ids(runner, cohort, tmp_path):
    out = tmp_path / "s.csv"
    r = invoke(runner, "score", cohort["expr"], "--signatures", SIGS, "--no-pvalues", "--out", out)
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out, index_col=0).columns) == SIGS.split(",")


def test_empty_signatures_option_has_a_clear_message(runner, cohort, tmp_path):
    result = invoke(runner, "score", cohort["expr"], "--signatures", "", "--out", tmp_path / "s.csv")
    error = assert_one_error(result, "--signatures is empty")
    assert "signatures.yaml" not in error


def test_metadata_id_column_option_exists_as_the_help_says(runner, cohort, tmp_path):
    scores = score_file(runner, cohort, tmp_path / "s.csv", "--no-pvalues")
    meta = cohort["obs"].reset_index(names="sample").assign(code=lambda m: m["sample"])
    meta = meta.set_index("tissue").reset_index()  # ids no longer in the first column
    path = tmp_path / "m.csv"
    meta.to_csv(path, index=False)
    out = tmp_path / "t.csv"
    r = invoke(
        runner, "test", scores, "--metadata", path, "--id-column", "code", "--group", "group", "--out", out
    )
    assert r.exit_code == 0, r.output
    assert (pd.read_csv(out)["n1"] + pd.read_csv(out)["n2"] == 10).all()


def test_cli_choices_match_the_api():
    from resistscore.io._read import FORMATS, ORIENTATIONS
    from resistscore.tl.stats._groups import _TESTS

    params = {p.name: p for p in cli.commands["score"].params}
    assert tuple(params["fmt"].type.choices) == FORMATS
    assert tuple(params["orientation"].type.choices) == ORIENTATIONS
    assert tuple({p.name: p for p in cli.commands["test"].params}["test_name"].type.choices) == _TESTS


# ------------------------------------------------------------------- 23: nothing scored is an error
def test_nothing_scored_is_an_error_and_writes_nothing(runner, tmp_path):
    expr = tmp_path / "expr.csv"
    pd.DataFrame(
        np.random.default_rng(0).lognormal(size=(3, 4)),
        index=["NOTAGENE1", "NOTAGENE2", "NOTAGENE3"],
        columns=list("ABCD"),
    ).to_csv(expr, index_label="gene")
    for args in (["score", "--out", str(tmp_path / "s.csv")], ["report", "--out", str(tmp_path / "rep")]):
        result = invoke(runner, args[0], expr, *args[1:], "--no-pvalues")
        assert_one_error(result, "nothing could be scored", "no gene of the signature is measured")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expr.csv"]


# ------------------------------------------------------------------------- 25: messages of the CLI
def test_hints_name_the_cli_option_not_the_api_argument(runner, cohort, tmp_path):
    fake = tmp_path / "table.gct"
    shutil.copy(cohort["expr"], fake)
    result = invoke(runner, "score", fake, "--out", tmp_path / "s.csv")
    error = assert_one_error(result, "--format")
    assert "format=" not in error


# ------------------------------------------------------------------- warnings reach the user
def test_api_warnings_are_lines_on_stderr_and_in_the_report(runner, cohort, tmp_path):
    sigs = tmp_path / "sigs.tsv"
    sigs.write_text(
        "source\ttarget\tweight\npump\tABCB1\t1\npump\tABCG2\t1\nlost\tNOTAGENE\t1\nlost\tNOTAGENE2\t1\n"
    )
    out = tmp_path / "rep"
    result = invoke(
        runner,
        "report",
        cohort["expr"],
        "--signatures",
        sigs,
        "--no-pvalues",
        "--formats",
        "png",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert ".part" not in result.output and f"report: {out / 'report.html'}" in result.output
    lines = [line for line in result.stderr.splitlines() if "lost" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: "), result.stderr
    assert "Warning" not in lines[0] and ".py:" not in result.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    qc = html[html.index('<section id="qc">') :]
    assert (
        "Warnings raised during the run" in qc and "lost" in qc.split("Warnings raised during the run", 1)[1]
    )
    manifest = json.loads((out / ".resistscore-run.json").read_text())
    assert any("lost" in w for w in manifest["warnings"])


def test_stdout_stays_clean_for_pipes(runner, cohort, tmp_path):
    result = invoke(runner, "score", tmp_path / "missing.csv", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and result.stdout == "" and result.stderr.startswith("error:")


def test_csv_round_trip_of_quoted_numbers_is_untouched():
    from resistscore.io._write import neutralize_formulas, restore_formulas

    df = pd.DataFrame({"x": ["-1.5", "+2", "'=a", "=b", "\tc"], "y": [-1.0, 2.0, 3.0, 4.0, 5.0]})
    safe = neutralize_formulas(df)
    assert safe["x"].tolist() == ["-1.5", "+2", "''=a", "'=b", "'\tc"] and safe["y"].equals(df["y"])
    pd.testing.assert_frame_equal(restore_formulas(safe), df)
    buf = io.StringIO()
    safe.to_csv(buf, index=False)
    assert "'=b" in buf.getvalue()


def test_decimal_and_thousands_pass_to_the_reader(runner, cohort, tmp_path, monkeypatch):
    """--decimal / --thousands reach rs.io.read when given, and only then (the reader decides otherwise)."""
    import resistscore.io as rsio

    real, seen = rsio.read, []

    def read(path, *, decimal=None, thousands=None, **kwargs):
        seen.append({"decimal": decimal, "thousands": thousands})
        return real(path, **kwargs)

    monkeypatch.setattr(rsio, "read", read)
    base = [
        "score",
        str(cohort["expr"]),
        "--signatures",
        SIGS,
        "--no-pvalues",
        "--out",
        str(tmp_path / "s.csv"),
    ]
    assert invoke(runner, *base, "--decimal", ".", "--thousands", ",").exit_code == 0
    assert runner.invoke(cli, base).exit_code == 0
    assert seen == [{"decimal": ".", "thousands": ","}, {"decimal": None, "thousands": None}]


def test_report_of_an_h5ad_uses_its_annotations(runner, cohort, tmp_path):
    """Without --metadata, the statistics of `report` use the obs columns of an h5ad (as `rs.analyze` does)."""
    expr = pd.read_csv(cohort["expr"], index_col=0).T
    path = tmp_path / "cohort.h5ad"
    ad.AnnData(
        X=expr.to_numpy(), obs=cohort["obs"][["group"]].astype(str), var=pd.DataFrame(index=expr.columns)
    ).write_h5ad(path)
    out = tmp_path / "rep"
    result = invoke(
        runner,
        "report",
        path,
        "--group",
        "group",
        "--signatures",
        SIGS,
        "--no-pvalues",
        "--formats",
        "png",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert (out / "stats_groups.csv").exists()
    result = invoke(runner, "report", cohort["expr"], "--group", "group", "--out", tmp_path / "rep2")
    assert_one_error(result, "--group", "--metadata")


def test_score_output_states_the_probe_collapse_rule(runner, tmp_path):
    # issue 10 item 4: the rule that collapsed duplicated identifiers is in the CLI output (not only the report)
    expr = tmp_path / "dup.tsv"
    expr.write_text(
        "gene\tS1\tS2\nABCB1\t5\t9\nABCB1\t7\t3\nMDR1\t6\t6\nABCG2\t8\t2\nBCL2\t4\t4\nBAX\t3\t5\n"
    )
    gmt = tmp_path / "prog.gmt"
    gmt.write_text("prog\tdemo\tABCB1\tABCG2\tBCL2\n")
    res = invoke(runner, "score", expr, "--signatures", gmt, "--out", tmp_path / "s.csv")
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("genes: "))
    assert "6 identifiers -> 4 HGNC genes" in line
    assert (
        "rule 'mean'" in line
        and "1 gene(s) from several identifiers" in line
        and "within each sample" in line
    )
