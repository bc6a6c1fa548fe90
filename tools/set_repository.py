#!/usr/bin/env python3
"""Where the book lives on GitHub: one setting, every link that depends on it.

The setting is ``repository.url`` in ``_config.yml`` (``https://github.com/OWNER/NAME``). From it
come the repository button and the Colab buttons of the site, the Colab editions' install cell and
the hosted site's address (``https://OWNER.github.io/NAME/``). A few files cannot read
``_config.yml`` and carry a copy, which this command rewrites:

* the install cell of every notebook (``pip install "attnbook @ git+https://github.com/..."``);
* ``CONTRIBUTING.md`` (the install cell to copy into a new chapter);
* ``src/attnbook/data/download.py`` (the User-Agent the data downloads send);
* ``README.md``'s front door (the hosted book, and each chapter's page, Colab edition and slides),
  a block between ``<!-- front door -->`` markers that this command writes (:func:`front_door`).

Usage::

    python tools/set_repository.py OWNER/NAME     # a fork: set it everywhere, then commit
    python tools/set_repository.py --show         # what is configured, and every copy of it
    python tools/set_repository.py --front-door   # README's chapter list, after adding a chapter
    python tools/set_repository.py --check OWNER/NAME
        # exit 1 with a message saying what to run when the book is configured for another
        # repository (the publishing workflow runs it with $GITHUB_REPOSITORY)

``tests/test_repository.py`` checks that every copy agrees with ``_config.yml``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "_config.yml"
NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
URL = re.compile(r"https://github\.com/(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?(?=[\"'\s)@/]|$)")
CONFIG_URL = re.compile(r"(?m)^(repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*)(\S+)")

# the files holding a copy of the repository URL, and the pattern of each copy
COPIES: list[tuple[str, re.Pattern]] = [
    ("notebooks/*.ipynb", re.compile(r"attnbook @ git\+https://github\.com/(?P<repo>[^\"'\s@]+?)(?:\.git)?(?=[\"'\s@\\])")),
    ("CONTRIBUTING.md", re.compile(r"attnbook @ git\+https://github\.com/(?P<repo>[^\"'\s@]+?)(?:\.git)?(?=[\"'\s@])")),
    ("src/attnbook/data/download.py", re.compile(r"\(\+https://github\.com/(?P<repo>[^\"'\s)]+)\)")),
]


def configured(root: Path = ROOT) -> tuple[str, str]:
    """``(OWNER/NAME, branch)`` from ``_config.yml``."""
    text = (root / CONFIG).read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # the workflow checks the setting before anything is installed
        url = CONFIG_URL.search(text)
        branch = re.search(r"(?m)^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+branch:[ \t]*(\S+)", text)
        repo = {"url": url.group(2) if url else "", "branch": branch.group(1) if branch else "main"}
    else:
        repo = yaml.safe_load(text).get("repository") or {}
    m = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?", str(repo.get("url", "")))
    if not m:
        raise SystemExit(f"error: {CONFIG}: repository.url must be https://github.com/OWNER/NAME, "
                         f"is {repo.get('url')!r}")
    return m.group(1), str(repo.get("branch") or "main")


def site_url(repo: str) -> str:
    """The GitHub Pages address of a repository's site."""
    owner, name = repo.split("/")
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{name}/"


FRONT_DOOR = re.compile(r"(<!-- front door[^>]*-->\n)(.*?)(<!-- /front door -->)", re.S)
README = "README.md"


def _title(notebook: Path) -> str:
    import json

    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        m = re.search(r"(?m)^#\s+(.+)$", "".join(cell["source"])) if cell["cell_type"] == "markdown" else None
        if m:
            return m.group(1).strip()
    return notebook.stem


def front_door(repo: str, root: Path = ROOT) -> str:
    """README's first screen, for readers: the hosted book, and each chapter's page, Colab edition
    and slides (the notebooks in reading order; standard library only, as ``--check`` needs)."""
    owner, name = repo.split("/")
    site = site_url(repo)
    colab = f"https://colab.research.google.com/github/{owner}/{name}/blob/colab/notebooks"
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    notebooks = sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    lines = [f"**Read the book: <{site}>** — or open any chapter in Colab and run it there.", "",
             f"**한국어판: <{site}ko/>** — 같은 책, 같은 실행 결과를 한국어로 읽는다. 강의 노트의 발표: "
             f"[어텐션에서 그래프 어텐션까지]({site}ko/slides/talk.html) (슬라이드).", ""]
    if notebooks:
        first = notebooks[0].stem
        lines += [f"[![Open in Colab]({badge})]({colab}/{first}.ipynb)", "",
                  "| chapter | read | run | present |", "|---|---|---|---|"]
        for nb in notebooks:
            lines.append(f"| {_title(nb)} | [page]({site}notebooks/{nb.stem}.html) "
                         f"| [Colab]({colab}/{nb.stem}.ipynb) | [slides]({site}slides/{nb.stem}.html) |")
    return "\n".join(lines) + "\n"


def readme_is_current(repo: str, root: Path = ROOT) -> bool:
    path = root / README
    if not path.is_file():
        return True
    m = FRONT_DOOR.search(path.read_text(encoding="utf-8"))
    return m is None or m.group(2) == front_door(repo, root)


def write_front_door(repo: str, root: Path = ROOT) -> bool:
    """Rewrite README's front door for ``repo``; True if it changed."""
    path = root / README
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    new = FRONT_DOOR.sub(lambda m: m.group(1) + front_door(repo, root) + m.group(3), text, count=1)
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def copies(root: Path = ROOT) -> list[tuple[Path, str]]:
    """Every copy of the repository name outside ``_config.yml``: ``(file, OWNER/NAME)``."""
    found = []
    for pattern, rx in COPIES:
        for path in sorted(root.glob(pattern)):
            for m in rx.finditer(path.read_text(encoding="utf-8")):
                found.append((path, m.group("repo")))
    return found


def set_repository(repo: str, root: Path = ROOT) -> list[Path]:
    """Write ``repo`` into ``_config.yml`` and every copy; the files changed."""
    if not NAME.fullmatch(repo):
        raise SystemExit(f"error: {repo!r} is not OWNER/NAME (e.g. octocat/attnbook)")
    changed = []
    config = root / CONFIG
    text = config.read_text(encoding="utf-8")
    new, n = CONFIG_URL.subn(lambda m: m.group(1) + f"https://github.com/{repo}", text, count=1)
    if not n:
        raise SystemExit(f"error: no repository.url in {config}")
    if new != text:
        config.write_text(new, encoding="utf-8")
        changed.append(config)
    for pattern, rx in COPIES:
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            new = rx.sub(lambda m: m.group(0).replace(m.group("repo"), repo, 1), text)
            if new != text:
                path.write_text(new, encoding="utf-8")
                changed.append(path)
    if write_front_door(repo, root):
        changed.append(root / README)
    return changed


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", nargs="?", help="OWNER/NAME of the GitHub repository the book lives in")
    ap.add_argument("--check", metavar="OWNER/NAME",
                    help="exit 1 unless the book is configured for this repository")
    ap.add_argument("--show", action="store_true", help="print the setting and every copy of it")
    ap.add_argument("--front-door", action="store_true",
                    help="rewrite README's front door for the configured repository (after adding a chapter)")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    root = args.root.resolve()
    repo, branch = configured(root)
    if args.check:
        stale = [(p, r) for p, r in copies(root) if r != repo]
        if not readme_is_current(repo, root):
            stale.append((root / README, "another front door (chapters or repository)"))
        if args.check.lower() != repo.lower() or stale:
            print(f"error: the book is configured for the repository {repo} ({CONFIG}: repository.url),\n"
                  f"  but this is {args.check}. Every link the site publishes (Colab buttons, the\n"
                  f"  repository button, the install cell of the Colab notebooks) would point at the\n"
                  f"  wrong place. Run\n"
                  f"      python tools/set_repository.py {args.check}\n"
                  f"  and commit the files it changes.", file=sys.stderr)
            for p, r in stale:
                print(f"  {p.relative_to(root)} names {r}", file=sys.stderr)
            return 1
        print(f"repository setting: {repo} (matches)")
        return 0
    if args.front_door:
        print(f"{README}: {'updated' if write_front_door(repo, root) else 'already current'}")
        return 0
    if args.show or not args.repo:
        print(f"{CONFIG}: https://github.com/{repo} (branch {branch}); site {site_url(repo)}")
        for p, r in copies(root):
            print(f"  {p.relative_to(root)}: {r}{'' if r == repo else '   <-- differs'}")
        return 0
    changed = set_repository(args.repo, root)
    for p in changed:
        print(f"updated {p.relative_to(root)}")
    print(f"The book now lives at https://github.com/{args.repo}; its site will be "
          f"{site_url(args.repo)}.\nCommit the changed files"
          f"{' (none changed)' if not changed else ''}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
