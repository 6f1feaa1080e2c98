"""A scripted reviewer: the real review app in the real browser (Chromium via Playwright),
clearing a generated batch's queue while knowing its truth, to measure keys and seconds.

It reads what a person reads on screen (the suggestion, the caret, the doubtful
spans the page marks) and presses the fewest keys the page offers to turn the
suggestion into the truth: Enter when it is right; otherwise arrows, Home/End,
the doubt jumps (Alt+N), Delete/Backspace and typing, or Ctrl+A and retyping,
whichever is shorter. A chord (Alt+N, Ctrl+A) counts as one key. Every value it
saves is checked against the truth in the workspace afterwards, so a planner
bug shows as a wrong value, not as a good figure.

Seconds are the machine's (server, page load, the browser), with no human reading
time: what the app adds to a reviewer's own pace.

Three modes, each on a fresh copy of the processed workspace: one field at a
time (the queue), group verification (each field type's grid, wrong ones
rejected then corrected in the queue) and form at a time.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from pipeline.template import FieldKind, Template, default_template

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MODES = ("single", "group", "form")

Span = tuple[int, int]


# --- what to type: the planner ------------------------------------------------------------


def _after_edit(spans: list[Span], old: str, new: str) -> list[Span]:
    """The doubtful spans after an edit, exactly as review.js keeps them."""
    if old == new:
        return spans
    pre = 0
    while pre < len(old) and pre < len(new) and old[pre] == new[pre]:
        pre += 1
    suf = 0
    while (suf < len(old) - pre and suf < len(new) - pre
           and old[len(old) - 1 - suf] == new[len(new) - 1 - suf]):
        suf += 1
    end, delta = len(old) - suf, len(new) - len(old)
    kept = [s for s in spans
            if ((s[0] < pre or s[0] > end) if s[0] == s[1] else not (s[0] < end and s[1] > pre))]
    return [(a + delta, b + delta) if a >= end and b > pre else (a, b) for a, b in kept]


@dataclass
class _State:
    """The input as the planner simulates it: value, selection, doubt spans."""

    value: str
    sel: Span
    spans: list[Span]
    keys: list[str] = field(default_factory=list)

    def press(self, key: str) -> None:
        a, b = self.sel
        v = self.value
        if key == "Alt+n" and self.spans:
            nxt = next((s for s in self.spans if s[0] > a), self.spans[0])
            self.sel = nxt
        elif key == "ArrowLeft":
            p = a if a != b else max(0, a - 1)
            self.sel = (p, p)
        elif key == "ArrowRight":
            p = b if a != b else min(len(v), b + 1)
            self.sel = (p, p)
        elif key in ("Control+ArrowRight", "Control+ArrowLeft"):
            p = word_jump(v, b if key.endswith("Right") else a, key.endswith("Right"))
            self.sel = (p, p)
        elif key == "Home":
            self.sel = (0, 0)
        elif key == "End":
            self.sel = (len(v), len(v))
        elif key == "Control+a":
            self.sel = (0, len(v))
        elif key in ("Backspace", "Delete"):
            if a != b:
                self._replace(a, b, "")
            elif key == "Backspace" and a > 0:
                self._replace(a - 1, a, "")
            elif key == "Delete" and a < len(v):
                self._replace(a, a + 1, "")
        else:
            assert len(key) == 1, key
            self._replace(a, b, key)
        self.keys.append(key)

    def _replace(self, a: int, b: int, text: str) -> None:
        new = self.value[:a] + text + self.value[b:]
        self.spans = _after_edit(self.spans, self.value, new)
        self.value = new
        self.sel = (a + len(text), a + len(text))

    def copy(self) -> _State:
        return _State(self.value, self.sel, list(self.spans), list(self.keys))


def _word(ch: str) -> bool:
    return ch.isalnum()


def word_jump(v: str, p: int, right: bool) -> int:
    """Where Chromium's Ctrl+Right (end of the next word) or Ctrl+Left (its start) lands.

    A word is letters and digits, an apostrophe between letters included ("d'Auvergne");
    a run of other marks is a word of its own ("," "." "-" "@"); spaces separate.
    Measured on Chromium for Linux; a wrong guess shows as a planner miss.
    """
    def kind(i: int) -> int:
        ch = v[i]
        if ch.isspace():
            return 0
        if _word(ch) or (ch in "'’" and 0 < i < len(v) - 1 and _word(v[i - 1])
                         and _word(v[i + 1])):
            return 1
        return 2

    if right:
        while p < len(v) and kind(p) == 0:
            p += 1
        if p < len(v):
            k = kind(p)
            while p < len(v) and kind(p) == k:
                p += 1
        return p
    while p > 0 and kind(p - 1) == 0:
        p -= 1
    if p > 0:
        k = kind(p - 1)
        while p > 0 and kind(p - 1) == k:
            p -= 1
    return p


def _jumps(v: str, start: int, pos: int) -> list[str]:
    """Ctrl+arrows towards `pos` while they bring the caret closer, then plain arrows."""
    keys, p = [], start
    for _ in range(12):
        right = pos > p
        q = word_jump(v, p, right)
        if q == p or abs(pos - q) >= abs(pos - p):
            break
        keys.append("Control+ArrowRight" if right else "Control+ArrowLeft")
        p = q
    return keys + ["ArrowRight" if pos > p else "ArrowLeft"] * abs(pos - p)


def _moves_to(st: _State, pos: int) -> list[list[str]]:
    """Ways to bring a collapsed caret to `pos`: arrows, Home/End then arrows, doubt jumps."""
    a, b = st.sel
    ways: list[list[str]] = []
    here = a if a == b else None
    if here is not None:
        ways.append(["ArrowRight" if pos > here else "ArrowLeft"] * abs(pos - here))
    else:  # a selection collapses with one arrow onto its edge
        for key, edge in (("ArrowLeft", a), ("ArrowRight", b)):
            ways.append([key] + ["ArrowRight" if pos > edge else "ArrowLeft"] * abs(pos - edge))
    ways.append(["Home"] + ["ArrowRight"] * pos)
    ways.append(["End"] + ["ArrowLeft"] * (len(st.value) - pos))
    v = st.value
    if here is not None:
        ways.append(_jumps(v, here, pos))
    else:
        ways += [["ArrowLeft", *_jumps(v, a, pos)], ["ArrowRight", *_jumps(v, b, pos)]]
    ways += [["Home", *_jumps(v, 0, pos)], ["End", *_jumps(v, len(v), pos)]]
    # overshoot by a word and come back: a jump lands on a word's end, edits often start there
    for start, lead in ((here, []), (0, ["Home"]), (len(v), ["End"])):
        if start is None:
            continue
        p, keys = start, list(lead)
        for _ in range(10):
            q = word_jump(v, p, pos > start)
            if q == p:
                break
            keys.append("Control+ArrowRight" if pos > start else "Control+ArrowLeft")
            p = q
            ways.append(keys + ["ArrowRight" if pos > p else "ArrowLeft"] * abs(pos - p))
    return ways


def _edit_block(st: _State, a: int, b: int, text: str) -> _State:
    """Cheapest way from `st` to replacing value[a:b] by `text` (current coordinates)."""
    best: _State | None = None

    def consider(cand: _State) -> None:
        nonlocal best
        if best is None or len(cand.keys) < len(best.keys):
            best = cand

    starts = [st]
    probe = st.copy()  # up to a few doubt jumps, each a place to start from
    for _ in range(min(len(st.spans), 6)):
        probe.press("Alt+n")
        starts.append(probe.copy())
    for s0 in starts:
        if s0.sel == (a, b) and a != b:  # the selection is exactly what must go
            c = s0.copy()
            for ch in text or "\b":
                c.press("Backspace" if ch == "\b" else ch)
            consider(c)
        for way in _moves_to(s0, a):
            c = s0.copy()
            for k in way:
                c.press(k)
            for _ in range(b - a):
                c.press("Delete")
            for ch in text:
                c.press(ch)
            consider(c)
        if s0.sel[0] == s0.sel[1] == b and b > a:  # right after it: Backspace it away
            c = s0.copy()
            for _ in range(b - a):
                c.press("Backspace")
            for ch in text:
                c.press(ch)
            consider(c)
    assert best is not None
    return best


def plan(value: str, sel: Span, spans: list[Span], target: str) -> list[str]:
    """The keys (without the final Enter) that turn `value` into `target`, fewest found."""
    st = _State(value, sel, [tuple(s) for s in spans])  # type: ignore[misc]
    ops = [op for op in Levenshtein.opcodes(value, target) if op.tag != "equal"]
    blocks: list[tuple[int, int, int, int]] = []
    for op in ops:  # adjacent changes are one block
        if blocks and op.src_start <= blocks[-1][1] and op.dest_start <= blocks[-1][3]:
            a, _, c, _ = blocks[-1]
            blocks[-1] = (a, op.src_end, c, op.dest_end)
        else:
            blocks.append((op.src_start, op.src_end, op.dest_start, op.dest_end))
    # right to left (an edit never moves the places still to edit) or left to right (the
    # doubt jumps go forward), whichever is shorter
    backward = st.copy()
    for a, b, c, d in reversed(blocks):
        backward = _edit_block(backward, a, b, target[c:d])
    forward, shift = st.copy(), 0
    for a, b, c, d in blocks:
        forward = _edit_block(forward, a + shift, b + shift, target[c:d])
        shift += (d - c) - (b - a)
    st = min(forward, backward, key=lambda x: len(x.keys))
    retype = _State(value, sel, [])
    if sel != (0, len(value)):
        retype.press("Control+a")
    for ch in target:
        retype.press(ch)
    if not target and value:
        retype.press("Backspace")
    chosen = st if len(st.keys) <= len(retype.keys) else retype
    assert chosen.value == target, (value, target, chosen.keys)
    return chosen.keys


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Item:
    mode: str
    field: str
    action: str  # confirm | correct
    keys: float  # a grid's one Enter is shared by what it confirms
    seconds: float
    distance: int  # edit distance from the suggestion to the truth (text fields)
    source: str = ""
    page: int = 0


@dataclass
class ModeRun:
    mode: str
    items: list[Item] = field(default_factory=list)
    wrong: int = 0  # values left different from the truth after the run
    left: int = 0  # fields still waiting at the end
    misses: int = 0  # edit plans the page did not follow (retyped instead, keys counted)

    def summary(self) -> dict[str, Any]:
        def med(xs: list[float]) -> float | None:
            return round(statistics.median(xs), 3) if xs else None

        conf = [i for i in self.items if i.action == "confirm"]
        corr = [i for i in self.items if i.action == "correct"]
        text = [i for i in corr if i.distance > 0]
        return {
            "mode": self.mode, "items": len(self.items), "confirm": len(conf),
            "correct": len(corr),
            "keys_confirm": med([i.keys for i in conf]),
            "keys_correct": med([i.keys for i in corr]),
            "keys_correct_text": med([i.keys for i in text]),
            "distance_text": med([i.distance for i in text]),
            "keys_over_distance": med([i.keys - i.distance for i in text]),
            "within_distance_plus_3": (sum(i.keys <= i.distance + 3 for i in text), len(text)),
            "seconds_confirm": med([i.seconds for i in conf]),
            "seconds_correct": med([i.seconds for i in corr]),
            "wrong_after": self.wrong, "left_after": self.left, "planner_misses": self.misses,
        }


def _truth(folder: Path) -> dict[tuple[str, int], dict[str, str]]:
    out = {}
    for tf in sorted(folder.glob("*.truth.json")):
        t = json.loads(tf.read_text(encoding="utf-8"))
        for p in t["pages"]:
            if p.get("kind") == "form":
                out[(t["file"], int(p["page"]))] = p["fields"]
    return out


def _same(kind: FieldKind, a: str, b: str) -> bool:
    from pipeline.bench import normalise

    return normalise(kind, a) == normalise(kind, b)


@contextmanager
def _server(root: Path) -> Iterator[str]:
    from werkzeug.serving import make_server

    from pipeline.review.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = make_server("127.0.0.1", 0, create_app(root), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


class Reviewer:
    """One browser tab driven like a person who knows the truth."""

    def __init__(self, page: Any, base: str, truth: dict, template: Template, mode: str) -> None:
        self.page, self.base, self.truth, self.tpl, self.mode = page, base, truth, template, mode
        self.items: list[Item] = []
        self.misses = 0  # plans the page did not follow (then retyped, keys counted)

    def _nav(self, key: str) -> int:
        with self.page.expect_navigation() as nav:
            self.page.keyboard.press(key)
        self.page.wait_for_load_state()
        resp = nav.value
        return resp.status if resp else 0

    def want(self, source: str, page: int, fid: str) -> str:
        return self.truth.get((source, page), {}).get(fid, "")

    def text_keys(self, selector: str, target: str) -> list[str]:
        """Plan from what the input shows now: its value, selection and doubts."""
        st = self.page.evaluate(
            "(sel) => { const i = document.querySelector(sel); if (!i.doubts) { "
            "try { i.doubts = JSON.parse(i.getAttribute('data-doubts') || '[]'); } catch (e) "
            "{ i.doubts = []; } } return [i.value, i.selectionStart, i.selectionEnd, i.doubts]; }",
            selector)
        value, a, b, spans = st
        return plan(value, (a, b), [tuple(s) for s in spans], target)

    def type_to(self, selector: str, target: str) -> list[str]:
        """Press the planned keys; if the page ended elsewhere (a planner miss), retype it."""
        keys = self.text_keys(selector, target)
        self.press_all(keys)
        if self.page.input_value(selector) != target:
            self.misses += 1
            retype = ["Control+a", *target] if target else ["Control+a", "Backspace"]
            self.press_all(retype)
            keys += retype
        assert self.page.input_value(selector) == target
        return keys

    def press_all(self, keys: list[str]) -> None:
        """Press named keys; type single characters, since ``press`` knows only the US
        layout's keys and refuses "É" (``type`` inserts what no key produces)."""
        for k in keys:
            if len(k) == 1:
                self.page.keyboard.type(k)
            else:
                self.page.keyboard.press(k)

    # one field at a time --------------------------------------------------------------------

    def single(self, mode: str | None = None) -> None:
        self.page.goto(self.base + "/")
        while self.page.locator("section.review").count():
            t0 = time.perf_counter()
            sec = self.page.locator("section.review")
            fid, src = sec.get_attribute("data-field"), sec.get_attribute("data-source")
            pg = int(sec.get_attribute("data-page") or 0)
            spec = self.tpl.field(fid or "")
            target = self.want(src or "", pg, fid or "")
            keys: list[str]
            if spec.is_box:
                current = self.page.locator(".choice.current").get_attribute("value") \
                    if self.page.locator(".choice.current").count() else None
                if current == target:
                    keys, distance, action = ["Enter"], 0, "confirm"
                else:
                    key = self.page.locator(f'.choice[value="{target}"]').get_attribute(
                        "data-key")
                    keys, distance, action = [key or ""], 0, "correct"
                shown = ""
            else:
                shown = self.page.input_value("#value")
                if _same(spec.kind, shown, target):
                    keys, distance, action = ["Enter"], 0, "confirm"
                else:
                    edits = self.type_to("#value", target)
                    keys, action = [*edits, "Enter"], "correct"
                    distance = Levenshtein.distance(shown, target)
            status = self._nav(keys[-1])
            if status == 422 and self.page.locator("#override-button").count():
                keys.append("Alt+o")  # the truth is what was written, checks or not
                self._nav("Alt+o")
            elif status == 409:
                break
            self.items.append(Item(mode or self.mode, fid or "", action, len(keys),
                                   time.perf_counter() - t0, distance, src or "", pg))

    # group verification ---------------------------------------------------------------------

    def groups(self) -> None:
        """Each field type's grid: arrows to the wrong ones, Space, Enter; then the queue."""
        rejected: dict[tuple[str, str, int], float] = {}
        for name in (f.id for f in self.tpl.fields):
            self.page.goto(f"{self.base}/group/{name}")
            items = self.page.locator(".group-item")
            n = items.count()
            if not n:
                continue
            t0 = time.perf_counter()
            spec = self.tpl.field(name)
            shown = [(it.get_attribute("data-source") or "", int(it.get_attribute("data-page")
                                                                 or 0),
                      it.get_attribute("data-value") or "")
                     for it in (items.nth(i) for i in range(n))]
            wrong = [i for i, (src, pg, value) in enumerate(shown)
                     if not (value == self.want(src, pg, name) if spec.is_box
                             else _same(spec.kind, value, self.want(src, pg, name)))]
            per_row = self.page.evaluate(
                "() => { const f = document.querySelector('.group-grid'); "
                "const i = f.querySelector('.group-item'); "
                "return Math.max(1, Math.round(f.clientWidth / i.offsetWidth)); }")
            at = 0
            for i in wrong:  # arrows to each wrong one, Space rejects it
                rows, cols = i // per_row - at // per_row, i % per_row - at % per_row
                path = (["ArrowDown" if rows > 0 else "ArrowUp"] * abs(rows)
                        + ["ArrowRight" if cols > 0 else "ArrowLeft"] * abs(cols))
                if len(path) > abs(i - at):
                    path = ["ArrowRight" if i > at else "ArrowLeft"] * abs(i - at)
                self.press_all([*path, " "])
                rejected[(name, shown[i][0], shown[i][1])] = len(path) + 1
                at = i
            self._nav("Enter")
            seconds = (time.perf_counter() - t0) / n
            confirmed = n - len(wrong)
            for i, (src, pg, _value) in enumerate(shown):
                if i not in wrong:  # the grid's one Enter, shared by all it confirms
                    self.items.append(Item("group", name, "confirm", 1 / confirmed, seconds, 0,
                                           src, pg))
        before = len(self.items)
        self.single("group")  # the rejected ones (and any refused), one at a time
        for it in self.items[before:]:
            it.keys += rejected.get((it.field, it.source, it.page), 0)

    # form at a time ------------------------------------------------------------------------

    def forms(self) -> None:
        self.page.goto(self.base + "/form")
        while self.page.locator("[data-form-mode]").count():
            fields = self.page.locator(".form-field")
            n = fields.count()
            t0 = time.perf_counter()
            done: list[Item] = []
            for i in range(n):
                box = fields.nth(i)
                fid = box.get_attribute("data-field") or ""
                field_id = box.get_attribute("data-field-id")
                src, pg = box.get_attribute("data-source") or "", int(box.get_attribute(
                    "data-page") or 0)
                spec = self.tpl.field(fid)
                target = self.want(src, pg, fid)
                sel = f"#value-{field_id}"
                refused = "refused" in (box.get_attribute("class") or "")
                keys: list[str] = []
                distance, action = 0, "confirm"
                if spec.is_box:
                    current = self.page.input_value(sel)
                    if current != target:
                        caption = target or "empty"
                        keys.append(caption[0])
                        action = "correct"
                else:
                    shown = self.page.input_value(sel)
                    if not _same(spec.kind, shown, target):
                        keys = self.type_to(sel, target)
                        distance = Levenshtein.distance(shown, target)
                        action = "correct"
                if spec.is_box:
                    self.press_all(keys)
                if refused:  # keep it anyway: Tab to the tick box, Space, back
                    self.press_all(["Tab", " ", "Shift+Tab"])
                    keys += ["Tab", " ", "Shift+Tab"]
                keys.append("Enter")
                if i == n - 1:
                    status = self._nav("Enter")
                else:
                    self.page.keyboard.press("Enter")
                    status = 0
                done.append(Item("form", fid, action, len(keys), 0.0, distance))
            seconds = time.perf_counter() - t0
            if status == 422:  # refused ones come back: their keys add to what they cost
                for it in done:
                    it.seconds = seconds / n
                self.items.extend(done)
                continue
            for it in done:
                it.seconds = seconds / n
            self.items.extend(done)
            if "/form/" not in self.page.url:
                break


def _check(root: Path, truth: dict, template: Template) -> tuple[int, int]:
    """(values different from the truth among reviewed fields, fields still waiting)."""
    from pipeline.store import Workspace

    kinds = {f.id: f.kind for f in template.fields}
    wrong = left = 0
    with Workspace(root, create=False) as ws:
        for r in ws.field_rows():
            if r["status"] == "review":
                left += 1
            elif r["status"] in ("confirmed", "corrected"):
                want = truth.get((r["source_file"], r["page"]), {}).get(r["field"], "")
                wrong += not _same(kinds[r["field"]], r["value"], want)
    return wrong, left


def run(workspace: Path, truth_folder: Path, work: Path, modes: tuple[str, ...] = MODES,
        template: Template | None = None) -> list[ModeRun]:
    """Clear the queue of `workspace` once per mode, each on a fresh copy under `work`."""
    from playwright.sync_api import sync_playwright

    tpl = template or default_template()
    truth = _truth(truth_folder)
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for mode in modes:
            root = work / f"review-{mode}"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(workspace, root)
            with _server(root) as base:
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                page = ctx.new_page()
                page.goto(base + "/who")
                page.keyboard.type(f"scripted-{mode}")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                r = Reviewer(page, base, truth, tpl, mode)
                {"single": r.single, "group": r.groups, "form": r.forms}[mode]()
                ctx.close()
            wrong, left = _check(root, truth, tpl)
            out.append(ModeRun(mode, r.items, wrong, left, r.misses))
        browser.close()
    return out


def table(summaries: list[dict[str, Any]]) -> list[str]:
    """Markdown table of `ModeRun.summary()` rows."""
    lines = ["| mode | items (confirm / correct) | keys to confirm | keys to correct "
             "| text: keys / edit distance (median) | within distance + 3 "
             "| s per confirm | s per correct | wrong after | left |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m in summaries:
        within = m["within_distance_plus_3"]
        lines.append(
            f"| {m['mode']} | {m['items']} ({m['confirm']} / {m['correct']}) "
            f"| {m['keys_confirm']} | {m['keys_correct']} "
            f"| {m['keys_correct_text']} / {m['distance_text']} | {within[0]} of {within[1]} "
            f"| {m['seconds_confirm']} | {m['seconds_correct']} | {m['wrong_after']} "
            f"| {m['left_after']} |")
    return lines


def report(runs: list[ModeRun]) -> list[str]:
    return table([r.summary() for r in runs])


BENCH_FORMS, BENCH_SEED = 6, 4321  # the batch issue 26 names; no test or fit set uses it


def bench(out_dir: Path, log: Any = print, workers: int | None = None) -> dict[str, Any]:
    """The benchmark's review figures: generate the batch, process it, clear it per mode.

    Returns the per-mode summaries (see `ModeRun.summary`), or why it could not run.
    """
    if not CHROMIUM.exists():
        return {"skipped": f"no Chromium at {CHROMIUM}"}
    try:
        import playwright  # noqa: F401
    except ImportError:
        return {"skipped": "the playwright package is not installed"}
    from pipeline.process import process
    from pipeline.store import Workspace
    from pipeline.synth import generate

    data, root = out_dir / "review-set", out_dir / "review-workspace"
    for d in (data, root):
        shutil.rmtree(d, ignore_errors=True)
    log(f"review: {BENCH_FORMS} forms (seed {BENCH_SEED}), cleared by a scripted reviewer ...")
    generate(BENCH_FORMS, BENCH_SEED, data)
    with Workspace(root) as ws:
        process([data], ws, workers=workers, batch="review-bench")
    runs = run(root, data, out_dir)
    return {"forms": BENCH_FORMS, "seed": BENCH_SEED,
            "modes": [r.summary() for r in runs]}


def bench_report(r: dict[str, Any]) -> list[str]:
    """The bench report's section on review speed."""
    lines = ["", "## Review speed (scripted reviewer in Chromium, issue 26)"]
    if "skipped" in r:
        return [*lines, f"- not measured: {r['skipped']}"]
    lines.append(f"- {r['forms']} generated forms (seed {r['seed']}), their review queue cleared "
                 "once per mode, knowing the truth; keys per item (a chord is one key, a grid's "
                 "Enter is shared by what it confirms); seconds are the app's and the browser's, "
                 "no human reading time")
    lines.append("")
    lines += table(r["modes"])
    over = ", ".join(f"{m['mode']} {m['keys_over_distance']}" for m in r["modes"])
    lines.append("")
    lines.append(f"- median of (keys to correct a wrong text suggestion - its edit distance): "
                 f"{over} (target: 3 or less)")
    return lines


if __name__ == "__main__":  # python -m pipeline.review.scripted WORKSPACE TRUTH_FOLDER WORK
    import sys

    runs = run(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print("\n".join(report(runs)))
    print(json.dumps([r.summary() for r in runs], indent=1))
