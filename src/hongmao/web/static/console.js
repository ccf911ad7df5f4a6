// The console's few behaviours: submit a filter on change, copy a link, confirm a revocation.
(function () {
  "use strict";
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
