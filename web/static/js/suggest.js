// Search suggestions (catalog/_search_box.html): htmx fills the list as one types; this
// closes it on Escape and when focus leaves the box, and keeps aria-expanded in step.
(function () {
  "use strict";
  function close(box) {
    var list = box.querySelector(".gh-suggest");
    var input = box.querySelector("input");
    if (list) list.innerHTML = "";
    if (input) input.setAttribute("aria-expanded", "false");
  }
  document.addEventListener("keydown", function (event) {
    var box = event.target.closest && event.target.closest("[data-suggest]");
    if (box && event.key === "Escape") close(box);
  });
  document.addEventListener("focusout", function (event) {
    var box = event.target.closest && event.target.closest("[data-suggest]");
    if (!box) return;
    setTimeout(function () {
      if (!box.contains(document.activeElement)) close(box);
    }, 150);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.target;
    if (!list.classList || !list.classList.contains("gh-suggest")) return;
    var box = list.closest("[data-suggest]");
    var input = box && box.querySelector("input");
    if (input) input.setAttribute("aria-expanded", list.children.length ? "true" : "false");
  });
})();
