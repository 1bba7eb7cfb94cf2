"""The HTML report is one self-contained, well-formed file with every section, version and citation."""

from __future__ import annotations

import base64
import hashlib
import html
import html.parser
import io
import re
from importlib.metadata import version

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import resistscore as rs
from resistscore._errors import ResistScoreError

SECTIONS = ["summary", "qc", "coverage", "scores", "statistics", "methods", "versions"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Collector(html.parser.HTMLParser):
    """Collects tags, ids and URL attributes, and checks that every element is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.in_svg = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("src", "href", "xlink:href", "action", "data"):
            if key in a and a[key] is not None:
                self.urls.append((tag, key, a[key]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <x/> inside inline SVG
        self.tags.append(tag)
        for key in ("src", "href", "xlink:href"):
            v = dict(attrs).get(key)
            if v is not None:
                self.urls.append((tag, key, v))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()


def _parse(doc: str) -> _Collector:
    p = _Collector()
    p.feed(doc)
    p.close()
    assert p.errors == [], p.errors[:5]
    assert p.stack == [], f"unclosed elements: {p.stack}"
    return p


class FakeResult:
    def __init__(self, scores, coverage):
        self.scores = scores
        self.coverage = coverage
        self.method = "singscore"
        self.params = {"min_coverage": 0.5, "n_controls": 100}
        self.seed = 7
        self.versions = {"resistscore": rs.__version__, "signatures": "sigs-2024.1"}
        self.qc = {"genes in data": 19000, "genes mapped to HGNC": 18250, "scale": "log2"}
        # FDR < 0.05 for the first 3 samples of efflux_abc only
        self.fdr = pd.DataFrame(0.5, index=scores.index, columns=scores.columns)
        self.fdr.iloc[:3, 0] = 0.01


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        rng.normal(size=(20, 3)),
        index=[f"S{i:02d}" for i in range(20)],
        columns=["efflux_abc", "dna_repair", "apoptosis"],
    )


@pytest.fixture
def metadata(scores):
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "group": ["resistant"] * 10 + ["sensitive"] * 10,
            "survival_time": np.round(rng.exponential(20, 20), 1),
            "event": rng.integers(0, 2, 20),
        },
        index=scores.index,
    )


@pytest.fixture
def result(scores):
    cov = pd.DataFrame(
        {
            "n_genes": [10, 12, 8],
            "n_found": [10, 11, 3],
            "weight_covered": [1.0, 0.95, 0.3],
            "reported": [True, True, False],
            "reason": ["", "", "coverage 0.30 < 0.50"],
        },
        index=pd.Index(scores.columns, name="signature"),
    )
    return FakeResult(scores, cov)


@pytest.fixture
def stats_table():
    return pd.DataFrame(
        {
            "signature": ["efflux_abc", "dna_repair", "apoptosis"],
            "test": ["welch_t"] * 3,
            "group1": ["resistant"] * 3,
            "group2": ["sensitive"] * 3,
            "effect": [1.1, 0.2, -0.1],
            "effect_type": ["hedges_g"] * 3,
            "ci_low": [0.3, -0.6, -0.9],
            "ci_high": [1.9, 1.0, 0.7],
            "pvalue": [0.0031, 0.61, 0.8],
            "fdr": [0.0093, 0.8, 0.8],
        }
    )


def test_report_is_self_contained_and_complete(result, metadata, stats_table, tmp_path):
    infile = tmp_path / "expr.tsv"
    infile.write_bytes(b"gene\tS00\nABCB1\t1.0\n")
    out = tmp_path / "report.html"
    doc = rs.report.html_report(
        result,
        metadata=metadata,
        stats={"resistant vs sensitive": stats_table},
        group="group",
        time="survival_time",
        event="event",
        title="Test <report>",
        input_path=infile,
        date="2024-05-01 12:00 UTC",
        path=out,
    )
    assert out.read_text(encoding="utf-8") == doc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expr.tsv", "report.html"]  # atomic, no leftovers
    parsed = _parse(doc)
    assert set(SECTIONS) <= parsed.ids
    # self-contained: no stylesheet/script files, every src is inline data, external links only DOIs
    assert "link" not in parsed.tags and "script" not in parsed.tags and "iframe" not in parsed.tags
    for tag, key, url in parsed.urls:
        if key == "src":
            assert url.startswith("data:image/"), (tag, url[:40])
        elif url.startswith(("http://", "https://")):
            assert tag == "a" and url.startswith("https://doi.org/10."), url
        else:
            assert url.startswith(("#", "data:")), url
    assert "@import" not in doc and "url(" not in doc.split("</style>")[0]
    # title escaped, sha256 of the input, versions and parameters
    assert "<title>Test &lt;report&gt;</title>" in doc
    assert hashlib.sha256(infile.read_bytes()).hexdigest() in doc
    for pkg in ("numpy", "pandas", "matplotlib", "lifelines"):
        assert f"<th>{pkg}</th><td>{version(pkg)}</td>" in doc
    assert f"<th>resistscore</th><td>{rs.__version__}</td>" in doc
    assert "sigs-2024.1" in doc and "n_controls" in doc and "2024-05-01 12:00 UTC" in doc
    # QC and coverage content
    assert "genes mapped to HGNC" in doc and "18250" in doc
    assert "coverage 0.30 &lt; 0.50" in doc
    assert "1 signature(s) were not reported" not in doc  # the scores themselves are all present here
    # statistics table and the highlight line
    assert "resistant vs sensitive: 1 of 3 tests with FDR &lt; 0.05 (efflux_abc)." in doc
    assert "0.0093" in doc
    # methods: the review, the method's paper, BH, lifelines (KM) with DOI links
    for doi in (
        "10.15171/apb.2017.041",
        "10.1186/s12859-018-2435-4",
        "10.1111/j.2517-6161.1995.tb02031.x",
        "10.21105/joss.01317",
    ):
        assert f'href="https://doi.org/{doi}"' in doc
    methods = doc[doc.index('<section id="methods">') : doc.index('<section id="versions">')]
    assert "singscore" in methods and "random seed 7" in methods and "0.5 of" in methods
    # every figure decodes as a PNG image
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', doc)
    names = re.findall(r'<figure id="fig-([^"]+)"', doc)
    assert names == [
        "coverage",
        "heatmap",
        "profile",
        "groups",
        "forest_resistant-vs-sensitive",
        "volcano_resistant-vs-sensitive",
        "kaplan_meier",
    ]
    assert len(images) == len(names)
    # per-signature count of samples with FDR < 0.05 (the result's .fdr)
    assert "<th>n FDR &lt; 0.05</th>" in doc
    per_sig = doc[doc.index("<h3>Per signature</h3>") : doc.index("<h3>All scores</h3>")]
    header = re.findall(r"<th>([^<]*)</th>", per_sig[: per_sig.index("</thead>")])
    rows = {
        m.group(1): re.findall(r"<td>([^<]*)</td>", m.group(2))
        for m in re.finditer(r"<tr>\s*<th>([^<]+)</th>(.*?)</tr>", per_sig, flags=re.S)
    }
    col = header.index("n FDR &lt; 0.05") - 1  # first header cell is the index name
    assert [rows[s][col] for s in ("efflux_abc", "dna_repair", "apoptosis")] == ["3", "0", "0"]
    np.testing.assert_allclose(
        float(rows["efflux_abc"][header.index("mean") - 1]), result.scores["efflux_abc"].mean(), rtol=1e-3
    )
    for b64 in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    # the TSV download carries every score
    tsv = re.search(r'href="data:text/tab-separated-values;base64,([^"]+)"', doc).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(tsv).decode()), sep="\t", index_col=0)
    np.testing.assert_allclose(back.to_numpy(), result.scores.to_numpy(), rtol=1e-5)
    assert plt.get_fignums() == []


def test_report_svg_figures_and_minimal_input(scores):
    doc = rs.report.html_report(scores, figure_format="svg", date="2024-01-01")
    parsed = _parse(doc)
    assert "svg" in parsed.tags and "<?xml" not in doc and "<!DOCTYPE svg" not in doc
    assert "No statistical analysis was given" in doc and "No QC report was given" in doc
    assert "img" not in parsed.tags  # figures are inline <svg> (colour bars inside them may embed bitmaps)
    assert set(SECTIONS) <= parsed.ids
    assert plt.get_fignums() == []


def test_report_anndata_and_real_statistics(scores, metadata):
    import anndata as ad

    adata = ad.AnnData(np.zeros((len(scores), 2), dtype=np.float32), obs=metadata.copy())
    adata.obs_names = scores.index
    adata.obsm["resistscore_scores"] = scores
    adata.uns["resistscore"] = {
        "method": "ucell",
        "params": {"max_rank": 1500},
        "seed": 0,
        "versions": {"resistscore": rs.__version__, "signatures": "v9"},
        "coverage": {
            "signature": list(scores.columns),
            "n_genes": [5, 5, 5],
            "n_found": [5, 4, 5],
            "weight_covered": [1.0, 0.8, 1.0],
            "reported": [True, True, True],
        },
        "qc": {"cells": 20},
    }
    stats = {"survival": rs.tl.survival(adata, time="survival_time", event="event")}
    doc = rs.report.html_report(adata, stats=stats, survival=stats["survival"], date="2024-01-01")
    _parse(doc)
    assert "10.1016/j.csbj.2021.06.043" in doc  # UCell
    assert "10.1186/s13059-017-1382-0" in doc  # scanpy, AnnData input
    assert "max_rank" in doc and "v9" in doc
    if stats is not None:
        assert 'id="fig-kaplan_meier' in doc and "hazard_ratio_per_sd" in doc


def test_write_and_errors(scores, tmp_path):
    out = rs.report.write(scores, tmp_path / "r.html", date="2024-01-01")
    assert out.is_file() and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ResistScoreError, match=".html suffix"):
        rs.report.write(scores, tmp_path / "r.pdf")
    with pytest.raises(ResistScoreError, match="is not a file"):
        rs.report.html_report(scores, input_path=tmp_path / "missing.tsv")
    with pytest.raises(ResistScoreError, match="64 lower-case hexadecimal"):
        rs.report.html_report(scores, input_sha256="abc")
    with pytest.raises(ResistScoreError, match="figure_format"):
        rs.report.html_report(scores, figure_format="jpg")
    with pytest.raises(ResistScoreError, match="must be a samples x signatures"):
        rs.report.html_report([1, 2, 3])


def test_report_renders_qc_and_gene_mapping_reports(scores):
    rng = np.random.default_rng(0)
    genes = ["ABCB1", "abcc1", "MDR1", "NOT_A_GENE_XYZ", "BAX", "TP53"]
    expr = pd.DataFrame(rng.normal(5, 1, size=(len(scores), len(genes))), index=scores.index, columns=genes)
    expr.iloc[0, 0] = np.nan
    qc_report = rs.pp.qc(expr)
    _, mapping = rs.pp.harmonize_genes(expr)
    doc = rs.report.html_report(scores, qc=[qc_report, mapping], date="2024-01-01")
    _parse(doc)
    section = doc[doc.index('<section id="qc">') : doc.index('<section id="coverage">')]
    assert "<h3>Data QC</h3>" in section and "<h3>Gene mapping</h3>" in section
    for problem in qc_report.problems:
        assert html.escape(problem) in section
    assert f"<th>n mapped</th><td>{mapping.n_mapped}</td>" in section
    for step, n in mapping.summary().items():
        assert f"<th>{step}</th>\n      <td>{n}</td>" in section
    if len(mapping.unmapped):
        assert "NOT_A_GENE_XYZ" in section
    # the stored dict forms (AnnData uns) render the same summary
    doc2 = rs.report.html_report(scores, qc=[qc_report.to_dict(), mapping.to_dict()], date="2024-01-01")
    section2 = doc2[doc2.index('<section id="qc">') : doc2.index('<section id="coverage">')]
    assert f"<th>n mapped</th><td>{mapping.n_mapped}</td>" in section2


def test_methods_citations_are_numbered_in_order(result, scores):
    result.versions = {"resistscore": rs.__version__, "signatures": "resistscore-mechanisms 1.0.0"}
    doc = rs.report.html_report(result, date="2024-01-01")
    methods = doc[doc.index('<p class="methods">') : doc.index("</p>", doc.index('<p class="methods">'))]
    assert "curated from the mechanisms reviewed by Mansoori et al." in methods
    cited = re.findall(r'<a href="#ref-([^"]+)">\[(\d+)\]</a>', methods)
    refs = re.findall(r'<li id="ref-([^"]+)">', doc)
    assert [int(n) for _, n in cited] == list(range(1, len(refs) + 1))  # first citations in order
    assert [k for k, _ in cited] == refs
    assert refs[:2] == ["review", "singscore"]
    # user-supplied signatures are not presented as the curated set
    user = rs.report.html_report(scores, date="2024-01-01")
    assert "curated from" not in user and "user-supplied gene signature(s)" in user


def test_large_score_tables_are_not_embedded(monkeypatch, scores):
    import resistscore.report._html as report_html

    monkeypatch.setattr(report_html, "MAX_DOWNLOAD_VALUES", 10)
    monkeypatch.setattr(
        report_html, "_figures", lambda *a, **k: ({"coverage": [], "scores": [], "statistics": []}, [])
    )
    doc = rs.report.html_report(scores, max_rows=5, date="2024-01-01")
    assert "data:text/tab-separated-values" not in doc
    assert "too many to embed" in doc
    start = doc.index('<div class="scroll">')
    table = doc[start : doc.index("</div>", start)]
    body = table[table.index("<tbody>") :]
    assert body.count("<tr>") == 5 and "S04" in body and "S05" not in body
