// Uploads a material as soon as a file is chosen, showing the progress; reloads on success.
(function () {
  function csrf() {
    var m = document.cookie.match(/(?:^|; )govhall_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var status = form.querySelector(".upload-status");
    input.addEventListener("change", function () {
      if (!input.files.length) return;
      var data = new FormData();
      data.append("file", input.files[0]);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.url);
      xhr.setRequestHeader("x-csrftoken", csrf());
      xhr.setRequestHeader("accept", "application/json");
      bar.hidden = false;
      bar.value = 0;
      status.textContent = "";
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = function () {
        if (xhr.status < 300) {
          bar.value = 100;
          window.location.reload();
        } else {
          bar.hidden = true;
          var detail = "";
          try { detail = JSON.parse(xhr.responseText).detail; } catch (err) { detail = xhr.statusText; }
          status.textContent = detail;
          status.className = "upload-status error";
        }
      };
      xhr.onerror = function () { status.textContent = "网络错误，请重试"; };
      xhr.send(data);
    });
  });
})();
