"""Property: the command line and the Python API give the same numbers for the same file.

``resistscore score FILE`` must equal ``rs.tl.score(rs.pp.harmonize_genes(rs.io.read(FILE))[0])`` for
generated bulk CSV tables and small h5ad files, with the default method and with ssGSEA: the CLI is a
shell over the API and adds no analysis of its own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import resistscore as rs
from resistscore.cli import cli

SIGNATURES = "efflux_abc,apoptosis"
_SIGS = rs.sig.load(ids=SIGNATURES.split(","))
FILLER = ["GAPDH", "ACTB", "RPL13", "EEF1A1", "TUBB", "B2M", "PPIA", "HPRT1"]


@st.composite
def expression(draw):
    """A samples x genes matrix over signature genes and fillers, bulk-like or count-like."""
    genes = []
    for signature in _SIGS:  # enough of each signature's genes to score it
        members = sorted({*signature.up, *signature.down})
        genes += draw(st.lists(st.sampled_from(members), min_size=len(members) * 3 // 4, unique=True))
    genes = list(dict.fromkeys(genes))
    genes += draw(st.lists(st.sampled_from(FILLER), min_size=4, max_size=len(FILLER), unique=True))
    n = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["log", "counts"]))
    X = rng.normal(6, 2, (n, len(genes))) if kind == "log" else rng.poisson(4, (n, len(genes))).astype(float)
    return pd.DataFrame(X.round(5), index=[f"S{i}" for i in range(n)], columns=genes)


def _api_scores(path: Path, method: str | None) -> pd.DataFrame:
    adata, _ = rs.pp.harmonize_genes(rs.io.read(path))
    rs.tl.score(adata, _SIGS, method=method, pvalues=False)
    return rs.get.scores(adata)


@given(df=expression(), fmt=st.sampled_from(["csv", "h5ad"]), method=st.sampled_from([None, "ssgsea"]))
@settings(max_examples=30, deadline=None, derandomize=True)
def test_cli_equals_api(df, fmt, method):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"expr.{fmt}"
        if fmt == "csv":
            df.T.to_csv(path, index_label="gene")
        else:
            X = sp.csr_matrix(df.to_numpy()) if (df.to_numpy() == 0).mean() > 0.3 else df.to_numpy()
            ad.AnnData(X=X, obs=pd.DataFrame(index=df.index), var=pd.DataFrame(index=df.columns)).write_h5ad(
                path
            )
        out = Path(d) / "scores.csv"
        args = ["score", str(path), "--signatures", SIGNATURES, "--no-pvalues", "--out", str(out)]
        result = CliRunner().invoke(cli, args + (["--method", method] if method else []))
        assert result.exit_code == 0, result.output
        cli_scores = pd.read_csv(out, index_col=0)
        api = _api_scores(path, method)
        pd.testing.assert_frame_equal(
            cli_scores, api, check_names=False, check_dtype=False, rtol=0, atol=1e-12
        )


def test_cli_pvalues_and_fdr_equal_the_api(tmp_path):
    # the p-values (pooled null, GPD tail) and their FDR (per signature) are the engine's on every path:
    # the CLI adds no statistics of its own (issue 15)
    df = rs.ds.toy(n_samples=30, seed=4).to_df()
    path, out = tmp_path / "expr.csv", tmp_path / "tidy.csv"
    df.T.to_csv(path, index_label="gene")
    args = ["score", str(path), "--signatures", SIGNATURES, "--n-controls", "200", "--tidy"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    cli_tidy = pd.read_csv(out).set_index(["sample", "signature"]).sort_index()
    adata, _ = rs.pp.harmonize_genes(rs.io.read(path))
    rs.tl.score(adata, _SIGS, n_controls=200)
    api = rs.get.result(adata)
    assert (api.null, api.tail, api.fdr_family) == ("pooled", "gpd", "signature")
    api_tidy = api.tidy().set_index(["sample", "signature"]).sort_index()
    assert api_tidy["pvalue"].min() < 1 / 201  # beyond the per-sample floor: the pool and its tail
    for col in ("pvalue", "fdr"):
        np.testing.assert_allclose(cli_tidy[col], api_tidy.loc[cli_tidy.index, col], rtol=1e-12, atol=0)
