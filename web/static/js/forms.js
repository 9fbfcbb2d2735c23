// Application forms: show a field only while its conditions hold (data-show-when), as the
// server decides on saving — the server stays the judge, this only spares a round trip.
(function () {
  "use strict";

  function isShown(el) {
    for (var node = el; node && node !== document; node = node.parentElement) {
      if (node.hidden) return false;
    }
    return true;
  }

  function valueOf(form, name) {
    var els = form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]');
    var values = [];
    var multiple = false;
    els.forEach(function (el) {
      if (!isShown(el)) return;
      if (el.type === "checkbox") { multiple = true; if (el.checked) values.push(el.value); }
      else if (el.type === "radio") { if (el.checked) values.push(el.value); }
      else values.push(el.value);
    });
    return multiple ? values : (values[0] || "");
  }

  function holds(c, v) {
    if (c.any_of && c.any_of.length) {
      return Array.isArray(v) ? v.some(function (x) { return c.any_of.indexOf(x) >= 0; })
                              : c.any_of.indexOf(String(v)) >= 0;
    }
    if (c.equals !== null && c.equals !== undefined) {
      if (typeof c.equals === "boolean") {
        var yes = ["yes", "true", "1", "on", "是"].indexOf(String(v).toLowerCase()) >= 0;
        return yes === c.equals;
      }
      return String(v) === String(c.equals);
    }
    return Array.isArray(v) ? v.length > 0 : String(v).trim() !== "";
  }

  function refresh(form) {
    // in document order: a field hidden upstream counts as empty downstream
    form.querySelectorAll("[data-show-when]").forEach(function (el) {
      var conditions = JSON.parse(el.getAttribute("data-show-when"));
      el.hidden = !conditions.every(function (c) { return holds(c, valueOf(form, c.name)); });
    });
  }

  function refreshAll() { document.querySelectorAll("form").forEach(refresh); }

  document.addEventListener("change", function (e) { if (e.target.form) refresh(e.target.form); });
  document.addEventListener("input", function (e) { if (e.target.form) refresh(e.target.form); });
  document.addEventListener("htmx:afterSwap", refreshAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", refreshAll);
  else refreshAll();
})();
