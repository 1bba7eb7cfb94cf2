"""Fuzz: damaged .zarr stores and bad shard lists give one ResistScoreError, never a crash or a wrong score;
property: the Dask path equals the in-process API for random data, partitions and nulls."""

from __future__ import annotations

import shutil
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import resistscore as rs

from ._fuzz import count_input, fuzz_settings

zarr = pytest.importorskip("zarr")
pytest.importorskip("distributed")

GENES = [f"G{i}" for i in range(60)]
SIGS = {"a": GENES[:8], "b": GENES[10:16] + [f"{g}-" for g in GENES[20:24]]}


def _adata(seed: int, n: int = 80, dense: bool = False) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    X = np.log1p(rng.poisson(rng.gamma(0.4, 1.0, size=len(GENES)), size=(n, len(GENES)))).astype(np.float32)
    X[0] = 0  # an unscorable row
    return ad.AnnData(
        X if dense else sp.csr_matrix(X),
        obs=pd.DataFrame(index=[f"c{seed}_{i}" for i in range(n)]),
        var=pd.DataFrame(index=GENES),
    )


def _write_zarr(a: ad.AnnData, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a.write_zarr(path)


def _score(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        return rs.tl.score(data, SIGS, n_controls=10, chunk_size=16, harmonize=False, **kw)


DAMAGES = [
    "drop_indptr", "drop_data", "truncate_indices", "bad_indices", "shuffle_indptr", "encoding_csc",
    "shape_attr", "drop_obs", "drop_var_index", "garbage_chunk", "string_data", "empty_dir",
]  # fmt: skip


def _damage(path, how: str, rng) -> None:
    g = zarr.open_group(str(path), mode="r+")
    X = g["X"]
    if how == "drop_indptr":
        del X["indptr"]
    elif how == "drop_data":
        del X["data"]
    elif how == "truncate_indices":
        idx = X["indices"][:]
        del X["indices"]
        X.create_array("indices", shape=(len(idx) // 2,), dtype=idx.dtype)[...] = idx[: len(idx) // 2]
    elif how == "bad_indices":
        idx = X["indices"][:]
        idx[rng.integers(0, len(idx))] = len(GENES) + int(rng.integers(0, 5))
        X["indices"][...] = idx
    elif how == "shuffle_indptr":
        ptr = X["indptr"][:]
        X["indptr"][...] = rng.permutation(ptr)
    elif how == "encoding_csc":
        X.attrs["encoding-type"] = "csc_matrix"
    elif how == "shape_attr":
        X.attrs["shape"] = [int(rng.integers(1, 200)), int(rng.integers(1, 200))]
    elif how == "drop_obs":
        del g["obs"]
    elif how == "drop_var_index":
        g["var"].attrs["_index"] = "no_such_column"
    elif how == "garbage_chunk":
        files = [p for p in (path / "X" / "data").rglob("*") if p.is_file() and not p.name.startswith(".")]
        for p in files:
            p.write_bytes(rng.bytes(int(rng.integers(1, 64))))
    elif how == "string_data":
        n = X["data"].shape[0]
        del X["data"]
        X.create_array("data", shape=(n,), dtype="U3")[...] = np.array(["abc"] * n)
    elif how == "empty_dir":
        shutil.rmtree(path)
        path.mkdir()
        return
    if (path / ".zmetadata").exists():  # anndata consolidates the metadata: make it see the damage
        zarr.consolidate_metadata(str(path))


@fuzz_settings(max_examples=24)
@given(how=st.sampled_from(DAMAGES), seed=st.integers(0, 2**16))
def test_fuzz_damaged_zarr(how, seed, tmp_path_factory):
    count_input("zarr")
    path = tmp_path_factory.mktemp("z") / "cells.zarr"
    _write_zarr(_adata(seed), path)
    _damage(path, how, np.random.default_rng(seed))
    with pytest.raises(rs.ResistScoreError):
        _score(path)


@fuzz_settings(max_examples=12)
@given(data=st.data())
def test_fuzz_bad_shards(data, tmp_path_factory):
    count_input("zarr")
    d = tmp_path_factory.mktemp("s")
    kind = data.draw(
        st.sampled_from(["other_genes", "reordered", "mixed_dense", "missing", "empty_list", "not_anndata"])
    )
    _write_zarr(_adata(1), d / "a.zarr")
    b = _adata(2, dense=kind == "mixed_dense")
    if kind == "other_genes":
        b = b[:, data.draw(st.lists(st.sampled_from(GENES), min_size=1, max_size=59, unique=True))].copy()
    elif kind == "reordered":
        b = b[:, GENES[::-1]].copy()
    _write_zarr(b, d / "b.zarr")
    paths = {
        "missing": [d / "a.zarr", d / "nope.zarr"],
        "empty_list": [],
        "not_anndata": [d / "a.zarr", d / "a.zarr" / "X"],
    }.get(kind, [d / "a.zarr", d / "b.zarr"])
    with pytest.raises(rs.ResistScoreError):
        _score(paths)


@pytest.fixture(scope="module")
def client():
    from resistscore._workflow import dask_client

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with dask_client(workers=2) as c:
            yield c


@fuzz_settings(max_examples=6)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 150),
    part=st.integers(1, 200),
    null=st.sampled_from(["pooled", "per_sample"]),
    dense=st.booleans(),
    method=st.sampled_from([None, "singscore", "wmean"]),
)
def test_property_dask_equals_in_process(client, seed, n, part, null, dense, method, tmp_path_factory):
    count_input("distributed")
    path = tmp_path_factory.mktemp("p") / "cells.h5ad"
    _adata(seed, n, dense).write_h5ad(path)
    ref = _score(path, null=null, method=method, random_state=seed)
    got = _score(path, null=null, method=method, random_state=seed, client=client, partition_size=part)
    for name in ("scores", "pvalues", "fdr"):
        np.testing.assert_array_equal(
            getattr(ref, name).to_numpy(), getattr(got, name).to_numpy(), err_msg=name
        )
