"""``rs.precompile()`` / ``resistscore compile``: after it, a fresh process running a covered entry point compiles nothing.

The precompile runs once for the module (~25 s of CPU), in a subprocess with an empty ``NUMBA_CACHE_DIR`` of its
own; the entry points then run in a fresh process on data of another size and other genes than the precompile's,
counting numba's ``numba:compile`` events (issue 12 item 5: the first run after an install as fast as the next).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import resistscore as rs
from resistscore._precompile import _check_cache_dir, _check_written, case_names
from resistscore.cli._main import cli

#: the entry points of the check, in the order they run in one fresh process (each then compiles what the ones
#: before it did not load: none may compile anything)
ENTRY_POINTS = (
    "h5ad_path",
    "h5ad_path_float64",
    "h5ad_path_no_pvalues",
    "h5ad_path_float32_results",
    "anndata",
    "bulk_dataframe",
    "null_per_sample",
    "cli_score",
    "cli_score_float64",
)

CHECK = textwrap.dedent(
    """
    import json, sys, warnings
    from numba.core import event

    compiled, current = {}, [None]

    class Compiles(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            f = ev.data["dispatcher"].py_func
            compiled[current[0]].append(f"{f.__module__}.{f.__qualname__}")

    event.register("numba:compile", Compiles())
    warnings.simplefilter("ignore")
    import anndata as ad
    import pandas as pd
    import resistscore as rs
    from resistscore.cli._main import main

    h5ad, h5ad64, bulk, out = sys.argv[1:5]

    def cli(path):
        try:
            main(["score", path, "--out", out])
        except SystemExit as stop:
            assert not stop.code, stop.code

    entry_points = {
        "h5ad_path": lambda: rs.tl.score(h5ad, pvalues=True),
        "h5ad_path_float64": lambda: rs.tl.score(h5ad64, pvalues=True),
        "h5ad_path_no_pvalues": lambda: rs.tl.score(h5ad, pvalues=False),
        "h5ad_path_float32_results": lambda: rs.tl.score(h5ad, dtype="float32"),
        "anndata": lambda: rs.tl.score(ad.read_h5ad(h5ad)),
        "bulk_dataframe": lambda: rs.tl.score(pd.read_pickle(bulk)),
        "null_per_sample": lambda: (
            rs.tl.score(ad.read_h5ad(h5ad), null="per_sample"),
            rs.tl.score(pd.read_pickle(bulk), null="per_sample"),
        ),
        "cli_score": lambda: cli(h5ad),
        "cli_score_float64": lambda: cli(h5ad64),
    }
    for name, run in entry_points.items():
        current[0] = name
        compiled[name] = []
        run()
    print(json.dumps(compiled))
    """
)


def _env(cache) -> dict:
    # the HGNC lookups' cache beside numba's, so that the precompile's is the one the checks find
    return dict(
        os.environ, NUMBA_CACHE_DIR=str(cache), RESISTSCORE_CACHE_DIR=str(Path(cache).parent / "lookups")
    )


def _data(folder) -> tuple[str, str, str]:
    """Return the check's data: 3,000 cells x 2,000 genes as float32 and float64 .h5ad files, and a bulk table.

    Raw counts, with 60 % of the signature genes and other filler genes than the precompile's; the bulk table is
    a genes x samples table transposed (column-major, as a table read from a file is).
    """
    import anndata as ad

    rng = np.random.default_rng(7)
    signature_genes = sorted({g for s in rs.sig.load() for g in (*s.up, *s.down)})
    table = rs.pp.gene_table()
    coding = table.loc[table["locus_group"].astype(str).str.startswith("protein-coding"), "symbol"].astype(
        str
    )
    filler = [g for g in coding[::-1] if g not in set(signature_genes)]
    genes = signature_genes[::5] + signature_genes[1::5] + signature_genes[2::5]  # 60 % of them
    genes = sorted(genes + filler[: 2000 - len(genes)])
    X = rng.poisson(0.3, (3000, len(genes))).astype(np.float32)
    paths = []
    for dtype in ("float32", "float64"):
        path = folder / f"cells_{dtype}.h5ad"
        obs = pd.DataFrame(index=[f"c{i}" for i in range(len(X))])
        ad.AnnData(sp.csr_matrix(X.astype(dtype)), obs=obs, var=pd.DataFrame(index=genes)).write_h5ad(path)
        paths.append(str(path))
    bulk = pd.DataFrame(
        rng.normal(7.0, 2.0, (len(genes), 40)).clip(0), index=genes, columns=[f"S{i}" for i in range(40)]
    ).T
    bulk_path = folder / "bulk.pkl"
    bulk.to_pickle(bulk_path)
    return paths[0], paths[1], str(bulk_path)


@pytest.fixture(scope="module")
def precompiled(tmp_path_factory):
    """``rs.precompile()`` once into an empty ``NUMBA_CACHE_DIR`` (in a subprocess); its table."""
    folder = tmp_path_factory.mktemp("precompile")
    cache = folder / "numba-cache"
    table = folder / "table.json"
    code = (
        "import resistscore as rs\n"
        f"t = rs.precompile()\nt.attrs = {{}}\nt.to_json({str(table)!r}, orient='records')"
    )
    subprocess.run([sys.executable, "-c", code], env=_env(cache), check=True, capture_output=True, text=True)
    return cache, pd.read_json(table, orient="records"), folder


@pytest.fixture(scope="module")
def entry_points(precompiled):
    """What each entry point compiled in one fresh process on the precompiled cache (on other data)."""
    cache, _, folder = precompiled
    h5ad, h5ad64, bulk = _data(folder)
    out = subprocess.run(
        [sys.executable, "-c", CHECK, h5ad, h5ad64, bulk, str(folder / "scores.csv")],
        env=_env(cache),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_precompile_writes_the_hgnc_lookups_cache(precompiled):
    # `resistscore compile` fills the lookups' cache too: a fresh process then loads them, valid for its key
    from resistscore import _gene_cache, _gene_tables

    cache, _, _ = precompiled
    files = sorted((cache.parent / "lookups").iterdir())
    assert [f.name for f in files] == [_gene_tables._cache_name(_gene_tables._cache_key())]
    found = _gene_cache.LookupCache.open([files[0].parent], files[0].name, _gene_tables._cache_key())
    assert (
        found is not None
        and found.load("hgnc_id")
        == _gene_tables.HgncIndex(_gene_tables._columns("hgnc", _gene_tables._HGNC_COLUMNS)).hgnc_id
    )


def test_the_table_has_one_row_per_case(precompiled):
    _, table, _ = precompiled
    assert table.columns.tolist() == [
        "case",
        "description",
        "seconds",
        "cpu_seconds",
        "functions_compiled",
        "kernels_compiled",
        "compile_cpu_seconds",
    ]
    assert table["case"].tolist() == case_names()
    # into an empty cache: the first case compiles the default single-cell run's kernels (the one-pass UCell,
    # the row scan, the null's), later cases only what differs; every kernel is counted in its compile events
    assert table["kernels_compiled"].iloc[0] >= 5
    assert (table["functions_compiled"] >= table["kernels_compiled"]).all()
    assert table.set_index("case").loc["dataframe_dense_float64", "kernels_compiled"] >= 1
    assert (table["seconds"] > 0).all() and (table["compile_cpu_seconds"] >= 0).all()


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_after_precompile_a_fresh_process_compiles_nothing(entry_points, entry_point):
    assert entry_points[entry_point] == [], f"{entry_point} compiled {entry_points[entry_point]}"


def test_the_cli_compiles_nothing_more_on_a_filled_cache_and_prints_the_table(precompiled):
    cache, table, _ = precompiled
    code = "from resistscore.cli._main import main\nmain(['compile', '--methods', 'wmean'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=_env(cache), capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # the default cases were compiled by the precompile: nothing left to compile for them
    rows = {
        line.split()[0]: line.split()
        for line in lines
        if line.split() and line.split()[0] in set(table["case"])
    }
    assert set(rows) == set(table["case"])
    assert all(r[-1] == "0" and r[-2] == "0" for r in rows.values()), rows
    assert any(line.startswith("method_wmean_csr_float32") for line in lines)
    assert lines[-1].startswith("total: ") and "numba's cache" in lines[-1]
    assert out.stderr == ""


def test_no_writable_cache_is_one_clear_error_naming_numba_cache_dir(tmp_path):
    # only NUMBA_CACHE_DIR as numba's cache locator, and it cannot be created: numba cannot define the kernels
    env = dict(_env("/dev/null/numba-cache"), NUMBA_CACHE_LOCATOR_CLASSES="UserProvidedCacheLocator")
    code = "from resistscore.cli._main import main\nmain(['compile', '--quiet'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert out.stderr.startswith("error: numba cannot cache") and out.stderr.count("\n") == 1
    assert "NUMBA_CACHE_DIR" in out.stderr and "resistscore compile" in out.stderr


def test_an_unwritable_numba_cache_dir_warns(monkeypatch):
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", "/dev/null/numba-cache")
    with pytest.warns(rs.ResistScoreWarning, match="NUMBA_CACHE_DIR=/dev/null/numba-cache is not a writable"):
        assert _check_cache_dir() is None


def test_a_kernel_numba_does_not_cache_is_named():
    import numba

    @numba.njit  # no cache=True: compiled again in every process
    def twice(x):
        return 2 * x

    assert twice(2) == 4
    with pytest.warns(
        rs.ResistScoreWarning, match=r"did not write its cache for .*twice: every run compiles it"
    ):
        _check_written([twice], None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _check_written([], None) == []


def test_methods_are_checked_and_add_two_cases_each():
    assert case_names("all")[-2:] == ["method_gsva_csr_float32", "method_gsva_dense_float64"]
    assert len(case_names("all")) == len(case_names()) + 2 * len(rs.tl.show_methods())
    assert case_names(["ucell", "ulm"]) == case_names("ucell,ulm")
    with pytest.raises(rs.ResistScoreError, match="`methods` must be 'all' or names of scoring methods"):
        rs.precompile("nope")
    result = CliRunner().invoke(cli, ["compile", "--methods", "ucell,nope"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --methods must be 'all' or names of scoring methods")


def test_a_failed_write_into_numba_cache_names_numba_cache_dir(monkeypatch):
    import errno

    import resistscore._precompile as pre

    def case(where):
        def run(folder):
            raise OSError(errno.ENOSPC, "No space left on device", where)

        return [pre._Case("failing", "raises", run)]

    monkeypatch.setattr(pre, "_cases", lambda methods: case(os.path.join(pre._cache_dirs()[0], "x.nbi")))
    with pytest.raises(rs.ResistScoreError, match="numba could not write its cache .*NUMBA_CACHE_DIR"):
        rs.precompile()
    monkeypatch.setattr(pre, "_cases", lambda methods: case("/somewhere/else.h5ad"))  # not numba's: as it is
    with pytest.raises(OSError, match="No space left"):
        rs.precompile()
