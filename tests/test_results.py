"""Tests of attnbook.results: the record format is a contract read by tools outside the book."""

import json

import numpy as np
import pytest
import torch

from attnbook import results


@pytest.fixture
def rdir(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNBOOK_RESULTS_DIR", str(tmp_path))
    return tmp_path


def test_record_writes_the_contract(rdir):
    rec = results.Recorder("20_soft_dictionary")
    rec.record("attention/pooling/test_mse", np.float32(0.25), unit="MSE")
    rec.record("gat/cora/test_acc", torch.tensor(83.1), unit="%", paper=83.0,
               source="velickovic2018graph", seconds=1.5)
    data = json.loads((rdir / "20_soft_dictionary.json").read_text())
    assert isinstance(data, list) and len(data) == 2
    for obj in data:
        assert set(obj) == {"name", "value", "unit", "paper", "source", "seconds"}
    assert data[0]["paper"] is None and data[0]["source"] is None
    assert data[1] == {"name": "gat/cora/test_acc", "value": pytest.approx(83.1), "unit": "%",
                       "paper": 83.0, "source": "velickovic2018graph", "seconds": 1.5}
    assert rec.finish() is None and rec.seconds >= 0
    assert not (rdir / "timings.json").exists()  # the book build times notebooks, not the notebook
    results.write_timings({"notebooks/20_soft_dictionary.ipynb": 2.5}, rdir)
    assert json.loads((rdir / "timings.json").read_text()) == {"notebooks/20_soft_dictionary.ipynb": 2.5}
    assert results.load_timings(rdir) == {"notebooks/20_soft_dictionary.ipynb": 2.5}
    assert (rdir / "20_soft_dictionary.json").stat().st_mode & 0o777 == 0o644
    loaded = results.load_all(rdir)
    assert [r.name for r in loaded["20_soft_dictionary"]] == [d["name"] for d in data]


def test_rerun_replaces_old_records(rdir):
    a = results.Recorder("a_nb")
    a.record("x/y", 1, unit="")
    results.Recorder("b_nb").record("x/y", 3, unit="")
    a2 = results.Recorder("a_nb")  # a re-run starts from an empty list
    assert json.loads((rdir / "a_nb.json").read_text()) == []
    a2.record("x/z", 2, unit="")
    loaded = results.load_all(rdir)
    assert [r.name for r in loaded["a_nb"]] == ["x/z"] and [r.name for r in loaded["b_nb"]] == ["x/y"]


@pytest.mark.parametrize("name", ["noslash", "Upper/Case", "a//b", "/a/b", "a/b/", "a b/c", ""])
def test_bad_names_rejected(rdir, name):
    rec = results.Recorder("nb")
    with pytest.raises(ValueError, match="slash-separated"):
        rec.record(name, 1.0, unit="")


def test_bad_values_rejected(rdir):
    rec = results.Recorder("nb")
    with pytest.raises(ValueError, match="finite"):
        rec.record("a/b", float("nan"), unit="")
    with pytest.raises(TypeError, match="number"):
        rec.record("a/b", "high", unit="")
    with pytest.raises(ValueError, match="source"):
        rec.record("a/b", 1.0, unit="%", paper=2.0)
    rec.record("a/b", 1.0, unit="%")
    with pytest.raises(ValueError, match="already recorded"):
        rec.record("a/b", 2.0, unit="%")
    with pytest.raises(ValueError, match="file stem"):
        results.Recorder("../escape")


def test_no_temporary_files_left(rdir):
    rec = results.Recorder("nb")
    rec.record("a/b", 1.0, unit="")
    results.write_timings({"notebooks/nb.ipynb": 1.0}, rdir)
    assert sorted(p.name for p in rdir.iterdir()) == ["nb.json", "timings.json"]


def test_malformed_record_file_is_an_error(rdir):
    (rdir / "bad.json").write_text(json.dumps([{"name": "a/b", "value": 1}]))
    with pytest.raises(ValueError, match="exactly the keys"):
        results.load_all(rdir)


@pytest.mark.parametrize("field,bad", [("value", "83"), ("value", True), ("unit", 1), ("paper", "x"),
                                       ("source", 3), ("seconds", [1]), ("name", "Bad")])
def test_mistyped_record_names_the_file_and_field(rdir, field, bad):
    rec = {"name": "a/b", "value": 1.0, "unit": "%", "paper": None, "source": None, "seconds": None}
    rec[field] = bad
    (rdir / "nb.json").write_text(json.dumps([rec]))
    with pytest.raises(ValueError, match=rf"nb\.json: bad record .*{field}"):
        results.load_all(rdir)


def test_mistyped_timings_are_an_error(rdir):
    (rdir / "timings.json").write_text(json.dumps({"notebooks/a.ipynb": "fast"}))
    with pytest.raises(ValueError, match="seconds must be numbers"):
        results.load_timings(rdir)


def test_glue_without_myst_nb_is_a_no_op(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import fails, as in Colab
    assert results.glue("x", 3.5) == 3.5


def test_default_dir_is_repo_build_results(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTNBOOK_RESULTS_DIR", raising=False)
    (tmp_path / "src" / "attnbook").mkdir(parents=True)
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert results.results_dir() == tmp_path / "_build" / "results"


def test_stopwatch():
    with results.Stopwatch() as sw:
        sum(range(1000))
    first = sw.seconds
    assert first >= 0 and sw.seconds == first  # frozen after the block


def test_optional_description(rdir):
    rec = results.Recorder("50_gat")
    rec.record("gat/cora/test_acc", 83.2, unit="%", paper=83.0, source="velickovic2018graph",
               description="GAT test accuracy on Cora, mean of 10 seeds")
    rec.record("gat/cora/test_acc_std", 0.5, unit="%")
    data = json.loads((rdir / "50_gat.json").read_text())
    assert data[0]["description"] == "GAT test accuracy on Cora, mean of 10 seeds"
    assert "description" not in data[1]  # files without descriptions keep the six keys
    loaded = results.load_all(rdir)["50_gat"]
    assert loaded[0].description.startswith("GAT") and loaded[1].description is None
    with pytest.raises(TypeError, match="description"):
        rec.record("gat/x/y", 1.0, unit="", description=3)
    (rdir / "bad.json").write_text(json.dumps([{**data[1], "description": 5}]))
    with pytest.raises(ValueError, match="description"):
        results.load_all(rdir)


def test_glue_many_glues_each_value_undisplayed(monkeypatch):
    calls = []
    monkeypatch.setattr(results, "glue", lambda name, value, display=False: calls.append((name, value, display)))
    results.glue_many(n_train=8000, lr="0.001")
    assert calls == [("n_train", 8000, False), ("lr", "0.001", False)]
