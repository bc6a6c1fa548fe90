"""One repository setting (``repository.url`` in ``_config.yml``) drives every link
(``tools/set_repository.py``): every copy of it agrees, the command sets it for a fork, and the
check the publishing workflow runs fails, saying what to do, when it disagrees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import set_repository  # noqa: E402


def test_every_copy_agrees_with_the_config():
    repo, _ = set_repository.configured(ROOT)
    copies = set_repository.copies(ROOT)
    files = {p.relative_to(ROOT).as_posix() for p, _ in copies}
    assert "CONTRIBUTING.md" in files and "src/attnbook/data/download.py" in files
    assert {p.name for p, _ in copies} >= {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}, (
        "a notebook has no Colab install cell naming the repository")
    wrong = [f"{p.relative_to(ROOT)}: {r}" for p, r in copies if r != repo]
    assert not wrong, (f"these copies disagree with _config.yml ({repo}): {wrong}; "
                       f"run `python tools/set_repository.py {repo}`")


def test_readme_opens_with_the_hosted_book_and_every_chapter():
    """README's first screen is for readers: the hosted site, a Colab badge, every chapter."""
    repo, _ = set_repository.configured(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set_repository.readme_is_current(repo, ROOT), (
        "README's front door is out of date: run `python tools/set_repository.py --front-door`")
    first_screen = readme[: readme.index("## Building")]
    assert set_repository.site_url(repo) in first_screen and "colab-badge.svg" in first_screen
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"notebooks/{nb.stem}.ipynb" in first_screen, f"{nb.stem} is not in README's chapter list"


def fork(tmp_path: Path) -> Path:
    for rel in ["_config.yml", "CONTRIBUTING.md", "src/attnbook/data/download.py", "README.md",
                *[p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")]]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path


def run(*args, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "set_repository.py"), "--root", str(root),
                           *args], capture_output=True, text=True)


def test_setting_a_fork_changes_every_copy(tmp_path):
    root = fork(tmp_path)
    r = run("octo-cat/my.book", root=root)
    assert r.returncode == 0, r.stderr
    assert set_repository.configured(root)[0] == "octo-cat/my.book"
    assert {r for _, r in set_repository.copies(root)} == {"octo-cat/my.book"}
    assert "https://github.com/octo-cat/my.book" in (root / "_config.yml").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "https://octo-cat.github.io/my.book/" in readme and "attnbook.github.io" not in readme
    assert "colab.research.google.com/github/octo-cat/my.book/blob/colab/notebooks/10_rnn.ipynb" in readme
    # nothing else in the files changed
    before = (ROOT / "_config.yml").read_text(encoding="utf-8").splitlines()
    after = (root / "_config.yml").read_text(encoding="utf-8").splitlines()
    assert [a for a, b in zip(before, after, strict=True) if a != b] == [
        line for line in before if "url: https://github.com/" in line]


def test_the_check_fails_clearly_for_another_repository(tmp_path):
    root = fork(tmp_path)
    repo, _ = set_repository.configured(root)
    ok = run("--check", repo, root=root)
    assert ok.returncode == 0, ok.stderr
    bad = run("--check", "someone/else", root=root)
    assert bad.returncode == 1
    assert "python tools/set_repository.py someone/else" in bad.stderr and repo in bad.stderr


def test_the_check_runs_before_anything_is_installed(tmp_path):
    """The workflow runs the check with the bare system Python: no PyYAML."""
    root = fork(tmp_path)
    code = ("import sys; sys.modules['yaml'] = None; sys.path.insert(0, sys.argv[3]); "
            "import set_repository; "
            "sys.exit(set_repository.main(['--root', sys.argv[1], '--check', sys.argv[2]]))")
    repo, _ = set_repository.configured(root)
    for name, expected in ((repo, 0), ("someone/else", 1)):
        r = subprocess.run([sys.executable, "-c", code, str(root), name, str(ROOT / "tools")],
                           capture_output=True, text=True)
        assert r.returncode == expected, r.stderr


def test_a_stale_copy_fails_the_check(tmp_path):
    root = fork(tmp_path)
    repo, _ = set_repository.configured(root)
    contributing = root / "CONTRIBUTING.md"
    contributing.write_text(contributing.read_text(encoding="utf-8").replace(repo, "old/place"),
                            encoding="utf-8")
    r = run("--check", repo, root=root)
    assert r.returncode == 1 and "CONTRIBUTING.md names old/place" in r.stderr


def test_site_url():
    assert set_repository.site_url("Octo/book") == "https://octo.github.io/book/"
    assert set_repository.site_url("octo/octo.github.io") == "https://octo.github.io/"


def test_bad_names_are_refused(tmp_path):
    r = run("not a repo", root=fork(tmp_path))
    assert r.returncode != 0 and "OWNER/NAME" in r.stderr


def test_licences_are_stated():
    """Code under MIT (LICENSE), prose and figures under CC BY-SA 4.0, said in the site's footer."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "CC BY-SA 4.0" in text
    footer = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert "MIT" in footer and "CC BY-SA 4.0" in footer


def test_changelog_names_the_version():
    import re as _re

    version = _re.search(r'(?m)^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8")).group(1)
    changelog = (ROOT / "book" / "changelog.md").read_text(encoding="utf-8")
    assert f"## {version} " in changelog, f"book/changelog.md has no entry for version {version}"
    assert "book/changelog" in (ROOT / "_toc.yml").read_text(encoding="utf-8")
    init = (ROOT / "src" / "attnbook" / "__init__.py").read_text(encoding="utf-8")
    assert f'__version__ = "{version}"' in init, "attnbook.__version__ differs from pyproject.toml"
