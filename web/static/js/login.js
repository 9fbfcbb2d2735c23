// The citizen sign-in page: the two panels switch in place (the tabs are plain links without
// script), the phone typed in one panel follows to the other, and 获取验证码 counts down
// before another code may be asked for (the server refuses one sooner anyway).
(function () {
  "use strict";

  function setup() {
    var tabs = document.querySelectorAll("[data-login-tab]");
    var panels = document.querySelectorAll("[data-login-panel]");
    if (!panels.length) return;

    function show(name) {
      var typed = "";
      panels.forEach(function (panel) {
        if (!panel.hidden) {
          var input = panel.querySelector("[data-login-phone]");
          if (input) typed = input.value;
        }
      });
      panels.forEach(function (panel) {
        var open = panel.getAttribute("data-login-panel") === name;
        panel.hidden = !open;
        var phone = panel.querySelector("[data-login-phone]");
        if (open && phone && typed && !phone.value) phone.value = typed;
      });
      tabs.forEach(function (tab) {
        var active = tab.getAttribute("data-login-tab") === name;
        tab.classList.toggle("active", active);
        if (active) tab.setAttribute("aria-current", "page");
        else tab.removeAttribute("aria-current");
      });
      if (window.history && window.history.replaceState) {
        var url = new URL(window.location.href);
        url.searchParams.set("tab", name);
        window.history.replaceState(null, "", url.toString());
      }
    }

    tabs.forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        show(tab.getAttribute("data-login-tab"));
      });
    });

    var button = document.getElementById("code-request");
    if (!button) return;
    var label = button.textContent;
    var timer = null;

    function countdown(seconds) {
      if (timer) window.clearInterval(timer);
      var left = Math.max(0, parseInt(seconds, 10) || 0);
      if (!left) return;
      function tick() {
        if (left <= 0) {
          window.clearInterval(timer);
          timer = null;
          button.disabled = false;
          button.textContent = button.getAttribute("data-again-text") || label;
          return;
        }
        button.disabled = true;
        button.textContent = (button.getAttribute("data-wait-text") || "{n}").replace("{n}", left);
        left -= 1;
      }
      tick();
      timer = window.setInterval(tick, 1000);
    }

    countdown(button.getAttribute("data-resend-after"));

    // htmx re-enables the button it disabled for the request after the swap; start
    // counting once it has.
    document.body.addEventListener("htmx:afterSettle", function (event) {
      var status = document.getElementById("code-status");
      if (!status || event.target !== status) return;
      var answer = status.querySelector("[data-resend-after]");
      if (answer) countdown(answer.getAttribute("data-resend-after"));
    });

    // Enter in the phone box with no code yet asks for one instead of signing in.
    var phone = document.getElementById("code-phone");
    var code = document.getElementById("code-code");
    if (phone && code) {
      phone.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !code.value) {
          event.preventDefault();
          if (!button.disabled) button.click();
          code.focus();
        }
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
