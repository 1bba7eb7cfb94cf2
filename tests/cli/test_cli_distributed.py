"""``resistscore score`` on h5ad/zarr streams, on a Dask cluster with --scheduler/--workers, and equals the API."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import resistscore as rs
from resistscore.cli import cli

pytest.importorskip("distributed")
pytest.importorskip("zarr")

SIGNATURES = "efflux_abc,apoptosis"


def _cells(n: int = 400) -> ad.AnnData:
    """Cells over signature genes (one under a previous symbol, one duplicated) and fillers."""
    genes = sorted({g for s in rs.sig.load(ids=SIGNATURES.split(",")) for g in (*s.up, *s.down)})
    genes = [("MDR1" if g == "ABCB1" else g) for g in genes] + ["ABCB1", "GAPDH", "ACTB", "B2M", "RPL13"]
    rng = np.random.default_rng(4)
    X = rng.poisson(rng.gamma(0.3, 1.0, size=len(genes)), size=(n, len(genes))).astype(np.float32)
    X[:40, : len(genes) // 3] += 2
    a = ad.AnnData(
        sp.csr_matrix(np.log1p(X)),
        obs=pd.DataFrame({"n_counts": X.sum(axis=1)}, index=[f"AAAC{i:04d}-1" for i in range(n)]),
        var=pd.DataFrame(index=genes),
    )
    return a


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory):
    p = tmp_path_factory.mktemp("cli_dist") / "cells.h5ad"
    _cells().write_h5ad(p)
    return p


@pytest.fixture(scope="module")
def api(h5ad):
    """What the API gives on the file loaded, harmonised and scored in memory."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        adata, _ = rs.pp.harmonize_genes(ad.read_h5ad(h5ad))
        rs.tl.score(adata, SIGNATURES, random_state=0)
        return rs.get.result(adata)


def _run(*args) -> None:
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def _equal(path, api) -> None:
    got = pd.read_parquet(path)
    ref = api.scores
    assert list(got.columns) == list(ref.columns) and list(got.index) == list(ref.index)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_cli_streams_h5ad_and_equals_api(h5ad, api, tmp_path, monkeypatch):
    """The CLI never loads X (ad.read_h5ad is not called) and writes the API's numbers, by suffix."""

    def no_load(*a, **k):
        raise AssertionError("the CLI loaded the whole file")

    monkeypatch.setattr(ad, "read_h5ad", no_load)
    _run("score", h5ad, "--out", tmp_path / "s.parquet", "--signatures", SIGNATURES)
    _equal(tmp_path / "s.parquet", api)
    _run("score", h5ad, "--out", tmp_path / "s.h5ad", "--signatures", SIGNATURES)
    monkeypatch.undo()
    out = ad.read_h5ad(tmp_path / "s.h5ad")
    np.testing.assert_array_equal(out.X, api.scores.to_numpy())
    np.testing.assert_array_equal(out.layers["pvalues"], api.pvalues.to_numpy())
    np.testing.assert_array_equal(out.layers["fdr"], api.fdr.to_numpy())
    _run("score", h5ad, "--out", tmp_path / "s.csv.gz", "--signatures", SIGNATURES)
    csv = pd.read_csv(tmp_path / "s.csv.gz", index_col=0)
    # the text tables carry 15 significant digits (rs.io.write_table)
    np.testing.assert_allclose(csv.to_numpy(), api.scores.to_numpy(), rtol=1e-13, atol=1e-16)


def test_convert_then_cluster(h5ad, api, tmp_path):
    """convert h5ad -> zarr, then score the store on a local cluster (--workers) and on an existing one
    (--scheduler): the API's numbers."""
    from resistscore._workflow import dask_client

    z = tmp_path / "cells.zarr"
    _run("convert", h5ad, z, "--chunk-rows", 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        back = ad.read_zarr(z)
    ref = ad.read_h5ad(h5ad)
    assert (back.X != ref.X).nnz == 0 and back.obs.equals(ref.obs)
    _run("score", z, "--workers", 1, "--out", tmp_path / "w.parquet", "--signatures", SIGNATURES)
    _equal(tmp_path / "w.parquet", api)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with dask_client(workers=2) as client:  # an existing cluster, reached by its address
            address = client.scheduler.address
            _run(
                "score",
                z,
                "--scheduler",
                address,
                "--out",
                tmp_path / "c.parquet",
                "--signatures",
                SIGNATURES,
            )
    _equal(tmp_path / "c.parquet", api)


def test_cluster_options_refused(h5ad, tmp_path):
    csv = tmp_path / "x.csv"
    pd.DataFrame({"ABCB1": [1.0, 2.0]}, index=["a", "b"]).to_csv(csv)
    res = CliRunner().invoke(cli, ["score", str(csv), "--workers", "2", "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "h5ad files and .zarr stores" in res.output
    res = CliRunner().invoke(
        cli,
        [
            "score",
            str(h5ad),
            "--workers",
            "1",
            "--scheduler",
            "tcp://127.0.0.1:1",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert res.exit_code == 2 and "not both" in res.output
    res = CliRunner().invoke(cli, ["score", str(h5ad), "--out", str(tmp_path / "o.json")])
    assert res.exit_code == 2 and ".parquet or .h5ad" in res.output
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.json").exists()
