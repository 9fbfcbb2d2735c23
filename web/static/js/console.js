// The onboarding wizard's live preview of the portal header: colours, name, slogan and logo
// follow the branding form as it is filled in (no inline script: CSP script-src 'self').
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var form = document.getElementById("branding-form");
    var preview = document.getElementById("brand-preview");
    if (!form || !preview) return;
    function role(name) { return preview.querySelector('[data-role="' + name + '"]'); }
    function field(name) { return form.querySelector('[data-preview="' + name + '"]'); }
    function paint() {
      var primary = field("primary").value || "#1d5fa8";
      var accent = field("accent").value || "#f6c343";
      role("bar").style.backgroundColor = primary;
      role("button").style.backgroundColor = primary;
      role("accent").style.backgroundColor = accent;
      role("accent").style.color = "#212529";
      role("name").textContent = field("name").value;
      role("slogan").textContent = field("slogan").value;
    }
    ["primary", "accent", "name", "slogan"].forEach(function (name) {
      field(name).addEventListener("input", paint);
    });
    var logo = field("logo");
    logo.addEventListener("change", function () {
      var file = logo.files && logo.files[0];
      var img = role("logo");
      if (!file || !/^image\/(png|jpeg|webp)$/.test(file.type)) return;
      // a data: address, not blob:, which the page's img-src ('self' data:) would refuse
      var reader = new FileReader();
      reader.onload = function () {
        img.src = reader.result;
        img.hidden = false;
        var mark = role("logo-box").querySelector(".bi");
        if (mark) mark.remove();
      };
      reader.readAsDataURL(file);
    });
    paint();
  });
})();

// The basics step: the standard's name of the division code typed fills an empty name field.
document.addEventListener("htmx:afterSwap", function (event) {
  "use strict";
  var hint = event.detail && event.detail.target;
  if (!hint || hint.id !== "code-hint") return;
  var found = hint.querySelector("[data-name]");
  var name = document.getElementById("w-name");
  if (found && name && !name.value.trim()) name.value = found.getAttribute("data-name");
});
