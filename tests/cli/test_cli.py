"""The command line: every subcommand has help, works on good input, fails cleanly on bad input."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from click.testing import CliRunner

import resistscore as rs
from resistscore.cli import cli

SUBCOMMANDS = [
    ["demo"],
    ["score"],
    ["methods"],
    ["compile"],
    ["signatures"],
    ["signatures", "list"],
    ["signatures", "show"],
    ["signatures", "export"],
    ["test"],
    ["plot"],
    ["report"],
    ["nci60"],
]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def toy_csv(tmp_path_factory):
    """A small bulk expression file as users have them: genes x samples, gene symbols in the first column."""
    adata = rs.ds.toy(n_samples=12)
    path = tmp_path_factory.mktemp("toy") / "expression.csv"
    adata.to_df().T.to_csv(path, index_label="gene")
    meta = tmp_path_factory.mktemp("toy") / "samples.csv"
    adata.obs.to_csv(meta, index_label="sample")
    return path, meta, adata


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a))
def test_every_subcommand_has_help(runner, args):
    result = runner.invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and rs.__version__ in result.output


def test_score_writes_scores(runner, toy_csv, tmp_path):
    path, _, adata = toy_csv
    out = tmp_path / "scores.csv"
    result = runner.invoke(cli, ["score", str(path), "--out", str(out), "--n-controls", "50"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    scores = pd.read_csv(out, index_col=0)
    assert list(scores.index) == list(adata.obs_names)
    assert "efflux_abc" in scores.columns
    resistant = adata.obs["group"] == "resistant"
    assert (
        scores.loc[resistant.to_numpy(), "efflux_abc"].mean()
        > scores.loc[~resistant.to_numpy(), "efflux_abc"].mean()
    )
    # the CLI is a shell over the API: same numbers as rs.tl.score on the same data
    adata = rs.pp.harmonize_genes(rs.io.read(path))[0]
    rs.tl.score(adata, n_controls=50, random_state=0)
    api = rs.get.result(adata)
    pd.testing.assert_frame_equal(scores, api.scores, check_names=False, check_dtype=False, atol=1e-6)


def test_score_tidy(runner, toy_csv, tmp_path):
    path, _, _ = toy_csv
    out = tmp_path / "scores.tsv"
    result = runner.invoke(cli, ["score", str(path), "--out", str(out), "--tidy", "--no-pvalues"])
    assert result.exit_code == 0, result.output
    tidy = pd.read_csv(out, sep="\t")
    assert {"sample", "signature", "score"} <= set(tidy.columns)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (None, "does not exist"),
        (b"", "empty"),
        (b"just some words\nnot a table of numbers at all\n", ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ""),
    ],
    ids=["missing", "empty", "prose", "binary"],
)
def test_score_bad_input_is_one_clean_line(runner, tmp_path, content, what):
    src = tmp_path / "input.csv"
    if content is not None:
        src.write_bytes(content)
    out = tmp_path / "scores.csv"
    result = runner.invoke(cli, ["score", str(src), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output
    assert what in errors[0]
    assert not out.exists()
    assert not list(tmp_path.glob(".scores.csv*")), "no partial output left behind"


def test_score_rejects_bad_output_suffix(runner, toy_csv, tmp_path):
    path, _, _ = toy_csv
    result = runner.invoke(cli, ["score", str(path), "--out", str(tmp_path / "scores.png")])
    assert result.exit_code == 2
    assert result.output.startswith("error:")


def test_score_does_not_touch_the_input(runner, toy_csv, tmp_path):
    path, _, _ = toy_csv
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    runner.invoke(cli, ["score", str(path), "--out", str(tmp_path / "s.csv"), "--no-pvalues"])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_score_gzipped_input(runner, toy_csv, tmp_path):
    path, _, _ = toy_csv
    gz = tmp_path / "expression.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    out = tmp_path / "scores.csv"
    result = runner.invoke(cli, ["score", str(gz), "--out", str(out), "--no-pvalues"])
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_signatures_list_show_export(runner, tmp_path):
    listed = runner.invoke(cli, ["signatures", "list"])
    assert listed.exit_code == 0, listed.output
    assert "efflux_abc" in listed.output
    shown = runner.invoke(cli, ["signatures", "show", "efflux_abc"])
    assert shown.exit_code == 0, shown.output
    assert "ABCB1" in shown.output
    gmt = tmp_path / "sigs.gmt"
    exported = runner.invoke(cli, ["signatures", "export", "--out", str(gmt)])
    assert exported.exit_code == 0, exported.output
    back = rs.sig.read_gmt(gmt)
    assert len(back) >= 13
    unknown = runner.invoke(cli, ["signatures", "show", "no_such_signature"])
    assert unknown.exit_code == 2 and unknown.output.startswith("error:")


def test_drug_signature_export(runner, tmp_path):
    out = tmp_path / "dox.tsv"
    result = runner.invoke(cli, ["signatures", "export", "--drug", "adriamycin", "--out", str(out)])
    assert result.exit_code == 0, result.output
    long = pd.read_csv(out, sep="\t")
    assert "ABCB1" in set(long["target"])


def test_methods_lists_registry(runner):
    result = runner.invoke(cli, ["methods"])
    assert result.exit_code == 0
    for name in ("singscore", "ucell", "aucell", "ssgsea", "gsva"):
        assert name in result.output


def test_test_plot_report_chain(runner, toy_csv, tmp_path):
    path, meta, _ = toy_csv
    scores = tmp_path / "scores.csv"
    assert runner.invoke(cli, ["score", str(path), "--out", str(scores), "--no-pvalues"]).exit_code == 0
    stats = tmp_path / "tests.csv"
    r = runner.invoke(
        cli, ["test", str(scores), "--metadata", str(meta), "--group", "group", "--out", str(stats)]
    )
    assert r.exit_code == 0, r.output
    table = pd.read_csv(stats)
    assert {"signature", "pvalue", "fdr"} <= set(table.columns)
    figs = tmp_path / "figs"
    r = runner.invoke(
        cli, ["plot", str(scores), "--metadata", str(meta), "--group", "group", "--out", str(figs)]
    )
    assert r.exit_code == 0, r.output
    assert list(figs.glob("*.png")) and list(figs.glob("*.pdf"))
    rep = tmp_path / "report"
    r = runner.invoke(
        cli, ["report", str(path), "--metadata", str(meta), "--group", "group", "--out", str(rep)]
    )
    assert r.exit_code == 0, r.output
    assert (rep / "report.html").stat().st_size > 10_000


def test_test_needs_something_to_test(runner, toy_csv, tmp_path):
    path, meta, _ = toy_csv
    scores = tmp_path / "scores.csv"
    runner.invoke(cli, ["score", str(path), "--out", str(scores), "--no-pvalues"])
    r = runner.invoke(cli, ["test", str(scores), "--metadata", str(meta), "--out", str(tmp_path / "t.csv")])
    assert r.exit_code == 2 and "nothing to test" in r.output
    r = runner.invoke(
        cli,
        [
            "test",
            str(scores),
            "--metadata",
            str(meta),
            "--group",
            "no_such_column",
            "--out",
            str(tmp_path / "t.csv"),
        ],
    )
    assert r.exit_code == 2 and "no_such_column" in r.output


@pytest.mark.slow
def test_demo_writes_everything(runner, tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "scores.csv").exists() and (out / "report.html").exists()
    assert (out / "stats_groups.csv").exists() and (out / "stats_survival.csv").exists()
    assert list((out / "figures").glob("*.png")) and list((out / "figures").glob("*.pdf"))
    groups = pd.read_csv(out / "stats_groups.csv")
    efflux = groups[groups["signature"] == "efflux_abc"].iloc[0]
    assert efflux["fdr"] < 0.01 and efflux["effect"] > 0  # the planted programme is found


@pytest.mark.realdata
def test_nci60_command_reproduces_the_pgp_validation(runner, nci60_dir, tmp_path):
    out = tmp_path / "nci60"
    result = runner.invoke(cli, ["nci60", str(nci60_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(out / "ranking_pgp.csv", index_col=0)
    assert ranking.index[0] == "NCI/ADR-RES" and ranking["rank_pgp"].iloc[0] == 1
    contrast = pd.read_csv(out / "adr_res_vs_ovcar8.csv")
    top = contrast[contrast["signature"] == "efflux_abc.abcb1"].iloc[0]
    assert top["gene"] == "ABCB1" and top["difference"] > 0
    assoc = pd.read_csv(out / "associations_gi50.csv")
    assert set(assoc["signature"]) >= {"efflux_abc.abcb1", "efflux_abc", "drug.doxorubicin", "drug.cisplatin"}
    for stem in ("pgp_score_vs_gi50", "efflux_contributions_adr_res_vs_ovcar8", "associations_forest"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 5_000
        assert (out / "figures" / f"{stem}.pdf").exists()


def test_nci60_command_without_data_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(cli, ["nci60", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.startswith("error:") and "Traceback" not in result.output
