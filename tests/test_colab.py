"""Colab, as a reader meets it: the Colab editions read well, and the notebooks run there.

* ``tools/myst_plain.py`` turns MyST into plain markdown (unit tests);
* no notebook has a directive closed early by a fence nested inside it (the rest of the notebook
  would show as raw text on the site, in Colab and in the PDF);
* every chapter's Colab edition (``_build/html/colab/notebooks/``, the build makes it) rendered as
  Colab renders markdown (CommonMark with HTML) shows no MyST role, directive or option, no glued
  number left unfilled, its solutions folded in ``<details>``, and installs the book's package from
  the repository of ``_config.yml``;
* slow: Colab played offline. A fresh virtual environment with only what Colab ships (torch,
  numpy, matplotlib; not the book's pins; ``ipykernel`` and ``nbclient`` to run a kernel), the
  notebook's own install cell run against this repository by a local git URL (so: its committed
  state), then chapters 20 and 11 (a training chapter) executed top to bottom by nbclient, without
  Jupyter Book or myst-nb. The environment is kept in ``.cache/colab-venv`` between runs (the
  package is uninstalled and reinstalled by the install cell each time).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("ATTNBOOK_SITE") or ROOT / "_build" / "html")

import colab_edition  # noqa: E402
import myst_plain  # noqa: E402
import set_repository  # noqa: E402
from slides import toc_chapters  # noqa: E402

COLAB_CHAPTERS = ["20_soft_dictionary", "11_seq2seq"]


def plain(text: str, **kw) -> str:
    return myst_plain.to_plain(text, myst_plain.Context(**kw))


# ------------------------------------------------------------------------------- unit tests
def test_roles_become_text():
    ctx = dict(glue={"acc": "97.5"}, citations={"a": ("Bahdanau et al.", "2015"), "b": ("Luong et al.", "2015")},
               site_url="https://o.github.io/b/", docname="notebooks/20_x")
    out = plain("Acc {glue:text}`acc` % {cite}`a,b`; {cite:t}`a`; {doc}`the glossary <../book/glossary>`; "
                "{math}`x^2`; `{cite}` stays code; {term}`attention`", **ctx)
    assert out == ("Acc 97.5 % (Bahdanau et al. 2015; Luong et al. 2015); Bahdanau et al. (2015); "
                   "[the glossary](https://o.github.io/b/book/glossary.html); $x^2$; "
                   "`{cite}` stays code; attention")


def test_exercises_are_numbered_and_solutions_folded():
    out = plain("```{exercise}\n:label: ex-a\nDo it.\n```\n\n```{solution} ex-a\n:class: dropdown\n\n"
                "Done, with {glue:text}`v`.\n```\n\n:::{note}\nCareful.\n:::\n", glue={"v": "3"})
    assert "**Exercise 1.** Do it." in out
    assert "<details>\n<summary>Solution to exercise 1</summary>\n\nDone, with 3.\n\n</details>" in out
    assert "> **Note**" in out and "> Careful." in out
    assert not myst_plain.leftovers(out)


def test_nested_directives_and_code_in_a_solution():
    out = plain("````{solution} ex\n:class: dropdown\nLike this:\n```python\nx = 1\n```\n````\n")
    assert "```python\nx = 1\n```" in out and "</details>" in out and not myst_plain.leftovers(out)


def test_leftovers_are_found():
    assert myst_plain.leftovers("a {cite}`x` b")
    assert myst_plain.leftovers("```{note}\nx\n```")
    assert myst_plain.leftovers(":label: ex-1")


def test_unknown_glue_shows_an_ellipsis_not_markup():
    assert plain("{glue:text}`missing`") == "…"


# ------------------------------------------------------------------- the notebooks' markdown
FENCE = re.compile(r"^[ \t]*(`{3,}|:{3,})(\{[\w:+-]+\})?(.*)$")


def early_closes(text: str) -> list[str]:
    """Directives whose body holds a fence opener of the same kind and length, with an info
    string (```` ```python ````): its closing line then closes the directive instead."""
    problems, stack = [], []  # stack of (fence, directive name, line)
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if not m:
            continue
        fence, directive, rest = m.group(1), m.group(2), m.group(3).strip()
        if directive:
            stack.append((fence, directive, n))
        elif rest and stack and stack[-1][0] == fence:
            problems.append(f"line {n}: '{line.strip()}' inside {stack[-1][1]} (line {stack[-1][2]}), "
                            f"which opens with {fence}: its closing {fence} closes the {stack[-1][1]}; "
                            f"open the {stack[-1][1]} with {fence[0] * (len(fence) + 1)}")
            stack.append((fence, "code", n))
        elif rest:
            stack.append((fence, "code", n))
        elif stack and stack[-1][0][0] == fence[0] and len(fence) >= len(stack[-1][0]):
            stack.pop()
    return problems


def test_no_directive_is_closed_early_by_a_nested_fence():
    problems = []
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                problems += [f"{nb_path.name} cell {i}: {p}" for p in early_closes("".join(cell["source"]))]
    assert not problems, "\n".join(problems)


def test_early_close_is_detected():
    assert early_closes("```{solution} x\n```python\ny\n```\n```\n")
    assert not early_closes("````{solution} x\n```python\ny\n```\n````\n")


# ------------------------------------------------------------------------- the Colab editions
def render_like_colab(markdown: str) -> tuple[str, str]:
    """(HTML, visible text) of markdown as Colab renders it: CommonMark, raw HTML allowed."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    text = re.sub(r"<[^>]+>", " ", html)
    return html, text


@pytest.mark.site
@pytest.mark.parametrize("chapter", toc_chapters(ROOT))
def test_colab_edition_reads_well(chapter):
    path = SITE / "colab" / "notebooks" / f"{chapter}.ipynb"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book` (tools/colab_edition.py makes it)", pytrace=False)
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    repo, _ = set_repository.configured(ROOT)
    problems = []
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    for i, cell in enumerate(markdown):
        html, text = render_like_colab(cell.source)
        problems += [f"markdown cell {i}: {p}" for p in myst_plain.leftovers(text)]
    unfilled = nb.metadata.get("attnbook", {}).get("unfilled_glue")
    if unfilled is None:
        problems.append("no attnbook metadata: not made by tools/colab_edition.py?")
    elif unfilled:
        problems.append(f"glued numbers with no value (shown as …; was the notebook executed?): {unfilled}")
    all_md = "\n".join(c.source for c in markdown)
    solutions = len(re.findall(r"\{solution\}", "".join(
        "".join(c["source"]) for c in json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(
            encoding="utf-8"))["cells"] if c["cell_type"] == "markdown")))
    if all_md.count("<details>") != solutions:
        problems.append(f"{solutions} solutions in the notebook, {all_md.count('<details>')} folded")
    installs = [c.source for c in nb.cells if c.cell_type == "code" and "importlib.util.find_spec" in c.source]
    commit = nb.metadata.get("attnbook", {}).get("commit")
    if not installs:
        problems.append("no install cell")
    elif f"git+https://github.com/{repo}" not in installs[0]:
        problems.append(f"the install cell does not install from {repo}: {installs[0]!r}")
    elif commit and f"git+https://github.com/{repo}@{commit}" not in installs[0]:
        problems.append(f"the install cell is not pinned to the commit built ({commit}): {installs[0]!r}")
    if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        problems.append("stored outputs")
    for prev, cell in zip(nb.cells, nb.cells[1:], strict=False):  # no answer under a folded solution
        if (prev.cell_type == "markdown" and "</details>" in prev.source and cell.cell_type == "code"
                and colab_edition.is_hidden_code(cell)):
            problems.append(f"a hidden check cell right after a solution: {cell.source[:80]!r}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------ Colab played offline
RUNNER = r"""
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
# like Colab, Kaggle or a fresh Jupyter: attnbook is missing, so the install cell installs it
NotebookClient(nb, kernel_name="colab-sim", timeout=1800, allow_errors=False).execute()
nbformat.write(nb, sys.argv[2])
print("ran", len(nb.cells), "cells")
"""


def _venv(tmp: Path) -> Path:
    """A venv with only Colab's stack: torch (the version this environment tests), numpy,
    matplotlib; plus ipykernel and nbclient to run the notebook."""
    import torch

    venv = ROOT / ".cache" / "colab-venv"
    py = venv / "bin" / "python"
    version = torch.__version__.split("+")[0]
    marker = venv / f".ready-torch-{version}"
    if not marker.is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        # a current pip, as Colab has (the pip of Python 3.11's ensurepip refuses git+file URLs)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"torch=={version}", "numpy",
                        "matplotlib", "ipykernel", "nbclient"], check=True)
        subprocess.run([str(py), "-m", "ipykernel", "install", "--sys-prefix", "--name", "colab-sim"],
                       check=True, capture_output=True)
        marker.touch()
    # the package itself comes from the notebook's install cell, every time
    subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "-q", "attnbook"], capture_output=True)
    probe = subprocess.run([str(py), "-c", "import myst_nb"], capture_output=True)
    assert probe.returncode != 0, "the Colab venv must not have myst-nb"
    return py


@pytest.mark.slow
@pytest.mark.parametrize("chapter", COLAB_CHAPTERS)
def test_chapter_runs_as_in_colab(chapter, tmp_path):
    py = _venv(tmp_path)
    repo, _ = set_repository.configured(ROOT)
    source = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    ctx = myst_plain.Context(citations=myst_plain.load_citations(ROOT / "book" / "references.bib"))
    commit = colab_edition.built_commit(ROOT)
    nb = colab_edition.colab_edition(source, chapter, ctx, "the book", repo, commit)
    remote = f"git+https://github.com/{repo}"
    installs = [c for c in nb["cells"] if c["cell_type"] == "code" and remote in "".join(c["source"])]
    assert installs, f"no install cell with {remote} in {chapter}"
    for c in installs:  # this repository, by a local git URL: what is committed is what Colab gets
        c["source"] = "".join(c["source"]).replace(remote, f"git+file://{ROOT}")
    src = tmp_path / f"{chapter}.ipynb"
    src.write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "run.py").write_text(RUNNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(ATTNBOOK_RESULTS_DIR=str(tmp_path / "results"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    env["PATH"] = f"{py.parent}:{env.get('PATH', '')}"
    r = subprocess.run([str(py), str(tmp_path / "run.py"), str(src), str(tmp_path / "out.ipynb")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, f"{chapter} failed in the Colab-like environment:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    show = subprocess.run([str(py), "-m", "pip", "show", "attnbook"], capture_output=True, text=True)
    assert "Name: attnbook" in show.stdout, "the install cell did not install the package"


def test_citations_spell_names_as_the_site_does():
    """The Colab editions and the slides cite as sphinxcontrib-bibtex does on the site: accents kept."""
    cites = myst_plain.load_citations(ROOT / "book" / "references.bib")
    assert cites["velickovic2018graph"] == ("Veličković et al.", "2018")
    assert all("\\" not in names and "{" not in names for names, _ in cites.values()), cites


def test_install_cell_is_pinned_to_the_commit():
    src = 'if importlib.util.find_spec("attnbook") is None:\n    %pip install -q "attnbook @ git+https://github.com/o/n"'
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert colab_edition.pin_install(src, "o/n", sha).endswith(f'git+https://github.com/o/n@{sha}"')
    assert colab_edition.pin_install(src, "o/n", None) == src  # unknown commit: unpinned
    again = colab_edition.pin_install(colab_edition.pin_install(src, "o/n", sha), "o/n", sha)
    assert again.count("@") == 2, again  # "attnbook @ ..." and one pin, not two


# ----------------------------------------------------------- checks of the solutions, in Colab
def _cell(kind: str, source: str, tags=None) -> dict:
    cell = {"cell_type": kind, "metadata": {"tags": tags} if tags else {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def test_solution_checks_move_to_the_end_collapsed():
    install = 'import importlib.util\nif importlib.util.find_spec("attnbook") is None:\n    %pip install "attnbook @ git+https://github.com/o/n"'
    source = {"cells": [
        _cell("markdown", "# Title\n\nText."),
        _cell("code", install, ["remove-cell"]),
        _cell("code", "alpha = 0.534", None),
        _cell("code", "plot()", ["remove-input"]),  # a hidden figure cell, not after a solution: stays
        _cell("markdown", "```{exercise} 1 · Hand\n:label: ex-a\nCompute alpha.\n```\n\n"
                          "```{solution} ex-a\n:class: dropdown\nIt is 0.534.\n```"),
        _cell("code", "assert abs(alpha - 0.534) < 1e-3", ["remove-cell"]),
        _cell("code", "glue('x', alpha)", ["hide-input"]),
        _cell("markdown", "## Summary"),
        _cell("code", "rec.finish();"),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nb = colab_edition.colab_edition(source, "99_x", myst_plain.Context(), "the book", "o/n", None)
    text = ["".join(c["source"]) for c in nb["cells"]]
    solution = next(i for i, t in enumerate(text) if "<details>" in t)
    assert text[solution + 1] == "## Summary"  # the checks are gone from under the solution ...
    assert text[1].startswith("import importlib") and text[3] == "plot()"  # ... nothing else moved
    heading = text.index(next(t for t in text if colab_edition.CHECKS_HEADING in t))
    assert heading == len(text) - 3 and text[heading - 1] == "rec.finish();"  # ... they come last
    checks = nb["cells"][heading + 1:]
    assert [c["source"].split("\n", 1)[1] for c in checks] == ["assert abs(alpha - 0.534) < 1e-3", "glue('x', alpha)"]
    for c in checks:  # folded to a title in Colab and in JupyterLab
        assert c["source"].startswith("#@title ") and c["metadata"]["cellView"] == "form"
        assert c["metadata"]["jupyter"]["source_hidden"] is True
    assert source["cells"][5]["source"] == "assert abs(alpha - 0.534) < 1e-3"  # the source is untouched


def _names(code: str, store: bool) -> set[str]:
    import ast

    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    ctx = ast.Store if store else ast.Load
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


@pytest.mark.parametrize("chapter", toc_chapters(ROOT))
def test_solution_checks_can_run_at_the_end(chapter):
    """Moving a chapter's solution checks to the end changes nothing the chapter computes: no later
    code cell reads a name a check assigns, none assigns a name a check reads, no check records a
    figure (the last cell, ``rec.finish()``, checks the records). 21 and 50 have such checks."""
    cells = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))["cells"]
    found = colab_edition.solution_checks(cells)
    if chapter in ("21_attention_seq2seq", "50_gat"):
        assert found, f"{chapter}: its hidden solution checks were not found"
    for i in found:
        check = "".join(cells[i]["source"])
        assert "rec.record(" not in check, f"{chapter} cell {i} records a figure"
        later = ["".join(c["source"]) for j, c in enumerate(cells[i + 1:], i + 1)
                 if c["cell_type"] == "code" and j not in found]
        for code in later:
            assert not (_names(check, store=True) & _names(code, store=False)), (chapter, i, code[:80])
            assert not (_names(check, store=False) & _names(code, store=True)), (chapter, i, code[:80])
