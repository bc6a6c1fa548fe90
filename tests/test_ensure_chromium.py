"""``tools/ensure_chromium.py``: never installs system packages unless asked (``--install`` or CI),
and says what to run when Chromium is missing."""

from __future__ import annotations

import ensure_chromium


def _missing(monkeypatch, *, ci: bool, root: bool = True):
    calls = []
    monkeypatch.setattr(ensure_chromium, "find", lambda: None)
    monkeypatch.setattr(ensure_chromium, "apt_install", lambda pkgs: calls.append(pkgs) or False)
    monkeypatch.setattr(ensure_chromium.os, "geteuid", lambda: 0 if root else 1000)
    monkeypatch.setattr(ensure_chromium.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.delenv("ATTNBOOK_SKIP_BROWSER", raising=False)
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    return calls


def test_no_apt_without_asking(monkeypatch, capsys):
    calls = _missing(monkeypatch, ci=False)
    assert ensure_chromium.main([]) == 1
    assert calls == [], "apt-get ran although nobody asked"
    err = capsys.readouterr().err
    assert "Install it:" in err and "ATTNBOOK_SKIP_BROWSER=1" in err


def test_installs_when_asked_or_in_ci(monkeypatch):
    calls = _missing(monkeypatch, ci=False)
    ensure_chromium.main(["--install"])
    assert calls and "chromium" in calls[0]
    calls = _missing(monkeypatch, ci=True)
    ensure_chromium.main([])
    assert calls and "chromium" in calls[0]


def test_install_needs_root(monkeypatch, capsys):
    calls = _missing(monkeypatch, ci=False, root=False)
    assert ensure_chromium.main(["--install"]) == 1
    assert calls == [] and "sudo make system-deps" in capsys.readouterr().err
