"""Generative fuzzing of scoring (``rs.tl.score``) and the statistics over odd inputs.

Every generated input must end in a correct result or one :class:`~resistscore.ResistScoreError`:
never another exception, a NaN without a recorded reason, a score outside its method's range or a
changed input. Properties: a cell's (sample's) default score never depends on the other cells
(samples), and no score depends on the chunk size or the number of threads.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import resistscore as rs

from ._fuzz import count_input, fuzz_settings

METHODS = ("singscore", "ucell", "aucell", "ssgsea", "gsva", "module_score", "wmean", "ulm")
#: the range of each method's scores (ssGSEA is divided by the range of the cohort's scores: unbounded)
RANGES = {
    # R singscore ranks ties at their minimum rank: with many tied values (zeros) the mean rank of a set
    # leaves its theoretical bounds, and the score [-1, 1] (documented in docs/methods.md)
    "singscore": (-np.inf, np.inf),
    "ucell": (0.0, 1.0),
    "aucell": (-1.0, 1.0),
    "gsva": (-2.0, 2.0),  # ES(up) - ES(down)
    "ssgsea": (-np.inf, np.inf),
    "module_score": (-np.inf, np.inf),
    "wmean": (-np.inf, np.inf),
    "ulm": (-np.inf, np.inf),
}
GENES = [f"G{i}" for i in range(40)]


# ---------------------------------------------------------------------------------------------------
# generators
# ---------------------------------------------------------------------------------------------------
@st.composite
def matrices(draw, max_rows=9, max_genes=24):
    """An expression matrix with odd rows, columns and values (samples x genes, numpy)."""
    n = draw(st.integers(1, max_rows))
    g = draw(st.integers(4, max_genes))
    kind = draw(st.sampled_from(["normal", "counts", "sparse_counts", "tiny", "huge", "ties", "negative"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "normal":
        X = rng.normal(6.0, 2.0, (n, g))
    elif kind == "counts":
        X = rng.poisson(5.0, (n, g)).astype(float)
    elif kind == "sparse_counts":
        X = rng.poisson(0.3, (n, g)).astype(float)
    elif kind == "tiny":
        X = rng.random((n, g)) * 1e-300
    elif kind == "huge":
        X = rng.random((n, g)) * draw(st.sampled_from([1e300, 1e90]))
    elif kind == "ties":
        X = rng.integers(0, 3, (n, g)).astype(float)
    else:
        X = rng.normal(0.0, 1.0, (n, g))
    for _ in range(draw(st.integers(0, 3))):
        what = draw(
            st.sampled_from(["zero_row", "nan_row", "const_row", "const_col", "nan_cell", "inf_cell"])
        )
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, g - 1))
        if what == "zero_row":
            X[i] = 0.0
        elif what == "nan_row":
            X[i] = np.nan
        elif what == "const_row":
            X[i] = draw(st.sampled_from([1.0, -3.5, 1e-200]))
        elif what == "const_col":
            X[:, j] = draw(st.sampled_from([0.0, 2.0]))
        elif what == "nan_cell":
            X[i, j] = np.nan
        else:
            X[i, j] = draw(st.sampled_from([np.inf, -np.inf]))
    return X


@st.composite
def signature_inputs(draw, genes):
    """Signatures in one of the forms rs.tl.score takes (dict, long table with weight / mor, GMT text)."""
    pool = [*genes[:12], "MISSING1", "MISSING2"]
    n_sets = draw(st.integers(1, 3))
    sets = {}
    for k in range(n_sets):
        members = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
        signs = draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=len(members), max_size=len(members)))
        sets[f"set{k}"] = dict(zip(members, signs))
    form = draw(st.sampled_from(["list", "weights", "long", "mor", "gmt"]))
    if form == "list":
        return "dict", {s: [g if w > 0 else f"{g}-" for g, w in m.items()] for s, m in sets.items()}
    if form == "weights":
        scale = draw(st.sampled_from([1.0, 0.01, 100.0]))
        return "dict", {s: {g: w * scale for g, w in m.items()} for s, m in sets.items()}
    rows = [(s, g, w) for s, m in sets.items() for g, w in m.items()]
    net = pd.DataFrame(rows, columns=["source", "target", "weight"])
    if form == "long":
        return "long", net
    if form == "mor":
        return "long", net.rename(columns={"weight": "mor"})
    lines = []
    for s, m in sets.items():
        up = [g for g, w in m.items() if w > 0]
        dn = [g for g, w in m.items() if w < 0]
        if up:
            lines.append("\t".join([f"{s}_UP", "desc", *up]))
        if dn:
            lines.append("\t".join([f"{s}_DN", "desc", *dn]))
    if draw(st.booleans()):
        lines.append(lines[0])  # a set name used twice: an error
    text = "\n".join(lines) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    if draw(st.booleans()):
        text = text.replace("desc", "caf\u00e9", 1)  # not ASCII: only UTF-8 is accepted
    return "gmt", text.encode(encoding)


# ---------------------------------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------------------------------
def _check_result(res: rs.tl.ScoreResult, method: str, n_obs: int) -> None:
    """Scores within the method's range, NaN only with a recorded reason, p-values and FDR consistent."""
    s = res.scores.to_numpy()
    assert s.shape[0] == n_obs
    lo, hi = RANGES[method]
    finite = np.isfinite(s)
    assert np.all((s[finite] >= lo - 1e-9) & (s[finite] <= hi + 1e-9)), (
        method,
        s[finite].min(),
        s[finite].max(),
    )
    if method != "ulm":  # ulm's t is infinite when a sample equals its signature's weights exactly
        assert not np.isinf(s).any(), method
    tidy = res.tidy()
    nan = tidy["score"].isna().to_numpy()
    assert ((tidy["note"] != "").to_numpy() == nan).all(), tidy[nan != (tidy["note"] != "")]
    if res.pvalues is not None:
        p, q = res.pvalues.to_numpy(), res.fdr.to_numpy()
        assert (np.isnan(p) == np.isnan(s)).all() and (np.isnan(q) == np.isnan(s)).all()
        ok = ~np.isnan(p)
        assert np.all((p[ok] > 0) & (p[ok] <= 1)) and np.all((q[ok] >= p[ok] - 1e-12) & (q[ok] <= 1))


def _score(data, sigs, **kw):
    """rs.tl.score; returns the result or None for one of our errors (anything else fails the test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        try:
            return rs.tl.score(data, sigs, **kw)
        except rs.ResistScoreError as err:
            assert str(err) and "\n" not in str(err).strip()[:1]
            return None


# ---------------------------------------------------------------------------------------------------
# rs.tl.score
# ---------------------------------------------------------------------------------------------------
@fuzz_settings(1100)
@given(X=matrices(), method=st.sampled_from((None, *METHODS)), pvalues=st.booleans(), data=st.data())
def test_fuzz_score_odd_matrices(X, method, pvalues, data):
    count_input("score")
    genes = GENES[: X.shape[1]]
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(X.shape[0])], columns=genes)
    before = df.copy()
    form, sigs = data.draw(signature_inputs(genes))
    if form == "gmt":
        sigs = {"fixed": genes[:3]}
    res = _score(df, sigs, method=method, pvalues=pvalues, n_controls=9, n_jobs=1)
    pd.testing.assert_frame_equal(df, before)
    if res is not None:
        _check_result(res, res.method, X.shape[0])
        # a row with NaN or inf anywhere (but not all NaN) is an error, never silently scored
        partial = ~np.isfinite(X).all(axis=1) & ~np.isnan(X).all(axis=1)
        assert not partial.any()


@fuzz_settings(400)
@given(X=matrices(max_rows=6, max_genes=16),
       storage=st.sampled_from(["csr", "array", "adata", "adata_sparse", "backed"]),
       method=st.sampled_from((None, *METHODS)))  # fmt: skip
def test_fuzz_score_storage(X, storage, method, tmp_path_factory):
    count_input("score")
    if storage == "backed":
        # a backed .h5ad file scores exactly as the same cells in memory
        genes = GENES[: X.shape[1]]
        m = sp.csr_matrix(np.nan_to_num(X))
        path = tmp_path_factory.mktemp("h5ad") / "cells.h5ad"
        ad.AnnData(
            m, obs=pd.DataFrame(index=[f"c{i}" for i in range(X.shape[0])]), var=pd.DataFrame(index=genes)
        ).write_h5ad(path)
        sigs = {"a": genes[:3], "b": [genes[3] + "-", genes[0]]}
        on_disk = _score(str(path), sigs, method=method, pvalues=False, chunk_size=2, harmonize=False)
        in_memory = _score(m, sigs, method=method, pvalues=False, genes=genes,
                           samples=[f"c{i}" for i in range(X.shape[0])])  # fmt: skip
        assert (on_disk is None) == (in_memory is None)
        if on_disk is not None:
            _check_result(on_disk, on_disk.method, X.shape[0])
            np.testing.assert_array_equal(on_disk.scores.to_numpy(), in_memory.scores.to_numpy())
        return
    assume(np.isfinite(X).all() or storage in ("array", "adata"))
    genes = GENES[: X.shape[1]]
    sigs = {"a": genes[:3], "b": [genes[3] + "-", genes[0]]}
    if storage == "csr":
        data, kw = sp.csr_matrix(np.nan_to_num(X)), {"genes": genes}
    elif storage == "array":
        data, kw = X.copy(), {"genes": genes}
    else:
        m = sp.csr_matrix(np.nan_to_num(X)) if storage == "adata_sparse" else X.copy()
        data = ad.AnnData(m, obs=pd.DataFrame(index=[f"c{i}" for i in range(X.shape[0])]))
        data.var_names = genes
        kw = {"copy": True}
    snapshot = data.copy() if not isinstance(data, ad.AnnData) else data.X.copy()
    out = _score(data, sigs, method=method, pvalues=False, **kw)
    after = data if not isinstance(data, ad.AnnData) else data.X
    if sp.issparse(snapshot):
        assert (snapshot != after).nnz == 0
    else:
        np.testing.assert_array_equal(snapshot, after)
    if out is not None:
        res = out if isinstance(out, rs.tl.ScoreResult) else rs.get.result(out)
        _check_result(res, res.method, X.shape[0])


@fuzz_settings(400)
@given(data=st.data())
def test_fuzz_score_signature_forms(data, tmp_path_factory):
    count_input("signatures")
    X = np.random.default_rng(0).normal(6.0, 1.0, (5, 20))
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(5)], columns=GENES[:20])
    form, sigs = data.draw(signature_inputs(GENES[:20]))
    if form == "gmt":
        path = tmp_path_factory.mktemp("gmt") / "sigs.gmt"
        path.write_bytes(sigs)
        sigs = path
    before = sigs.copy() if isinstance(sigs, (pd.DataFrame, dict)) else None
    res = _score(df, sigs, pvalues=False)
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(sigs, before)
    elif before is not None:
        assert sigs == before
    if res is not None:
        _check_result(res, res.method, 5)
        if form == "gmt":  # one directional signature per <id>_UP / <id>_DN pair, and the same as rs.sig.load
            loaded = rs.sig.load(sigs)
            assert res.signatures == loaded.ids
            assert not any(s.upper().endswith(("_UP", "_DN")) for s in res.signatures)


@fuzz_settings(40)
@given(
    index=st.sampled_from(
        ["multi_rows", "multi_cols", "dup_genes", "dup_samples", "int_names", "text_column"]
    ),
    method=st.sampled_from((None, "singscore", "ucell")),
)
def test_fuzz_score_odd_labels(index, method):
    count_input("score")
    df = pd.DataFrame(np.random.default_rng(1).normal(6, 1, (4, 10)), columns=GENES[:10], index=list("abcd"))
    if index == "multi_rows":
        df.index = pd.MultiIndex.from_arrays([df.index, [1, 2, 3, 4]])
    elif index == "multi_cols":
        df.columns = pd.MultiIndex.from_arrays([df.columns, range(10)])
    elif index == "dup_genes":
        df.columns = [*GENES[:9], GENES[0]]
    elif index == "dup_samples":
        df.index = list("aacd")
    elif index == "int_names":
        df.index = [10, 11, 12, 13]
    else:
        df.insert(0, "description", "x")
    res = _score(df, {"a": GENES[1:4]}, method=method, pvalues=False)
    if index in ("multi_rows", "multi_cols", "dup_genes", "dup_samples", "text_column"):
        assert res is None  # one clear error
    else:
        _check_result(res, res.method, 4)


# ---------------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------------
@fuzz_settings(100)
@given(seed=st.integers(0, 2**16), keep=st.lists(st.booleans(), min_size=30, max_size=30))
def test_property_a_cells_default_score_ignores_the_other_cells(seed, keep):
    count_input("score")
    assume(sum(keep) >= 1)
    rng = np.random.default_rng(seed)
    X = rng.poisson(rng.gamma(0.3, 0.2, 40), size=(30, 40)).astype(float)  # ~95 % zeros: single cell
    X[:, 0] += 1
    cells = sp.csr_matrix(X)
    sigs = {
        "a": GENES[:6],
        "b": [*GENES[6:9], *(g + "-" for g in GENES[9:12])],
        "c": [g + "-" for g in GENES[12:16]],
    }
    full = rs.tl.score(cells, sigs, genes=GENES, pvalues=False)
    idx = np.flatnonzero(keep)
    part = rs.tl.score(cells[idx], sigs, genes=GENES, samples=full.scores.index[idx], pvalues=False)
    assert full.method == part.method == "ucell"
    pd.testing.assert_frame_equal(full.scores.iloc[idx], part.scores, check_exact=True)


@fuzz_settings(100)
@given(seed=st.integers(0, 2**16), keep=st.lists(st.booleans(), min_size=12, max_size=12))
def test_property_a_samples_default_bulk_score_ignores_the_other_samples(seed, keep):
    count_input("score")
    assume(sum(keep) >= 1)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        np.round(rng.normal(7, 2, (12, 40)), 1), index=[f"s{i}" for i in range(12)], columns=GENES
    )
    sigs = {"a": GENES[:6], "b": [*GENES[6:9], *(g + "-" for g in GENES[9:12])]}
    full = rs.tl.score(df, sigs, pvalues=False)
    part = rs.tl.score(df[np.array(keep)], sigs, pvalues=False)
    assert full.method == part.method == "singscore"
    pd.testing.assert_frame_equal(full.scores[np.array(keep)], part.scores, check_exact=True)


@fuzz_settings(50)
@given(
    seed=st.integers(0, 2**16),
    method=st.sampled_from(METHODS),
    chunk=st.integers(1, 25),
    n_jobs=st.integers(1, 3),
)
def test_property_scores_do_not_depend_on_chunks_or_threads(seed, method, chunk, n_jobs):
    count_input("score")
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(150)]  # module_score's control genes need a few genes per bin
    X = np.round(rng.normal(6, 2, (25, 150)), 1)
    sigs = {"a": genes[:6], "b": [*genes[6:9], *(g + "-" for g in genes[9:12])]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        ref = rs.tl.score(X, sigs, method, genes=genes, n_controls=15, chunk_size=1000, n_jobs=1)
        other = rs.tl.score(X, sigs, method, genes=genes, n_controls=15, chunk_size=chunk, n_jobs=n_jobs)
    for a, b in ((ref.scores, other.scores), (ref.pvalues, other.pvalues), (ref.fdr, other.fdr)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


# ---------------------------------------------------------------------------------------------------
# statistics over odd metadata
# ---------------------------------------------------------------------------------------------------
@st.composite
def metadata(draw, n):
    """Sample metadata with odd values: NaN, inf, text in numbers, one-level or empty groups, bools."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    groups = draw(st.sampled_from([["a", "b"], ["a", "b", "c"], ["a"], ["a", "b", None]]))
    g = rng.choice(np.array(groups, dtype=object), n)
    num = rng.normal(size=n)
    time = rng.exponential(10, n)
    event = rng.random(n) < 0.6
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(["nan_num", "inf_num", "neg_time", "inf_time", "nan_time", "text_num"]))
        i = draw(st.integers(0, n - 1))
        if what == "nan_num":
            num[i] = np.nan
        elif what == "inf_num":
            num[i] = np.inf
        elif what == "neg_time":
            time[i] = -1.0
        elif what == "inf_time":
            time[i] = np.inf
        elif what == "nan_time":
            time[i] = np.nan
        else:
            num = num.astype(object)
            num[i] = "n/a"
    ev = draw(st.sampled_from(["bool", "int", "words", "odd"]))
    events = {
        "bool": event,
        "int": event.astype(int),
        "words": np.where(event, "True", "False"),
        "odd": np.where(event, "dead", "alive"),
    }[ev]
    return pd.DataFrame(
        {"group": g, "num": num, "time": time, "event": events, "patient": [f"p{i // 2}" for i in range(n)]},
        index=[f"s{i}" for i in range(n)],
    )


@fuzz_settings(500)
@given(
    data=st.data(),
    n=st.integers(2, 14),
    fn=st.sampled_from(["compare", "associate", "survival", "roc", "model"]),
)
def test_fuzz_statistics_over_odd_metadata(data, n, fn):
    count_input("stats")
    meta = data.draw(metadata(n))
    rng = np.random.default_rng(n)
    scores = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)}, index=meta.index)
    if data.draw(st.booleans()):
        scores["y"] = np.nan  # an unscored signature
    before_s, before_m = scores.copy(), meta.copy()
    test = data.draw(st.sampled_from(["welch", "mannwhitney", "anova", "kruskal"]))
    calls = {
        "compare": lambda: rs.tl.compare_groups(scores, meta, group="group", test=test),
        "associate": lambda: rs.tl.associate(scores, "num", metadata=meta),
        "survival": lambda: rs.tl.survival(scores, meta, time="time", event="event"),
        "roc": lambda: rs.tl.roc(scores, meta.assign(r=meta["event"]), responder="r", n_boot=100),
        "model": lambda: rs.tl.fit_model(scores, meta, formula="score ~ num"),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = calls[fn]()
        except rs.ResistScoreError as err:
            assert str(err)
            res = None
    pd.testing.assert_frame_equal(scores, before_s)
    pd.testing.assert_frame_equal(meta, before_m)
    if res is not None:
        t = res.table
        for col in ("pvalue", "fdr"):
            if col in t:
                v = t[col].to_numpy(dtype=float)
                ok = ~np.isnan(v)
                assert np.all((v[ok] >= 0) & (v[ok] <= 1))
        if "pvalue" in t and "note" in t:  # a missing p-value always says why
            missing = t["pvalue"].isna() & t["signature"].isin(["x", "y"])
            assert (t.loc[missing, "note"].fillna("") != "").all(), t.loc[missing]
        assert res.params.get("unit") in ("sample", "cell", None) or res.params["unit"].startswith("sample x")


@fuzz_settings(60)
@given(
    dtype=st.one_of(
        st.text(max_size=8), st.sampled_from(["float16", "int32", "complex128", "f8x", None, 32, b"f4"])
    ),
    harmonize=st.one_of(st.sampled_from(["yes", 1.5, "False", [True]]), st.integers(2, 9)),
)
def test_fuzz_score_result_dtype_and_harmonize_arguments(dtype, harmonize):
    # the result-type and harmonise arguments: anything but float64/float32 and True/False/None is one
    # clear error, never a numpy TypeError from deep inside or a silently ignored value
    count_input("score")
    df = pd.DataFrame(np.random.default_rng(0).normal(5, 1, (4, 8)), columns=GENES[:8])
    try:
        valid = np.dtype(dtype).name in ("float64", "float32")
    except Exception:
        valid = False
    assume(not valid)
    with pytest.raises(rs.ResistScoreError):
        rs.tl.score(df, {"s": GENES[:4]}, dtype=dtype, pvalues=False)
    with pytest.raises(rs.ResistScoreError):
        rs.tl.score(df, {"s": GENES[:4]}, harmonize=harmonize, pvalues=False)


@fuzz_settings(40)
@given(X=matrices(max_rows=6, max_genes=16), method=st.sampled_from(METHODS))
def test_property_float32_results_are_the_float64_results_rounded(X, method):
    count_input("score")
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(X.shape[0])], columns=GENES[: X.shape[1]])
    kw = {"method": method, "n_controls": 9, "n_jobs": 1, "random_state": 0}
    r64 = _score(df, {"s": GENES[:3]}, **kw)
    if r64 is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        r32 = rs.tl.score(df, {"s": GENES[:3]}, dtype="float32", **kw)
    np.testing.assert_array_equal(r32.scores.to_numpy(), r64.scores.to_numpy().astype(np.float32))
    if r64.pvalues is not None:
        np.testing.assert_array_equal(r32.pvalues.to_numpy(), r64.pvalues.to_numpy().astype(np.float32))
