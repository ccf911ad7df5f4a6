// The console's few behaviours: submit a filter on change, copy a link, confirm a revocation.
(function () {
  "use strict";
  // A page showing an earlier lake version's figures (its notice has data-reload) reloads itself until the new
  // ones are in. A reload must not cost the reader their place: the scroll position is kept across it, and it
  // waits while they type in a form or have text selected. (Without script, a <noscript> meta refresh reloads.)
  var place = "hm-place:" + location.pathname + location.search;
  try {
    var kept = sessionStorage.getItem(place);
    if (kept !== null) {
      sessionStorage.removeItem(place);
      window.scrollTo(0, parseInt(kept, 10) || 0);
    }
  } catch (e) { /* no session storage: the browser's own restoration */ }
  var updating = document.querySelector("[data-reload]");
  if (updating) {
    var busy = function () {
      var el = document.activeElement;
      var typing = el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
      var selected = window.getSelection && String(window.getSelection()) !== "";
      return typing || selected;
    };
    var seconds = parseInt(updating.getAttribute("data-reload"), 10) || 5;
    setInterval(function () {
      if (busy()) { return; }
      try { sessionStorage.setItem(place, String(Math.round(window.scrollY))); } catch (e) { /* see above */ }
      location.reload();
    }, seconds * 1000);
  }
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // The range picker: editing a day makes the range custom (a preset ignores the day fields).
  document.querySelectorAll("[data-range-day]").forEach(function (input) {
    input.addEventListener("change", function () {
      var preset = input.form.querySelector("[data-range-preset]");
      if (preset) { preset.value = "custom"; }
    });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      var done = function () {
        var before = button.textContent;
        button.textContent = button.getAttribute("data-done") || "✓";
        setTimeout(function () { button.textContent = before; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
        document.body.removeChild(area);
      }
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
