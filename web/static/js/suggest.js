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
    if (!box) return;
    if (event.key === "Escape") {
      close(box);
      box.querySelector("input").focus();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    // arrows move through the suggestions (Enter on one follows its link)
    var options = Array.prototype.slice.call(box.querySelectorAll(".gh-suggest a"));
    if (!options.length) return;
    event.preventDefault();
    var at = options.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (next < 0) {
      box.querySelector("input").focus();
    } else {
      options[Math.min(next, options.length - 1)].focus();
    }
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
