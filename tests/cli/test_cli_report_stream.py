"""``resistscore report`` and ``rs.analyze`` stream an h5ad/zarr file: same tables as in memory, X never loaded whole."""

from __future__ import annotations

import filecmp
import re
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import resistscore as rs
from resistscore.cli import cli

SIGNATURES = "efflux_abc,apoptosis,dna_repair"
#: every table the analysis writes (the report's downloads and the statistics)
TABLES = (
    "scores.csv",
    "scores_tidy.csv",
    "coverage.csv",
    "confounder_scores.csv",
    "confounder_correlation.csv",
    "stats_groups.csv",
    "stats_response.csv",
)


def _analysis() -> dict:
    """The options of every analysis below: a group comparison and a response, one mean per patient."""
    return {
        "signatures": rs.sig.load(ids=SIGNATURES.split(",")),
        "group": "group",
        "response": "log10_ic50",
        "sample_key": "patient",
        "formats": ("png",),
        "progress": False,
    }


def _cells(n: int = 240) -> ad.AnnData:
    """Cells of 6 patients in 2 groups over signature and confounder genes (one under a previous symbol), with a UMAP."""
    net = rs.sig.load(ids=SIGNATURES.split(",")).to_network()
    genes = sorted(set(net["target"]) | set(rs.sig.confounders().to_network()["target"]))
    genes = [("MDR1" if g == "ABCB1" else g) for g in genes] + ["GAPDH", "ACTB", "B2M"]
    rng = np.random.default_rng(7)
    counts = rng.poisson(rng.gamma(0.4, 1.0, size=len(genes)), size=(n, len(genes))).astype(np.float32)
    patient = np.repeat([f"P{i}" for i in range(6)], n // 6)
    resistant = np.isin(patient, ["P0", "P1", "P2"])
    counts[resistant, : len(genes) // 4] += 2
    ic50 = [1.2, 0.9, 1.1, 0.1, -0.2, 0.3]  # one drug response per patient
    obs = pd.DataFrame(
        {
            "patient": pd.Categorical(patient),
            "group": pd.Categorical(np.where(resistant, "resistant", "sensitive")),
            "log10_ic50": pd.Series(patient).map(dict(zip([f"P{i}" for i in range(6)], ic50))).to_numpy(),
        },
        index=[f"AAAC{i:04d}-1" for i in range(n)],
    )
    a = ad.AnnData(sp.csr_matrix(np.log1p(counts)), obs=obs, var=pd.DataFrame(index=genes))
    a.obsm["X_umap"] = rng.normal(size=(n, 2))
    a.obsm["X_pca"] = rng.normal(size=(n, 5))
    a.uns["group_colors"] = np.array(["#d62728", "#1f77b4"], dtype=object)
    return a


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory):
    p = tmp_path_factory.mktemp("report_stream") / "cells.h5ad"
    _cells().write_h5ad(p)
    return p


@pytest.fixture(scope="module")
def in_memory(h5ad, tmp_path_factory):
    """The report of the file read whole and harmonised in memory (what ``resistscore report`` did before)."""
    out = tmp_path_factory.mktemp("mem") / "report"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        adata, _ = rs.pp.harmonize_genes(rs.io.read(h5ad))
        rs.analyze(
            adata,
            out,
            **_analysis(),
        )
    return out


def _no_whole_reads(monkeypatch) -> None:
    """Make every way of loading an AnnData file whole fail (the chunked reader opens it with h5py)."""

    def no_load(*a, **k):
        raise AssertionError("the report loaded the whole file")

    monkeypatch.setattr(ad, "read_h5ad", no_load)
    monkeypatch.setattr(ad, "read_zarr", no_load)
    monkeypatch.setattr(rs.io, "read", no_load)


def _figures(folder) -> list[str]:
    return sorted(p.name for p in (folder / "figures").iterdir())


def test_report_streams_and_writes_the_in_memory_tables(h5ad, in_memory, tmp_path, monkeypatch):
    """The CLI never loads the file whole, and its tables equal the in-memory analysis byte for byte."""
    _no_whole_reads(monkeypatch)
    out = tmp_path / "report"
    args = [
        "report",
        h5ad,
        "--signatures",
        SIGNATURES,
        "--group",
        "group",
        "--response",
        "log10_ic50",
        "--formats",
        "png",
        "--out",
        out,
    ]
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    # the statistics too: the CLI finds the replicate column (patient) as rs.analyze is told it
    for name in TABLES:
        assert filecmp.cmp(out / name, in_memory / name, shallow=False), name
    # the figures that need the file's annotations are drawn from obs, the UMAP and the colours alone
    assert _figures(out) == _figures(in_memory)
    assert "embedding.png" in _figures(out)
    # the gene mapping (MDR1 -> ABCB1) is reported as for the file read whole
    assert _mapping_lines(out) == _mapping_lines(in_memory) and _mapping_lines(out)
    assert "qc: 240 samples x" in res.output


def _mapping_lines(folder) -> list[str]:
    doc = (folder / "report.html").read_text(encoding="utf-8")
    return re.findall(r"[^<>]*identifiers[^<>]*", doc)


def test_analyze_of_a_path_streams_and_equals_analyze_of_the_anndata(h5ad, in_memory, tmp_path, monkeypatch):
    """``rs.analyze(path)``: every table (statistics per patient included) identical to ``rs.analyze(adata)``."""
    _no_whole_reads(monkeypatch)
    out = tmp_path / "api"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        outputs = rs.analyze(
            h5ad,
            out,
            **_analysis(),
        )
    for name in TABLES:
        assert filecmp.cmp(out / name, in_memory / name, shallow=False), name
    assert _figures(out) == _figures(in_memory)
    assert outputs.mapping is not None and outputs.qc is not None
    assert outputs.result.scores.shape == (240, 3)


def test_analyze_of_a_zarr_store_and_a_metadata_file(h5ad, in_memory, tmp_path):
    """A zarr store streams too; ``metadata=`` a table path is joined to its samples as ``--metadata`` is."""
    pytest.importorskip("zarr")
    adata = ad.read_h5ad(h5ad)
    store = tmp_path / "cells.zarr"
    rs.io.convert(h5ad, store)
    meta = tmp_path / "meta.csv"
    adata.obs.rename_axis("cell").to_csv(meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        warnings.simplefilter("ignore", UserWarning)  # zarr's format warnings
        rs.analyze(
            store,
            tmp_path / "z",
            metadata=meta,
            **_analysis(),
        )
    for name in TABLES:
        assert filecmp.cmp(tmp_path / "z" / name, in_memory / name, shallow=False), name


def test_a_transposed_h5ad_is_still_read_whole_and_transposed(tmp_path):
    """An h5ad storing genes as observations (none of its var names a gene) is read whole and transposed, as before."""
    a = _cells(60)
    t = ad.AnnData(a.X.T.tocsr(), obs=pd.DataFrame(index=a.var_names), var=pd.DataFrame(index=a.obs_names))
    path = tmp_path / "t.h5ad"
    t.write_h5ad(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        outputs = rs.analyze(path, tmp_path / "out", signatures=SIGNATURES, formats=("png",), progress=False)
        res = CliRunner().invoke(
            cli, ["score", str(path), "--signatures", SIGNATURES, "--out", str(tmp_path / "s.csv")]
        )
    assert outputs.result.scores.shape == (60, 3)
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(tmp_path / "s.csv", index_col=0)
    np.testing.assert_allclose(scores.to_numpy(), outputs.result.scores.to_numpy(), rtol=1e-13, atol=1e-15)


def test_metadata_path_needs_a_data_path(tmp_path):
    with pytest.raises(rs.ResistScoreError, match="metadata"):
        rs.analyze(_cells(12), tmp_path / "o", metadata=tmp_path / "m.csv")
