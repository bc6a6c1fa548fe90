"""The book's local Sphinx extension: pages generated from what the notebooks recorded.

Directives (MyST: ```` ```{attnbook-results} ````):

- ``attnbook-scoreboard``: the reproduction scoreboard: each chapter's headline figures, as
  ``book/results_catalog.yml`` lists them, ours (± its ``_std`` twin) beside the paper's figure and
  source, whether the paper measured the same task, and "ours − paper" only where it did; then any
  other recorded figure with a paper value;
- ``attnbook-results``: every figure recorded through ``attnbook.results``, one table per chapter
  (``_build/results/<notebook>.json``), each with a one-line description (the notebook's, else the
  catalogue's: ``attnbook_catalog``), the chapter's datasets spelled out, the paper's value and
  source, and -- where the robustness sweep published ``book/robustness.json``
  (``tools/robustness.py --publish``) -- the range of the figure over the sweep's other seed
  offsets ("other draws"). It warns about every record without a description and every catalogue
  entry that matches no record;
- ``attnbook-timings``: each notebook's execution time (``_build/results/timings.json``) against the
  3-minute budget;
- ``attnbook-datasets``: the dataset registry of ``attnbook.data`` (size, licence, citation), with
  the chapters whose notebooks' code calls each dataset's loader, made when the page is read (it
  depends on the notebooks' source, not on their execution).

On a site built with ``language = "ko"`` the descriptions and headers are the catalogue's Korean.

The notebooks execute while Sphinx *reads* the sources, so the tables are filled in later, when each
page is *written* (``doctree-resolved``); pages holding these directives are re-read on every build.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

CATALOG = Path(__file__).resolve().parent.parent / "results_catalog.yml"

# Column headers and fixed words of the generated tables, per language.
WORDS = {
    "en": {"what": "what", "record": "record", "measured": "measured", "paper": "paper", "source": "source",
           "seconds": "seconds", "other": "other draws", "chapter": "chapter", "ours": "ours",
           "same": "same task?", "gap": "ours − paper", "note": "note", "data": "Data: ",
           "yes": "yes", "no": "no", "none": "no published figure", "not_shown": "not shown",
           "scale": "not comparable, shown for scale", "paper_task": "paper: ", "ours_task": "ours: ",
           "notebook": "notebook", "run_seconds": "seconds (2 CPU cores)", "in_budget": "within budget",
           "over": "NO", "whole_book": "whole book", "not_recorded": "not recorded"},
    "ko": {"what": "내용", "record": "기록 이름", "measured": "측정값", "paper": "논문", "source": "출처",
           "seconds": "초", "other": "다른 실행", "chapter": "장", "ours": "우리",
           "same": "같은 과제?", "gap": "우리 − 논문", "note": "참고", "data": "데이터: ",
           "yes": "예", "no": "아니요", "none": "발표된 수치 없음", "not_shown": "싣지 않음",
           "scale": "비교할 수 없음, 규모를 보이려고 실음", "paper_task": "논문: ", "ours_task": "우리: ",
           "notebook": "노트북", "run_seconds": "초 (CPU 코어 2개)", "in_budget": "예산 안",
           "over": "초과", "whole_book": "책 전체", "not_recorded": "기록 없음"},
}

BUDGET_SECONDS = 180.0
BOOK_BUDGET_SECONDS = 20 * 60.0


class attnbook_placeholder(nodes.General, nodes.Element):
    """Replaced by a generated table when the page is written."""


def _directive(kind: str):
    class _Directive(SphinxDirective):
        has_content = False

        def run(self):
            docs = getattr(self.env, "attnbook_generated", set())
            docs.add(self.env.docname)
            self.env.attnbook_generated = docs
            node = attnbook_placeholder()
            node["kind"] = kind
            return [node]

    _Directive.__name__ = f"{kind.title()}Directive"
    return _Directive


def _para(text: str) -> nodes.paragraph:
    return nodes.paragraph(text=text)


def _table(headers: list[str], rows: list[list], classes: tuple[str, ...] = ()) -> nodes.table:
    table = nodes.table(classes=["attnbook-table", *classes])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            if isinstance(cell, nodes.Node):
                entry += cell if isinstance(cell, nodes.paragraph) else nodes.paragraph("", "", cell)
            else:
                entry += nodes.paragraph(text=str(cell))
            row += entry
        body += row
    return table


def _link(app: Sphinx, fromdoc: str, todoc: str, text: str, anchor: str = "") -> nodes.Node:
    if todoc not in app.env.found_docs:
        return nodes.Text(text)
    uri = app.builder.get_relative_uri(fromdoc, todoc) + (f"#{anchor}" if anchor else "")
    return nodes.reference("", text, refuri=uri, internal=True)


def _fmt(value: float, unit: str) -> str:
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2g}"  # e.g. a gradient ratio of 1e-15 is not "0.00"
    if unit in ("%", "points"):
        return f"{value:.1f}"
    if unit == "ratio":
        return f"{value:.2f}"
    if abs(value) >= 1000 or value == int(value):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    return f"{value:.4g}"


def _sweep(app: Sphinx) -> dict:
    """``book/robustness.json`` as published by ``tools/robustness.py --publish`` (or ``{}``)."""
    import json

    path = Path(app.srcdir) / "book" / "robustness.json"
    if not path.is_file():
        return {}
    try:
        sweep = json.loads(path.read_text(encoding="utf-8"))
        sweep["figures"], sweep["offsets"], sweep["commit"]  # noqa: B018 -- the required keys
    except (ValueError, KeyError, TypeError) as e:
        logger.warning(f"{path} is not a report of tools/robustness.py --publish ({e}): not shown")
        return {}
    return sweep


def sweep_range(values: dict | None, unit: str) -> str:
    """The range of a figure over the sweep's offsets (``{offset: value or None}``), e.g. "0.95–0.97";
    one value alone; empty when the sweep has none."""
    finite = sorted(v for v in (values or {}).values() if isinstance(v, (int, float)) and v == v)
    if not finite:
        return ""
    lo, hi = _fmt(finite[0], unit), _fmt(finite[-1], unit)
    return lo if lo == hi else f"{lo}–{hi}"


def _latex_to_text(s: str) -> str:
    """``Veli{\\v{c}}kovi{\\'c}`` -> ``Veličković`` (latexcodec comes with pybtex)."""
    try:
        import codecs

        import latexcodec  # noqa: F401  (registers the "ulatex" codec)

        s = codecs.decode(s, "ulatex")
    except (ImportError, TypeError, ValueError, LookupError):
        pass
    return re.sub(r"[{}\\]", "", s)


def _citations(app: Sphinx) -> dict[str, str]:
    """``{key: 'Author et al. (year)'}`` from the bibliography files."""
    out: dict[str, str] = {}
    try:
        from pybtex.database import parse_file
    except ImportError:  # pragma: no cover - pybtex comes with sphinxcontrib-bibtex
        return out
    for bib in app.config.bibtex_bibfiles:
        data = parse_file(str(Path(app.confdir) / bib))
        for key, entry in data.entries.items():
            people = entry.persons.get("author", [])
            names = [_latex_to_text(" ".join(p.last_names)) for p in people[:2]] or [key]
            who = names[0] if len(people) <= 1 else (
                f"{names[0]} and {names[1]}" if len(people) == 2 else f"{names[0]} et al.")
            out[key] = f"{who} ({entry.fields.get('year', 'n.d.')})"
    return out


def _lang(app: Sphinx) -> str:
    return "ko" if str(getattr(app.config, "language", None) or "en").startswith("ko") else "en"


def _catalog(app: Sphinx):
    """The results catalogue (``book/results_catalog.yml``), or an empty one with a warning."""
    import attnbook_catalog

    if not CATALOG.is_file():
        logger.warning(f"{CATALOG} not found: the results page has no descriptions or scoreboard rows")
        return attnbook_catalog.Catalog([])
    return attnbook_catalog.load(CATALOG)


def _results_table(app: Sphinx, docname: str) -> list[nodes.Node]:
    import attnbook_catalog

    import attnbook.results as results

    directory = results.results_dir(app.confdir)
    records = results.load_all(directory)
    if not records:
        logger.warning(
            f"no results recorded in {directory}: were the notebooks executed?",
            location=docname,
        )
        return [_para("No results were recorded in this build.")]
    cites = _citations(app)
    sweep = _sweep(app)
    lang, words = _lang(app), WORDS[_lang(app)]
    catalog = _catalog(app)
    shown = {nb: recs for nb, recs in records.items() if f"notebooks/{nb}" in app.env.found_docs}
    for problem in attnbook_catalog.problems(catalog, shown):
        logger.warning(problem, location=docname)
    out: list[nodes.Node] = []
    if sweep:
        offsets = ", ".join(str(k) for k in sweep["offsets"])
        out.append(_para(f"Other draws: the figure's range at seed offsets {offsets} in the robustness "
                         f"sweep of commit {sweep['commit']} ({sweep.get('date', '')}): how much a run on "
                         "another machine, or in Colab, may differ."))
    for notebook in _toc_notebooks(app):
        if notebook not in records:
            logger.warning(f"notebooks/{notebook} recorded no results in {directory}", location=docname)
    for notebook, recs in records.items():
        doc = f"notebooks/{notebook}"
        if doc not in app.env.found_docs:
            logger.warning(
                f"{directory / (notebook + '.json')} holds records of {notebook!r}, which is not a "
                "chapter of the book: not shown (delete it, or add the notebook to _toc.yml)",
                location=docname,
            )
            continue
        by_name = {r.name: r for r in recs}
        rows = []
        for r in recs:
            if r.name.endswith("_std") and r.name[: -len("_std")] in by_name:
                continue  # shown as the ± of its twin
            std = by_name.get(r.name + "_std")
            unit = _unit(r.unit)
            value = _fmt(r.value, r.unit) + (f" ± {_fmt(std.value, std.unit)}" if std else "") + unit
            paper = ""
            if r.paper is not None:
                paper = _fmt(r.paper, r.unit)
                if std is not None and std.paper is not None:
                    paper += f" ± {_fmt(std.paper, std.unit)}"
                paper += unit
            source = ""
            if r.source:
                if r.source not in cites:
                    logger.warning(
                        f"result {r.name} cites {r.source!r}, which is not in the bibliography",
                        location=docname,
                    )
                source = _link(app, docname, "book/references", cites.get(r.source, r.source))
            seconds = "" if r.seconds is None else f"{r.seconds:.1f}"
            what = attnbook_catalog.describe(catalog, r.name, r.description, lang) or ""
            row = [what, nodes.literal(text=r.name), value, paper, source, seconds]
            if sweep:
                row.append(sweep_range(sweep["figures"].get(r.name), r.unit))
            rows.append(row)
        title = app.env.titles[doc].astext() if doc in app.env.titles else notebook
        heading = nodes.rubric("", "")
        heading += _link(app, docname, doc, title)
        out.append(heading)
        data = (catalog.chapters.get(notebook) or {}).get("data") or []
        if data:
            out.append(_para(words["data"] + "; ".join(attnbook_catalog.dataset_names(catalog, data, lang))))
        headers = [words[k] for k in ("what", "record", "measured", "paper", "source", "seconds")]
        headers += [words["other"]] if sweep else []
        out.append(_table(headers, rows, classes=("attnbook-records",)))
    return out


def _chapter_records(app: Sphinx, docname: str):
    """``(notebook stem, docname, records)`` for each chapter that recorded, in reading order."""
    import attnbook.results as results

    records = results.load_all(results.results_dir(app.confdir))
    order = {d: i for i, d in enumerate(getattr(app.env, "all_docs", {}))}
    try:  # the table of contents' order, when sphinx-external-toc provides it
        order = {d: i for i, d in enumerate(app.env.external_site_map.get_docs_in_order())}
    except Exception:
        pass
    chapters = [(nb, f"notebooks/{nb}", recs) for nb, recs in records.items()
                if f"notebooks/{nb}" in app.env.found_docs]
    return sorted(chapters, key=lambda c: (order.get(c[1], 10**6), c[0]))


def _scoreboard_table(app: Sphinx, docname: str) -> list[nodes.Node]:
    """Each chapter's headline figures (``book/results_catalog.yml``) beside the papers'."""
    import attnbook_catalog

    cites = _citations(app)
    lang, words = _lang(app), WORDS[_lang(app)]
    chapters = _chapter_records(app, docname)
    records = {nb: recs for nb, _, recs in chapters}
    titles = {nb: (app.env.titles[doc].astext() if doc in app.env.titles else doc) for nb, doc, _ in chapters}
    rows = []
    for row in attnbook_catalog.scoreboard(_catalog(app), records, lang, order=list(records)):
        r, std = row.record, row.std
        unit = _unit(r.unit)
        ours = _fmt(r.value, r.unit) + (f" ± {_fmt(std.value, std.unit)}" if std else "") + unit
        paper = words["not_shown"] if row.source else "—"
        if row.paper is not None:
            paper = _fmt(row.paper, row.paper_unit)
            if row.paper_std is not None:
                paper += f" ± {_fmt(row.paper_std, row.paper_unit)}"
            paper += _unit(row.paper_unit)
        source = _link(app, docname, "book/references", cites.get(row.source, row.source)) if row.source else ""
        if row.source and row.source not in cites:
            logger.warning(f"the scoreboard row of {r.name} cites {row.source!r}, which is not in the "
                           "bibliography", location=docname)
        if row.verdict:
            same = row.verdict + (f". {words['paper_task']}{row.paper_task}" if row.paper_task else "")
        elif row.comparable is None:
            same = words["none"]
        elif row.comparable:
            same = words["yes"] + (f" — {row.paper_task}" if row.paper_task else "")
        else:
            same = words["no"] + (f" — {words['scale']}" if row.paper is not None else "")
            if row.paper_task:
                same += f". {words['paper_task']}{row.paper_task}"
            if row.ours_task:
                same += f"; {words['ours_task']}{row.ours_task}"
        gap = "" if row.gap is None else f"{row.gap:+.{_decimals(row.paper)}f}"
        rows.append([_link(app, docname, f"notebooks/{row.notebook}", titles[row.notebook]), row.what, ours,
                     paper, source, same, gap, row.note])
    if not rows:
        return [_para("No headline figure was recorded in this build.")]
    headers = [words[k] for k in ("chapter", "what", "ours", "paper", "source", "same", "gap", "note")]
    return [_table(headers, rows, classes=("attnbook-scoreboard",))]


def _unit(unit: str) -> str:
    """How a unit follows a number: "%" directly, none for ratios, else after a space."""
    return "" if unit in ("", "ratio") else (unit if unit == "%" else f" {unit}")


def _decimals(x: float) -> int:
    """The decimals a paper reports (83.0 -> 1, 91.22 -> 2), at least 1 and at most 3."""
    text = f"{x:.6f}".rstrip("0")
    return min(3, max(1, len(text.split(".")[1]) if "." in text else 1))


def _toc_notebooks(app: Sphinx) -> list[str]:
    """Stems of the notebooks that are pages of the book."""
    return sorted(d.split("/", 1)[1] for d in app.env.found_docs
                  if d.startswith("notebooks/") and Path(app.env.doc2path(d)).suffix == ".ipynb")


def on_env_updated(app: Sphinx, env) -> None:
    """Write ``timings.json`` from myst-nb's measurement of each notebook it executed."""
    from myst_nb.sphinx_ import NbMetadataCollector

    import attnbook.results as results

    timings = results.load_timings(results.results_dir(app.confdir))
    for docname, data in NbMetadataCollector.get_doc_data(env).items():
        exec_data = data.get("exec_data") or {}
        if exec_data.get("succeeded") and exec_data.get("runtime") is not None:
            path = Path(env.doc2path(docname)).relative_to(Path(app.srcdir)).as_posix()
            timings[path] = float(exec_data["runtime"])
    if timings:
        results.write_timings(timings, results.results_dir(app.confdir))


def _timings_table(app: Sphinx, docname: str) -> list[nodes.Node]:
    import attnbook.results as results

    words = WORDS[_lang(app)]
    timings = results.load_timings(results.results_dir(app.confdir))
    notebooks = sorted(d for d in app.env.found_docs if d.startswith("notebooks/"))
    rows, total = [], 0.0
    for doc in notebooks:
        path = f"{doc}.ipynb"
        secs = timings.get(path)
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        if secs is None:
            logger.warning(f"no execution time recorded for {path}", location=docname)
            rows.append([_link(app, docname, doc, title), words["not_recorded"], ""])
            continue
        total += secs
        ok = words["yes"] if secs <= BUDGET_SECONDS else words["over"]
        rows.append([_link(app, docname, doc, title), f"{secs:.0f}", ok])
    rows.append([nodes.strong(text=words["whole_book"]), f"{total:.0f}",
                 words["yes"] if total <= BOOK_BUDGET_SECONDS else words["over"]])
    return [_table([words[k] for k in ("notebook", "run_seconds", "in_budget")], rows)]


_BUILDERS = {"scoreboard": _scoreboard_table, "results": _results_table, "timings": _timings_table}


class DatasetsDirective(SphinxDirective):
    """The registry's table (``attnbook.data.registry.datasets_markdown``), parsed as MyST.

    "Used in" lists (and links) the book's notebooks whose code calls a dataset's loader
    (``attnbook.data.registry.notebook_usage``), then the planned chapters not yet written. It
    reads the notebooks' source, not their outputs, so it is made when the page is read; the page
    is re-read on every build, so a chapter that starts using a dataset shows up at once.
    """

    has_content = False

    def run(self):
        from docutils.statemachine import StringList

        from attnbook.data.registry import datasets_markdown

        docs = getattr(self.env, "attnbook_generated", set())
        docs.add(self.env.docname)
        self.env.attnbook_generated = docs
        notebooks = [Path(self.env.doc2path(d)) for d in sorted(self.env.found_docs)
                     if d.startswith("notebooks/") and Path(self.env.doc2path(d)).suffix == ".ipynb"]
        container = nodes.container(classes=["attnbook-datasets"])
        md = datasets_markdown(cite=True, files=True, notebooks=notebooks,
                               link=lambda stem: f"{{doc}}`/notebooks/{stem}`", lang=_lang(self.env.app))
        self.state.nested_parse(StringList(md.splitlines(), source="attnbook.data.registry"),
                                self.content_offset, container)
        return [container]


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(attnbook_placeholder)):
        node.replace_self(_BUILDERS[node["kind"]](app, docname))


def on_html_page_context(app, pagename, templatename, context, doctree):
    """Drop repeated script entries (Sphinx 7.4 writes scripts that extensions add after the build
    starts twice, and sphinx-thebe's inline ``const`` then throws in the browser)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # inline scripts have filename None in one copy and '' in the other: treat both as ''
        filename = getattr(js, "filename", js) or ""
        key = (str(filename), repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def on_env_get_outdated(app, env, added, changed, removed):
    return sorted(getattr(env, "attnbook_generated", set()) - set(removed))


def on_env_purge_doc(app, env, docname):
    getattr(env, "attnbook_generated", set()).discard(docname)


def on_env_merge_info(app, env, docnames, other):
    env.attnbook_generated = getattr(env, "attnbook_generated", set()) | getattr(
        other, "attnbook_generated", set()
    )


def setup(app: Sphinx):
    for kind in _BUILDERS:
        app.add_directive(f"attnbook-{kind}", _directive(kind))
    app.add_directive("attnbook-datasets", DatasetsDirective)
    app.add_node(attnbook_placeholder)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-updated", on_env_updated)
    app.connect("html-page-context", on_html_page_context)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
