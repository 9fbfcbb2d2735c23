// govhall's page behaviour shared by every page (no inline scripts: the CSP allows only 'self').
//
// Confirmation: a submit button with data-confirm="问题" (ui.confirm in _ui.html) asks in a
// dialog before its form is sent; data-confirm-detail adds a sentence, data-confirm-ok names
// the confirming button. Without JavaScript the form is sent at once, as before.
(function () {
  "use strict";

  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  var words = {
    zh: { ok: "确定", cancel: "取消", title: "请确认" },
    en: { ok: "Confirm", cancel: "Cancel", title: "Please confirm" },
  }[lang];

  function dialog() {
    var el = document.getElementById("gh-confirm");
    if (el) return el;
    el = document.createElement("div");
    el.className = "modal fade";
    el.id = "gh-confirm";
    el.tabIndex = -1;
    el.setAttribute("aria-labelledby", "gh-confirm-title");
    el.setAttribute("aria-modal", "true");
    el.setAttribute("role", "dialog");
    el.innerHTML =
      '<div class="modal-dialog modal-dialog-centered"><div class="modal-content">' +
      '<div class="modal-header"><h2 class="modal-title h5" id="gh-confirm-title"></h2>' +
      '<button type="button" class="btn-close" data-bs-dismiss="modal"></button></div>' +
      '<div class="modal-body"><p class="mb-0" data-role="detail"></p></div>' +
      '<div class="modal-footer">' +
      '<button type="button" class="btn btn-outline-secondary" data-bs-dismiss="modal" data-role="cancel"></button>' +
      '<button type="button" class="btn btn-danger" data-role="ok" data-testid="confirm-ok"></button>' +
      "</div></div></div>";
    el.querySelector(".btn-close").setAttribute("aria-label", words.cancel);
    document.body.appendChild(el);
    return el;
  }

  function ask(button, onOk) {
    var el = dialog();
    el.querySelector("#gh-confirm-title").textContent = button.getAttribute("data-confirm");
    var detail = el.querySelector('[data-role="detail"]');
    detail.textContent = button.getAttribute("data-confirm-detail") || "";
    detail.hidden = !detail.textContent;
    el.querySelector('[data-role="cancel"]').textContent = words.cancel;
    var ok = el.querySelector('[data-role="ok"]');
    ok.textContent = button.getAttribute("data-confirm-ok") || words.ok;
    var modal = window.bootstrap.Modal.getOrCreateInstance(el);
    var fresh = ok.cloneNode(true); // drop the previous question's listener
    ok.parentNode.replaceChild(fresh, ok);
    fresh.addEventListener("click", function () {
      modal.hide();
      onOk();
    });
    el.addEventListener(
      "hidden.bs.modal",
      function () {
        button.focus();
      },
      { once: true }
    );
    modal.show();
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-confirm") || !window.bootstrap) return;
      if (form.dataset.ghConfirmed === "1") {
        delete form.dataset.ghConfirmed;
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      ask(button, function () {
        form.dataset.ghConfirmed = "1";
        form.requestSubmit(button);
      });
    },
    true
  );

  // A field marked wrong by the server (aria-invalid) loses its mark, and its message under it
  // goes, as soon as the person changes it: a corrected phone number no longer sits above
  // 请输入 11 位手机号码. The server checks it again on the next submit.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field || !field.getAttribute || field.getAttribute("aria-invalid") !== "true") return;
    field.removeAttribute("aria-invalid");
    field.classList.remove("is-invalid");
    var kept = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      var said = id && document.getElementById(id);
      if (!said) return false;
      if (said.classList.contains("invalid-feedback") || said.getAttribute("role") === "alert") {
        said.hidden = true;
        said.classList.remove("d-block");
        return false;
      }
      return true; // a hint, not the error: it stays
    });
    if (kept.length) field.setAttribute("aria-describedby", kept.join(" "));
    else field.removeAttribute("aria-describedby");
  });

  // Links and buttons that print the page (data-print), with no inline handler.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-print]");
    if (target) {
      event.preventDefault();
      window.print();
    }
  });
})();
