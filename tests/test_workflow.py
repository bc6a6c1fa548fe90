"""The publishing workflow (``.github/workflows/pages.yml``), linted offline.

It cannot run here, so: it is valid against the GitHub workflow schema that ``check-jsonschema``
ships (``--builtin-schema vendor.github-workflows``, no network), and it does what the book needs —
checks the repository setting first, runs the README's test command, uploads ``_build/html`` with
``upload-pages-artifact`` and publishes it with ``deploy-pages`` in the ``github-pages``
environment with the permissions that needs (and no job gets more than it needs), writes the
Colab editions to the ``colab`` branch the Colab buttons open, and only publishes from ``main``.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


@pytest.fixture(scope="module")
def wf() -> dict:
    assert WORKFLOW.is_file(), f"{WORKFLOW} is missing"
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(job: dict) -> list[dict]:
    return job.get("steps") or []


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def test_valid_against_the_github_workflow_schema():
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema")
    assert exe, "check-jsonschema is not installed (requirements.txt): `make venv`"
    r = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{WORKFLOW.name} is not a valid workflow:\n{r.stdout}\n{r.stderr}"


def test_runs_the_readme_test_command(wf):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"^(make test)\b", readme, re.M)
    assert command, "README.md does not name its test command (make test)"
    runs = [s.get("run", "") for s in steps(wf["jobs"]["build"])]
    assert any(r.strip() == command.group(1) for r in runs), f"no step runs `{command.group(1)}`"


def test_checks_the_repository_setting_before_building(wf):
    runs = [s.get("run", "") for s in steps(wf["jobs"]["build"])]
    check = next((i for i, r in enumerate(runs) if "tools/set_repository.py --check" in r), None)
    build = next(i for i, r in enumerate(runs) if r.strip() == "make test")
    assert check is not None and check < build, "the repository setting is not checked before make test"
    assert '"$GITHUB_REPOSITORY"' in runs[check]


def test_publishes_the_site_to_github_pages(wf):
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    upload = uses(build, "actions/upload-pages-artifact")
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert uses(deploy, "actions/deploy-pages"), "the deploy job does not use actions/deploy-pages"
    assert deploy["needs"] == "build" or "build" in deploy["needs"]
    env = deploy["environment"]
    assert env["name"] == "github-pages" and "deployment.outputs.page_url" in env["url"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_least_privilege(wf):
    assert wf["permissions"] == {"contents": "read"}, "the default token must be read-only"
    for name, job in wf["jobs"].items():
        perms = job.get("permissions", {})
        if name == "colab":
            assert perms == {"contents": "write"}
        elif name != "deploy":
            assert not perms, f"job {name} asks for {perms}"
    for s in uses(wf["jobs"]["build"], "actions/checkout"):
        assert s.get("with", {}).get("persist-credentials") is False


def test_only_main_publishes(wf):
    for name in ("deploy", "colab"):
        cond = wf["jobs"][name].get("if", "")
        assert "refs/heads/main" in cond and "!= 'pull_request'" in cond, (
            f"job {name} would publish from any branch or from a pull request")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on, "'Run workflow' on main should publish too"


def test_a_push_never_cancels_a_deploy(wf):
    """Runs on main queue; only a pull request's newer push cancels its older run."""
    top = wf["concurrency"]
    assert "pull_request" in str(top["cancel-in-progress"]), top
    deploy = wf["jobs"]["deploy"]["concurrency"]
    assert deploy == {"group": "pages", "cancel-in-progress": False}, deploy


def test_caches_pip_npm_and_the_data(wf):
    cached = " ".join(str(s.get("with", {}).get("path", "")) for s in uses(wf["jobs"]["build"], "actions/cache"))
    for what in (".cache/pip", ".npm", ".cache/attnbook"):
        assert what in cached, f"the build does not cache {what}"


def test_colab_editions_go_to_the_branch_the_buttons_open(wf):
    spec = importlib.util.spec_from_file_location("attnbook_publish",
                                                  ROOT / "book" / "_ext" / "attnbook_publish.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    script = "\n".join(s.get("run", "") for s in steps(wf["jobs"]["colab"]))
    assert "git push" in script and re.search(rf"\b{ext.COLAB_BRANCH}\s*$", script, re.M), (
        f"the colab job does not push the branch {ext.COLAB_BRANCH}")
    uploaded = [s for s in uses(wf["jobs"]["build"], "actions/upload-artifact")
                if s["with"].get("name") == "colab-editions"]
    assert uploaded and uploaded[0]["with"]["path"] == "_build/html/colab"


def test_actions_are_pinned_to_a_major_version_at_least(wf):
    for name, job in wf["jobs"].items():
        for s in steps(job):
            if "uses" in s:
                assert re.search(r"@(v\d+|[0-9a-f]{40})$", s["uses"]), f"{name}: {s['uses']} is not pinned"
