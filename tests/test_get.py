"""``rs.get``: the one contract of a scored AnnData (issue 11 item 3), and the one single-cell rule."""

from __future__ import annotations

import ast
import pathlib
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs

PACKAGE = pathlib.Path(rs.__file__).parent
GENES = [f"G{i}" for i in range(60)]
SIGS = {"a": ["G1", "G2", "G3", "G4"], "b": {"G10": 1.0, "G11": 1.0, "G12": -1.0}}


def _adata(n=12, seed=0, **obs):
    rng = np.random.default_rng(seed)
    adata = ad.AnnData(
        rng.normal(6, 1, size=(n, len(GENES))),
        obs=pd.DataFrame(obs or None, index=[f"s{i}" for i in range(n)]),
    )
    adata.var_names = GENES
    return adata


# ---- no literal keys outside rs.get ---------------------------------------------------------------------
#: the strings that name the places of a scored AnnData; only resistscore/get.py may spell them
KEYS = {
    "resistscore_scores",
    "resistscore_pvalues",
    "resistscore_fdr",
    "read_report",
    "gene_mapping",
    "resistscore_read_report",
}


def _key_literals(path: pathlib.Path, root: pathlib.Path = PACKAGE.parent) -> list[str]:
    """Where ``path`` spells a key: a string constant equal to one of :data:`KEYS`, or ``"resistscore"``
    used to index ``uns`` (``adata.uns["resistscore"]``, ``uns.get("resistscore")``, ``"resistscore" in uns``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in KEYS:
            found.append(f"{path.relative_to(root)}:{node.lineno} {node.value!r}")
        index = mapping = None
        if isinstance(node, ast.Subscript):
            index, mapping = node.slice, node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("get", "setdefault", "pop"):
                index, mapping = node.args[0], node.func.value
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            index, mapping = node.left, node.comparators[0]
        uns = mapping is not None and "uns" in ast.unparse(mapping)
        if uns and isinstance(index, ast.Constant) and index.value == "resistscore":
            found.append(f"{path.relative_to(root)}:{node.lineno} [{index.value!r}]")
    return found


def test_no_literal_keys_outside_rs_get():
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) if p.name != "get.py" for hit in _key_literals(p)]
    assert found == [], "spell the keys through resistscore.get (rs.get.OBSM_SCORES, rs.get.record, ...)"


def test_the_key_test_finds_a_literal(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        'uns = {}\ny = uns["resistscore"]\nz = "resistscore_scores"\nw = a.uns.get("resistscore")\n'
        'v = {}.get("resistscore")\n'
    )
    assert len(_key_literals(bad, tmp_path)) == 3  # not v: a mapping that is not uns


# ---- several runs, scanpy's return convention -----------------------------------------------------------
def test_runs_coexist_under_their_keys_and_each_result_is_rebuilt_whole():
    adata = _adata()
    assert rs.tl.score(adata, SIGS, n_controls=20) is None
    assert rs.tl.score(adata, SIGS, "wmean", pvalues=False, key_added="wmean") is None
    assert rs.get.runs(adata) == ["resistscore", "wmean"]
    df = adata.to_df()
    for key, kwargs in (
        ("resistscore", {"n_controls": 20}),
        ("wmean", {"method": "wmean", "pvalues": False}),
    ):
        direct = rs.tl.score(df, SIGS, **kwargs)
        res = rs.get.result(adata, key)
        pd.testing.assert_frame_equal(res.scores, direct.scores)
        assert (res.pvalues is None) == (direct.pvalues is None)
        if direct.pvalues is not None:
            pd.testing.assert_frame_equal(res.pvalues, direct.pvalues)
            pd.testing.assert_frame_equal(res.fdr, direct.fdr)
        assert set(res.extras) == set(direct.extras)
        for name in direct.extras:
            pd.testing.assert_frame_equal(res.extras[name], direct.extras[name], check_names=False)
        assert (res.method, res.seed, res.n_controls, res.null) == (
            direct.method,
            direct.seed,
            direct.n_controls,
            direct.null,
        )
        pd.testing.assert_frame_equal(res.contributions("s3", "b"), direct.contributions("s3", "b"))
    assert rs.get.pvalues(adata, "wmean") is None
    with pytest.raises(rs.ResistScoreError, match=r"holds the runs \['resistscore', 'wmean'\]"):
        rs.get.scores(adata, "other")


def test_a_scored_anndata_written_to_h5ad_and_read_back_gives_its_result(tmp_path):
    # h5ad gives a run's list of extra tables back as an array (empty for none): rs.get.result raised
    # "The truth value of an empty array is ambiguous" on every scored file read back
    adata = _adata()
    rs.tl.score(adata, SIGS, n_controls=20)
    rs.tl.score(adata, SIGS, "ucell", pvalues=False, key_added="ucell")
    adata.write_h5ad(tmp_path / "scored.h5ad")
    back = ad.read_h5ad(tmp_path / "scored.h5ad")
    assert isinstance(back.uns["resistscore"]["extras"], np.ndarray)
    for key in ("resistscore", "ucell"):
        want, got = rs.get.result(adata, key), rs.get.result(back, key)
        pd.testing.assert_frame_equal(got.scores, want.scores)
        assert set(got.extras) == set(want.extras) and got.method == want.method
    pd.testing.assert_frame_equal(rs.get.result(back).fdr, rs.get.result(adata).fdr)
    # a run written again over the one read back (its extras' keys are found through the array)
    rs.tl.score(back, SIGS, n_controls=20)
    assert rs.get.runs(back) == ["resistscore", "ucell"]
    assert rs.get.extra_names({"extras": np.array(["a", "b"], dtype=object)}) == ["a", "b"]
    assert rs.get.extra_names({}) == [] and rs.get.extra_names(None) == []


def test_copy_returns_the_scored_anndata_and_leaves_the_input_alone():
    adata = _adata()
    out = rs.tl.score(adata, SIGS, pvalues=False, copy=True)
    assert isinstance(out, ad.AnnData) and rs.get.runs(out) == ["resistscore"] and rs.get.runs(adata) == []
    with pytest.raises(rs.ResistScoreError, match="`copy` applies to an AnnData only"):
        rs.tl.score(adata.to_df(), SIGS, copy=True)
    with pytest.raises(rs.ResistScoreError, match="`key_added` applies to an AnnData only"):
        rs.tl.score(adata.to_df(), SIGS, key_added="x")
    with pytest.raises(rs.ResistScoreError, match="return_result"):
        rs.tl.score(adata, SIGS, return_result=True)  # gone: the result is rs.get.result(adata)


def test_a_run_under_the_same_key_replaces_the_earlier_one_and_keeps_the_records():
    adata = _adata()
    rs.get.store_record(adata, rs.get.QC, {"n_nan": 0})
    rs.tl.score(adata, SIGS, "singscore", n_controls=10)
    assert rs.get.obsm_key(table="dispersion") in adata.obsm
    rs.tl.score(adata, SIGS, "wmean", pvalues=False)
    assert rs.get.result(adata).method == "wmean" and rs.get.runs(adata) == ["resistscore"]
    assert rs.get.OBSM_PVALUES not in adata.obsm and rs.get.obsm_key(table="dispersion") not in adata.obsm
    assert rs.get.record(adata, rs.get.QC) == {"n_nan": 0}


def test_random_state_and_the_deprecated_seed():
    df = _adata().to_df()
    a = rs.tl.score(df, SIGS, n_controls=20, random_state=4)
    with pytest.warns(rs.DeprecatedArgumentWarning, match="random_state") as rec:
        b = rs.tl.score(df, SIGS, n_controls=20, seed=4)
    assert rec[0].filename == __file__  # the warning points at this line, not into the package
    assert issubclass(rs.DeprecatedArgumentWarning, FutureWarning)
    pd.testing.assert_frame_equal(a.pvalues, b.pvalues)
    assert a.seed == b.seed == 4
    with pytest.raises(rs.ResistScoreError, match="both given"):
        rs.tl.score(df, SIGS, random_state=1, seed=2)
    with pytest.raises(rs.ResistScoreError, match="integer seed"):
        rs.tl.score(df, SIGS, random_state=np.random.default_rng(0))


# ---- accessors ------------------------------------------------------------------------------------------
def test_scores_from_anything_resistscore_returns():
    adata = _adata()
    rs.tl.score(adata, SIGS, n_controls=20)
    res = rs.get.result(adata)
    for source in (adata, res, res.scores):
        pd.testing.assert_frame_equal(rs.get.scores(source), res.scores, check_names=False)
    assert list(rs.get.scores(adata, signatures=["b"]).columns) == ["b"]
    pd.testing.assert_frame_equal(rs.get.fdr(adata), res.fdr)
    assert rs.get.pvalues(res.scores) is None
    with pytest.raises(rs.ResistScoreError, match="choose among the scored signatures"):
        rs.get.scores(adata, signatures=["nope"])
    with pytest.raises(rs.InputFormatError, match="duplicated sample names"):
        rs.get.scores(pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "x"]))
    with pytest.raises(rs.InputFormatError, match="non-numeric"):
        rs.get.scores(pd.DataFrame({"a": ["x", "y"]}))


def test_scores_adata_is_ready_for_scanpy_plots():
    sc = pytest.importorskip("scanpy")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    adata = _adata(n=20, group=["g1", "g2"] * 10)
    adata.obsm["X_umap"] = np.random.default_rng(1).normal(size=(20, 2))
    adata.uns["group_colors"] = ["#000000", "#ffffff"]
    rs.tl.score(adata, SIGS, n_controls=10)
    view = rs.get.scores_adata(adata)
    assert list(view.var_names) == ["a", "b"] and view.n_obs == 20
    np.testing.assert_array_equal(view.X, rs.get.scores(adata).to_numpy())
    assert list(view.obsm) == ["X_umap"] and list(view.obs.columns) == ["group"]
    assert view.uns["group_colors"] == ["#000000", "#ffffff"] and "n_found" in view.var
    assert rs.get.runs(adata) == ["resistscore"]  # the input is not modified
    sc.pl.umap(view, color="a", show=False)
    sc.pl.matrixplot(view, var_names=["a", "b"], groupby="group", show=False)
    plt.close("all")
    fdr = rs.get.scores_adata(adata, table="fdr")
    np.testing.assert_array_equal(fdr.X, rs.get.fdr(adata).to_numpy())


# ---- one rule for single cell ---------------------------------------------------------------------------
def test_one_single_cell_rule_for_engine_pp_qc_and_get():
    rng = np.random.default_rng(0)
    # 65 % zeros: bulk for every part of resistscore (rs.pp.data_kind said single cell from 60 % before)
    X = rng.lognormal(2, 1, size=(40, 400)) * (rng.random((40, 400)) > 0.65)
    adata = ad.AnnData(X)
    adata.var_names = [f"G{i}" for i in range(400)]
    sigs = {"s": [f"G{i}" for i in range(10)]}
    assert rs.pp.data_kind(adata).kind == "bulk"
    assert rs.pp.qc(adata).data_kind.kind == "bulk"
    assert not rs.get.is_single_cell(adata) and not rs.get.is_single_cell(X)
    assert rs.tl.score(adata.to_df(), sigs, pvalues=False).data_kind == "bulk"
    cells = X * (rng.random((40, 400)) > 0.5)  # ~83 % zeros
    for data in (cells, sp.csr_matrix(cells)):
        assert rs.pp.data_kind(data).kind == "single_cell" and rs.get.is_single_cell(data)
    assert rs.tl.score(cells, sigs, genes=adata.var_names, pvalues=False).data_kind == "single_cell"
    annotated = adata.copy()
    annotated.obs["leiden"] = "0"
    assert rs.pp.data_kind(annotated).kind == "single_cell" and rs.get.is_single_cell(annotated)
    from resistscore._kind import DataKind

    assert rs.pp.DataKind is DataKind  # one class


def test_default_n_jobs_follows_the_settings():
    assert rs.get.default_n_jobs() >= 1
    rs.settings.n_jobs = 3
    try:
        assert rs.get.default_n_jobs() == 3
    finally:
        rs.settings.n_jobs = None
    with pytest.raises(rs.ResistScoreError, match="n_jobs"):
        rs.settings.n_jobs = 0
    with pytest.raises(rs.ResistScoreError, match="verbosity"):
        rs.settings.verbosity = 7


def test_verbosity_tells_what_the_engine_decided(caplog):
    df = _adata().to_df()
    rs.tl.score(df, SIGS, pvalues=False)
    assert not [r for r in caplog.records if r.name == "resistscore"]
    rs.settings.verbosity = 2
    try:
        with caplog.at_level("INFO", logger="resistscore"):
            rs.tl.score(df, SIGS, pvalues=False)
    finally:
        rs.settings.verbosity = 1
    assert any("with singscore (bulk data" in r.getMessage() for r in caplog.records)


def test_warnings_point_at_the_callers_line():
    df = _adata().to_df()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        rs.tl.score(df, {"low": ["G1", "X1", "X2", "X3"]}, pvalues=False)  # LowCoverageWarning
        df0 = df.copy()
        df0.iloc[0] = 0.0
        rs.tl.score(df0, SIGS, pvalues=False)  # UnscorableSampleWarning
    ours = [w for w in rec if issubclass(w.category, rs.ResistScoreWarning)]
    assert {w.category for w in ours} == {rs.LowCoverageWarning, rs.UnscorableSampleWarning}
    assert all(w.filename == __file__ for w in ours), [(w.category, w.filename) for w in ours]


def test_layer_and_raw_runs_coexist_and_explain_their_own_data():
    adata = _adata()
    adata.layers["doubled"] = adata.X * 2 + 1
    adata.raw = adata.copy()
    adata.X = adata.X[::-1].copy()  # X differs from raw and from the layer
    rs.tl.score(adata, SIGS, pvalues=False)
    rs.tl.score(adata, SIGS, pvalues=False, layer="doubled", key_added="layer_run")
    rs.tl.score(adata, SIGS, pvalues=False, use_raw=True, key_added="raw_run")
    assert rs.get.runs(adata) == ["resistscore", "layer_run", "raw_run"]
    info = rs.get.run_info(adata, "layer_run")
    assert (info["layer"], info["use_raw"]) == ("doubled", False)
    assert rs.get.run_info(adata, "raw_run")["use_raw"] is True
    for key, values in (
        ("resistscore", adata.to_df()),
        ("layer_run", adata.to_df(layer="doubled")),
        ("raw_run", adata.raw.to_adata().to_df()),
    ):
        direct = rs.tl.score(values, SIGS, pvalues=False)
        pd.testing.assert_frame_equal(rs.get.scores(adata, key), direct.scores, check_names=False)
        got = rs.get.result(adata, key).contributions("s2", "a").set_index("gene")["value"]
        want = direct.contributions("s2", "a").set_index("gene")["value"]
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index())


def test_progress_follows_the_settings_and_uses_a_widget_in_jupyter(capsys, monkeypatch):
    from resistscore import _progress

    df = _adata(n=30).to_df()
    rs.settings.progress = True
    try:
        rs.tl.score(df, SIGS, pvalues=False, chunk_size=7)
        assert "scoring (singscore)" in capsys.readouterr().err
        rs.tl.score(df, SIGS, pvalues=False, chunk_size=7, progress=False)  # the call's own argument wins
        assert "scoring" not in capsys.readouterr().err
    finally:
        rs.settings.progress = None
    with pytest.raises(rs.ResistScoreError, match="progress"):
        rs.settings.progress = "yes"
    monkeypatch.setattr(_progress, "in_jupyter", lambda: True)
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as widget_tqdm

    assert _progress._bar_class() is widget_tqdm
