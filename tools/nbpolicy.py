#!/usr/bin/env python3
"""The notebooks' output policy: apply it (``--apply``) or check it (``--check``).

The policy, enforced by ``tests/test_notebook_policy.py``:

1. No outputs are stored, except in cells tagged ``nbval-check-output``, whose printed output must
   not depend on training, on the seed offset or on floating-point order beyond the digits
   printed (hand-set toys; a tagged cell that trains or seeds through ``seed_everything`` is refused):
   ``tests/test_executed_notebooks.py`` compares those cells' output in the book build's executed
   copy with the stored one, and nbval does in the robustness sweep (`tools/robustness.py`). Their stored output is
   text only (``stream`` stdout, or ``text/plain`` results) and at most 2,000 characters.
2. No stored images, errors, tracebacks, stderr or per-cell execution metadata; no execution counts
   except on checked cells, which keep a count so that Jupyter shows them as run (their count is
   their position among the code cells, so it is stable from run to run).
3. The first code cell is the install cell (installs the package where it is missing), tagged ``remove-cell`` (the site hides it).
4. The kernel is ``python3``.
5. A bookkeeping cell -- a code cell that only checks, glues and records (``assert``, ``glue``,
   ``glue_many``, ``rec.record``, and the names only such cells use: ``attnbook_meta.is_bookkeeping``)
   -- is tagged ``hide-input``: it still runs and still checks, and the page collapses its code out of
   the reader's way (``remove-input``/``remove-cell`` also pass; a cell that the markdown above
   introduces with a colon is part of the text and exempt).
6. Every cell has a unique ``id`` (nbformat 4.5 requires one; a cell pasted or split by hand often lacks it,
   and ``nbformat.read`` then fails in the Colab edition's test). ``--apply`` gives such cells a fresh id.

Usage: ``python tools/nbpolicy.py --apply notebooks`` after running a notebook,
``python tools/nbpolicy.py --check notebooks`` to list violations (exit 1 if any).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
from attnbook_meta import CODE_HIDING_TAGS, bookkeeping_cells  # noqa: E402

CHECK_TAG = "nbval-check-output"
MAX_CHECKED_CHARS = 2000
ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# calls whose results depend on training (and so on the machine and the seed offset): a cell that
# makes one must not have its printed output compared (rule 1)
TRAINING_CALL = re.compile(r"(?<![\w.])(fit|fit_\w+|train_\w+|\w+_run)\(|\.backward\(|\.step\(\)|seed_everything\(")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        t = output.get("text", "")
    else:
        t = output.get("data", {}).get("text/plain", "")
    return "".join(t) if isinstance(t, list) else t


def _keep_output(output: dict) -> dict | None:
    kind = output.get("output_type")
    if kind == "stream":
        return output if output.get("name") == "stdout" else None
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "text/plain" not in data:
            return None
        out = {"output_type": kind, "data": {"text/plain": data["text/plain"]}, "metadata": {}}
        if kind == "execute_result":
            out["execution_count"] = output.get("execution_count")
        return out
    return None  # errors and anything else are never stored


def notebooks(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return [p for p in out if ".ipynb_checkpoints" not in p.parts]


def apply(nb: dict) -> dict:
    position = 0
    seen: set[str] = set()
    for cell in nb.get("cells", []):
        if not ID_PATTERN.match(str(cell.get("id", ""))) or cell["id"] in seen:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        position += 1
        cell["execution_count"] = None
        tags = cell.get("metadata", {}).get("tags", [])
        if CHECK_TAG in tags:
            cell["outputs"] = [o for o in map(_keep_output, cell.get("outputs", [])) if o]
            cell["execution_count"] = position
            for o in cell["outputs"]:
                if o["output_type"] == "execute_result":
                    o["execution_count"] = position
        else:
            cell["outputs"] = []
    meta = nb.setdefault("metadata", {})
    meta["kernelspec"] = dict(KERNELSPEC)
    meta.pop("widgets", None)
    meta["language_info"] = {"name": "python"}
    return nb


def check(nb: dict, name: str) -> list[str]:
    problems: list[str] = []
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if not code:
        return [f"{name}: no code cells"]
    first = code[0]
    src = "".join(first.get("source", ""))
    if (not re.search(r'importlib\.util\.find_spec\((?:"attnbook"|m)\) is None', src)
            or '"attnbook"' not in src or "attnbook @ git+https://github.com/" not in src
            or "remove-cell" not in first.get("metadata", {}).get("tags", [])):
        problems.append(f"{name}: the first code cell must be the install cell (installs the package "
                        f"where find_spec('attnbook') is None; see CONTRIBUTING), tagged remove-cell")
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{name}: the kernel must be python3")
    for i in bookkeeping_cells(nb.get("cells", [])):
        if not CODE_HIDING_TAGS & set(nb["cells"][i].get("metadata", {}).get("tags", [])):
            problems.append(f"{name}: cell {i} ({nb['cells'][i].get('id')}) only checks, glues or records: "
                            "tag it hide-input (CONTRIBUTING, 'Thin notebooks')")
    seen: set[str] = set()
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"{name}: cell {i}"
        cid = cell.get("id")
        if not isinstance(cid, str) or not ID_PATTERN.match(cid):
            problems.append(f"{where}: has no valid id (run tools/nbpolicy.py --apply)")
        elif cid in seen:
            problems.append(f"{where}: repeats the id {cid!r} (run tools/nbpolicy.py --apply)")
        else:
            seen.add(cid)
        if cell.get("attachments"):
            problems.append(f"{where}: stores attachments (images belong in code output or files)")
        if "execution" in cell.get("metadata", {}):
            problems.append(f"{where}: stores execution metadata")
        if cell.get("cell_type") != "code":
            continue
        outputs = cell.get("outputs", [])
        tags = cell.get("metadata", {}).get("tags", [])
        if CHECK_TAG not in tags and cell.get("execution_count") is not None:
            problems.append(f"{where}: stores an execution count")
        if outputs and CHECK_TAG not in tags:
            problems.append(f"{where}: stores outputs but is not tagged {CHECK_TAG}")
        for o in outputs:
            if _keep_output(o) != o:
                problems.append(f"{where}: stores a {o.get('output_type')} output that is not plain text")
        if sum(len(_text(o)) for o in outputs) > MAX_CHECKED_CHARS:
            problems.append(f"{where}: stored output longer than {MAX_CHECKED_CHARS} characters")
        if CHECK_TAG in tags and not outputs:
            problems.append(f"{where}: tagged {CHECK_TAG} but stores no output to compare")
        if CHECK_TAG in tags:
            trained = TRAINING_CALL.search("".join(cell.get("source", "")))
            if trained:
                problems.append(f"{where}: tagged {CHECK_TAG} but trains ({trained.group(0).strip()}...): "
                                "its printed output depends on the machine and the seed offset")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--apply", action="store_true", help="rewrite notebooks to follow the policy")
    mode.add_argument("--check", action="store_true", help="list violations; exit 1 if any")
    ap.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    args = ap.parse_args(argv)
    problems: list[str] = []
    for path in notebooks(args.paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        if args.apply:
            path.write_text(json.dumps(apply(nb), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        problems += check(nb, str(path))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
