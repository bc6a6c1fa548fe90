"""The results page's catalogue (``book/results_catalog.yml``): plain descriptions of the records
and the scoreboard's rows, independent of Sphinx so that tests can run it on a results folder.

- :func:`load` reads the catalogue;
- :func:`describe` gives a record's one-line description in a language ("en" or "ko");
- :func:`spell_out` replaces the dataset codes of a notebook's own description by their names;
- :func:`scoreboard` gives the scoreboard's rows, chapter by chapter;
- :func:`problems` lists what the build must warn about: a record with no description, a
  catalogue entry that matches no record, a scoreboard row whose record is missing, a chapter with
  no scoreboard row, a record with a paper value that the scoreboard does not show.

The file's format is described at its top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("en", "ko")
_UNLISTED = {"en": "whether the paper measured the same task is not stated (book/results_catalog.yml)",
             "ko": "논문이 같은 과제를 측정했는지 적혀 있지 않다 (book/results_catalog.yml)"}


@dataclass(frozen=True)
class Entry:
    pattern: str
    regex: re.Pattern
    text: dict  # {"en": ..., "ko": ...}
    optional: bool = False  # a record some runs do not make: no warning when nothing matches


@dataclass
class Catalog:
    entries: list[Entry]
    terms: dict = field(default_factory=dict)  # {field: {value: {"en": .., "ko": ..}}}
    datasets: dict = field(default_factory=dict)  # {code: {"en", "ko", "aliases"}}
    chapters: dict = field(default_factory=dict)  # {notebook stem: {"data": [...], "headline": [...]}}


@dataclass
class Row:
    """One row of the scoreboard (numbers raw: the page formats them)."""

    notebook: str
    record: object  # attnbook.results.Record
    std: object | None  # its ``_std`` twin, if recorded
    what: str
    ours_task: str
    paper: float | None
    paper_std: float | None
    paper_unit: str
    source: str | None
    paper_task: str
    comparable: bool | None  # None: no published figure to compare with
    note: str
    verdict: str = ""  # the catalogue's own words for "same task?", if any

    @property
    def gap(self) -> float | None:
        """ours − paper, only where the two measure the same thing."""
        if self.comparable and self.paper is not None:
            return self.record.value - self.paper
        return None


def compile_pattern(pattern: str) -> re.Pattern:
    """``{field}`` matches (and names) one or more name characters within a part of the name,
    ``*`` any characters within a part; everything else is literal."""
    out, pos = [], 0
    for m in re.finditer(r"\{([a-zA-Z_]\w*)\}|\*", pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[a-z0-9_.+-]+?)" if m.group(1) else "[a-z0-9_.+-]*")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out) + r"\Z")


def _texts(value, where: str) -> dict:
    if isinstance(value, str):
        return {"en": value, "ko": value}
    if not isinstance(value, dict) or "en" not in value:
        raise ValueError(f"{where}: expected {{en: ..., ko: ...}}, got {value!r}")
    return {lang: value.get(lang, value["en"]) for lang in LANGUAGES}


def load(path: str | Path) -> Catalog:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = []
    for i, e in enumerate(data.get("records") or []):
        if "match" not in e:
            raise ValueError(f"{path}: records[{i}] has no 'match'")
        entries.append(Entry(e["match"], compile_pattern(e["match"]),
                             _texts({k: e[k] for k in LANGUAGES if k in e}, f"records[{i}]"),
                             bool(e.get("optional"))))
    return Catalog(entries, data.get("terms") or {}, data.get("datasets") or {},
                   data.get("chapters") or {})


def entry_for(cat: Catalog, name: str) -> tuple[Entry, dict] | None:
    for e in cat.entries:
        m = e.regex.match(name)
        if m:
            return e, m.groupdict()
    return None


def spell_out(cat: Catalog, text: str, lang: str = "en") -> str:
    """A notebook's description with the dataset codes it names replaced by the datasets' names."""
    for d in cat.datasets.values():
        for alias in sorted(d.get("aliases") or [], key=len, reverse=True):
            text = re.sub(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", d.get(lang, d["en"]), text)
    return text


def dataset_names(cat: Catalog, codes, lang: str = "en") -> list[str]:
    return [cat.datasets[c].get(lang, cat.datasets[c]["en"]) if c in cat.datasets else c for c in codes]


def describe(cat: Catalog, name: str, recorded: str | None = None, lang: str = "en") -> str | None:
    """The record's one-line description: on the English site the notebook's own (``recorded``)
    wins unless the catalogue's entry embeds it as ``{recorded}``; on the Korean site the
    catalogue's ``ko`` wins. None when neither has one."""
    found = entry_for(cat, name)
    recorded = spell_out(cat, recorded, lang) if recorded else None
    if found is None:
        return recorded
    entry, fields = found
    template = entry.text.get(lang) or entry.text["en"]
    if recorded and lang == "en" and "{recorded}" not in template:
        return recorded
    values = {k: _term(cat, k, v, lang) for k, v in fields.items()}
    values["recorded"] = recorded or ""
    text = template.format(**values)
    text = re.sub(r"\(\s*;\s*", "(", text)  # an empty {recorded} at the start of a bracket
    return re.sub(r"\s*\(\s*\)", "", text).strip()


def _term(cat: Catalog, fieldname: str, value: str, lang: str) -> str:
    t = (cat.terms.get(fieldname) or {}).get(value)
    if t is None:
        return value
    return t.get(lang, t["en"]) if isinstance(t, dict) else str(t)


def _pick(value, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return value.get(lang, value.get("en", ""))
    return str(value)


def scoreboard(cat: Catalog, records: dict, lang: str = "en", order: list[str] | None = None) -> list[Row]:
    """The scoreboard's rows: each chapter's headline rows of the catalogue (in the chapters'
    ``order``, else the catalogue's), then any recorded paper value the catalogue does not list."""
    rows: list[Row] = []
    shown = set()
    stems = [s for s in (order or list(cat.chapters)) if s in records]
    stems += [s for s in records if s not in stems]
    for stem in stems:
        by_name = {r.name: r for r in records[stem]}
        for h in (cat.chapters.get(stem) or {}).get("headline") or []:
            r = by_name.get(h.get("record"))
            if r is None:
                continue
            paper = h.get("paper") or {}
            value = paper.get("value", r.paper if paper.get("source") in (None, r.source) else None)
            std = by_name.get(r.name + "_std")
            paper_std = std.paper if (std is not None and value is not None and value == r.paper) else None
            source = paper.get("source", r.source if r.paper is not None else None)
            comparable = bool(h.get("comparable")) if (value is not None or paper) else None
            rows.append(Row(stem, r, std, describe(cat, r.name, r.description, lang) or r.name,
                            _pick(h.get("ours"), lang), value, paper_std, paper.get("unit", r.unit),
                            source, _pick(paper.get("task"), lang), comparable, _pick(h.get("note"), lang),
                            _pick(h.get("verdict"), lang)))
            shown.add((stem, r.name))
        for r in records[stem]:
            if r.paper is None or (stem, r.name) in shown:
                continue
            if r.name.endswith("_std") and r.name[: -len("_std")] in by_name:
                continue
            std = by_name.get(r.name + "_std")
            rows.append(Row(stem, r, std, describe(cat, r.name, r.description, lang) or r.name, "",
                            r.paper, std.paper if std is not None else None, r.unit, r.source, "",
                            False, _pick(_UNLISTED, lang)))
    return rows


def problems(cat: Catalog, records: dict) -> list[str]:
    """What the build warns about (empty when the catalogue and the records agree)."""
    out = []
    names = [r.name for recs in records.values() for r in recs]
    for recs in records.values():
        by_name = {r.name for r in recs}
        for r in recs:
            if r.name.endswith("_std") and r.name[: -len("_std")] in by_name and entry_for(cat, r.name) is None:
                continue  # shown as the ± of its twin
            if not describe(cat, r.name, r.description):
                out.append(f"record {r.name!r} has no description: give one in the notebook "
                           "(rec.record(..., description=...)) or in book/results_catalog.yml")
    for e in cat.entries:
        if not e.optional and not any(e.regex.match(n) for n in names):
            out.append(f"book/results_catalog.yml: the entry {e.pattern!r} matches no record")
    for stem, chapter in cat.chapters.items():
        if stem not in records:
            out.append(f"book/results_catalog.yml: chapter {stem!r} recorded nothing in this build")
            continue
        by_name = {r.name for r in records[stem]}
        for h in (chapter or {}).get("headline") or []:
            if h.get("record") not in by_name:
                out.append(f"book/results_catalog.yml: the scoreboard row {h.get('record')!r} of {stem} "
                           "names no record of that chapter")
        for code in (chapter or {}).get("data") or []:
            if code not in cat.datasets:
                out.append(f"book/results_catalog.yml: chapter {stem} uses dataset {code!r}, which is "
                           "not under datasets:")
    listed = {(s, h.get("record")) for s, c in cat.chapters.items() for h in (c or {}).get("headline") or []}
    for stem, recs in records.items():
        if not (cat.chapters.get(stem) or {}).get("headline"):
            out.append(f"book/results_catalog.yml: chapter {stem} has no row on the scoreboard")
        by_name = {r.name for r in recs}
        for r in recs:
            if r.paper is not None and (stem, r.name) not in listed and not (
                    r.name.endswith("_std") and r.name[: -len("_std")] in by_name):
                out.append(f"record {r.name!r} of {stem} carries a paper value but is not a scoreboard row "
                           "of book/results_catalog.yml (say whether the paper measured the same task)")
    return out
