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

#: the sections, in the order of the report: answers first, versions and parameters last
SECTIONS = ["summary", "statistics", "scores", "qc", "coverage", "methods", "versions"]
#: what a reader must never see: internal class names
INTERNAL = re.compile(
    r"ScoreResult|StatsResult|SurvivalResult|RocResult|GeneMappingReport|QCReport|ScaleReport"
)
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


def _visible(doc: str) -> str:
    """The text a reader sees: no style, script, image data or tags."""
    text = re.sub(r"<(style|script)>.*?</\1>", " ", doc, flags=re.S)
    text = re.sub(r"<svg.*?</svg>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _section(doc: str, name: str) -> str:
    start = doc.index(f'<section id="{name}">')
    return doc[start : doc.index("</section>", start)]


def _table(doc: str, table_id: str) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Headers, shown cells and ``data-v`` values (or text) of one table of the report."""
    start = doc.index(f'id="{table_id}"')
    body = doc[start : doc.index("</table>", start)]
    headers = [html.unescape(h) for h in re.findall(r"<th[^>]*>([^<]*)</th>", body)]
    rows = re.findall(r"<tr>(.*?)</tr>", body[body.index("<tbody>") :], flags=re.S)
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in rows]
    values = [
        [v or t for v, t in re.findall(r'<td(?: class="[^"]*")?(?: data-v="([^"]*)")?>([^<]*)</td>', r)]
        for r in rows
    ]
    return headers, cells, values


def test_report_is_self_contained_and_complete(result, metadata, stats_table, tmp_path):
    infile = tmp_path / "expr.tsv"
    infile.write_bytes(b"gene\tS00\nABCB1\t1.0\n")
    out = tmp_path / "report.html"
    doc = rs.report.html_report(
        result,
        metadata=metadata,
        stats={"resistant vs sensitive": stats_table},
        design=rs.Design(group="group", time="survival_time", event="event"),
        title="Test <report>",
        input_path=infile,
        date="2024-05-01 12:00 UTC",
        path=out,
    )
    assert out.read_text(encoding="utf-8") == doc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expr.tsv", "report.html"]  # atomic, no leftovers
    parsed = _parse(doc)
    ids = re.findall(r'<section id="([^"]+)">', doc)
    assert ids == SECTIONS  # answers first, versions last
    # self-contained: no stylesheet or script files, every src is inline data, external links only DOIs
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    assert re.findall(r"<script[^>]*>", doc) == ["<script>"]  # one inline script, no src
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
    assert "sigs-2024.1" in doc and "control gene sets per signature" in doc and "2024-05-01 12:00 UTC" in doc
    assert "<th>design: group</th><td>group</td>" in doc
    # QC (a free-form dict: one plain sentence per entry) and coverage
    assert "genes mapped to HGNC: 18250." in _visible(_section(doc, "qc"))
    assert "apoptosis (coverage 0.30 &lt; 0.50)" in _section(doc, "coverage")
    # the summary answers in words and numbers: the significant signature, its effect, CI and FDR
    summary = _visible(_section(doc, "summary"))
    assert (
        "resistant vs sensitive (Welch's t test on samples): 1 of 3 signatures differ at FDR < 0.05; "
        "higher in resistant: efflux_abc (Hedges' g 1.10 [0.300, 1.90], FDR 0.0093)."
        in " ".join(summary.split())
    )
    # per-sample calls from the result's FDR, per group: 3 samples of the resistant group
    assert "efflux_abc in 3 of 20 samples (3 of 10 resistant, 0 of 10 sensitive)" in " ".join(summary.split())
    # the statistics table: renamed columns, exact values kept for sorting, sorted by FDR
    headers, cells, values = _table(doc, "table-1-resistant-vs-sensitive")
    assert headers == ["signature", "group", "vs", "Hedges' g", "95% CI", "p", "FDR"]
    assert [c[0] for c in cells] == ["efflux_abc", "dna_repair", "apoptosis"]
    assert float(values[0][headers.index("FDR")]) == 0.0093
    # methods: the review, the method's paper, BH, lifelines (KM) with DOI links
    for doi in (
        "10.15171/apb.2017.041",
        "10.1186/s12859-018-2435-4",
        "10.1111/j.2517-6161.1995.tb02031.x",
        "10.21105/joss.01317",
    ):
        assert f'href="https://doi.org/{doi}"' in doc
    methods = _section(doc, "methods")
    assert "singscore" in methods and "random seed 7" in methods and "at least 0.5 of" in methods
    assert (
        "resistant vs sensitive: Benjamini-Hochberg across signatures" not in methods
    )  # a table, not a result
    # figures: the summary's first (heatmap, matrix, box plots), then those of the tests
    names = re.findall(r'<figure id="fig-([^"]+)"', doc)
    assert names == [
        "heatmap",
        "matrixplot",
        "groups",
        "forest_resistant-vs-sensitive",
        "volcano_resistant-vs-sensitive",
        "kaplan_meier",
        "profile",
        "coverage",
    ]
    assert doc.index('id="fig-groups"') < doc.index('id="table-1-resistant-vs-sensitive"')
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', doc)
    assert len(images) == len(names)
    for b64 in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(b64)), format="png")
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    # per-signature count of samples with FDR < 0.05 (the result's .fdr)
    headers, cells, values = _table(doc, "table-score-summary")
    rows = {c[0]: c for c in cells}
    col = headers.index("n FDR < 0.05")
    assert [rows[s][col] for s in ("efflux_abc", "dna_repair", "apoptosis")] == ["3", "0", "0"]
    assert float(values[[c[0] for c in cells].index("efflux_abc")][headers.index("mean")]) == pytest.approx(
        result.scores["efflux_abc"].mean()
    )
    # the CSV download carries every score
    csv = re.search(r'download="scores.csv" href="data:text/csv;base64,([^"]+)"', doc).group(1)
    back = pd.read_csv(io.StringIO(base64.b64decode(csv).decode()), index_col=0)
    np.testing.assert_allclose(back.to_numpy(), result.scores.to_numpy(), rtol=1e-5)
    # no internal class name, no raw JSON anywhere a reader looks
    visible = _visible(doc)
    assert not INTERNAL.search(visible), INTERNAL.search(visible)
    assert '{"' not in visible and "{'" not in visible
    assert plt.get_fignums() == []


def test_report_svg_figures_and_minimal_input(scores):
    doc = rs.report.html_report(scores, figure_format="svg", date="2024-01-01")
    parsed = _parse(doc)
    assert "svg" in parsed.tags and "<?xml" not in doc and "<!DOCTYPE svg" not in doc
    assert "No statistical analysis was given" in doc and "No QC report was given" in doc
    assert "img" not in parsed.tags  # figures are inline <svg> (colour bars inside them may embed bitmaps)
    assert re.findall(r'<section id="([^"]+)">', doc) == SECTIONS
    assert "significance was not computed" in _visible(_section(doc, "summary"))
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
    doc = rs.report.html_report(adata, stats=stats, date="2024-01-01")
    _parse(doc)
    assert "10.1016/j.csbj.2021.06.043" in doc  # UCell
    assert "10.1186/s13059-017-1382-0" in doc  # scanpy, AnnData input
    assert "<th>max rank</th><td>1500</td>" in doc and "v9" in doc
    # the survival result brings its Kaplan-Meier curves; its table shows the hazard ratio per SD
    assert 'id="fig-kaplan_meier' in doc
    headers, _, _ = _table(doc, "table-1-survival")
    assert headers[:4] == ["signature", "n", "events", "hazard ratio per SD"]
    table = stats["survival"].table.sort_values("fdr", kind="mergesort")
    row = table.iloc[0]
    summary = " ".join(_visible(_section(doc, "summary")).split())
    assert (
        f"{row['signature']} (hazard ratio per SD {row['effect']:.3g}" in summary
        or "no signature at FDR" in summary
    )


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
    with pytest.raises(ResistScoreError, match="`alpha`"):
        rs.report.html_report(scores, alpha=5)
    with pytest.raises(ResistScoreError, match="not both"):
        rs.report.html_report(scores, design=rs.Design(group="group"), group="group")


def test_report_says_qc_and_gene_mapping_in_plain_words(scores):
    rng = np.random.default_rng(0)
    genes = ["ABCB1", "abcc1", "MDR1", "NOT_A_GENE_XYZ", "BAX", "TP53", "BAX"]
    expr = pd.DataFrame(rng.normal(5, 1, size=(len(scores), len(genes))), index=scores.index, columns=genes)
    expr.iloc[0, 0] = np.nan
    expr.iloc[[3, 5]] = 0.0  # two samples without expression
    qc_report = rs.pp.qc(expr)
    _, mapping = rs.pp.harmonize_genes(expr)
    doc = rs.report.html_report(scores, qc=[qc_report, mapping], date="2024-01-01")
    _parse(doc)
    words = " ".join(_visible(_section(doc, "qc")).split())
    assert f"The data hold {len(scores)} samples and {len(genes)} genes" in words
    assert "2 samples had no expression (all values missing or zero): S03, S05." in words
    assert "1 gene appeared more than once: BAX." in words
    assert (
        f"{mapping.n_input} identifiers were read; {mapping.n_mapped} were mapped to {mapping.n_genes} HGNC genes"
        in words
    )
    if len(mapping.ambiguous):
        ids = ", ".join(mapping.ambiguous["input_id"])
        assert f"matched several genes and were left unmapped (resolve them with mapping=): {ids}." in words
    assert "matched no gene and were kept under their own name: NOT_A_GENE_XYZ." in words
    assert mapping.collapse_description in words and "never depend on the other samples" in words
    assert not INTERNAL.search(words)
    # the stored dict forms (AnnData uns) say the same
    doc2 = rs.report.html_report(scores, qc=[qc_report.to_dict(), mapping.to_dict()], date="2024-01-01")
    assert " ".join(_visible(_section(doc2, "qc")).split()) == words


def test_report_lists_unscored_samples_and_warnings(scores, result):
    result.unscored = pd.DataFrame(
        {"reason": ["all values are zero", "all values are zero", "one value for every gene"]},
        index=["S01", "S02", "S09"],
    )
    doc = rs.report.html_report(result, warnings=["low coverage of apoptosis (0.30)"], date="2024-01-01")
    words = " ".join(_visible(_section(doc, "qc")).split())
    assert (
        "3 samples were not scored (their scores are missing): S01, S02 (all values are zero); S09 (one value for every gene)."
        in words
    )
    assert "Warnings raised during the run" in words and "low coverage of apoptosis (0.30)" in words
    summary = " ".join(_visible(_section(doc, "summary")).split())
    assert "1 warning was raised during the run" in summary


def test_methods_citations_are_numbered_in_order(result, scores):
    result.versions = {"resistscore": rs.__version__, "signatures": "resistscore-mechanisms 1.0.0"}
    doc = rs.report.html_report(result, date="2024-01-01")
    methods = doc[doc.index('<p class="methods">') : doc.index("</p>", doc.index('<p class="methods">'))]
    assert "curated from the mechanisms reviewed by Mansoori et al." in methods
    cited = re.findall(r'<a href="#ref-([^"]+)">\[(\d+)\]</a>', methods)
    refs = re.findall(r'<li id="ref-([^"]+)">', doc)
    first = list(dict.fromkeys(k for k, _ in cited))
    assert first == refs  # numbered in order of first citation
    assert all(int(n) == refs.index(k) + 1 for k, n in cited)
    assert refs[:2] == ["review", "singscore"]
    assert "100 random gene sets" in methods and "Benjamini-Hochberg over all samples x signatures" in methods
    # user-supplied signatures are not presented as the curated set
    user = rs.report.html_report(scores, date="2024-01-01")
    assert "curated from" not in user and "user-supplied gene signature(s)" in user


def test_large_score_tables_are_not_embedded(monkeypatch, scores):
    import resistscore.report._html as report_html
    import resistscore.report._tables as report_tables

    monkeypatch.setattr(report_html, "MAX_DOWNLOAD_VALUES", 10)
    monkeypatch.setattr(report_tables, "MAX_DOWNLOAD_VALUES", 10)
    monkeypatch.setattr(report_html, "_figures", lambda *a, **k: report_html._Figures())
    doc = rs.report.html_report(scores, max_rows=5, date="2024-01-01")
    assert 'download="scores.csv"' not in doc
    assert "too many to embed" in doc
    _, cells, _ = _table(doc, "table-scores")
    assert [c[0] for c in cells] == ["S00", "S01", "S02", "S03", "S04"]
    assert "5 rows (first 5 of 20)" in doc


def test_summary_of_a_per_patient_test_and_shared_genes():
    rng = np.random.default_rng(4)
    patients = np.repeat([f"P{i}" for i in range(8)], 6)
    arm = np.where(np.isin(patients, ["P0", "P1", "P2", "P3"]), "treated", "control")
    idx = [f"c{i:02d}" for i in range(len(patients))]
    scores = pd.DataFrame(
        rng.normal(size=(len(idx), 3)), index=idx, columns=["efflux_abc", "cancer_stem_cells", "dna_repair"]
    )
    scores.loc[arm == "treated", "efflux_abc"] += 3.0
    meta = pd.DataFrame({"patient": patients, "arm": arm}, index=idx)
    design = rs.Design(group="arm", sample_key="patient")
    cmp = rs.tl.compare_groups(scores, meta, group="arm", sample_key="patient", reference="control")
    doc = rs.report.html_report(
        scores,
        metadata=meta,
        design=design,
        stats={"treated vs control": cmp},
        signatures=rs.sig.load(),
        date="2024-01-01",
    )
    summary = " ".join(_visible(_section(doc, "summary")).split())
    row = cmp.table.set_index("signature").loc["efflux_abc"]
    assert (
        "treated vs control (Welch's t test on 4 vs 4 patients (mean of their cells per patient))" in summary
    )
    assert f"higher in treated: efflux_abc (Hedges' g {row['effect']:.3g}" in summary
    assert "one observation per patient (mean of its cells)" in _visible(_section(doc, "statistics"))
    # efflux_abc and cancer_stem_cells share ABC transporters: the overlap table says which
    overlap = rs.sig.overlap(rs.sig.load()).set_index(["signature_a", "signature_b"])
    pair = overlap.loc[("cancer_stem_cells", "efflux_abc")]
    headers, cells, _ = _table(doc, "table-shared-genes")
    assert [c[:2] for c in cells] == [["cancer_stem_cells", "efflux_abc"]]
    assert cells[0][headers.index("shared genes")] == str(pair["n_shared"])
    assert pair["shared_genes"].split(", ")[0] in cells[0][headers.index("genes")]
    # the group figure draws the 8 patient means, not the 48 cells
    assert 'id="fig-groups"' in doc


def test_methods_cite_the_scoring_method_from_its_module(monkeypatch, result):
    """The method's reference is read from the registry (MethodInfo.citation), not a second table."""
    import dataclasses

    from resistscore.tl.methods import Citation, registry

    info = registry["singscore"]
    fake = Citation(
        "made-up", "Doe J, Roe R. A made-up scoring paper. J Test. 2099;1:1-2.", "10.9999/made.up"
    )
    monkeypatch.setitem(registry, "singscore", dataclasses.replace(info, citation=fake))
    doc = rs.report.html_report(result, date="2024-01-01")
    refs = _visible(doc[doc.index('<ol class="refs">') :])
    assert "Doe J, Roe R. A made-up scoring paper. J Test. 2099;1:1-2. doi:10.9999/made.up" in " ".join(
        refs.split()
    )
    assert 'href="https://doi.org/10.9999/made.up"' in doc
    assert "Foroutan" not in doc


def test_summary_says_what_a_test_was_adjusted_for(scores, metadata):
    meta = metadata.assign(tissue=(["lung", "breast"] * 10))
    cmp = rs.tl.compare_groups(scores, meta, group="group", covariates="tissue")
    doc = rs.report.html_report(scores, metadata=meta, stats={"groups": cmp}, date="2024-01-01")
    summary = " ".join(_visible(_section(doc, "summary")).split())
    assert "adjusted for tissue" in summary


def test_summary_says_which_confounders_a_test_was_adjusted_for(scores, metadata):
    rng = np.random.default_rng(5)
    conf = pd.DataFrame({"confounder.proliferation": rng.normal(size=len(scores))}, index=scores.index)
    cmp = rs.tl.compare_groups(scores, metadata, group="group", adjust=conf)
    assert cmp.params["adjust"] == ["confounder.proliferation"]
    doc = rs.report.html_report(scores, metadata=metadata, stats={"groups": cmp}, date="2024-01-01")
    summary = " ".join(_visible(_section(doc, "summary")).split())
    assert "adjusted for the proliferation score" in summary
    assert "adjusted for the proliferation score" in " ".join(_visible(_section(doc, "statistics")).split())


def test_report_states_how_the_per_sample_pvalues_were_made(result):
    """The null, tail and FDR family of the per-sample p-values (issue 15) are stated where they matter."""
    result.null, result.tail, result.fdr_family = "pooled", "gpd", "signature"
    doc = rs.report.html_report(result, date="2024-01-01")
    params = dict(re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", doc))
    assert params["p-value null"] == "pooled" and params["p-value tail"] == "gpd"
    assert params["FDR family"] == "signature"
    for section in ("summary", "methods"):
        assert "Benjamini-Hochberg over the samples of each signature" in _visible(_section(doc, section))


def test_statistics_table_shows_censored_responses(scores, metadata):
    meta = metadata.assign(log_gi50=np.linspace(4, 8, len(metadata)))
    meta.loc[meta.index[:4], "log_gi50"] = 9.0  # at the assay's upper limit
    assoc = rs.tl.associate(scores, "log_gi50", metadata=meta, limits=(None, 9.0))
    doc = rs.report.html_report(scores, metadata=meta, stats={"GI50": assoc}, date="2024-01-01")
    headers, cells, _ = _table(doc, "table-1-GI50")
    assert "censored (high)" in headers and "censored (low)" not in headers
    assert {c[headers.index("censored (high)")] for c in cells} == {"4"}
    # without censoring the columns are left out
    plain = rs.tl.associate(scores, "log_gi50", metadata=metadata.assign(log_gi50=np.linspace(4, 8, 20)))
    doc = rs.report.html_report(scores, metadata=metadata, stats={"GI50": plain}, date="2024-01-01")
    assert "censored (high)" not in _table(doc, "table-1-GI50")[0]


def test_report_embeds_the_figure_files_instead_of_drawing_again(monkeypatch, result, metadata, tmp_path):
    """``figures=``: each standard figure with a PNG file is embedded from it (scaled to ``dpi``), not drawn."""
    from PIL import Image

    design = rs.Design(group="group")
    files = rs.pl.save_all(
        result, tmp_path / "figs", metadata=metadata, design=design, formats=("png", "pdf")
    )
    drawn = []
    original = rs.pl.StandardFigure.render
    monkeypatch.setattr(
        rs.pl.StandardFigure, "render", lambda self: drawn.append(self.name) or original(self)
    )
    doc = rs.report.html_report(
        result, metadata=metadata, design=design, figures=files, dpi=100, date="2024-01-01"
    )
    assert drawn == []  # every figure came from its file
    pngs = {f.stem: f for f in files if f.suffix == ".png"}
    embedded = dict(
        re.findall(r'<figure id="fig-([^"]+)"[^>]*><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', doc)
    )
    assert set(embedded) == set(pngs)
    for name, data in embedded.items():
        with Image.open(io.BytesIO(base64.b64decode(data))) as small, Image.open(pngs[name]) as big:
            assert big.info["dpi"][0] == pytest.approx(300, abs=1)  # the theme's resolution of the files
            # scaled from 300 to 100 dpi: a third of the width and height
            assert small.size == (round(big.width / 3), round(big.height / 3))
            assert small.info["dpi"][0] == pytest.approx(100, abs=1)
    # a file at or below the resolution asked for is embedded byte for byte
    doc3 = rs.report.html_report(
        result, metadata=metadata, design=design, figures=files, dpi=300, date="2024-01-01"
    )
    profile = re.search(
        r'<figure id="fig-profile"[^>]*><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', doc3
    )
    assert base64.b64decode(profile.group(1)) == pngs["profile"].read_bytes()
    # the same report from the folder; a figure without a file is drawn
    (tmp_path / "figs" / "heatmap.png").unlink()
    doc2 = rs.report.html_report(
        result, metadata=metadata, design=design, figures=tmp_path / "figs", dpi=100, date="2024-01-01"
    )
    assert drawn == ["heatmap"]
    assert re.findall(r'<figure id="fig-([^"]+)"', doc2) == re.findall(r'<figure id="fig-([^"]+)"', doc)
    assert plt.get_fignums() == []


def test_report_figures_argument_errors(result, tmp_path):
    with pytest.raises(ResistScoreError, match="`figures`.*not a folder"):
        rs.report.html_report(result, figures=tmp_path / "nothing-here")
    with pytest.raises(ResistScoreError, match="`figures`.*not a file"):
        rs.report.html_report(result, figures=[tmp_path / "heatmap.png"])
    with pytest.raises(ResistScoreError, match="`figures` must be the files"):
        rs.report.html_report(result, figures=3)
    fake = tmp_path / "heatmap.png"
    fake.write_bytes(b"GIF89a not a png")
    with pytest.raises(ResistScoreError, match="heatmap.png is not a PNG"):
        rs.report.html_report(result, figures=[fake])
