import numpy as np
import pandas as pd
import pytest

import resistscore as rs


def test_rank_deficient_design_reports_nan_with_reason():
    rng = np.random.default_rng(0)
    n = 24
    meta = pd.DataFrame({"a": np.repeat(["x", "y"], n // 2)}, index=[f"s{i}" for i in range(n)])
    meta["b"] = meta["a"].map({"x": "p", "y": "q"})  # b duplicates a: confounded
    scores = pd.DataFrame({"sig": rng.normal(size=n) + (meta["a"] == "y") * 2.0}, index=meta.index)
    res = rs.tl.fit_model(scores, meta, formula="score ~ C(a) + C(b)")
    row = res.table.iloc[0]
    assert np.isnan(row["effect"]) and np.isnan(row["pvalue"])
    assert "rank-deficient" in row["note"]
    ok = rs.tl.fit_model(scores, meta, formula="score ~ C(a)").table.iloc[0]
    assert ok["effect"] == pytest.approx(
        scores["sig"][meta.a == "y"].mean() - scores["sig"][meta.a == "x"].mean()
    )
