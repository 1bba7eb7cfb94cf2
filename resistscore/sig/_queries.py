"""Queries of the review's tables: miRNAs (Table 2), diseases (Table 1), BCR-ABL1 mutations, review inventory."""

from __future__ import annotations

import re

import pandas as pd

from resistscore._errors import SignatureError
from resistscore._validate import check_choice
from resistscore.sig._collection import load_shipped
from resistscore.sig._drugs import normalise_drug_name, resolve_drug
from resistscore.sig._files import close_matches
from resistscore.sig._model import Signature
from resistscore.sig._tables import shipped_table, split_ids

__all__ = [
    "BCR_ABL1_DRUGS",
    "bcr_abl1_mutations",
    "bcr_abl1_sensitivity",
    "disease_pathways",
    "mirna_signature",
    "mirna_table",
    "normalise_mutation",
    "review_inventory",
]

#: The tyrosine-kinase inhibitors of the BCR-ABL1 table, in column order.
BCR_ABL1_DRUGS = ("imatinib", "nilotinib", "dasatinib", "bosutinib", "ponatinib", "asciminib")

_AA3 = {
    "ala": "A", "arg": "R", "asn": "N", "asp": "D", "cys": "C", "gln": "Q", "glu": "E", "gly": "G", "his": "H",
    "ile": "I", "leu": "L", "lys": "K", "met": "M", "phe": "F", "pro": "P", "ser": "S", "thr": "T", "trp": "W",
    "tyr": "Y", "val": "V", "ter": "*",
}  # fmt: skip
_ONE = set(_AA3.values())


# --------------------------------------------------------------------------------------- miRNAs
def _mirna_key(name: str) -> str:
    return re.sub(r"^hsa-", "", str(name).strip().casefold())


def mirna_table(
    mirna: str | None = None,
    *,
    target: str | None = None,
    drug: str | None = None,
    tumour: str | None = None,
) -> pd.DataFrame:
    """Return the review's Table 2 (miRNA -> target genes -> tumour -> drugs) as data, optionally filtered.

    Columns include ``mirna_review_name`` (as the review writes it), ``mirbase_id`` (mature miRBase
    id, e.g. ``hsa-miR-21-5p``), ``target_symbols`` (HGNC, ``|``-separated), ``tumour``, ``drugs``,
    ``direction_in_resistance`` (``up``, ``down`` or ``unclear``) and ``evidence``.

    Parameters
    ----------
    mirna
        Keep rows of this miRNA: review name or miRBase id, with or without ``hsa-`` and arm
        (``"miR-21"`` matches ``hsa-miR-21-5p``), case-insensitive.
    target
        Keep rows whose targets include this HGNC symbol.
    drug
        Keep rows naming this drug (any synonym).
    tumour
        Keep rows whose tumour contains this text (case-insensitive).

    Examples
    --------
    >>> import resistscore as rs
    >>> t2 = rs.sig.mirna_table()
    >>> {"mirna_review_name", "mirbase_id", "target_symbols", "direction_in_resistance"} <= set(t2.columns)
    True
    """
    df = shipped_table("table2")
    keep = pd.Series(True, index=df.index)
    if mirna is not None:
        q = _mirna_key(mirna)

        def match(row: pd.Series) -> bool:
            names = [row["mirna_review_name"], *split_ids(row["mirbase_id"])]
            keys = [_mirna_key(n) for n in names]
            return any(
                k == q or k.startswith(q + "-") or k.replace("-", "") == q.replace("-", "") for k in keys
            )

        keep &= df.apply(match, axis=1)
        if not keep.any():
            known = sorted(set(df["mirna_review_name"]) | {m for c in df["mirbase_id"] for m in split_ids(c)})
            raise SignatureError(f"miRNA {mirna!r} is not in Table 2.{close_matches(mirna, known)} "
                                 "rs.sig.mirna_table() lists them all.")  # fmt: skip
    if target is not None:
        keep &= df["target_symbols"].map(lambda c: target in split_ids(c))
    if drug is not None:
        canonical = resolve_drug(drug)

        def names_drug(cell: str) -> bool:
            for d in split_ids(cell):
                try:
                    if resolve_drug(d) == canonical:
                        return True
                except SignatureError:
                    if normalise_drug_name(d) == normalise_drug_name(canonical):
                        return True
            return False

        keep &= df["drugs"].map(names_drug)
    if tumour is not None:
        keep &= df["tumour"].str.contains(re.escape(tumour), case=False, regex=True)
    return df.loc[keep].reset_index(drop=True)


def mirna_signature() -> Signature:
    """Return the miRNA-level resistance signature (features are miRBase mature ids).

    Users with miRNA expression data score it directly; for mRNA data use the target-gene
    signature (``rs.sig.load(mechanism="mirna")``).

    Examples
    --------
    >>> import resistscore as rs
    >>> sig = rs.sig.mirna_signature()
    >>> sig.feature_type, all(m.startswith(("hsa-miR-", "hsa-let-")) for m in sig.symbols)
    ('mirna', True)
    """
    sigs = load_shipped().select(feature_type="mirna")
    if not len(sigs):
        raise SignatureError("the shipped collection has no miRNA-level signature (feature_type: mirna).")
    top = sigs.select(level="mechanism")
    return (top if len(top) else sigs).signatures[0]


def disease_pathways(disease: str | None = None, *, gene: str | None = None) -> pd.DataFrame:
    """Return the review's Table 1 (disease -> resistance pathways) as data.

    Columns include ``disease`` (current terminology), ``disease_review`` (the review's words),
    ``pathway_review``, ``genes`` (HGNC symbols), ``signature_ids`` (the signatures that score the
    pathway), ``review_references`` and ``note``.

    Parameters
    ----------
    disease
        Keep rows whose disease (current or the review's name) contains this text, case-insensitive.
    gene
        Keep rows listing this HGNC symbol.

    Examples
    --------
    >>> import resistscore as rs
    >>> t1 = rs.sig.disease_pathways("CML")
    >>> "ABL1" in t1["genes"].iloc[0]
    True
    """
    df = shipped_table("table1")
    if disease is not None:
        cols = [c for c in ("disease", "disease_review") if c in df.columns]
        keep = pd.Series(False, index=df.index)
        for c in cols:
            keep |= df[c].str.contains(re.escape(disease), case=False, regex=True)
        if not keep.any():
            names = sorted({v for c in cols for v in df[c]})
            raise SignatureError(
                f"no disease matching {disease!r} in Table 1.{close_matches(disease, names)} "
                "rs.sig.disease_pathways() lists them all."
            )
        df = df.loc[keep]
    if gene is not None and "genes" in df.columns:
        df = df.loc[df["genes"].map(lambda c: gene in split_ids(c))]
    return df.reset_index(drop=True)


def review_inventory(kind: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Return every gene, protein, family, pathway, miRNA and drug the review names, and where it went.

    Columns: ``entity``, ``kind``, ``review_section``, ``status`` (``scored``; ``not_scored``;
    ``corrected``: the review's claim is wrong and is encoded corrected, see ``CORRECTIONS.md``),
    ``signature_ids`` (the signatures that score it) and ``reason`` (why it is not scored, or the
    correction).

    Parameters
    ----------
    kind
        Keep one kind (``gene``, ``protein``, ``protein_family``, ``pathway``, ``mirna``, ``drug``, ...).
    status
        ``"scored"``, ``"not_scored"`` or ``"corrected"``.

    Examples
    --------
    >>> import resistscore as rs
    >>> inv = rs.sig.review_inventory()
    >>> set(inv["status"]) <= {"scored", "not_scored", "corrected"}
    True
    """
    df = shipped_table("entities")
    if kind is not None:
        check_choice("kind", kind, sorted(set(df["kind"])))
        df = df.loc[df["kind"] == kind]
    if status is not None:
        check_choice("status", status, ("scored", "not_scored", "corrected"))
        df = df.loc[df["status"] == status]
    return df.reset_index(drop=True)


# ------------------------------------------------------------------------------------- BCR-ABL1
def _one_mutation(t: str, text: str) -> str:
    t = re.sub(r"^p\.", "", t, flags=re.IGNORECASE).replace("(", "").replace(")", "").replace(" ", "")
    m = re.fullmatch(r"([A-Za-z]{3})(\d+)([A-Za-z]{3}|\*)", t)
    if m and m.group(1).lower() in _AA3 and (m.group(3) == "*" or m.group(3).lower() in _AA3):
        alt = "*" if m.group(3) == "*" else _AA3[m.group(3).lower()]
        return f"{_AA3[m.group(1).lower()]}{m.group(2)}{alt}"
    m = re.fullmatch(r"([A-Za-z])(\d+)([A-Za-z*])", t)
    if m and m.group(1).upper() in _ONE and m.group(3).upper() in _ONE:
        return f"{m.group(1).upper()}{m.group(2)}{m.group(3).upper()}"
    raise SignatureError(
        f"cannot read the mutation {text!r}. Write a protein change such as 'T315I', 'p.T315I' or 'Thr315Ile' "
        "(a compound mutation as 'E255V+T315I')."
    )


def _position(mutation: str) -> int:
    return int(re.search(r"\d+", mutation).group())  # type: ignore[union-attr]


def normalise_mutation(text: str) -> str:
    """Return the one-letter protein change of an ABL1 kinase-domain mutation.

    Accepts ``"T315I"``, ``"p.T315I"``, ``"Thr315Ile"``, ``"p.(Thr315Ile)"``, ``"BCR-ABL1 T315I"``,
    ``"ABL1:p.T315I"``, any case. A compound mutation (two changes on one allele: ``"T315I/E255V"``,
    ``"E255V+T315I"``) becomes ``"E255V+T315I"`` (changes ordered by position).

    Examples
    --------
    >>> from resistscore.sig import normalise_mutation
    >>> [
    ...     normalise_mutation(m)
    ...     for m in ("T315I", "p.Thr315Ile", "abl1 t315i", "p.(Glu255Lys)", "T315I/E255V")
    ... ]
    ['T315I', 'T315I', 'T315I', 'E255K', 'E255V+T315I']
    """
    if not isinstance(text, str) or not text.strip():
        raise SignatureError(f"a mutation must be a non-empty string such as 'T315I'; got {text!r}.")
    t = re.sub(r"^(bcr[-:_ ]?abl1?|abl1?)\b[\s:_-]*", "", text.strip(), flags=re.IGNORECASE)
    parts = [x for x in re.split(r"\s*[+/,;&]\s*", t) if x]
    if len(parts) > 1:
        muts = sorted({_one_mutation(x, text) for x in parts}, key=_position)
        return "+".join(muts)
    return _one_mutation(t, text)


def _expand(entry: str) -> list[str]:
    """Table keys of a row: ``"E255K/V"`` -> ``["E255K", "E255V"]``; ``"T315I+E255V"`` -> ``["E255V+T315I"]``."""
    entry = entry.strip()
    m = re.fullmatch(r"([A-Z])(\d+)([A-Z*](?:/[A-Z*])*)", entry)
    if m:
        return [f"{m.group(1)}{m.group(2)}{alt}" for alt in m.group(3).split("/")]
    if "+" in entry:
        return ["+".join(sorted(entry.split("+"), key=_position))]
    return [entry]


def bcr_abl1_mutations() -> pd.DataFrame:
    """Return the BCR-ABL1 kinase-domain mutation table with the sensitivity to each tyrosine-kinase inhibitor.

    Columns: ``mutation`` (one-letter code; ``E255K/V`` groups changes at one residue), ``region``,
    one column per drug of :data:`BCR_ABL1_DRUGS` holding ``S`` (sensitive), ``I`` (intermediate),
    ``R`` (resistant) or ``NA`` (no data), ``note`` and ``references``.

    Examples
    --------
    >>> import resistscore as rs
    >>> table = rs.sig.bcr_abl1_mutations()
    >>> table.set_index("mutation").loc["T315I", ["imatinib", "ponatinib"]].tolist()
    ['R', 'S']
    """
    return shipped_table("bcr_abl1")


def _bcr_drug(drug: str, columns: list[str]) -> str:
    key = normalise_drug_name(drug)
    for c in columns:
        if normalise_drug_name(c) == key:
            return c
    try:
        canonical = resolve_drug(drug)
    except SignatureError:
        canonical = None
    if canonical in columns:
        return canonical
    raise SignatureError(
        f"{drug!r} is not in the BCR-ABL1 table.{close_matches(drug.lower(), columns)} "
        f"The table covers: {', '.join(columns)}."
    )


def bcr_abl1_sensitivity(
    mutation: str | None = None, drug: str | None = None
) -> str | pd.Series | pd.DataFrame:
    """Query the sensitivity of BCR-ABL1 kinase-domain mutations to tyrosine-kinase inhibitors.

    Parameters
    ----------
    mutation
        A mutation in any common spelling (``"T315I"``, ``"p.T315I"``, ``"Thr315Ile"``).
    drug
        A drug name (``"imatinib"``, ``"Gleevec"``, ...).

    Returns
    -------
    str or pandas.Series or pandas.DataFrame
        Both given: the code ``"S"``, ``"I"``, ``"R"`` or ``"NA"``. Only ``mutation``: a Series drug ->
        code. Only ``drug``: a Series mutation -> code. Neither: the tidy table ``mutation``,
        ``region``, ``drug``, ``sensitivity``, ``note``, ``references``.

    Raises
    ------
    SignatureError
        For an unreadable mutation, a mutation not in the table, or a drug not in the table.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.bcr_abl1_sensitivity("p.Thr315Ile", "ponatinib")
    'S'
    >>> rs.sig.bcr_abl1_sensitivity("T315I")["imatinib"]
    'R'
    """
    table = shipped_table("bcr_abl1")
    drugs = [c for c in BCR_ABL1_DRUGS if c in table.columns]
    rows: dict[str, int] = {}
    for i, entry in enumerate(table["mutation"]):
        for name in _expand(entry):
            rows.setdefault(name, i)
    if mutation is None:
        if drug is None:
            long = table.melt(id_vars=["mutation", "region", "note", "references"], value_vars=drugs,
                              var_name="drug", value_name="sensitivity")  # fmt: skip
            long["_order"] = long["drug"].map({d: k for k, d in enumerate(drugs)})
            long = long.sort_values(["mutation", "_order"], kind="stable").drop(columns="_order")
            return long[["mutation", "region", "drug", "sensitivity", "note", "references"]].reset_index(
                drop=True
            )
        col = _bcr_drug(drug, drugs)
        return pd.Series(table[col].to_numpy(), index=pd.Index(table["mutation"], name="mutation"), name=col)
    name = normalise_mutation(mutation)
    if name not in rows:
        raise SignatureError(
            f"{name} is not in the BCR-ABL1 table.{close_matches(name, list(rows))} "
            f"rs.sig.bcr_abl1_mutations() lists the {len(table)} mutations covered."
        )
    row = table.iloc[rows[name]]
    if drug is None:
        return pd.Series([row[d] for d in drugs], index=pd.Index(drugs, name="drug"), name=name)
    return str(row[_bcr_drug(drug, drugs)])
