// 认领省级标准事项: a "select all" box over the listed items not adopted yet, and the number
// ticked on the submit button. Without JavaScript the page works as a plain form (全部认领).
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("adopt-form");
    if (!form) return;
    var all = form.querySelector('[data-role="pick-all"]');
    var picks = Array.prototype.slice.call(form.querySelectorAll('[data-role="pick"]'));
    var count = form.querySelector('[data-role="picked"]');

    function update() {
      var n = picks.filter(function (p) { return p.checked; }).length;
      if (count) {
        count.textContent = String(n);
        count.hidden = n === 0;
      }
      if (all) {
        all.checked = n > 0 && n === picks.length;
        all.indeterminate = n > 0 && n < picks.length;
      }
    }

    if (all && picks.length) {
      all.hidden = false;
      all.addEventListener("change", function () {
        picks.forEach(function (p) { p.checked = all.checked; });
        update();
      });
    }
    picks.forEach(function (p) { p.addEventListener("change", update); });
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
