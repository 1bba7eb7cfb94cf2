"""Import cost: ``import resistscore`` and scoring must not pull in what they do not use."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_resistscore_is_lazy():
    mods = _modules_after("import resistscore as rs")
    assert not {"pandas", "numba", "scipy", "matplotlib", "statsmodels"} & mods


#: what only the statistics, the figures and the report need (issue 12 item 5: ~1 s of CPU a run)
STATISTICS_AND_PLOTTING = {
    "scipy.stats",
    "scipy.optimize",
    "statsmodels",
    "patsy",
    "lifelines",
    "matplotlib",
    "seaborn",
}


def test_rs_tl_holds_the_statistics_without_importing_their_libraries():
    # rs.tl holds the statistics (no second lazy layer): their modules are imported with it, but scipy.stats,
    # statsmodels, patsy, lifelines and matplotlib are imported inside the functions that compute a statistic
    mods = _modules_after("import resistscore as rs\nrs.tl.score")
    assert {"resistscore.tl._score", "resistscore.tl.stats._groups"} <= mods
    assert not STATISTICS_AND_PLOTTING & mods
    # ... and computing one imports them (a statistic never fails for want of its import)
    mods = _modules_after(
        "import numpy as np, pandas as pd\nimport resistscore as rs\n"
        "s = pd.DataFrame({'a': np.arange(8.0)}, index=list('abcdefgh'))\n"
        "m = pd.DataFrame({'g': list('xxxxyyyy'), 'c': np.arange(8.0) % 3}, index=s.index)\n"
        "rs.tl.compare_groups(s, m, group='g', covariates='c')"
    )
    assert {"scipy.stats", "statsmodels.regression.linear_model", "patsy"} <= mods


def test_scoring_a_file_with_pvalues_does_not_import_statistics_or_plotting(tmp_path):
    import anndata as ad
    import numpy as np
    import pandas as pd

    import resistscore as rs

    genes = sorted({g for s in rs.sig.load() for g in (*s.up, *s.down)})
    X = np.random.default_rng(0).poisson(1.0, size=(40, len(genes))).astype(np.float32)
    path = tmp_path / "cells.h5ad"
    ad.AnnData(X, var=pd.DataFrame(index=genes)).write_h5ad(path)
    code = (
        "import warnings\nimport resistscore as rs\nwarnings.simplefilter('ignore')\n"
        f"r = rs.tl.score({str(path)!r}, pvalues=True, n_controls=20)\nassert r.pvalues.notna().any().any()"
    )
    mods = _modules_after(code)
    assert "resistscore.tl._score" in mods
    assert not STATISTICS_AND_PLOTTING & mods, sorted(STATISTICS_AND_PLOTTING & mods)
    # the file's names and obs are read with h5py (anndata's on-disk spec): anndata imports dask and zarr,
    # ~0.6-0.9 s of CPU a run (issue 12 item 5)
    assert not {"anndata", "dask", "zarr"} & mods, sorted({"anndata", "dask", "zarr"} & mods)
    # issue 12 item 5, fixed costs of every run: scipy.special is GSVA's alone (~0.1 s of CPU); the shipped
    # signatures are pinned by their manifest, so their load never imports jsonschema (~0.08 s); a progress bar
    # that does not show never imports tqdm
    fixed_costs = {"scipy.special", "jsonschema", "tqdm"}
    assert not fixed_costs & mods, sorted(fixed_costs & mods)


def test_one_lazy_import_layer():
    # resistscore.__getattr__ (a subpackage on first use) is the package's only module-level __getattr__
    hooks = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
    )
    assert hooks == ["resistscore/__init__.py"]


def test_scoring_a_dataframe_does_not_import_anndata():
    code = (
        "import numpy as np, pandas as pd\nimport resistscore as rs\n"
        "df = pd.DataFrame(np.random.default_rng(0).normal(size=(3, 40)), columns=[f'G{i}' for i in range(40)])\n"
        "rs.tl.score(df, {'s': ['G1', 'G2', 'G3']}, pvalues=False)"
    )
    mods = _modules_after(code)
    assert "anndata" not in mods
    assert "jsonschema" not in mods  # only a signature file is checked against the schema (~0.05 s)


def test_statistics_are_reachable_from_rs_tl():
    import resistscore.tl as tl
    from resistscore.tl import stats
    from resistscore.tl.stats._survival import survival

    assert set(stats.__all__) <= set(tl.__all__) and "survival" in dir(tl)
    assert tl.compare_groups is stats.compare_groups and tl.survival is survival
    for name in stats.__all__:
        assert getattr(tl, name) is getattr(stats, name)
    # plain attributes of the module, as tab completion and autosummary see them (no __getattr__ behind them)
    assert set(stats.__all__) <= set(vars(tl))


# ---- the import graph (issue 11 item 5) -------------------------------------------------------------------
import ast  # noqa: E402
import pathlib  # noqa: E402

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "resistscore"
SUBPACKAGES = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def _imports(path: pathlib.Path):
    """``(line, module)`` of every import of ``path`` (module level and function-local), absolute names."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _cross_private(root: pathlib.Path) -> list[str]:
    subs = sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file())
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        own = parts[0] if len(parts) > 1 else None
        for line, name in _imports(path):
            segs = name.split(".")
            if segs[0] != root.name or len(segs) < 3 or segs[1] not in subs or segs[1] == own:
                continue
            private = next((i for i, s in enumerate(segs[2:], 2) if s.startswith("_")), None)
            module = ".".join(segs[: private + 1]) if private is not None else None
            hit = f"{path.relative_to(root.parent)}:{line} imports {module}"
            if module is not None and hit not in found:
                found.append(hit)
    return found


def test_no_private_module_is_imported_across_subpackages():
    # ruff's TID251 (pyproject) flags these outside the subpackages; this test is the exact rule
    assert _cross_private(PACKAGE) == []


def test_the_private_import_check_finds_one(tmp_path):
    pkg = tmp_path / "resistscore"
    for sub in ("io", "pp"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "pp" / "_harmonize.py").write_text("X = 1\n")
    (pkg / "io" / "_read.py").write_text("def f():\n    from resistscore.pp._harmonize import X\n")
    (pkg / "pp" / "_qc.py").write_text("from resistscore.pp._harmonize import X\n")  # own subpackage: fine
    assert _cross_private(pkg) == ["resistscore/io/_read.py:2 imports resistscore.pp._harmonize"]


def test_no_import_cycle_inside_tl():
    # counting function-local imports too: a cycle hidden in a function is still a cycle
    tl = PACKAGE / "tl"
    graph = {}
    for path in tl.rglob("*.py"):
        mod = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[mod] = {n for _, n in _imports(path) if n.startswith("resistscore.tl")}
    graph = {
        m: {t for t in targets if t in graph and t != m and not m.startswith(t)}
        for m, targets in graph.items()
    }

    def reaches(start, goal, seen):
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(m for m in graph if reaches(m, m, set()))
    assert cycles == []
