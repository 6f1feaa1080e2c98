"""Read one page: triage, registration, every field's value, confidence and status.

This is a worker's whole job. It holds no database and no global state except
its reused OCR engine, so it runs the same in-process, in a process pool or on
a cluster node.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from pipeline import (
    accents,
    addresssuggest,
    locate,
    mailsuggest,
    marks,
    preprocess,
    spelling,
    suggest,
    validate,
    vocabulary,
)
from pipeline.imaging import baseline_wobble
from pipeline.models import (
    FieldResult,
    PageImage,
    PageKind,
    PageResult,
    Reason,
    Registration,
    Status,
)
from pipeline.ocr import OcrEngine
from pipeline.register import register, warp
from pipeline.render import label_width_mm
from pipeline.template import FieldKind, FormField, Rect, Template
from pipeline.trust import handnames, lexicon, postcodes, second_engine
from pipeline.trust.calibrate import (
    TYPED_PAGE_TCONF,
    TYPED_PAGE_WOBBLE,
    Model,
    guess_style,
    load_model,
)
from pipeline.trust.evidence import TESS, TextEvidence, candidates, page_context
from pipeline.trust.handreaders import LineRecogniser, hand_readers
from pipeline.trust.second import RapidRecogniser

# A box field's confidence at or above which it is accepted without review. Text
# fields are accepted by the calibrated model (pipeline/trust/model.json) instead.
ACCEPT = {
    FieldKind.CHOICE: 0.60,
    FieldKind.CHECKBOX: 0.60,
}
ALT_TRY_BELOW = 0.85  # Tesseract confidence below which the line's other crop is read too
ALT_TRY_ABOVE = 0.5  # ... and above which: lower, Tesseract is not reading it at all (handwriting)
SECOND_PAGE_MIN = TYPED_PAGE_TCONF  # on a page whose median field it reads this surely
ALONE_CONF = 0.95  # typed text Tesseract reads this surely is not read a second time
# Below: every field goes to review as poor_registration. Matches bunched in three of
# the page's twelve cells (quality 0.6) fitted one part of a photo and misplaced the
# rest: boxes read there were wrong.
MIN_REGISTRATION = 0.7
EMPTY_CONFIDENCE = 0.97  # a writing area with no ink in it
PAGE_VIEW_DPI = 100
FIELD_ROWS_MARGIN_MM = 6.0  # room for marks and crops around the outermost fields
FIELD_VIEW_DPI = 150
FIELD_VIEW_QUALITY = 90


def _jpeg(img: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


def _scaled(img: np.ndarray, dpi: int) -> np.ndarray:
    k = dpi / locate.DPI
    return cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)


def _field_rows(template: Template) -> tuple[float, float]:
    """The band of the page (mm from the top) that holds every writing area and box."""
    tops = [ln.area.y_mm for f in template.fields for ln in f.lines]
    tops += [o.box.y_mm for f in template.fields for o in f.options]
    bottoms = [ln.area.y1_mm for f in template.fields for ln in f.lines]
    bottoms += [o.box.y_mm + o.box.size_mm for f in template.fields for o in f.options]
    return min(tops) - FIELD_ROWS_MARGIN_MM, max(bottoms) + FIELD_ROWS_MARGIN_MM


def _box_group_rect(template: Template, f: FormField) -> Rect:
    x0 = min(o.box.x_mm for o in f.options) - 1.5
    y0 = min(o.box.y_mm for o in f.options) - 1.5
    x1 = max(o.label.x_mm + label_width_mm(template, o.label.text) for o in f.options) + 1.5
    y1 = max(o.box.y_mm + o.box.size_mm for o in f.options) + 1.5
    return Rect(x_mm=x0, y_mm=y0, w_mm=x1 - x0, h_mm=y1 - y0)


def _field_image(page: np.ndarray, rects: list[Rect]) -> bytes:
    crops = [_scaled(locate.crop(page, r, pad_mm=1.0), FIELD_VIEW_DPI) for r in rects]
    w = max(c.shape[1] for c in crops)
    rows = [np.pad(c, ((0, 0), (0, w - c.shape[1])), constant_values=255) for c in crops]
    # JPEG at 90: to the eye the same grey writing as PNG, at half the bytes and a
    # seventh of the time (PNG took 8 ms of every page)
    return _jpeg(np.vstack(rows), FIELD_VIEW_QUALITY)


def _gather_text(page: np.ndarray, template: Template, f: FormField,
                 engine: OcrEngine) -> TextEvidence:
    """Clean and read every line of a text field with Tesseract; decide nothing yet."""
    ev = TextEvidence(f.id, f.kind, [], [], words=bool(f.ocr and f.ocr.hint == "words"))
    mail = f.kind == FieldKind.EMAIL
    for line in f.lines:
        c = locate.clean_line(page, template, line, strict=mail)
        ev.crops.append(c.clean)
        wobble = baseline_wobble(c.clean)
        if wobble is not None:
            ev.wobble.append(wobble)
        ev.dots_in_text += c.dots_in_text
        ev.ink_px += c.ink_px
        if c.clean.size == 0:
            ev.t_lines.append("")
            ev.t_confs.append(EMPTY_CONFIDENCE)
            ev.t_words.append(())
            continue
        whitelist = f.ocr.whitelist if f.ocr else None
        # Writing on the dots: the crop with the dots under the letters cleared
        # reads better, except in an e-mail, where clearing a dot fused to a
        # letter can take the address's own "." with it.
        first, other = c.clean, c.alt
        if c.alt is not None and not mail:
            first, other = c.alt, c.clean
        reading = engine.read_line(first, whitelist, boxes=mail)
        used = first
        # (An e-mail's first crop keeps the fused dots: there a low confidence is
        # as likely the dots as writing Tesseract cannot read.)
        floor = 0.0 if mail else ALT_TRY_ABOVE
        if other is not None and floor <= reading.confidence < ALT_TRY_BELOW:
            # Unsure: read the other crop too and keep whichever Tesseract is surer of.
            retry = engine.read_line(other, whitelist, boxes=mail)
            if retry.confidence > reading.confidence:
                reading, used = retry, other
        # The second engine reads the same crop, except in an e-mail: there it
        # gets the one with the fused dots cleared, so that both engines agreeing
        # cannot come from the same dot read as part of a letter ("cc-" as "ce-").
        ev.crops[-1] = c.alt if mail and c.alt is not None else used
        ev.t_lines.append(reading.text)
        ev.t_confs.append(reading.confidence)
        ev.t_words.append(reading.words)
        ev.boxes = reading.boxes
    return ev


def _second_opinion(ev: TextEvidence, f: FormField, second: RapidRecogniser) -> None:
    """The cascade's second step: the other engine on the crops `_gather_text` chose for it."""
    for crop in ev.crops:
        if crop.size == 0:
            ev.r_lines.append("")
            ev.r_confs.append(EMPTY_CONFIDENCE)
            continue
        r = second.read_line(crop, f.ocr.whitelist if f.ocr else None)
        ev.r_lines.append(r.text)
        ev.r_confs.append(r.confidence)


WORD_PAD = 0.3  # of the line's height: room kept around a word read again
WHOLE_LINE = 0.7  # of a line's width in doubt: the whole line is read again
STRAY_INK = 0.25  # of the line's height: ink this tall outside every word Tesseract read
BARELY_READ = 0.5  # a word Tesseract read below this: likely handwriting, read the whole line


def _stray_ink(crop: np.ndarray, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of columns holding writing that no word Tesseract read covers: a house
    number it dropped ("1 avenue" read "avenue") is evidence it must not hide."""
    ink = crop < 128
    rows = np.arange(crop.shape[0])[:, None]
    top = np.where(ink, rows, crop.shape[0]).min(axis=0)
    bottom = np.where(ink, rows, -1).max(axis=0)
    tall = (bottom - top + 1) >= STRAY_INK * crop.shape[0]
    for x0, x1 in spans:
        tall[max(0, x0 - 2): x1 + 3] = False
    cols = np.flatnonzero(tall)
    if cols.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(cols) > 1)
    firsts = np.r_[cols[0], cols[breaks + 1]]
    lasts = np.r_[cols[breaks], cols[-1]]
    return [(int(a), int(b) + 1) for a, b in zip(firsts, lasts, strict=True)]


def _doubtful_stretches(items: Sequence[tuple[int, int, bool]], width: int,
                        height: int) -> list[tuple[int, int, int, int]]:
    """Runs of neighbouring pieces to read again: (first piece, last + 1, x0, x1).

    `items` are the line's pieces left to right (left, right column, doubtful).
    Each stretch's columns reach halfway into the gaps beside it (at most
    WORD_PAD of the line's height), so that the second engine sees whole
    letters and none of the neighbours'.
    """
    out = []
    i = 0
    while i < len(items):
        if not items[i][2]:
            i += 1
            continue
        j = i
        while j + 1 < len(items) and items[j + 1][2]:
            j += 1
        pad = WORD_PAD * height
        x0 = items[i][0] - pad if i == 0 else max(items[i][0] - pad,
                                                  (items[i - 1][1] + items[i][0]) / 2)
        x1 = items[j][1] + pad if j + 1 == len(items) else min(items[j][1] + pad,
                                                               (items[j][1] + items[j + 1][0]) / 2)
        out.append((i, j + 1, max(0, int(x0)), min(width, int(x1 + 1))))
        i = j + 1
    return out


def _second_on_doubts(ev: TextEvidence, f: FormField, second: RapidRecogniser) -> bool:
    """The cascade's word-level step, on typed pages: the other engine reads only what
    Tesseract was unsure of, and its reading takes that part's place in Tesseract's.

    Unsure: a word read below ALONE_CONF (a speck read as "-" too), and writing
    no word covers. Words read at ALONE_CONF or above are what a whole field
    read that surely is trusted on (`_tesseract_alone`); the rest agree or not
    as a whole line's reading would. About a third of a typed line's width is
    read instead of all of it. False (nothing read) where Tesseract's words do
    not spell its line.
    """
    if not len(ev.t_lines) == len(ev.t_words) == len(ev.crops):
        return False  # no word places kept (an engine that gives none)
    lines, confs = [], []
    for text, conf, words, crop in zip(ev.t_lines, ev.t_confs, ev.t_words, ev.crops,
                                       strict=True):
        if crop.size == 0:
            lines.append("")
            confs.append(EMPTY_CONFIDENCE)
            continue
        if [w for w, *_ in words] != text.split():
            return False
        # the line's pieces: its words, and writing between them none covers
        pieces = [(x0, x1, c < ALONE_CONF, w) for w, c, x0, x1 in words]
        pieces += [(x0, x1, True, "") for x0, x1 in _stray_ink(crop, [p[:2] for p in pieces])]
        pieces.sort()
        stretches = _doubtful_stretches([p[:3] for p in pieces], *crop.shape[::-1])
        if (not text or min(c for _, c, *_ in words) < BARELY_READ
                or sum(x1 - x0 for *_, x0, x1 in stretches) >= WHOLE_LINE * crop.shape[1]):
            # ink Tesseract made nothing of, a word it barely read (handwriting,
            # like as not), or most of the line in doubt: read it all, in context
            stretches = [(0, len(pieces), 0, crop.shape[1])]
        tokens: list[str] = []
        read: list[float] = []
        done = 0
        for i, j, x0, x1 in stretches:
            tokens += [p[3] for p in pieces[done:i] if p[3]]
            r = second.read_line(crop[:, x0:x1], f.ocr.whitelist if f.ocr else None)
            tokens += r.text.split()
            read.append(r.confidence)
            done = j
        tokens += [p[3] for p in pieces[done:] if p[3]]
        lines.append(" ".join(tokens))
        confs.append(min(read, default=conf))  # a line of sure words: Tesseract's
    ev.r_lines, ev.r_confs = lines, confs
    return True


def _tesseract_alone(ev: TextEvidence, f: FormField, page_tconf: float, typed_look: bool) -> bool:
    """The cascade's first step: typed words Tesseract is this sure of need no second reading.

    On generated sets, names, titles and addresses read at word confidence
    >= ALONE_CONF on typed pages were wrong 2 times in 1,784; the calibrated
    model and its thresholds still decide, with `alone` as one of its signals.
    An e-mail or a phone number is always read twice (a lost "." or digit
    leaves no unknown word behind).
    """
    if f.kind not in (FieldKind.TEXT, FieldKind.ADDRESS) or not any(ev.t_lines):
        return False
    if ev.tconf < ALONE_CONF or page_tconf < SECOND_PAGE_MIN or not typed_look:
        return False
    return validate.check_value(f.kind, ev.raw(TESS)).ok


def _needs_second(ev: TextEvidence, f: FormField, page_tconf: float) -> bool:
    """The cascade: the second engine reads what it could help to accept, and the
    handwriting it reads better than Tesseract.

    On a page Tesseract reads surely (typed, mostly) it reads every field whose
    format holds: below ALONE_CONF Tesseract alone never earns acceptance, and a
    field that fails its format goes to a reviewer whatever it says. On a page
    read unsurely (handwriting) it reads the fields the template marks
    `second_by_hand`, short ones whose handwriting it reads far better than
    Tesseract, for the reviewer's suggestion (on the fit sets, block-capital
    surnames 76 % right instead of 56 %). A phone number is always read twice.
    """
    if not any(ev.t_lines):
        # Ink left after cleaning that Tesseract makes nothing of (an unusual hand
        # or font): the other engine may read it, for the reviewer at least.
        return any(c.size for c in ev.crops)
    if f.kind == FieldKind.PHONE:
        # Always: on handwriting the second engine reads digits better than
        # Tesseract (a better suggestion for the reviewer), and it is one short line.
        return True
    if page_tconf < SECOND_PAGE_MIN:
        return bool(f.ocr and f.ocr.second_by_hand)
    return validate.check_value(f.kind, ev.raw(TESS)).ok


def _decide_text(page: np.ndarray, f: FormField, ev: TextEvidence, reg: Registration,
                 page_values: dict[str, str], ctx: dict[str, float], style: str,
                 model: Model, names: Sequence[str] = (),
                 hand: suggest.PageHand | None = None) -> FieldResult:
    """Pick the likeliest candidate as the suggestion; accept it only past every gate."""
    cands = candidates(ev, page_values, ctx, reg.quality, style)
    scored = [(model.probability(f.id, c.source, c.x), i, c) for i, c in enumerate(cands)]
    p, _, best = max(scored, key=lambda t: (t[0], -t[1]))
    checked = best.checked
    reasons: list[Reason] = []
    if not checked.ok:
        reasons.append(Reason.INVALID_FORMAT)
    conf = min(p, reg.quality)
    agreed = (ev.ran_second and best.x["agree"] == 1.0) or ev.alone
    # An empty reading is trusted only on a page whose names were read: a page that
    # reads empty everywhere is more likely ink too faint to find than a blank form.
    unread_names = not (page_values.get("nom") and page_values.get("prenom"))
    if not reasons and (conf < model.threshold(f.id, style) or not agreed
                        or best.x["implausible"] == 1.0 or (not checked.value and unread_names)):
        reasons.append(Reason.LOW_CONFIDENCE)
    repairs = list(checked.repairs)
    if best.source != TESS and best.raw != ev.raw(TESS):
        repairs.append(f"suggested from the second engine's reading {best.raw!r}")
    value = checked.value
    other = next((c.checked.value for c in cands if c is not best), "")
    if f.kind == FieldKind.EMAIL and reasons:
        value = mailsuggest.without_spaces(value, repairs)
        value = mailsuggest.likelier_mail(value, other, repairs)
        value = mailsuggest.at_sign(value, repairs)  # "perrin.fredericQwanadoo.fr"
        value = mailsuggest.capital_r(value, repairs,  # "LEGKANDCLEKMONT.COM"
                                      capitals=bool(hand and hand.capitals))
        value = mailsuggest.usual_ending(value, repairs)  # "cc-saint-flour.fk"
    if f.kind == FieldKind.EMAIL and value:
        # A few letters off the names on the form ("marcelebecker" beside Marcelle
        # Becker): a misreading both engines can share, typed as well as by hand.
        named = mailsuggest.mail_name_suggestion(value, names, repairs)
        if style == "typed":
            # and typed, a "." between the names lost with the printed dot under it
            named = mailsuggest.dot_in_gap(named, ev.boxes, names, repairs)
        if named != value:
            value = named
            if not reasons:
                reasons.append(Reason.LOW_CONFIDENCE)
    if reasons:
        # Only for a reviewer to confirm: what is put right here is never accepted.
        value = suggest.prefill(ev, value, repairs, style, other, best.source,
                                hand or suggest.PageHand())
    return FieldResult(
        field=f.id,
        value=value,
        raw=ev.raw(TESS),
        confidence=round(conf, 3),
        status=Status.REVIEW if reasons else Status.ACCEPTED,
        reasons=tuple(reasons),
        repairs=tuple(repairs),
        evidence={"style": style, "chosen": best.source,
                  "candidates": {c.source: {"value": c.checked.value, "ok": c.checked.ok,
                                            "p": round(pp, 5), "x": c.x}
                                 for pp, _, c in scored}},
    )


def _decide_by_hand(f: FormField, ev: TextEvidence, readers: Sequence[LineRecogniser],
                    reg: Registration, style: str) -> FieldResult | None:
    """A handwritten name, decided by the handwriting readers (pipeline.trust.handnames)
    instead of from Tesseract's and PP-OCRv4's readings; None when they read nothing,
    and the field is decided from those readings as any other."""
    crops = [c for c in ev.crops if c.size]
    if not crops or not f.ocr or not f.ocr.names:
        return None
    hand = handnames.decide(crops[0], readers, f.ocr.names)
    if not hand.value:
        return None
    checked = validate.check_value(f.kind, hand.value)
    reasons = [] if hand.accepted and checked.ok else [
        Reason.LOW_CONFIDENCE if checked.ok else Reason.INVALID_FORMAT]
    repairs = () if hand.accepted else (f"not accepted: {hand.why}",)
    # Each reader's own reading is kept with the field (the reviewer's alternatives,
    # and the benchmark's "each reader alone on the pipeline's crops").
    candidates = {r.engine: {"value": r.text, "p": round(r.confidence, 5)}
                  for r in hand.readings}
    return FieldResult(field=f.id, value=checked.value or hand.value, raw=hand.readings[0].text,
                       confidence=round(min(hand.confidence, reg.quality), 3),
                       status=Status.REVIEW if reasons else Status.ACCEPTED,
                       reasons=tuple(reasons), repairs=repairs,
                       evidence={"style": style, "chosen": "hand", "hand": hand.evidence(),
                                 "candidates": candidates})


def _read_boxes(
    page: np.ndarray, template: Template, f: FormField, reg: Registration
) -> FieldResult:
    g = marks.read_group(page, template, f)
    conf = min(g.confidence, reg.quality)
    reasons = list(g.reasons)
    if conf < ACCEPT[f.kind] and not reasons:
        reasons.append(Reason.LOW_CONFIDENCE)
    raw = marks.describe(g.marks)
    return FieldResult(
        field=f.id,
        value=g.value,
        raw=raw,
        confidence=round(conf, 3),
        status=Status.REVIEW if reasons else Status.ACCEPTED,
        reasons=tuple(reasons),
        image=_field_image(page, [_box_group_rect(template, f)]),
        marks=g.marks,
    )


def _apply_form_rules(template: Template, fields: list[FieldResult]) -> list[FieldResult]:
    """Rules across fields (required, lunch without attendance) and registration doubts."""
    values = {f.field: f.value for f in fields}
    extra = validate.form_rules(template, values)
    implied = validate.form_inferences(template, values)
    out = []
    for f in fields:
        if f.field in implied:
            value, why = implied[f.field]
            f = replace(f, value=value, repairs=(*f.repairs, why))
        reasons = list(f.reasons)
        for r in extra.get(f.field, []):
            if r not in reasons:
                reasons.append(r)
        if reasons != list(f.reasons):
            f = FieldResult(**{**f.__dict__, "reasons": tuple(reasons), "status": Status.REVIEW})
        out.append(f)
    return out


def _load_tables() -> None:
    """Every table the modules that judge readings build once and keep (`functools.cache`,
    no arguments): lexicons, place and postcode tables.

    The made-up readings of `warm_up` miss some of them, and a table loaded
    on first use is charged to that page's timings.
    """
    for module in (lexicon, spelling, vocabulary, postcodes, accents, validate, addresssuggest):
        for f in vars(module).values():
            if (callable(f) and hasattr(f, "cache_info")
                    and getattr(f, "__module__", None) == module.__name__
                    and not any(p.default is p.empty
                                for p in inspect.signature(f).parameters.values())):
                f()


def warm_up(template: Template) -> None:
    """Load once per worker, before its first page, what reading a page looks up:
    the second engine, the calibrated model, the lexicons and the digit reader.

    About a second from the disk cache. Loaded on first use instead, it would be
    charged to whichever pages come first (and to the trust layer's timings).
    So every text field is decided once, in both styles, on made-up readings.
    """
    second_engine()
    hand_readers()
    model = load_model()
    vocabulary.nearest("commanes", "words")  # the tie-breakers: the field's words, word counts
    lexicon.word_count("commune")
    _load_tables()
    # France's postcode table, by name and by code
    addresssuggest.place_suggestion("1 rue X, 63000 Xqzvw", [])
    # (a hyphenated word: the table of places of several words)
    samples = {FieldKind.TEXT: "Xqzv Dupônt-Xqzvw", FieldKind.ADDRESS: "1 rue Xqzv\n93000 Moulins",
               FieldKind.EMAIL: "xqzv.dupontQmairie-xqzvw.fr", FieldKind.PHONE: "04 73 00 00 0"}
    blank = np.full((40, 400), 255, np.uint8)
    for style in ("typed", "hand"):
        for f in template.fields:
            if f.kind not in samples:
                continue
            text = samples[f.kind]
            lines = text.split("\n")
            ev = TextEvidence(f.id, f.kind, lines, [0.9] * len(lines), [x.upper() for x in lines],
                              [0.9] * len(lines), crops=[blank] * len(lines),
                              words=bool(f.ocr and f.ocr.hint == "words"))
            for c in candidates(ev, {"nom": "Dupont", "prenom": "Xavier"}, {}, 1.0, style):
                model.probability(f.id, c.source, c.x)
            value = mailsuggest.at_sign(text, []) if f.kind == FieldKind.EMAIL else text
            value = mailsuggest.mail_name_suggestion(value, ["Xavier", "Dupont"], [])
            suggest.prefill(ev, value, [], style, text.upper())


def read_page(page: PageImage, template: Template, engine: OcrEngine) -> PageResult:
    """Everything formscan can say about one page."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    blank, share = preprocess.is_blank(page.image)
    if blank:
        return PageResult(page.ref, page.sha256, PageKind.BLANK,
                          f"blank page (ink on {share:.2%} of it)",
                          timings={"geometry": time.perf_counter() - t0})
    reg = register(page.image, template)
    if reg is None:
        return PageResult(page.ref, page.sha256, PageKind.OTHER,
                          f"not the inscription form (has writing on {share:.1%} of the page, "
                          "but its print does not match the form)",
                          timings={"geometry": time.perf_counter() - t0})
    registered = warp(page.image, reg, template, rows_mm=_field_rows(template))
    not_filled = preprocess.form_triage(registered, template)
    if not_filled is not None:  # the invitation, a letter quoting the form, a blank copy
        return PageResult(page.ref, page.sha256, not_filled.kind, not_filled.detail,
                          timings={"geometry": time.perf_counter() - t0})
    t1 = time.perf_counter()
    timings["geometry"] = t1 - t0

    results: dict[str, FieldResult] = {}
    evidence: dict[str, TextEvidence] = {}
    ocr_time = 0.0
    for f in template.fields:
        s = time.perf_counter()
        if f.is_box:
            results[f.id] = _read_boxes(registered, template, f, reg)
            timings["marks"] = timings.get("marks", 0.0) + time.perf_counter() - s
        else:
            evidence[f.id] = _gather_text(registered, template, f, engine)
            ocr_time += time.perf_counter() - s
    s = time.perf_counter()
    second = second_engine()
    read_once = page_context(list(evidence.values()))  # before any second reading
    page_tconf = read_once["page_tconf"]
    typed_look = read_once["page_wobble"] < TYPED_PAGE_WOBBLE
    if second is not None:
        for f in template.fields:
            if f.id in evidence and _tesseract_alone(evidence[f.id], f, page_tconf, typed_look):
                evidence[f.id].alone = True
            elif f.id in evidence and _needs_second(evidence[f.id], f, page_tconf):
                word_level = (typed_look and page_tconf >= SECOND_PAGE_MIN
                              and f.kind in (FieldKind.TEXT, FieldKind.ADDRESS))
                if not (word_level and _second_on_doubts(evidence[f.id], f, second)):
                    _second_opinion(evidence[f.id], f, second)
            elif f.id in evidence and not any(evidence[f.id].t_lines):
                # Nothing written: there is nothing for the second engine to dispute.
                ev = evidence[f.id]
                ev.r_lines = list(ev.t_lines)
                ev.r_confs = [EMPTY_CONFIDENCE] * len(ev.t_lines)
            # Otherwise the field was not read twice, and its evidence says so:
            # a copy of Tesseract's reading would count as the engines agreeing.
    timings["second"] = time.perf_counter() - s
    s = time.perf_counter()
    model = load_model()
    ctx = page_context(list(evidence.values()))
    style = guess_style(ctx["page_tconf"], ctx["page_agree"], ctx["page_wobble"])
    page_values = {fid: ev.raw(TESS) for fid, ev in evidence.items()}
    name_ids = [f.id for f in template.fields if f.ocr and f.ocr.hint == "name"]
    hand = suggest.page_hand(
        [page_values[f.id] for f in template.fields
         if f.kind in (FieldKind.TEXT, FieldKind.ADDRESS)],
        ", ".join(page_values[f.id].replace("\n", ", ") for f in template.fields
                  if f.kind == FieldKind.ADDRESS),
        [c for f in template.fields if f.kind in (FieldKind.TEXT, FieldKind.ADDRESS)
         and f.id in evidence for c in evidence[f.id].crops])
    readers = hand_readers() if style != "typed" else ()
    # e-mails last: a handwritten one's suggestion draws on the names decided before it
    for f in sorted(template.fields, key=lambda f: f.kind == FieldKind.EMAIL):
        if f.id in evidence:
            by_hand = (_decide_by_hand(f, evidence[f.id], readers, reg, style)
                       if readers and f.ocr and f.ocr.names else None)
            if by_hand is not None:
                results[f.id] = by_hand
                continue
            names = [results[i].value for i in name_ids if i in results]
            results[f.id] = _decide_text(registered, f, evidence[f.id], reg, page_values, ctx,
                                         style, model, names, hand)
    timings["trust"] = time.perf_counter() - s
    s = time.perf_counter()
    for f in template.fields:  # what reviewers see of each text field
        if f.id in evidence:
            results[f.id] = replace(results[f.id], image=_field_image(
                registered, [ln.area for ln in f.lines]))
    timings["images"] = time.perf_counter() - s
    results_list = [results[f.id] for f in template.fields]
    timings["ocr"] = ocr_time
    s = time.perf_counter()
    results = _apply_form_rules(template, results_list)
    doubts = preprocess.capture_doubts(registered, template, {r.field: r.value for r in results})
    results = [replace(r, status=Status.REVIEW, repairs=(*r.repairs, doubts[r.field]),
                       reasons=r.reasons if Reason.LOW_CONFIDENCE in r.reasons
                       else (*r.reasons, Reason.LOW_CONFIDENCE))
               if r.field in doubts else r for r in results]
    if reg.quality < MIN_REGISTRATION:
        results = [
            FieldResult(**{**r.__dict__, "status": Status.REVIEW,
                           "reasons": (*r.reasons, Reason.POOR_REGISTRATION)})
            for r in results
        ]
    timings["validation"] = time.perf_counter() - s
    detail = (
        f"registered: {reg.inliers} points, residual {reg.residual_mm:.2f} mm, "
        f"turned {reg.rotation_deg:+.1f}°, scale {reg.scale:.2f}, quality {reg.quality:.2f}"
    )
    page_view = _jpeg(warp(page.image, reg, template, dpi=PAGE_VIEW_DPI))
    return PageResult(page.ref, page.sha256, PageKind.FORM, detail, reg, tuple(results),
                      page_view, timings)
