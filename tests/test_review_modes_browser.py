"""Issue 26 in Chromium, from the keyboard: group verification, form at a time, the doubts'
caret, the page view scrolled to its field, the shortcut overlay, zoom; and a French
(AZERTY) keyboard, whose letters sit on other keys: events carry the French `key`
with the physical `code` of that key, as Chromium sends them there."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_review_browser as rb
from test_review_browser import CHROMIUM, new_reviewer, press, shot, showing, sync_playwright

from pipeline.review import queue as q
from pipeline.store import Workspace

# the browser tests' fixtures, shared
browser, built, server, shots = rb.browser, rb.built, rb.server, rb.shots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

# (key, code) as an AZERTY keyboard sends them: the letter printed, the key's position
AZERTY = {"q": "KeyA", "a": "KeyQ", "z": "KeyW", "w": "KeyZ", "m": "Semicolon",
          "f": "KeyF", "g": "KeyG", "n": "KeyN", "u": "KeyU", "s": "KeyS"}


def azerty(page, letter: str, alt: bool = False, ctrl: bool = False,
           navigates: bool = False) -> None:
    """Dispatch the keydown a French keyboard makes for `letter` (with Alt or Ctrl)."""
    js = ("([key, code, alt, ctrl]) => (document.activeElement || document.body).dispatchEvent("
          "new KeyboardEvent('keydown', {key, code, altKey: alt, ctrlKey: ctrl, bubbles: true,"
          " cancelable: true}))")
    args = [letter, AZERTY[letter], alt, ctrl]
    if navigates:
        with page.expect_navigation():
            page.evaluate(js, args)
        page.wait_for_load_state()
    else:
        page.evaluate(js, args)


def field_id(root: Path, source: str, page: int, field: str) -> int:
    with Workspace(root, create=False) as ws:
        return ws.db.execute(
            "SELECT f.id FROM fields f JOIN pages p ON p.id = f.page_id JOIN files fi "
            "ON fi.id = p.file_id WHERE fi.source_file = ? AND p.page = ? AND f.field = ?",
            (source, page, field)).fetchone()[0]


def test_azerty_shortcuts_follow_the_letters(browser, server) -> None:
    base, _root = server
    page, dialogs = new_reviewer(browser, base, "Amélie")
    first = showing(page)
    azerty(page, "m", alt=True, navigates=True)  # Alt+M: M sits on QWERTY's ';'
    assert page.url.endswith("/marks")
    azerty(page, "q", alt=True, navigates=True)  # Alt+Q: Q sits on QWERTY's A
    assert showing(page) == first
    press(page, "Enter")  # decide it, then Ctrl+Z (Z on QWERTY's W) undoes it
    assert showing(page) != first
    azerty(page, "z", ctrl=True, navigates=True)
    assert showing(page) == first and "Undone" in page.locator(".flash-ok").inner_text()
    azerty(page, "f", alt=True, navigates=True)
    assert "/form/" in page.url
    azerty(page, "g", alt=True, navigates=True)
    assert page.url.endswith("/group")
    assert dialogs == []


def test_group_verification_from_the_keyboard(browser, server, shots: Path) -> None:
    base, root = server
    with Workspace(root, create=False) as ws:  # every surname doubtful, as on a hard batch
        ws.db.execute("UPDATE fields SET status = 'review', reasons = 'low_confidence' "
                      "WHERE field = 'nom'")
    page, _ = new_reviewer(browser, base, "Amélie")
    azerty(page, "g", alt=True, navigates=True)
    page.goto(base + "/group/nom")
    items = page.locator(".group-item")
    assert items.count() == 4
    assert page.evaluate("document.activeElement.id") == items.nth(0).get_attribute("id")
    shot(page, shots / "group-nom.png")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")  # the second one is wrong: rejected
    assert "rejected" in (items.nth(1).get_attribute("class") or "")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.keyboard.press(" ")  # changed my mind: not rejected after all
    shot(page, shots / "group-nom-rejected.png")
    press(page, "Enter")
    assert "3 confirmed, 1 sent back" in page.locator(".flash-ok").inner_text()
    with Workspace(root, create=False) as ws:
        noms = {(r["source_file"], r["page"]): r["status"] for r in ws.field_rows()
                if r["field"] == "nom"}
    assert sorted(noms.values()) == ["confirmed", "confirmed", "confirmed", "review"]
    azerty(page, "q", alt=True, navigates=True)  # the rejected one is in the single queue
    with Workspace(root, create=False) as ws:
        assert any(f.field == "nom" for f in q.list_pending(ws))


def test_box_groups_hold_the_boxes_read_as_empty(browser, server, shots: Path) -> None:
    base, root = server
    page, _ = new_reviewer(browser, base, "Amélie")
    page.goto(base + "/group/dejeunera")
    tiles = page.locator(".group-item")
    assert tiles.count() == 1 and "read as empty" in tiles.nth(0).inner_text()
    shot(page, shots / "group-boxes.png")
    page.keyboard.press(" ")  # a faint tick was missed: to review
    press(page, "Enter")
    lunch = field_id(root, "scan-003.pdf", 2, "dejeunera")
    with Workspace(root, create=False) as ws:
        assert q.get_field(ws, lunch).status == "review"


def test_form_at_a_time_from_the_keyboard(browser, server, shots: Path) -> None:
    base, root = server
    page, _ = new_reviewer(browser, base, "Amélie")
    azerty(page, "f", alt=True, navigates=True)
    inputs = page.locator("[data-form-input]")
    assert inputs.count() == 3  # scan-001: structure, agent, mail
    structure = field_id(root, "scan-001.pdf", 1, "structure")
    assert page.evaluate("document.activeElement.id") == f"value-{structure}"

    def current_in_view() -> bool:
        return page.evaluate(
            "() => { const a = document.querySelector('.area.current'); if (!a) return false; "
            "const r = a.getBoundingClientRect(), "
            "c = document.querySelector('[data-page-scroll]').getBoundingClientRect(); "
            "return r.top >= c.top - 1 && r.bottom <= c.bottom + 1 && r.height > 0; }")

    assert page.locator(f"#area-{structure}.current").count() == 1 and current_in_view()
    shot(page, shots / "form-structure.png")
    page.keyboard.press("Control+a")
    page.keyboard.type("Mairie de Riom")
    page.keyboard.press("Enter")  # next field: the box, a select; its letter picks it
    agent = field_id(root, "scan-001.pdf", 1, "agent_collectivite")
    assert page.evaluate("document.activeElement.id") == f"value-{agent}"
    page.keyboard.press("o")
    page.keyboard.press("Enter")
    mail = field_id(root, "scan-001.pdf", 1, "mail")
    assert page.locator(f"#area-{mail}.current").count() == 1 and current_in_view()
    page.keyboard.press("End")
    page.keyboard.type(".fr")
    shot(page, shots / "form-mail.png")
    press(page, "Enter")  # Enter on the last field saves the form, the next one opens
    assert "3 fields of this form saved" in page.locator(".flash-ok").inner_text()
    with Workspace(root, create=False) as ws:
        assert q.get_field(ws, structure).value == "Mairie de Riom"
        assert q.get_field(ws, agent).value == "oui"
        assert q.get_field(ws, mail).value == "jeanne.dupont@exemple.fr"


def test_the_caret_starts_on_the_doubt_and_alt_n_jumps(browser, server, shots: Path) -> None:
    base, root = server
    prenom = field_id(root, "scan-003.pdf", 1, "prenom")
    mail = field_id(root, "scan-001.pdf", 1, "mail")
    with Workspace(root, create=False) as ws:  # what the second engine read
        ws.db.execute("INSERT INTO readings VALUES (?, 'ppocr', 'Lucie', 0.6)", (prenom,))
        ws.db.execute("INSERT INTO readings VALUES (?, 'ppocr', 'jeanme.dupomt@exemple.fr', "
                      "0.3)", (mail,))
    page, _ = new_reviewer(browser, base, "Amélie")
    page.goto(f"{base}/field/{prenom}")
    sel = page.evaluate("[document.activeElement.selectionStart, "
                        "document.activeElement.selectionEnd]")
    assert sel == [3, 4]  # the "l" the second engine read as "i"
    assert page.locator(".mirror mark").inner_text() == "l"
    shot(page, shots / "doubt-caret.png")
    page.keyboard.type("i")
    assert page.input_value("#value") == "Lucie"
    press(page, "Enter")
    page.goto(f"{base}/field/{mail}")
    at = lambda: page.evaluate("[document.activeElement.selectionStart,"  # noqa: E731
                               " document.activeElement.selectionEnd]")
    assert at() == [4, 5]
    azerty(page, "n", alt=True)
    assert at() == [11, 12]
    page.keyboard.type("n")  # kept as it was (the same letter typed over it)
    azerty(page, "n", alt=True)
    assert at() == [21, 21]  # where ".fr" is missing
    page.keyboard.press("Alt+b")
    assert at() == [11, 12]
    page.keyboard.press("Alt+b")
    assert at() == [4, 5]
    page.keyboard.type("nn")  # an edit one longer: the later doubts move with the text
    page.keyboard.press("Alt+n")
    assert at() == [12, 13]


def test_page_view_scrolls_to_the_field_and_the_overlay_and_zoom(browser, server,
                                                                  shots: Path) -> None:
    base, root = server
    lunch = field_id(root, "scan-002.pdf", 1, "dejeunera")
    page, _ = new_reviewer(browser, base, "Amélie")
    with Workspace(root, create=False) as ws:
        page_id = q.get_field(ws, lunch).page_id
    page.set_viewport_size({"width": 1400, "height": 600})
    page.goto(f"{base}/page/{page_id}?focus={lunch}")
    page.wait_for_timeout(200)
    visible = page.evaluate("() => { const r = document.querySelector('.area.focus')"
                            ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= "
                            "window.innerHeight; }")
    assert visible
    shot(page, shots / "page-focus.png")
    page.goto(base + "/")
    box_field = page.locator(".choice").count() > 0
    if not box_field:
        page.locator("#value").evaluate("el => el.blur()")
    page.keyboard.press("F1")
    assert page.locator("#keys-help").evaluate("d => d.open")
    assert "Alt" in page.locator("#keys-help").inner_text()
    assert "the queue, one field at a time" in page.locator("#keys-help").inner_text()
    shot(page, shots / "keys-overlay.png")
    page.keyboard.press("Escape")
    assert not page.locator("#keys-help").evaluate("d => d.open")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    assert page.locator("#keys-help").evaluate("d => d.open")
    page.keyboard.press("Escape")
    page.keyboard.press("Alt+z")
    page.keyboard.press("Alt+c")
    assert page.locator("[data-crop].zoomed.contrast").count() == 1
    shot(page, shots / "zoom-contrast.png")
    assert "Alt</kbd>+<kbd>Q" in page.locator(".legend").inner_html()


def test_postcode_and_commune_completion_while_typing_an_address(browser, server) -> None:
    base, root = server
    adresse = field_id(root, "scan-003.pdf", 2, "adresse")
    page, _ = new_reviewer(browser, base, "Amélie")
    page.goto(f"{base}/field/{adresse}")
    page.keyboard.press("Control+a")
    page.keyboard.type("12 rue Blatin, 631")
    page.locator("#completions li").first.wait_for()
    assert "63100 Clermont-Ferrand" in page.locator("#completions").inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # takes the pair, does not save
    assert page.input_value("#value") == "12 rue Blatin, 63100 Clermont-Ferrand"
    assert "/field/" in page.url
    page.keyboard.press("Control+a")
    page.keyboard.type("Mairie, 15100 Saint-Fl")  # a commune's first letters after the code
    page.locator("#completions li").first.wait_for()
    assert page.locator("#completions li").first.inner_text() == "15100 Saint-Flour"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.input_value("#value") == "Mairie, 15100 Saint-Flour"
    press(page, "Enter")
    with Workspace(root, create=False) as ws:
        assert q.get_field(ws, adresse).value == "Mairie, 15100 Saint-Flour"


def test_the_scripted_reviewer_types_accents(browser) -> None:
    """The bench's scripted reviewer reaches a target with É and È, which no US-layout
    key name covers (it used to stop the bench with "Unknown key")."""
    from pipeline.review.scripted import Reviewer

    page = browser.new_page()
    try:
        page.set_content('<input id="value" value="HELENE" data-doubts="[[1, 2]]">')
        page.focus("#value")
        who = Reviewer(page, "", {}, None, "single")  # type: ignore[arg-type]
        keys = who.type_to("#value", "HÉLÈNE")
        assert page.input_value("#value") == "HÉLÈNE"
        assert "É" in keys
    finally:
        page.close()
