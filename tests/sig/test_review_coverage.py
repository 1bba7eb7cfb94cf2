"""Nothing of the review is lost: every gene symbol, alias and miRNA in the review's text is in the inventory.

This test reads the review itself (../shared/reference/drug-resistance-review.txt) and finds the names
independently of the curated inventory: every word that is an HGNC approved symbol, previous symbol or
alias (with at least two capital letters, so that English words are not taken for genes) and every
miRNA name. Each must appear in ``review/entities.tsv``. Skipped when the review text is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import resistscore as rs

from .test_shipped import ROOT, _tsv

REVIEW = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "drug-resistance-review.txt"


@pytest.fixture(scope="module")
def review_text() -> str:
    if not REVIEW.is_file():
        pytest.skip(f"the review text is not at {REVIEW}")
    return REVIEW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def inventory_text() -> str:
    inv = _tsv(ROOT / "review" / "entities.tsv")
    return "\n".join(inv["entity"]) + "\n" + "\n".join(inv["reason"])


def _gene_words(text: str) -> set[str]:
    g = rs.pp.gene_table()
    names = set(g["symbol"])
    for col in ("prev_symbols", "alias_symbols"):
        names |= {x for cell in g[col] for x in cell.split("|") if x}
    words = set(re.findall(r"\b[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]\b", text))
    return {w for w in words if w in names and len(w) >= 3 and sum(c.isupper() for c in w) >= 2}


def _is_drug(word: str) -> bool:
    try:
        rs.sig.resolve_drug(word)
    except rs.SignatureError:
        return False
    return True


def test_every_gene_name_of_the_review_is_inventoried(review_text, inventory_text):
    words = _gene_words(review_text)
    assert {"ABCB1", "ABCC1", "ABCG2", "PTEN", "EGFR"} <= words  # the extraction works
    # a word that is also a drug abbreviation (DAC = decitabine) counts if the drug map knows it
    missing = sorted(w for w in words if not re.search(rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])",
                                                      inventory_text, flags=re.IGNORECASE) and not _is_drug(w))  # fmt: skip
    assert not missing, f"named in the review but not in review/entities.tsv: {missing}"


def test_every_mirna_of_the_review_is_inventoried(review_text, inventory_text):
    found = {
        m.replace(" ", "").lower() for m in re.findall(r"\bmi[Rr]-\s?\d+[a-z]?(?:-[35]p)?\b", review_text)
    }
    assert {"mir-21", "mir-7"} <= found
    flat = inventory_text.lower().replace(" ", "")
    missing = sorted(m for m in found if not re.search(rf"{re.escape(m)}(?![0-9a-z])", flat))
    assert not missing, f"miRNAs of the review missing from review/entities.tsv: {missing}"


def test_every_inventoried_mirna_is_in_table2_or_has_a_reason():
    inv = _tsv(ROOT / "review" / "entities.tsv")
    t2 = rs.sig.mirna_table()
    for row in inv.loc[inv["kind"] == "mirna"].itertuples(index=False):
        if row.status == "scored":
            assert any(i in {"mirna", "mirna_targets"} or i.startswith("mirna") for i in
                       re.split(r"[|,;]", row.signature_ids)), row.entity  # fmt: skip
        else:
            assert row.reason.strip(), row.entity
    assert len(t2) > 0
