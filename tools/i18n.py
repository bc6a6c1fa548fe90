#!/usr/bin/env python3
"""The Korean edition's catalogues: one gettext file per chapter and per page, in ``locale/ko/``.

One source, two languages (issue 21). Code, execution, figures and records are the English
book's; only prose is translated, and it is stored apart from the notebooks:

* a notebook's markdown cells (speaker notes included) are entries of
  ``locale/ko/notebooks/<chapter>.po``: ``msgctxt`` = the cell's id, ``msgid`` = the English cell,
  ``msgstr`` = the Korean cell;
* a page (``book/<page>.md``) is cut into blocks at blank lines (a fenced block is never cut) and
  each block is an entry of ``locale/ko/book/<page>.po`` (``msgid`` = the English block).

When the English changes, ``update`` marks the entry *fuzzy* and keeps the old English as
``#| msgid`` (the translator sees what changed) and the old Korean as a draft; the Korean edition
refuses to build from a catalogue with a fuzzy or empty entry (``status --check``).

Commands::

    python tools/i18n.py update              # sync every catalogue with the English sources
    python tools/i18n.py status [--check]    # translated / fuzzy / untranslated, per catalogue
    python tools/i18n.py export CATALOGUE    # the working file a translator fills in (stdout)
    python tools/i18n.py import CATALOGUE FILE
    python tools/i18n.py lint [CATALOGUE...]   # roles, formulas, code and the glossary's terms kept

The working file shows each entry as ``@@@ en <key>``, the English, ``@@@ ko``, the Korean, ``@@@ end``;
``import`` matches entries by their English text, so the English part must not be edited.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

from attnbook_meta import toc_documents  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANG = "ko"
FENCE = re.compile(r"^(`{3,}|~{3,}|:{3,})")


@dataclass
class Unit:
    """One translatable piece of an English source: a markdown cell or a page block."""
    key: str    # the cell id; "" for a page block (its English text is its key)
    text: str   # the English


def catalogue_path(doc: str, book: Path = ROOT) -> Path:
    """``notebooks/10_rnn`` -> ``<book>/locale/ko/notebooks/10_rnn.po``."""
    return book / "locale" / LANG / f"{doc}.po"


def source_path(doc: str, book: Path = ROOT) -> Path:
    for suffix in (".ipynb", ".md"):
        p = book / f"{doc}{suffix}"
        if p.is_file():
            return p
    raise FileNotFoundError(f"{doc}: neither {doc}.ipynb nor {doc}.md exists in {book}")


def cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def split_blocks(text: str) -> list[str]:
    """A page's blocks: runs of lines between blank lines; a fenced block (```, ~~~, :::) is one
    block with what surrounds it up to the next blank line, whatever blank lines it holds."""
    blocks: list[str] = []
    cur: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = FENCE.match(line.strip())
        if fence is not None:
            cur.append(line)
            if re.fullmatch(re.escape(fence[0]) + f"{{{len(fence)},}}", line.strip()):
                fence = None
        elif m:
            fence = m.group(1)
            cur.append(line)
        elif not line.strip():
            if cur:
                blocks.append("\n".join(cur))
                cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append("\n".join(cur))
    return blocks


def needs_translation(text: str) -> bool:
    """Whether a block holds prose: not only a directive with no content, a label or a comment."""
    stripped = re.sub(r"^(```|:::)\{[^}]+\}.*$|^(```|:::)\s*$|^\(.*\)=$|^<!--.*-->$", "",
                      _outside_code(text), flags=re.M)
    return bool(re.search(r"[A-Za-z]{2}", stripped))


def units(doc: str, book: Path = ROOT) -> list[Unit]:
    """What must be translated in one document, in reading order."""
    path = source_path(doc, book)
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            if not cell.get("id"):
                raise ValueError(f"{path}: a markdown cell has no id (run tools/nbpolicy.py --apply)")
            out.append(Unit(cell["id"], cell_text(cell)))
        return out
    seen: set[str] = set()
    out = []
    for block in split_blocks(path.read_text(encoding="utf-8")):
        if needs_translation(block) and block not in seen:
            seen.add(block)
            out.append(Unit("", block))
    return out


def documents(book: Path = ROOT) -> list[str]:
    return toc_documents(book)


def _new_catalogue(doc: str):
    import polib

    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": "attnbook",
        "Language": LANG,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Source": doc,
    }
    return po


def load(doc: str, book: Path = ROOT):
    import polib

    path = catalogue_path(doc, book)
    if not path.is_file():
        return _new_catalogue(doc)
    try:
        return polib.pofile(str(path), wrapwidth=0)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {path} is not a readable gettext catalogue: {e}") from None


def save(po, doc: str, book: Path = ROOT) -> Path:
    """Write atomically: a failure leaves the old catalogue as it was."""
    path = catalogue_path(doc, book)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".po.tmp")
    po.save(str(tmp))
    tmp.replace(path)
    return path


def sync(doc: str, book: Path = ROOT) -> dict[str, int]:
    """Bring one catalogue in step with its English source; returns counts of what changed."""
    import polib

    old = load(doc, book)
    by_key = {(e.msgctxt or "", e.msgid): e for e in old if not e.obsolete}
    by_ctx = {e.msgctxt: e for e in old if e.msgctxt and not e.obsolete}
    loose = [e for e in old if not e.obsolete and not e.msgctxt]
    po = _new_catalogue(doc)
    po.metadata.update({k: v for k, v in old.metadata.items() if k.startswith("X-") or k == "Last-Translator"})
    counts = {"kept": 0, "changed": 0, "new": 0}
    for u in units(doc, book):
        e = by_key.get((u.key, u.text))
        if e is not None:
            entry = polib.POEntry(msgctxt=u.key or None, msgid=u.text, msgstr=e.msgstr,
                                  flags=list(e.flags), previous_msgid=e.previous_msgid)
            counts["kept"] += 1
        else:
            prev = by_ctx.get(u.key) if u.key else None
            if prev is None and not u.key and loose:
                best = max(loose, key=lambda x: difflib.SequenceMatcher(None, x.msgid, u.text).ratio())
                if difflib.SequenceMatcher(None, best.msgid, u.text).ratio() > 0.6:
                    prev = best
            if prev is not None and prev.msgstr:
                entry = polib.POEntry(msgctxt=u.key or None, msgid=u.text, msgstr=prev.msgstr,
                                      flags=["fuzzy"], previous_msgid=prev.previous_msgid or prev.msgid)
                counts["changed"] += 1
            else:
                entry = polib.POEntry(msgctxt=u.key or None, msgid=u.text, msgstr="")
                counts["new"] += 1
        po.append(entry)
    if len(po) or catalogue_path(doc, book).is_file():
        save(po, doc, book)
    return counts


def status(doc: str, book: Path = ROOT) -> dict[str, int]:
    po = load(doc, book)
    current = {(u.key, u.text) for u in units(doc, book)}
    entries = [e for e in po if not e.obsolete]
    have = {(e.msgctxt or "", e.msgid): e for e in entries}
    out = {"units": len(current), "translated": 0, "fuzzy": 0, "untranslated": 0, "stale": 0}
    for k in current:
        e = have.get(k)
        if e is None:
            out["stale"] += 1   # the English changed since the last `update`
        elif "fuzzy" in e.flags:
            out["fuzzy"] += 1
        elif not e.msgstr.strip():
            out["untranslated"] += 1
        else:
            out["translated"] += 1
    return out


def complete(doc: str, book: Path = ROOT) -> bool:
    s = status(doc, book)
    return s["translated"] == s["units"]


def translations(doc: str, book: Path = ROOT) -> dict[tuple[str, str], str]:
    """``(key, English) -> Korean`` for every finished entry (neither fuzzy nor empty)."""
    return {(e.msgctxt or "", e.msgid): e.msgstr for e in load(doc, book)
            if not e.obsolete and "fuzzy" not in e.flags and e.msgstr.strip()}


def english_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


# ----------------------------------------------------------------------- the working file

def export(doc: str, book: Path = ROOT) -> str:
    po = load(doc, book)
    parts = [f"# {doc}: fill in the Korean after each '@@@ ko' line; do not edit the English.\n"]
    for e in po:
        if e.obsolete:
            continue
        key = e.msgctxt or english_hash(e.msgid)
        note = ""
        if "fuzzy" in e.flags and e.previous_msgid:
            note = "@@@ was\n" + e.previous_msgid + "\n"
        parts.append(f"@@@ en {key}{' fuzzy' if 'fuzzy' in e.flags else ''}\n{e.msgid}\n{note}"
                     f"@@@ ko\n{e.msgstr}\n@@@ end\n")
    return "\n".join(parts)


ENTRY = re.compile(r"^@@@ en (\S+)( fuzzy)?\n(.*?)\n(?:@@@ was\n.*?\n)?@@@ ko\n(.*?)\n?@@@ end$", re.S | re.M)


def import_file(doc: str, work: Path, book: Path = ROOT) -> dict[str, int]:
    """Read a filled-in working file into the catalogue. Entries are matched by their English;
    one whose English no longer matches the catalogue is reported, not guessed."""
    po = load(doc, book)
    text = work.read_text(encoding="utf-8")
    index = {(e.msgctxt or english_hash(e.msgid), e.msgid): e for e in po if not e.obsolete}
    counts = {"filled": 0, "unmatched": 0, "empty": 0}
    problems = []
    for m in ENTRY.finditer(text):
        key, english, korean = m.group(1), m.group(3), m.group(4).strip("\n")
        e = index.get((key, english))
        if e is None:
            counts["unmatched"] += 1
            problems.append(key)
            continue
        if not korean.strip():
            counts["empty"] += 1
            continue
        e.msgstr = korean
        if "fuzzy" in e.flags:
            e.flags.remove("fuzzy")
        e.previous_msgid = None
        counts["filled"] += 1
    if problems:
        print(f"warning: {len(problems)} entries of {work} match no English entry of {doc}: "
              f"{', '.join(problems[:10])}", file=sys.stderr)
    save(po, doc, book)
    return counts


# ----------------------------------------------------------------------- checks of a translation

ROLE = re.compile(r"\{[a-z:-]+\}`[^`]*`")
LINK_TEXT = re.compile(r"`[^`<]*<([^>`]+)>`")   # {doc}`text <target>`: the text may be translated
# $$...$$, or $...$ on one line or across one line break
MATH = re.compile(r"\$\$.*?\$\$|(?<![\\$])\$[^$\n]+(?:\n[^$\n]+)?\$", re.S)
DIRECTIVE = re.compile(r"^\s*(```+|:::+)\{([^}]+)\}", re.M)
OPTION = re.compile(r"^\s*:(label|name|class|tags|width|align|nosectionlabel|class):.*$", re.M)
LABEL = re.compile(r"^\(([^)\s]+)\)=\s*$", re.M)
CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’|「[^」\n]*」|^>.*$", re.M)


def fenced_code(text: str) -> list[str]:
    """Plain fenced code blocks (not directives such as ```{exercise}), each with its fences."""
    out, stack, cur = [], [], []
    for line in text.split("\n"):
        m = re.match(r"\s*(`{3,}|~{3,}|:{3,})(.*)$", line)
        if stack and m and m.group(1)[0] == stack[-1][0][0] and len(m.group(1)) >= len(stack[-1][0]) \
                and not m.group(2).strip():
            fence, is_code = stack.pop()
            if is_code:
                cur.append(line)
                out.append("\n".join(cur))
                cur = []
            continue
        if m and m.group(2).strip().startswith("{"):
            stack.append((m.group(1), False))
        elif m and not any(code for _, code in stack):
            stack.append((m.group(1), True))
            cur = [line]
            continue
        if any(code for _, code in stack):
            cur.append(line)
    return out


def _outside_code(text: str) -> str:
    for code in fenced_code(text):
        text = text.replace(code, "")
    return text


def roles(text: str) -> list[str]:
    return [LINK_TEXT.sub(r"`<\1>`", r) for r in ROLE.findall(text)]


def _multiset(items) -> dict:
    out: dict = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def glossary_refused(book: Path = ROOT) -> dict[str, str]:
    """``variant -> the form used``, from the glossary's table "Forms the Korean edition does not use"."""
    text = (book / "book" / "glossary.md").read_text(encoding="utf-8")
    part = text.split("## Forms the Korean edition does not use", 1)
    out: dict[str, str] = {}
    if len(part) < 2:
        return out
    for line in part[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0] != "not used":
            for variant in cells[0].split(","):
                out[variant.strip()] = cells[1]
    return out


def lint_entry(english: str, korean: str, refused: dict[str, str] | None = None) -> list[str]:
    """What a translation must keep from its English: every role (glue, cite, doc, ref...),
    every formula, directive, label and option line, fenced code byte for byte, every inline code
    span; and the glossary's forms (a refused variant outside quotation marks is reported)."""
    problems = []
    checks = [("role", roles), ("math", lambda t: [re.sub(r"\s+", " ", m) for m in MATH.findall(t)]),
              ("directive", lambda t: [m.group(2) for m in DIRECTIVE.finditer(t)]),
              ("label", LABEL.findall), ("option", lambda t: [m.group(0).strip() for m in OPTION.finditer(t)]),
              ("code block", fenced_code)]
    for what, find in checks:
        a, b = _multiset(find(english)), _multiset(find(korean))
        if a != b:
            missing = [k for k in a if a[k] > b.get(k, 0)]
            extra = [k for k in b if b[k] > a.get(k, 0)]
            problems.append(f"{what}: missing {missing[:3]} extra {extra[:3]}")
    code_en = set(CODE.findall(ROLE.sub("", english)))
    code_ko = set(CODE.findall(ROLE.sub("", korean)))
    if code_en - code_ko:
        problems.append(f"inline code missing: {sorted(code_en - code_ko)[:5]}")
    # a line that starts a markdown construct: a MyST comment (%) hides the line; a wrapped line
    # that begins with "1." or "-" becomes a list, one with ">" a quotation
    for what, pattern in (("comment line (%)", r"^\s*%"), ("list item", r"^\s*(?:[-*+]|\d+[.)])\s"),
                          ("quotation line", r"^\s*>")):
        n_en = len(re.findall(pattern, _outside_code(english), re.M))
        n_ko = len(re.findall(pattern, _outside_code(korean), re.M))
        if n_en != n_ko:
            problems.append(f"{what}: {n_en} in English, {n_ko} in Korean (a wrapped line must not start one)")
    heads_en = re.findall(r"^(#+) ", english, re.M)
    heads_ko = re.findall(r"^(#+) ", korean, re.M)
    if heads_en != heads_ko:
        problems.append(f"headings: {heads_en} in English, {heads_ko} in Korean")
    if not re.search(r"[\uac00-\ud7a3]", korean) and re.search(r"[A-Za-z]{3,}\s+[a-z]{3,}", english):
        problems.append("no Hangul in the translation")
    prose = QUOTED.sub("", MATH.sub("", CODE.sub("", ROLE.sub("", korean))))
    prose = re.sub(r"[ \t]*\n[ \t]*", " ", prose)   # a form wrapped over two lines is still that form
    for variant, used in (refused or {}).items():
        rest = prose
        if used.startswith(variant):  # a variant that is the start of the form used
            rest = rest.replace(used, "")
        if variant and variant in rest and variant not in english:   # the English itself may list it
            problems.append(f"'{variant}': the glossary's form is '{used}'")
    return problems


def lint(doc: str, book: Path = ROOT) -> list[str]:
    refused = glossary_refused(book)
    out = []
    for e in load(doc, book):
        if e.obsolete or not e.msgstr.strip():
            continue
        for p in lint_entry(e.msgid, e.msgstr, refused):
            out.append(f"{doc} [{e.msgctxt or english_hash(e.msgid)}]: {p}")
    return out


def doc_of(name: str, book: Path = ROOT) -> str:
    """``10_rnn``, ``notebooks/10_rnn``, ``locale/ko/notebooks/10_rnn.po`` -> ``notebooks/10_rnn``."""
    stem = Path(name).with_suffix("").as_posix() if name.endswith((".po", ".ipynb", ".md")) else name
    stem = stem.split(f"locale/{LANG}/", 1)[-1]
    docs = documents(book)
    if stem in docs:
        return stem
    hits = [d for d in docs if d.split("/")[-1] == stem.split("/")[-1]]
    if len(hits) != 1:
        raise SystemExit(f"error: {name!r} is not a document of the book ({', '.join(docs)})")
    return hits[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--book", type=Path, default=ROOT)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("update")
    st = sub.add_parser("status")
    st.add_argument("--check", action="store_true", help="exit 1 unless every entry is translated")
    ex = sub.add_parser("export")
    ex.add_argument("doc")
    im = sub.add_parser("import")
    im.add_argument("doc")
    im.add_argument("file", type=Path)
    li = sub.add_parser("lint", help="check the translations against their English (roles, math, code, terms)")
    li.add_argument("doc", nargs="*")
    args = ap.parse_args(argv)
    book = args.book.resolve()
    if args.cmd == "update":
        for doc in documents(book):
            c = sync(doc, book)
            print(f"{doc}: {c['kept']} kept, {c['changed']} changed (fuzzy), {c['new']} new")
        return 0
    if args.cmd == "status":
        bad = 0
        for doc in documents(book):
            s = status(doc, book)
            done = s["translated"] == s["units"]
            bad += not done
            print(f"{'ok ' if done else '   '} {doc}: {s['translated']}/{s['units']} translated"
                  + "".join(f", {s[k]} {k}" for k in ("fuzzy", "untranslated", "stale") if s[k]))
        return 1 if (args.check and bad) else 0
    if args.cmd == "lint":
        docs = [doc_of(d, book) for d in args.doc] or documents(book)
        problems = [p for d in docs for p in lint(d, book)]
        print("\n".join(problems) or f"{len(docs)} catalogue(s): no problem found")
        return 1 if problems else 0
    if args.cmd == "export":
        sys.stdout.write(export(doc_of(args.doc, book), book))
        return 0
    if args.cmd == "import":
        if not args.file.is_file():
            raise SystemExit(f"error: {args.file} not found")
        c = import_file(doc_of(args.doc, book), args.file, book)
        print(f"{c['filled']} filled, {c['empty']} left empty, {c['unmatched']} unmatched")
        return 1 if c["unmatched"] else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
