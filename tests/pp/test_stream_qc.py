"""rs.pp.StreamQC: the findings of rs.pp.qc, taken block by block (in any order, overlapping), sparse or dense."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs


def _matrix(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.poisson(0.7, size=(60, 40)).astype(float)
    X[rng.random(X.shape) < 0.02] = np.nan
    X[rng.random(X.shape) < 0.01] = np.inf
    X[rng.random(X.shape) < 0.01] = -np.inf
    X[rng.random(X.shape) < 0.02] = -1.5
    X[3] = 0.0  # empty sample
    X[4] = 2.0  # constant sample
    X[5, :30] = np.nan  # mostly missing
    X[6] = np.nan  # empty (all missing)
    X[:, 7] = np.nan  # empty gene
    X[:, 8] = 4.0  # constant gene
    X[:, 9] = 0.0  # constant gene of zeros (implicit in sparse storage)
    return X


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_stream_qc_equals_qc(seed, sparse):
    X = _matrix(seed)
    samples = [f"s{i}" for i in range(X.shape[0])]
    genes = [f"G{i}" for i in range(X.shape[1] - 1)] + ["G0"]  # a duplicated gene id
    want = rs.pp.qc(pd.DataFrame(X, index=samples, columns=genes))
    acc = rs.pp.StreamQC(*X.shape)
    M = sp.csr_matrix(np.where(X == 0, 0, X)) if sparse else X
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, X.shape[0]), size=5, replace=False))
    ranges = list(zip([0, *cuts], [*cuts, X.shape[0]], strict=True))
    rng.shuffle(ranges)
    for a, b in ranges:
        acc.add(a, M[a:b])
        acc.add(a, M[a : min(b + 3, X.shape[0])])  # overlapping: rows already seen are skipped
    acc.add(int(cuts[0]), M[cuts[0] : cuts[0] + 1])
    assert acc.complete and acc.missing() == []
    got = acc.report(samples, genes, X)
    assert got.findings == want.findings
    assert got.problems == want.problems
    assert (got.n_samples, got.n_genes) == (want.n_samples, want.n_genes)


def test_stream_qc_lists_missing_rows():
    acc = rs.pp.StreamQC(25, 3)
    acc.add(5, np.ones((10, 3)))
    assert not acc.complete
    assert acc.missing(block=4) == [(0, 4), (4, 5), (15, 19), (19, 23), (23, 25)]
