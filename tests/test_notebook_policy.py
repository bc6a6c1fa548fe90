"""The notebooks' output policy (tools/nbpolicy.py) holds for every notebook in git."""

import copy
import importlib.util
import json
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("nbpolicy", ROOT / "tools" / "nbpolicy.py")
nbpolicy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbpolicy)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_policy(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nbpolicy.check(nb, path.name) == [], "run: python tools/nbpolicy.py --apply " + str(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_toc_and_records_results(path):
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    src = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    assert f'Recorder("{path.stem}")' in src, f"{path.name} must record through Recorder({path.stem!r})"
    assert "rec.finish()" in src


def test_policy_catches_violations():
    good = {
        "cells": [
            {"id": "install", "cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "execution_count": None,
             "outputs": [], "source": 'import importlib.util\nif importlib.util.find_spec("attnbook") is None:\n    %pip install -q "attnbook @ git+https://github.com/o/n"'},
            {"id": "print-1", "cell_type": "code", "metadata": {"tags": ["nbval-check-output"]},
             "execution_count": None,
             "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}], "source": "print(1)"},
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
    }
    assert nbpolicy.check(good, "nb") == []
    bad = copy.deepcopy(good)
    bad["cells"][1]["outputs"].append({"output_type": "display_data", "metadata": {},
                                       "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}})
    bad["cells"][0]["outputs"] = [{"output_type": "error", "ename": "E", "evalue": "", "traceback": []}]
    bad["cells"][0]["execution_count"] = 3
    problems = "\n".join(nbpolicy.check(bad, "nb"))
    assert "not tagged" in problems and "not plain text" in problems and "execution count" in problems
    assert "Colab" not in problems
    fixed = nbpolicy.apply(copy.deepcopy(bad))
    assert nbpolicy.check(fixed, "nb") == []
    assert fixed["cells"][1]["outputs"][-1]["data"] == {"text/plain": "<Figure>"}


@pytest.mark.parametrize("source", ["hist = fit(model, data)", "loss.backward()", "opt.step()",
                                    "seed_everything(0)\nprint(1)", "r = train_tagger(m)", "x = recall_run(1)"])
def test_policy_refuses_a_compared_cell_that_trains(source):
    """A compared cell must print the same on any machine and seed offset: no training in it."""
    nb = {"cells": [
        {"id": "install", "cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "execution_count": None,
         "outputs": [], "source": 'import importlib.util\nif importlib.util.find_spec("attnbook") is None:\n    %pip install -q "attnbook @ git+https://github.com/o/n"'},
        {"id": "toy", "cell_type": "code", "metadata": {"tags": ["nbval-check-output"]}, "execution_count": 2,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}], "source": source}],
        "metadata": {"kernelspec": {"name": "python3"}}}
    problems = "\n".join(nbpolicy.check(nb, "nb"))
    assert "tagged nbval-check-output but trains" in problems
    nb["cells"][1]["source"] = "g = torch.Generator().manual_seed(0)\nprint(torch.randn(2, generator=g))"
    assert nbpolicy.check(nb, "nb") == []


def test_policy_catches_missing_and_repeated_cell_ids():
    """A cell split or pasted by hand often lacks an id; nbformat.read then fails on the Colab edition."""
    import nbformat

    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    nb["cells"][1].pop("id")
    nb["cells"][2]["id"] = nb["cells"][3]["id"]
    problems = "\n".join(nbpolicy.check(nb, "nb"))
    assert "cell 1: has no valid id" in problems and "cell 3: repeats the id" in problems
    fixed = nbpolicy.apply(nb)
    assert nbpolicy.check(fixed, "nb") == []
    nbformat.validate(nbformat.from_dict(fixed))  # raises on a missing or invalid id


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat(path):
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbformat.read(path, as_version=4)


def _nb(*cells):
    install = {"id": "install", "cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "execution_count": None,
               "outputs": [], "source": 'import importlib.util\nif importlib.util.find_spec("attnbook") is None:\n'
                                        '    %pip install -q "attnbook @ git+https://github.com/o/n"'}
    out = [install]
    for i, (kind, source, tags) in enumerate(cells):
        out.append({"id": f"c{i}", "cell_type": kind, "metadata": {"tags": tags}, "source": source,
                    **({"execution_count": None, "outputs": []} if kind == "code" else {})})
    return {"cells": out, "metadata": {"kernelspec": {"name": "python3"}}}


@pytest.mark.parametrize("source", [
    "assert acc > 0.9, acc",
    'glue_many(acc=f"{acc:.2f}", n=n)\nrec.record("x/acc", acc, unit="ratio")',
    "gap = a - b  # used by no cell below\nassert gap > 0\nglue('gap', gap)",
    "for k, v in accs.items():\n    assert v > 0.5, k\n    rec.record(f'x/{k}', v)",
    "rec.finish();",
])
def test_policy_wants_bookkeeping_cells_collapsed(source):
    """A cell that only checks, glues and records is tagged hide-input (the page collapses it)."""
    nb = _nb(("code", "acc, a, b, n, accs = 0.95, 2, 1, 3, {}", []), ("code", source, []))
    assert "tag it hide-input" in "\n".join(nbpolicy.check(nb, "nb"))
    nb["cells"][2]["metadata"]["tags"] = ["hide-input"]
    assert nbpolicy.check(nb, "nb") == []


@pytest.mark.parametrize("source", [
    "print(acc)\nassert acc > 0.9",                 # the reader sees the print: the lesson
    "gap = a - b\nassert gap > 0",                  # gap is used below: a computation
    "plt.plot([1, 2])\nglue('n', 2)",
])
def test_policy_leaves_lesson_cells_visible(source):
    nb = _nb(("code", "acc, a, b = 0.95, 2, 1", []), ("code", source, []), ("code", "print(gap if 0 else 1)", []))
    assert nbpolicy.check(nb, "nb") == []


def test_a_check_introduced_by_the_text_stays_visible():
    """Prose ending with a colon shows the reader the cell below: part of the text, not bookkeeping."""
    nb = _nb(("code", "w = 1.0", []), ("markdown", "and the weights sum to one:", []),
             ("code", "assert abs(w - 1) < 1e-6", []))
    assert nbpolicy.check(nb, "nb") == []
