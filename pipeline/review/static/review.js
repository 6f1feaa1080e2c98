// formscan review: keyboard shortcuts and editing aids; every action also works as a plain form.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function submit(id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    if (el.tagName === "FORM") { el.requestSubmit(); } else { el.click(); }
    return true;
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
                      target.tagName === "SELECT");
  }

  // The letter printed on the key: event.key (AZERTY's Q is "q" wherever it sits); where the
  // layout or the Option key makes another character of it, the key's position instead.
  function letter(e) {
    var k = e.key || "";
    if (k.length === 1 && /[a-z]/i.test(k)) { return k.toLowerCase(); }
    if (e.code && e.code.indexOf("Key") === 0) { return e.code.slice(3).toLowerCase(); }
    return "";
  }

  // --- doubtful characters: caret on the first, Alt+N / Alt+B between them ------------------

  function doubtsOf(input) {
    if (!input.doubts) {
      try { input.doubts = JSON.parse(input.getAttribute("data-doubts") || "[]"); } catch (err) { input.doubts = []; }
      input.before = input.value;
      // Edits move the doubts after them and drop the ones they touched (scripted.py mirrors this).
      input.addEventListener("input", function () {
        var a = input.before, b = input.value, pre = 0, suf = 0;
        if (a === b) { return; }
        while (pre < a.length && pre < b.length && a[pre] === b[pre]) { pre++; }
        while (suf < a.length - pre && suf < b.length - pre &&
               a[a.length - 1 - suf] === b[b.length - 1 - suf]) { suf++; }
        var end = a.length - suf, delta = b.length - a.length;
        input.doubts = input.doubts.filter(function (s) {
          return s[0] === s[1] ? (s[0] < pre || s[0] > end) : !(s[0] < end && s[1] > pre);
        }).map(function (s) { return s[0] >= end && s[1] > pre ? [s[0] + delta, s[1] + delta] : s; });
        input.before = b;
      });
    }
    return input.doubts;
  }

  function placeCaret(input) {
    var spans = doubtsOf(input);
    if (spans.length && input.value === input.defaultValue) {
      input.setSelectionRange(spans[0][0], spans[0][1]);
    } else {
      input.select();
    }
    syncMirror(input);
  }

  function jump(input, forward) {
    var spans = doubtsOf(input);
    if (!spans.length) { return false; }
    var pick = null;
    if (forward) {
      pick = spans.find(function (s) { return s[0] > input.selectionStart; }) || spans[0];
    } else {
      for (var i = spans.length - 1; i >= 0; i--) { if (spans[i][0] < input.selectionStart) { pick = spans[i]; break; } }
      pick = pick || spans[spans.length - 1];
    }
    input.setSelectionRange(pick[0], pick[1]);
    return true;
  }

  function syncMirror(input) {
    var mirror = input.parentNode && $(".mirror", input.parentNode);
    if (!mirror) { return; }
    mirror.hidden = input.value !== input.defaultValue;
    mirror.scrollLeft = input.scrollLeft;
  }

  // --- postcode and commune completion --------------------------------------------------------

  function completion(input) {
    var list = document.getElementById("completions");
    var url = input.getAttribute("data-complete");
    var state = { items: [], at: -1, start: 0 };
    var timer = null;

    function close() { list.hidden = true; state.items = []; state.at = -1; }
    function render() {
      list.textContent = "";
      state.items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.textContent = it.code + " " + it.commune;
        if (i === state.at) { li.className = "active"; li.setAttribute("aria-selected", "true"); }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); state.at = i; apply(); });
        list.appendChild(li);
      });
      list.hidden = state.items.length === 0;
    }
    function apply() {
      var it = state.items[state.at];
      if (!it) { return; }
      var before = input.value.slice(0, state.start), after = input.value.slice(input.selectionEnd);
      after = after.replace(/^[^,]*/, "");  // the rest of the commune being typed
      input.value = before + it.code + " " + it.commune + after;
      var caret = (before + it.code + " " + it.commune).length;
      input.setSelectionRange(caret, caret);
      close();
      syncMirror(input);
    }
    function lookup() {
      var head = input.value.slice(0, input.selectionStart);
      var m = /(\d{5})\s+([^\d,]{3,})$/.exec(head) || /(?:^|[\s,])(\d{2,5})$/.exec(head);
      if (!m) { close(); return; }
      var typed = m[2] ? m[2] : m[1];
      state.start = head.length - (m[2] ? m[0].length : m[1].length);
      fetch(url + "?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          if (m[2]) { items = items.filter(function (it) { return it.code === m[1]; }).concat(items.filter(function (it) { return it.code !== m[1]; })); }
          state.items = items.slice(0, 8); state.at = -1; render();
        })
        .catch(close);
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, 120); });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        var n = state.items.length;
        state.at = e.key === "ArrowDown" ? (state.at + 1) % n : (state.at - 1 + n) % n;
        render(); e.preventDefault(); e.stopPropagation();
      } else if ((e.key === "Enter" || e.key === "Tab") && state.at >= 0) {
        apply(); e.preventDefault(); e.stopPropagation();
      } else if (e.key === "Escape") {
        close(); e.preventDefault(); e.stopPropagation();
      }
    });
  }

  // --- claims: kept alive while the page is open, released when it closes ---------------------

  function claimForm() {
    var ids = (document.body.getAttribute("data-claims") || "").trim();
    if (!ids) { return null; }
    var fd = new FormData();
    fd.append("csrf_token", document.body.getAttribute("data-csrf"));
    ids.split(/\s+/).forEach(function (id) { fd.append("field_id", id); });
    return fd;
  }

  function keepClaims() {
    if (!claimForm()) { return; }
    var renew = document.body.getAttribute("data-renew");
    setInterval(function () {
      fetch(renew, { method: "POST", body: claimForm(), credentials: "same-origin" }).catch(function () {});
    }, 15000);
    var leaving = false;
    document.addEventListener("submit", function () { leaving = true; });
    window.addEventListener("pagehide", function () {
      // A submitted decision frees its field itself; a closed tab or a link away frees it here.
      if (!leaving && navigator.sendBeacon) {
        navigator.sendBeacon(document.body.getAttribute("data-release"), claimForm());
      }
    });
  }

  // --- form at a time: the field being typed is highlighted and in view ------------------------

  function formMode(form) {
    var inputs = $$("[data-form-input]", form);
    function show(input) {
      $$(".area.current").forEach(function (a) { a.classList.remove("current"); });
      $$(".form-field.current").forEach(function (a) { a.classList.remove("current"); });
      var area = document.getElementById("area-" + input.getAttribute("data-area"));
      if (area) { area.classList.add("current"); area.scrollIntoView({ block: "center", inline: "nearest" }); }
      input.closest(".form-field").classList.add("current");
    }
    inputs.forEach(function (input, i) {
      input.addEventListener("focus", function () {
        show(input);
        if (input.tagName === "INPUT") { placeCaret(input); }
      });
      input.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" || e.altKey || e.ctrlKey || e.metaKey) { return; }
        e.preventDefault();
        var j = e.shiftKey ? i - 1 : i + 1;
        if (j >= inputs.length) { form.requestSubmit(); } else if (j >= 0) { inputs[j].focus(); }
      });
    });
    var first = $(".form-field.refused [data-form-input]", form) || inputs[0];
    if (first) { first.focus(); }
  }

  // --- group verification: arrows move, Space rejects, Enter confirms the rest ----------------

  function groupMode(form) {
    var items = $$(".group-item", form);
    function toggle(item) {
      var box = $(".reject", item);
      box.checked = !box.checked;
      item.classList.toggle("rejected", box.checked);
    }
    items.forEach(function (item) {
      item.addEventListener("click", function () { item.focus(); toggle(item); });
    });
    form.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) { return; }
      var i = items.indexOf(document.activeElement);
      if (e.key === " " && i >= 0) { toggle(items[i]); e.preventDefault(); return; }
      if (e.key === "Enter") { form.requestSubmit(); e.preventDefault(); return; }
      if (e.key.indexOf("Arrow") === 0) {
        var perRow = Math.max(1, Math.round(form.clientWidth / items[0].offsetWidth));
        var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -perRow, ArrowDown: perRow }[e.key];
        var j = Math.min(items.length - 1, Math.max(0, (i < 0 ? 0 : i + step)));
        items[j].focus();
        e.preventDefault();
      }
    });
    if (items.length) { items[0].focus(); }
  }

  // --- page load -------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    var input = $("[data-autoselect]");
    if (input) {
      input.focus();
      placeCaret(input);
      ["input", "keyup", "select", "scroll"].forEach(function (ev) {
        input.addEventListener(ev, function () { syncMirror(input); });
      });
    }
    var complete = $("[data-complete]");
    if (complete && document.getElementById("completions")) { completion(complete); }
    var focused = $(".tile-btn[autofocus], .choice[autofocus]");
    if (focused) { focused.focus({ preventScroll: true }); focused.scrollIntoView({ block: "center" }); }
    var area = $(".page-svg .area.focus");
    if (area) { area.scrollIntoView({ block: "center", inline: "nearest" }); }
    var form = $("[data-form-mode]");
    if (form) { formMode(form); }
    var group = $("[data-group]");
    if (group) { groupMode(group); }
    $$("[data-zoom]").forEach(function (b) { b.addEventListener("click", function () { crop("zoomed"); }); });
    $$("[data-contrast]").forEach(function (b) { b.addEventListener("click", function () { crop("contrast"); }); });
    keepClaims();
  });

  function crop(what) {
    var fig = $("[data-crop]");
    if (!fig) { return false; }
    fig.classList.toggle(what);
    return true;
  }

  function help() {
    var d = document.getElementById("keys-help");
    if (!d) { return; }
    if (d.open) { d.close(); } else { d.showModal(); }
  }

  var ALT = { s: "skip-form", u: "undo-form", p: "page-link", o: "override-button",
              m: "marks-link", q: "queue-link", f: "form-link", g: "group-link", r: "find-link",
              d: "merge-form", k: "keep-form" };

  document.addEventListener("keydown", function (e) {
    var l = letter(e);
    var input = $("[data-autoselect]");
    var active = document.activeElement;
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      if ((l === "n" || l === "b") && active && active.hasAttribute("data-doubts")) {
        if (jump(active, l === "n")) { e.preventDefault(); }
        return;
      }
      if (l === "z" || l === "c") {
        if (crop(l === "z" ? "zoomed" : "contrast")) { e.preventDefault(); }
        return;
      }
      if (ALT[l] && submit(ALT[l])) { e.preventDefault(); }
      return;
    }
    if (e.ctrlKey && !e.altKey && l === "z" && (!input || input.value === input.defaultValue)) {
      // Ctrl+Z undoes the last decision only while nothing has been typed: otherwise it undoes typing.
      if (submit("undo-form")) { e.preventDefault(); }
      return;
    }
    if (e.ctrlKey || e.metaKey) { return; }
    if (e.key === "F1" || (e.key === "?" && !typing(e.target))) { help(); e.preventDefault(); return; }
    if (e.key === "Escape") {
      var d = document.getElementById("keys-help");
      if (d && d.open) { return; }  // the dialog closes itself
      if (submit("back-link")) { e.preventDefault(); }
      return;
    }
    if (typing(e.target)) { return; }
    var box = $("[data-box]");
    if (box && e.key.length === 1) {
      var choice = box.querySelector('[data-key="' + e.key.toLowerCase() + '"]');
      if (choice) { e.preventDefault(); choice.click(); }
      return;
    }
    var tiles = $("[data-tiles]");
    if (tiles && e.key.indexOf("Arrow") === 0) { moveTile(tiles, e); }
  });

  function moveTile(tiles, e) {
    var buttons = $$(".tile-btn", tiles);
    var i = buttons.indexOf(document.activeElement);
    if (i < 0) { buttons[0].focus(); e.preventDefault(); return; }
    var perRow = Math.max(1, Math.round(tiles.clientWidth / buttons[0].parentNode.offsetWidth));
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -perRow, ArrowDown: perRow }[e.key];
    var j = Math.min(buttons.length - 1, Math.max(0, i + step));
    buttons[j].focus();
    e.preventDefault();
  }
})();
