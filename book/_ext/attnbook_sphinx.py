"""The book's local Sphinx extension: pages generated from what the notebooks recorded.

Directives (MyST: ```` ```{attnbook-results} ````):

- ``attnbook-scoreboard``: the reproduction scoreboard: every recorded figure that has a paper
  value, ours (± its ``_std`` twin) beside the paper's, the difference, a plain-language
  description (the record's ``description``, else its name), the source and the chapter;
- ``attnbook-results``: every figure recorded through ``attnbook.results``, one table per chapter
  (``_build/results/<notebook>.json``), with the paper's value and source beside it, and -- where
  the robustness sweep published ``book/robustness.json`` (``tools/robustness.py --publish``) --
  the range of the figure over the sweep's other seed offsets ("other draws");
- ``attnbook-timings``: each notebook's execution time (``_build/results/timings.json``) against the
  3-minute budget;
- ``attnbook-datasets``: the dataset registry of ``attnbook.data`` (size, licence, citation), with
  the chapters whose notebooks' code calls each dataset's loader, made when the page is read (it
  depends on the notebooks' source, not on their execution).

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


def _results_table(app: Sphinx, docname: str) -> list[nodes.Node]:
    import attnbook.results as results

    directory = results.results_dir(app.confdir)
    records = results.load_all(directory)
    if not records:
        logger.warning(
            f"no results recorded in {directory}: were the notebooks executed?",
            location=docname,
        )
        return [_para(f"No results were recorded in {directory}.")]
    cites = _citations(app)
    sweep = _sweep(app)
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
            unit = "" if r.unit in ("", "ratio") else (r.unit if r.unit == "%" else f" {r.unit}")
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
            row = [nodes.literal(text=r.name), value, paper, source, seconds]
            if sweep:
                row.append(sweep_range(sweep["figures"].get(r.name), r.unit))
            rows.append(row)
        title = app.env.titles[doc].astext() if doc in app.env.titles else notebook
        heading = nodes.rubric("", "")
        heading += _link(app, docname, doc, title)
        headers = ["figure", "measured", "paper", "source", "seconds"] + (["other draws"] if sweep else [])
        out += [heading, _table(headers, rows)]
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
    cites = _citations(app)
    rows = []
    for _, doc, recs in _chapter_records(app, docname):
        by_name = {r.name: r for r in recs}
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        for r in recs:
            if r.paper is None or (r.name.endswith("_std") and r.name[: -len("_std")] in by_name):
                continue
            std = by_name.get(r.name + "_std")
            unit = "" if r.unit in ("", "ratio") else (r.unit if r.unit == "%" else f" {r.unit}")
            ours = _fmt(r.value, r.unit) + (f" ± {_fmt(std.value, std.unit)}" if std else "") + unit
            paper = _fmt(r.paper, r.unit)
            if std is not None and std.paper is not None:
                paper += f" ± {_fmt(std.paper, std.unit)}"
            paper += unit
            diff = r.value - r.paper
            what = r.description or r.name.replace("/", " · ").replace("_", " ")
            source = (_link(app, docname, "book/references", cites.get(r.source, r.source))
                      if r.source else "")
            rows.append([what, ours, paper, f"{diff:+.{_decimals(r.paper)}f}", source,
                         _link(app, docname, doc, title)])
    if not rows:
        return [_para("No figure with a paper value was recorded in this build.")]
    return [_table(["what", "ours", "paper", "ours − paper", "source", "chapter"], rows,
                   classes=("attnbook-scoreboard",))]


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

    timings = results.load_timings(results.results_dir(app.confdir))
    notebooks = sorted(d for d in app.env.found_docs if d.startswith("notebooks/"))
    rows, total = [], 0.0
    for doc in notebooks:
        path = f"{doc}.ipynb"
        secs = timings.get(path)
        title = app.env.titles[doc].astext() if doc in app.env.titles else doc
        if secs is None:
            logger.warning(f"no execution time recorded for {path}", location=docname)
            rows.append([_link(app, docname, doc, title), "not recorded", ""])
            continue
        total += secs
        ok = "yes" if secs <= BUDGET_SECONDS else "NO"
        rows.append([_link(app, docname, doc, title), f"{secs:.0f}", ok])
    rows.append([nodes.strong(text="whole book"), f"{total:.0f}",
                 "yes" if total <= BOOK_BUDGET_SECONDS else "NO"])
    return [_table(["notebook", "seconds (2 CPU cores)", "within budget"], rows)]


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
                               link=lambda stem: f"{{doc}}`/notebooks/{stem}`")
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
