// Material uploads on the case page: a file chosen or dropped onto the zone is checked here
// first (type and size, against the limit the page states), then sent with a progress bar;
// the page reloads once it is stored, after saving what the application form holds. The
// server checks again: this only spares a wait.
(function () {
  "use strict";

  var en = document.documentElement.lang === "en";
  var words = en
    ? {
        type: "Only PDF, JPG or PNG files can be uploaded.",
        size: function (mb) { return "The file is larger than the " + mb + " MB limit. Please compress it or scan at a lower resolution."; },
        empty: "The file is empty.",
        network: "Network error, please try again.",
        sending: "Uploading…",
      }
    : {
        type: "只能上传 PDF、JPG 或 PNG 格式的文件。",
        size: function (mb) { return "文件超过 " + mb + " MB 的上限，请压缩或降低扫描分辨率后再上传。"; },
        empty: "文件是空的。",
        network: "网络错误，请重试。",
        sending: "正在上传…",
      };
  var EXTENSIONS = { pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png" };

  function csrf() {
    var m = document.cookie.match(/(?:^|; )govhall_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function problemWith(form, file) {
    var allowed = (form.dataset.types || "").split(",");
    var ext = (file.name.split(".").pop() || "").toLowerCase();
    var type = file.type || EXTENSIONS[ext] || "";
    if (allowed.indexOf(type) < 0) return words.type;
    var max = parseInt(form.dataset.maxBytes || "0", 10);
    if (max && file.size > max) return words.size(form.dataset.maxMb);
    if (file.size === 0) return words.empty;
    return "";
  }

  function say(form, text, bad) {
    var status = form.querySelector(".upload-status");
    status.textContent = text;
    status.className = "upload-status small" + (bad ? " text-danger fw-semibold" : " text-body-secondary");
    form.classList.toggle("is-refused", !!bad);
  }

  // The application form saves itself on "change", which a text field fires only when it
  // loses focus, and a moment later: what was typed just before choosing a file (an address)
  // would be lost with the reload. So the form is saved first, whatever it holds, then the
  // page reloads (also when the save fails: the upload is stored either way).
  function keepTypingThenReload() {
    var reload = function () { window.location.reload(); };
    var form = document.getElementById("application-form");
    if (!form || !window.fetch) { reload(); return; }
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "x-csrftoken": csrf(), "HX-Request": "true" },
    }).then(reload, reload);
  }

  function send(form, file) {
    var bar = form.querySelector("progress");
    var problem = problemWith(form, file);
    if (problem) {
      bar.hidden = true;
      say(form, problem, true);
      return;
    }
    var data = new FormData();
    data.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.url);
    xhr.setRequestHeader("x-csrftoken", csrf());
    xhr.setRequestHeader("accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    say(form, words.sending, false);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    };
    xhr.onload = function () {
      if (xhr.status < 300) {
        bar.value = 100;
        keepTypingThenReload();
      } else {
        bar.hidden = true;
        var detail = "";
        try { detail = JSON.parse(xhr.responseText).detail; } catch (err) { detail = xhr.statusText; }
        say(form, detail, true);
      }
    };
    xhr.onerror = function () {
      bar.hidden = true;
      say(form, words.network, true);
    };
    xhr.send(data);
  }

  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".gh-drop-zone") || form;
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    input.addEventListener("change", function () {
      if (input.files.length) send(form, input.files[0]);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) {
        e.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (e) {
        e.preventDefault();
        zone.classList.remove("is-dragging");
      });
    });
    zone.addEventListener("drop", function (e) {
      var files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) send(form, files[0]);
    });
  });
})();
