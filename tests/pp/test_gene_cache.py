"""The on-disk cache of the HGNC lookups (resistscore/_gene_cache.py, keyed and filled by resistscore/_gene_tables.py).

Cached lookups equal the ones built from the shipped tables; a missing, stale, truncated or corrupt cache gives
the same lookups as no cache and never an error; the file is written atomically; an unwritable folder is fine.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import resistscore._atomic as atomic
import resistscore._gene_cache as gc_
import resistscore._gene_tables as gt
from resistscore.pp._harmonize import _classify, _detect_species

NAMES = tuple(gt._BUILD)


@pytest.fixture(scope="module")
def fresh():
    """Every lookup built from the shipped tables (no cache involved)."""
    idx = gt.HgncIndex(gt._columns("hgnc", gt._HGNC_COLUMNS))
    return {name: getattr(idx, name) for name in NAMES}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache folder named by RESISTSCORE_CACHE_DIR; hgnc_index() forgotten before and after."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(gc_.ENV, str(folder))
    gt.hgnc_index.cache_clear()
    yield folder
    gt.hgnc_index.cache_clear()


def _only_file(folder: Path) -> Path:
    files = sorted(folder.iterdir())
    assert len(files) == 1, files
    return files[0]


def test_cached_lookups_equal_the_lookups_built_from_the_tables(cache_dir, fresh, monkeypatch):
    path = gt.write_lookup_cache()
    assert path == _only_file(cache_dir) and path.name.startswith("hgnc-lookups-")
    # a process with the cache never reads the HGNC table
    monkeypatch.setattr(gt, "_columns", lambda *a: pytest.fail("read a gene table despite the cache"))
    idx = gt.hgnc_index()
    assert idx._cache is not None and idx._cache.path == path
    for name in NAMES:
        assert getattr(idx, name) == fresh[name], name
        assert type(getattr(idx, name)) is dict
    # the values are frozensets, and the keys of one gene share one (as _keyed builds them)
    for name in ("alias", "prev", "alias_upper", "prev_upper", "withdrawn"):
        assert all(type(v) is frozenset for v in getattr(idx, name).values())
    assert len({id(v) for v in idx.alias.values()}) < 0.6 * len(idx.alias)


def test_a_process_without_a_cache_writes_it_and_stays_lazy(cache_dir, fresh):
    idx = gt.hgnc_index()
    assert idx._cache is None  # built from the table
    assert sorted(k for k in vars(idx) if not k.startswith("_")) == []  # nothing built for the process yet
    path = _only_file(cache_dir)
    assert gc_.LookupCache.open([cache_dir], path.name, gt._cache_key()) is not None
    gt.hgnc_index.cache_clear()
    again = gt.hgnc_index()
    assert again._cache is not None
    assert again.hgnc_id == fresh["hgnc_id"] and again.withdrawn == fresh["withdrawn"]
    assert sorted(k for k in vars(again) if not k.startswith("_")) == ["hgnc_id", "withdrawn"]


def _corruptions(data: bytes, sections: dict) -> dict[str, bytes]:
    """Damaged copies of a cache file: a flipped byte in sections and in the header, truncations, others."""
    out = {}
    for name in ("hgnc_id", "alias", "withdrawn"):
        offset, size, _ = sections[name]
        b = bytearray(data)
        b[offset + size // 2] ^= 0x01
        out[f"flipped byte in {name}"] = bytes(b)
    for where in (0, 9, 17, 60, 200):
        b = bytearray(data)
        b[where] ^= 0x20
        out[f"flipped byte at {where}"] = bytes(b)
    first = min(o for o, _, _ in sections.values())
    for cut in (0, 5, 16, first - 1, first + 1000, len(data) - 1):
        out[f"truncated at {cut}"] = data[:cut]
    out["one byte more"] = data + b"\x00"
    out["garbage"] = os.urandom(4096)
    out["another file format"] = b"\x80\x04\x95" + data[3:]
    return out


def test_a_damaged_cache_gives_the_lookups_built_from_the_tables(cache_dir, fresh):
    path = gt.write_lookup_cache()
    data = path.read_bytes()
    key = gt._cache_key()
    intact = gc_.LookupCache.open([cache_dir], path.name, key)
    assert all(intact.load(name) == fresh[name] for name in NAMES)
    digests = {name: s[2] for name, s in intact._sections.items()}
    for what, damaged in _corruptions(data, intact._sections).items():
        path.write_bytes(damaged)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cache = gc_.LookupCache.open([cache_dir], path.name, key)
            if what.startswith("flipped byte in "):
                # the header is intact: the damaged section is refused, the others are those written
                name = what.removeprefix("flipped byte in ")
                assert cache.load(name) is None
                assert {n: s[2] for n, s in cache._sections.items()} == digests
            elif cache is not None:  # a byte of a digest (that section is refused), or a harmless one
                loaded = {name: cache.load(name) for name in NAMES}
                assert all(v is None or v == fresh[n] for n, v in loaded.items()), what
    # through hgnc_index(): each damaged file gives the lookups built from the tables, and is written again
    for damaged, lookup in (
        (data[: len(data) // 3], "prev"),
        (_corruptions(data, intact._sections)["flipped byte in alias"], "alias"),
    ):
        path.write_bytes(damaged)
        gt.hgnc_index.cache_clear()
        assert getattr(gt.hgnc_index(), lookup) == fresh[lookup]
        again = gc_.LookupCache.open([cache_dir], path.name, key)
        assert again is not None and again.load(lookup) == fresh[lookup]


def test_a_stale_cache_is_not_used(cache_dir, tmp_path, monkeypatch, fresh):
    path = gt.write_lookup_cache()
    key = gt._cache_key()
    assert gc_.LookupCache.open([cache_dir], path.name, "0" * 64) is None  # written for other tables / code
    # another format version or marshal version: another key
    monkeypatch.setattr(gt, "FORMAT", gc_.FORMAT + 1)
    assert gt._cache_key() != key
    monkeypatch.undo()
    monkeypatch.setenv(gc_.ENV, str(cache_dir))
    # other tables (a rebuilt withdrawn table, with its checksum): another key, so another file
    genes = tmp_path / "genes"
    shutil.copytree(gt._genes_dir(), genes, ignore=shutil.ignore_patterns("__pycache__"))
    table = genes / "hgnc_withdrawn.tsv.gz"
    table.write_bytes(table.read_bytes() + b"\x00")
    sums = (genes / "checksums.sha256").read_text()
    sums = sums.replace(gt._checksums()["hgnc_withdrawn.tsv.gz"], gt.sha256(table))
    (genes / "checksums.sha256").write_text(sums)
    monkeypatch.setattr(gt, "_genes_dir", lambda: genes)
    gt._checksums.cache_clear()
    try:
        other = gt._cache_key()
        assert other is not None and other != key and gt._cache_name(other) != path.name
        # a table that fails its checksum: no key, and the error is the one without a cache
        table.write_bytes(table.read_bytes() + b"\x00")
        assert gt._cache_key() is None
        gt.hgnc_index.cache_clear()
        idx = gt.hgnc_index()
        with pytest.raises(gt.GeneTableError, match="corrupt"):
            idx.withdrawn
    finally:
        gt._checksums.cache_clear()


def test_the_cache_is_written_atomically(cache_dir, monkeypatch):
    path = gt.write_lookup_cache()
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    # the file is written beside its target and moved onto it: a failed write leaves the old file and no other
    monkeypatch.setattr(atomic.os, "replace", fail)
    assert gt.write_lookup_cache() is None
    assert _only_file(cache_dir) == path and path.read_bytes() == before


def test_an_unwritable_cache_folder_is_fine(tmp_path, monkeypatch, fresh):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(gc_.ENV, str(blocker / "cache"))
    gt.hgnc_index.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert gt.write_lookup_cache() is None
            idx = gt.hgnc_index()
            assert idx._cache is None and idx.hgnc_id == fresh["hgnc_id"]
    finally:
        gt.hgnc_index.cache_clear()
    assert not gc_.any_writable(gc_.cache_folders(None))


def test_cache_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(gc_.ENV, str(tmp_path / "x"))
    assert gc_.cache_folders(tmp_path / "genes") == [tmp_path / "x"]
    monkeypatch.delenv(gc_.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folders = gc_.cache_folders(tmp_path / "genes")
    assert folders[0] == tmp_path / "genes" / "__pycache__"
    if os.name == "posix" and gc_.sys.platform != "darwin":
        assert folders[1] == tmp_path / "xdg" / "resistscore"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG specification says
        assert gc_.cache_folders(None) == [Path.home() / ".cache" / "resistscore"]


def _old_detect_species(ids: list[str]) -> str:
    """``_detect_species`` before it skipped the regular expressions for plain symbols (main 44ec9a0)."""
    sample = [x for x in ids if x][:5000]
    mouse = human = 0
    for x in sample:
        if gt.ENSMUSG.match(x) or (_classify(x) == "symbol" and gt.MOUSE_SYMBOL.match(x)):
            mouse += 1
        elif gt.ENSG.match(x) or (
            _classify(x) == "symbol" and x.replace("orf", "").upper() == x.replace("orf", "")
        ):
            human += 1
    return "mouse" if mouse > human else "human"


_ID = st.one_of(
    st.sampled_from(
        [
            "ABCB1",
            "Abcb1a",
            "C1orf112",
            "c1orf112",
            "Gm12345",
            "1110008P14Rik",
            "ENSG00000085563",
            "ensmusg00000040584.3",
            "ENSMUSG00000040584",
            "5243",
            "1007_s_at",
            "AFFX-BioB-5_at",
            "ILMN_1",
            "Ens1",
            "ensg00000085563",
            "ABCB1_2",
            "",
            "7-Sep",
            "MT-ND1",
            "Trp53",
        ]
    ),
    st.from_regex(r"\A(?:ENS|ens|Ens|AFFX-|affx-|[0-9]|)[A-Za-z0-9_.-]{0,12}\Z"),
    st.text(max_size=8),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_ID, max_size=30))
def test_detect_species_is_unchanged(ids):
    assert _detect_species(ids) == _old_detect_species(ids)
