// formscan review: keyboard shortcuts only; every action also works as a plain form.
(function () {
  "use strict";

  function submit(id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    if (el.tagName === "FORM") { el.requestSubmit(); } else { el.click(); }
    return true;
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("[data-autoselect]");
    if (input) { input.focus(); input.select(); }
    var focused = document.querySelector(".tile-btn[autofocus], .choice[autofocus]");
    if (focused) { focused.focus({ preventScroll: true }); focused.scrollIntoView({ block: "center" }); }
  });

  // Alt+letter by physical key, so it works whatever the layout or the Option key types.
  var ALT = { KeyS: "skip-form", KeyU: "undo-form", KeyP: "page-link", KeyO: "override-button",
              KeyM: "marks-link", KeyQ: "queue-link" };

  document.addEventListener("keydown", function (e) {
    if (e.altKey && !e.ctrlKey && !e.metaKey && ALT[e.code]) {
      if (submit(ALT[e.code])) { e.preventDefault(); }
      return;
    }
    var input = document.querySelector("[data-autoselect]");
    if (e.ctrlKey && !e.altKey && e.code === "KeyZ" && (!input || input.value === input.defaultValue)) {
      // Ctrl+Z undoes the last decision only while nothing has been typed: otherwise it undoes typing.
      if (submit("undo-form")) { e.preventDefault(); }
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === "Escape" && submit("back-link")) { e.preventDefault(); return; }
    if (typing(e.target)) { return; }
    var box = document.querySelector("[data-box]");
    if (box && e.key.length === 1) {
      var choice = box.querySelector('[data-key="' + e.key.toLowerCase() + '"]');
      if (choice) { e.preventDefault(); choice.click(); }
      return;
    }
    var tiles = document.querySelector("[data-tiles]");
    if (tiles && e.key.indexOf("Arrow") === 0) { moveTile(tiles, e); }
  });

  function moveTile(tiles, e) {
    var buttons = Array.prototype.slice.call(tiles.querySelectorAll(".tile-btn"));
    var i = buttons.indexOf(document.activeElement);
    if (i < 0) { buttons[0].focus(); e.preventDefault(); return; }
    var perRow = Math.max(1, Math.round(tiles.clientWidth / buttons[0].parentNode.offsetWidth));
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -perRow, ArrowDown: perRow }[e.key];
    var j = Math.min(buttons.length - 1, Math.max(0, i + step));
    buttons[j].focus();
    e.preventDefault();
  }
})();
