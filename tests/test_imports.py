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


def test_scoring_does_not_import_statistics_or_plotting():
    # statsmodels + scipy.stats cost ~2 s of start-up, matplotlib more; scoring needs none of them
    mods = _modules_after("import resistscore as rs\nrs.tl.score")
    assert "resistscore.tl._score" in mods
    assert not {"statsmodels", "scipy.stats", "matplotlib", "resistscore.tl.stats._groups"} & mods


def test_scoring_a_dataframe_does_not_import_anndata():
    code = (
        "import numpy as np, pandas as pd\nimport resistscore as rs\n"
        "df = pd.DataFrame(np.random.default_rng(0).normal(size=(3, 40)), columns=[f'G{i}' for i in range(40)])\n"
        "rs.tl.score(df, {'s': ['G1', 'G2', 'G3']}, pvalues=False)"
    )
    assert "anndata" not in _modules_after(code)


def test_statistics_are_reachable_from_rs_tl():
    import resistscore.tl as tl
    from resistscore.tl import stats
    from resistscore.tl.stats._survival import survival

    assert set(stats.__all__) <= set(tl.__all__) and "survival" in dir(tl)
    assert tl.compare_groups is stats.compare_groups and tl.survival is survival
    for name in stats.__all__:
        assert getattr(tl, name) is getattr(stats, name)
