"""Drugs: names and synonyms, the drug -> mechanism map and drug-specific signatures."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from resistscore._errors import SignatureError
from resistscore.sig._collection import load_shipped
from resistscore.sig._model import Signature, SignatureSet
from resistscore.sig._tables import shipped_table, split_ids

__all__ = [
    "drug_mechanisms",
    "drug_signature",
    "drug_signatures",
    "drugs",
    "normalise_drug_name",
    "resolve_drug",
]


def normalise_drug_name(name: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive key of a drug name (``"Ara-C"`` -> ``"arac"``)."""
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    return re.sub(r"[^0-9a-z]", "", "".join(c for c in text if not unicodedata.combining(c)))


def drugs() -> pd.DataFrame:
    """Return the drug -> mechanism map: one row per drug the review names (plus class members).

    Columns: ``drug`` (canonical name), ``synonyms`` (``|``-separated), ``drug_class``,
    ``mechanism_ids`` (signatures whose mechanisms cause resistance to it), ``review_sections``,
    ``note`` and ``references``.

    Examples
    --------
    >>> import resistscore as rs
    >>> table = rs.sig.drugs()
    >>> table.set_index("drug").loc["doxorubicin", "drug_class"]
    'anthracycline (topoisomerase II poison)'
    """
    return shipped_table("drugs")


def _lookup() -> dict[str, str]:
    """Normalised name or synonym -> canonical drug name."""
    table = shipped_table("drugs")
    out: dict[str, str] = {}
    for drug, syn in zip(table["drug"], table["synonyms"]):
        for name in [drug, *[s for s in str(syn).split("|") if s.strip()]]:
            out.setdefault(normalise_drug_name(name), drug)
    return out


def resolve_drug(name: str) -> str:
    """Return the canonical name of a drug given any of its names.

    Matching ignores case, spaces and punctuation (``"Ara-C"``, ``"araC"`` and ``"ARA C"`` are the
    same) and knows the synonyms of ``drugs/drugs.tsv`` (brand names, old names, abbreviations).

    Parameters
    ----------
    name
        A drug name, synonym or abbreviation.

    Raises
    ------
    SignatureError
        For an unknown drug, listing the closest known names.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.resolve_drug("Adriamycin"), rs.sig.resolve_drug("taxol"), rs.sig.resolve_drug("Ara-C")
    ('doxorubicin', 'paclitaxel', 'cytarabine')
    """
    if not isinstance(name, str) or not name.strip():
        raise SignatureError(f"a drug name must be a non-empty string; got {name!r}.")
    lookup = _lookup()
    key = normalise_drug_name(name)
    if key in lookup:
        return lookup[key]
    table = shipped_table("drugs")
    display: dict[str, str] = {}
    for d, syn in zip(table["drug"], table["synonyms"]):
        for n in [d, *str(syn).split("|")]:
            if n.strip():
                display.setdefault(normalise_drug_name(n), n.strip())
    close = difflib.get_close_matches(key, list(display), n=4, cutoff=0.6)
    hint = f" Did you mean: {', '.join(dict.fromkeys(display[c] for c in close))}?" if close else ""
    raise SignatureError(
        f"unknown drug {name!r}.{hint} rs.sig.drugs() lists the {len(table)} drugs and their synonyms."
    )


def _gene_ids() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for s in load_shipped():
        for sym, h, e in zip(s.genes["symbol"], s.genes["hgnc_id"], s.genes["ensembl_gene_id"]):
            if h and sym not in out:
                out[sym] = (h, e)
    return out


def _evidence_source(evidence: str) -> str:
    """``review`` when the evidence cites the review first, ``literature`` when it cites a PMID or DOI."""
    text = str(evidence).strip().lower()
    if text.startswith("review"):
        return "review"
    if "pmid" in text or "doi" in text:
        return "literature"
    return ""


def drug_signature(drug: str, *, min_coverage: float = 0.5) -> Signature:
    """Return the drug-specific resistance signature: the genes and directions that drive resistance to one drug.

    Built from ``drugs/drug_genes.tsv`` (genes curated per drug, with evidence). Its id is
    ``drug.<canonical name>``; :func:`drug_mechanisms` tells which mechanisms it draws on. HGNC and
    Ensembl ids come from the mechanism signatures (empty for a gene in none of them);
    ``evidence_source`` is ``review`` when the evidence text starts with the review, ``literature``
    when it cites a PMID or DOI.

    Parameters
    ----------
    drug
        Any name of the drug (resolved with :func:`resolve_drug`).
    min_coverage
        Minimal coverage of the returned signature.

    Raises
    ------
    SignatureError
        For an unknown drug, or a drug without curated genes.

    Examples
    --------
    >>> import resistscore as rs
    >>> sig = rs.sig.drug_signature("adriamycin")
    >>> sig.id, "ABCB1" in sig.up
    ('drug.doxorubicin', True)
    """
    canonical = resolve_drug(drug)
    table = shipped_table("drug_genes")
    rows = table.loc[table["drug"] == canonical]
    info = shipped_table("drugs").set_index("drug").loc[canonical]
    if rows.empty:
        raise SignatureError(
            f"no genes are curated for {canonical} in drugs/drug_genes.tsv. Score its mechanisms instead: "
            f"rs.sig.load(ids={split_ids(info['mechanism_ids'])!r})."
        )
    ids = _gene_ids()
    genes = rows[["symbol", "direction", "weight", "evidence", "note"]].copy()
    genes["evidence_source"] = [_evidence_source(e) for e in genes["evidence"]]
    genes["hgnc_id"] = [ids.get(s, ("", ""))[0] for s in genes["symbol"]]
    genes["ensembl_gene_id"] = [ids.get(s, ("", ""))[1] for s in genes["symbol"]]
    mechs = split_ids(info["mechanism_ids"])
    return Signature(
        id=f"drug.{canonical}",
        version=load_shipped().version,
        name=f"{canonical} resistance",
        parent=None,
        mechanism="drug",
        description=(
            f"Genes whose expression drives resistance to {canonical} ({info['drug_class']}), "
            f"curated in drugs/drug_genes.tsv; mechanisms: {', '.join(mechs) or '-'}."
        ),
        review_section=str(info["review_sections"]) or None,
        drugs=(canonical,),
        references=tuple(r.strip() for r in re.split(r"[|;]", str(info["references"])) if r.strip()),
        min_coverage=min_coverage,
        genes=genes.reset_index(drop=True),
        source="signatures/drugs/drug_genes.tsv",
    )


def drug_signatures(drugs: Iterable[str] | None = None, *, min_coverage: float = 0.5) -> SignatureSet:
    """Return the drug-specific signatures of several drugs (default: every drug with curated genes).

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.sig.drug_signatures(["taxol", "doxorubicin"]).ids
    ['drug.paclitaxel', 'drug.doxorubicin']
    """
    if drugs is None:
        names = list(dict.fromkeys(shipped_table("drug_genes")["drug"]))
    elif isinstance(drugs, str):
        names = [drugs]
    else:
        names = list(drugs)
    sigs = [drug_signature(d, min_coverage=min_coverage) for d in names]
    base = load_shipped()
    return SignatureSet(sigs, collection=f"{base.collection}-drugs", version=base.version)


def drug_mechanisms(drug: str) -> pd.DataFrame:
    """Return the mechanisms a drug's resistance draws on, with the genes they share with its drug signature.

    Parameters
    ----------
    drug
        Any name of the drug.

    Returns
    -------
    pandas.DataFrame
        One row per signature linked to the drug (in collection order) with columns ``signature_id``,
        ``name``, ``mechanism``, ``level``, ``in_drug_map`` (listed in ``drugs.tsv``), ``lists_drug``
        (the signature lists the drug), ``n_genes``, ``n_shared`` and ``shared_genes`` (genes of the
        drug signature that are in this signature).

    Examples
    --------
    >>> import resistscore as rs
    >>> mech = rs.sig.drug_mechanisms("doxorubicin")
    >>> "efflux_abc.abcb1" in set(mech["signature_id"])
    True
    """
    canonical = resolve_drug(drug)
    info = shipped_table("drugs").set_index("drug").loc[canonical]
    mapped = set(split_ids(info["mechanism_ids"]))
    sigs = load_shipped()
    try:
        dsig_genes = set(drug_signature(canonical).symbols)
    except SignatureError:
        dsig_genes = set()
    rows = []
    for s in sigs:
        lists = canonical in s.drugs
        if not (lists or s.id in mapped):
            continue
        shared = [g for g in s.symbols if g in dsig_genes]
        rows.append(
            {
                "signature_id": s.id,
                "name": s.name,
                "mechanism": s.mechanism,
                "level": s.level,
                "in_drug_map": s.id in mapped,
                "lists_drug": lists,
                "n_genes": len(s),
                "n_shared": len(shared),
                "shared_genes": ", ".join(shared),
            }
        )
    cols = ["signature_id", "name", "mechanism", "level", "in_drug_map", "lists_drug", "n_genes", "n_shared",
            "shared_genes"]  # fmt: skip
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["drug"] = canonical
    return out
