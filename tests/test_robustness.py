"""tools/robustness.py: reading nbval's reports and records, and the report it writes."""

from __future__ import annotations

import json
import math

import pytest
import robustness

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" tests="4">
<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 0" time="0.5"/>
<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 1" time="2.0"/>
<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 2" time="1.5">
<failure message="#x1B[91mNotebook cell execution failed#x1B[0m&#10;#x1B[94mCell 2: Cell execution caused an exception&#10;&#10;Input:&#10;#x1B[0mwidth = fit(x)&#10;assert width &gt; 1&#10;&#10;#x1B[94mTraceback:#x1B[0m&#10;#x1B[31mAssertionError#x1B[39m: the width grows&#10;">details</failure>
</testcase>
<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 3" time="0.1">
<failure message="NameError: name 'width' is not defined">x</failure></testcase>
</testsuite></testsuites>
"""


def _write_run(root, offset, stem, junit, records):
    d = root / f"offset{offset}"
    (d / "results").mkdir(parents=True)
    (d / f"{stem}.xml").write_text(junit, encoding="utf-8")
    (d / "results" / f"{stem}.json").write_text(json.dumps(records), encoding="utf-8")


def _record(name, value):
    return {"name": name, "value": value, "unit": "", "paper": None, "source": None, "seconds": 0.0}


def test_parse_junit_names_the_first_failing_cell_and_its_error(tmp_path):
    p = tmp_path / "j.xml"
    p.write_text(JUNIT, encoding="utf-8")
    [run] = robustness.parse_junit(p, offset=1)
    assert (run.notebook, run.offset, run.passed, run.cells) == ("20_soft_dictionary", 1, False, 4)
    assert run.seconds == pytest.approx(4.1)
    f = run.first_failure
    assert (f.cell, f.source) == (2, "width = fit(x)")
    assert f.error == "AssertionError: the width grows"


def test_passing_run_has_no_failure(tmp_path):
    p = tmp_path / "j.xml"
    p.write_text(JUNIT.split("<testcase classname=\"notebooks.20_soft_dictionary.ipynb\" name=\"Cell 2\"")[0]
                 + "</testsuite></testsuites>", encoding="utf-8")
    [run] = robustness.parse_junit(p, offset=2)
    assert run.passed and run.first_failure is None and run.cells == 2


def test_report_per_chapter_and_per_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(robustness, "BUILD_RESULTS", tmp_path / "build_results")
    (tmp_path / "build_results").mkdir()
    (tmp_path / "build_results" / "20_soft_dictionary.json").write_text(
        json.dumps([_record("a/b", 1.0), _record("a/c", 5.0)]), encoding="utf-8")
    passing = JUNIT.split('<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 2"')[0]
    _write_run(tmp_path, 1, "20_soft_dictionary", JUNIT, [_record("a/b", 1.5)])
    _write_run(tmp_path, 2, "20_soft_dictionary", passing + "</testsuite></testsuites>",
               [_record("a/b", 0.75), _record("a/c", float("nan"))])
    report = robustness.collect(tmp_path)
    assert report["offsets"] == [1, 2] and report["record_offsets"] == [0, 1, 2]
    assert report["passed"] is False
    ch = report["chapters"]["20_soft_dictionary"]
    assert ch["1"]["passed"] is False and ch["2"]["passed"] is True
    assert ch["1"]["first_failure"]["cell"] == 2
    assert report["figures"]["a/b"]["values"] == {"0": 1.0, "1": 1.5, "2": 0.75}
    assert report["figures"]["a/b"]["spread"] == pytest.approx(0.75)
    # a/c: 5.0 at offset 0, missing at 1, nan at 2: one finite value, no spread
    assert report["figures"]["a/c"]["values"]["1"] is None
    assert math.isnan(report["figures"]["a/c"]["values"]["2"])
    assert report["figures"]["a/c"]["spread"] is None
    md = robustness.render_markdown(report)
    assert "| 20_soft_dictionary | **FAIL** at cell 2 (4 s) | pass (2 s) |" in md
    assert "`width = fit(x)` → AssertionError: the width grows" in md
    assert "| `a/b` | 1 | 1.5 | 0.75 | 0.75 |" in md
    assert "| `a/c` | 5 | – | nan | – |" in md


def test_all_passing_report_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(robustness, "BUILD_RESULTS", tmp_path / "none")
    passing = JUNIT.split('<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 2"')[0]
    _write_run(tmp_path, 1, "20_soft_dictionary", passing + "</testsuite></testsuites>", [])
    assert robustness.collect(tmp_path)["passed"] is True


def test_a_broken_record_file_is_a_clear_error(tmp_path):
    (tmp_path / "x.json").write_text('[{"value": 1}]', encoding="utf-8")
    with pytest.raises(SystemExit, match="not a record file"):
        robustness.read_records(tmp_path)


def test_cli_refuses_unknown_notebooks_and_negative_offsets(capsys):
    with pytest.raises(SystemExit):
        robustness.main(["notebooks/99_nothing.ipynb"])
    assert "no such notebook" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        robustness.main(["--offsets", "-1"])
    assert "non-negative" in capsys.readouterr().err


def test_run_notebook_passes_the_offset_to_nbval(tmp_path, monkeypatch):
    calls = []

    class Done:
        returncode = 0

    def fake_run(cmd, cwd, env, stdout, stderr):
        calls.append((cmd, env))
        (tmp_path / "offset3" / "20_soft_dictionary.xml").write_text(JUNIT, encoding="utf-8")
        return Done()

    monkeypatch.setattr(robustness.subprocess, "run", fake_run)
    junit = robustness.run_notebook(3, "notebooks/20_soft_dictionary.ipynb", tmp_path)
    [(cmd, env)] = calls
    assert junit.name == "20_soft_dictionary.xml"
    assert "--nbval-lax" in cmd and cmd[-1] == "notebooks/20_soft_dictionary.ipynb"
    assert env["ATTNBOOK_SEED_OFFSET"] == "3"
    assert env["ATTNBOOK_RESULTS_DIR"] == str(tmp_path / "offset3" / "results")


def test_publish_writes_the_sweeps_offsets_only(tmp_path, monkeypatch):
    monkeypatch.setattr(robustness, "BUILD_RESULTS", tmp_path / "build_results")
    (tmp_path / "build_results").mkdir()
    (tmp_path / "build_results" / "20_soft_dictionary.json").write_text(
        json.dumps([_record("a/b", 1.0)]), encoding="utf-8")
    passing = JUNIT.split('<testcase classname="notebooks.20_soft_dictionary.ipynb" name="Cell 2"')[0]
    _write_run(tmp_path, 1, "20_soft_dictionary", passing + "</testsuite></testsuites>", [_record("a/b", 1.5)])
    report = robustness.collect(tmp_path)
    path = robustness.publish(report, tmp_path / "robustness.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["offsets"] == [1] and data["figures"] == {"a/b": {"1": 1.5}}
    assert data["commit"] and data["date"]


def test_cli_runs_each_notebook_at_each_offset(tmp_path, monkeypatch):
    """Notebooks first, then the offsets (the Makefile's order): offset by offset, notebook by notebook."""
    calls = []
    monkeypatch.setattr(robustness, "run_notebook", lambda k, nb, out: calls.append((k, nb)))
    monkeypatch.setattr(robustness, "BUILD_RESULTS", tmp_path / "none")
    rc = robustness.main(["notebooks/20_soft_dictionary.ipynb", "notebooks/10_rnn.ipynb",
                          "--offsets", "1", "3", "--out", str(tmp_path)])
    assert rc == 0 and (tmp_path / "report.md").is_file()
    assert calls == [(1, "notebooks/20_soft_dictionary.ipynb"), (1, "notebooks/10_rnn.ipynb"),
                     (3, "notebooks/20_soft_dictionary.ipynb"), (3, "notebooks/10_rnn.ipynb")]
