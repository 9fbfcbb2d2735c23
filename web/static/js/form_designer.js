// The form designer of the catalog editor: the application form's JSON (the textarea named
// "form", which is what is saved and what the server checks) drawn as a list of fields to
// add, reorder, edit and remove. Every change rewrites the JSON and fires "change" on it, so
// the preview (htmx) redraws the form as the applicant will see it.
(function () {
  "use strict";

  var root = document.getElementById("designer");
  var source = document.getElementById("form-json");
  if (!root || !source) return;
  var TYPES = JSON.parse(root.getAttribute("data-types"));
  var PREFILL = JSON.parse(root.getAttribute("data-prefill"));
  var T = JSON.parse(root.getAttribute("data-text"));
  var fields;

  function read() {
    try {
      var parsed = JSON.parse(source.value.trim() || "[]");
      fields = Array.isArray(parsed) ? parsed : [];
      root.classList.remove("broken");
      return true;
    } catch (e) {
      root.classList.add("broken");
      return false;
    }
  }

  function write() {
    source.value = fields.length ? JSON.stringify(fields, null, 1) : "";
    source.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k in node && k !== "list") node[k] = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function labelled(text, control) {
    return el("label", { className: "sub" }, [document.createTextNode(text + " "), control]);
  }

  function input(field, key, kind, list) {
    var box = el("input", { value: field[key] == null ? "" : String(field[key]), type: kind || "text" });
    box.addEventListener("change", function () {
      var v = box.value.trim();
      if (v === "") delete field[key]; else field[key] = kind === "number" ? Number(v) : v;
      changed(list);
    });
    return box;
  }

  function check(field, key, list) {
    var box = el("input", { type: "checkbox", checked: !!field[key] });
    box.addEventListener("change", function () {
      if (box.checked) field[key] = true; else delete field[key];
      changed(list);
    });
    return box;
  }

  function select(field, key, choices, empty, list) {
    var box = el("select");
    if (empty !== null) box.appendChild(el("option", { value: "", text: empty }));
    Object.keys(choices).forEach(function (v) {
      box.appendChild(el("option", { value: v, text: choices[v], selected: field[key] === v }));
    });
    box.addEventListener("change", function () {
      if (box.value) field[key] = box.value; else delete field[key];
      changed(list, true);
    });
    return box;
  }

  function optionsBox(field, list) {
    var text = (field.options || []).map(function (o) { return o.value + "|" + o.label; }).join("\n");
    var box = el("textarea", { rows: 3, value: text, placeholder: "yes|是" });
    box.addEventListener("change", function () {
      field.options = box.value.split("\n").map(function (line) { return line.trim(); })
        .filter(Boolean).map(function (line) {
          var parts = line.split("|");
          return { value: parts[0].trim(), label: (parts[1] || parts[0]).trim() };
        });
      changed(list);
    });
    return box;
  }

  function conditionBox(field, list, earlier) {
    var c = (field.show_when || [])[0] || {};
    var which = el("select");
    which.appendChild(el("option", { value: "", text: T.always }));
    earlier.forEach(function (f) {
      which.appendChild(el("option", { value: f.key, text: f.label || f.key, selected: c.field === f.key }));
    });
    var value = el("input", {
      value: c.any_of && c.any_of.length ? c.any_of.join(",") : (c.equals == null ? "" : String(c.equals)),
      placeholder: T.any_value
    });
    function update() {
      if (!which.value) { delete field.show_when; changed(list); return; }
      var cond = { field: which.value };
      var parts = value.value.split(/[,，]/).map(function (s) { return s.trim(); }).filter(Boolean);
      if (parts.length > 1) cond.any_of = parts;
      else if (parts.length === 1) cond.equals = parts[0] === "true" ? true : parts[0] === "false" ? false : parts[0];
      field.show_when = [cond];
      changed(list);
    }
    which.addEventListener("change", update);
    value.addEventListener("change", update);
    return el("div", { className: "designer-row" }, [labelled(T.show_when, which), labelled(T.equals, value)]);
  }

  function move(list, i, by) {
    var j = i + by;
    if (j < 0 || j >= list.length) return;
    var item = list.splice(i, 1)[0];
    list.splice(j, 0, item);
    changed(list, true);
  }

  function card(field, i, list, depth) {
    var holdsValue = field.type !== "heading";
    var buttons = el("div", { className: "designer-buttons" }, [
      button("↑", T.up, function () { move(list, i, -1); }),
      button("↓", T.down, function () { move(list, i, 1); }),
      button("✕", T.remove, function () { list.splice(i, 1); changed(list, true); })
    ]);
    var kinds = {};
    Object.keys(TYPES).forEach(function (k) {
      if (depth === 0 || (k !== "table" && k !== "heading")) kinds[k] = TYPES[k];
    });
    var head = el("div", { className: "designer-row" }, [
      labelled(T.type, select(field, "type", kinds, null, list)),
      labelled(T.label, input(field, "label", "text", list)),
      labelled(T.key, input(field, "key", "text", list))
    ]);
    var flags = el("div", { className: "designer-flags" }, holdsValue ? [
      labelled(T.required, check(field, "required", list)),
      labelled(T.personal, check(field, "personal", list))
    ] : []);
    var more = el("details", {}, [el("summary", { text: T.more })]);
    more.appendChild(el("div", { className: "designer-row" }, [
      labelled(T.label_en, input(field, "label_en", "text", list)),
      holdsValue ? labelled(T.help, input(field, "help", "text", list)) : null,
      holdsValue ? labelled(T.placeholder, input(field, "placeholder", "text", list)) : null
    ]));
    if (holdsValue) {
      more.appendChild(el("div", { className: "designer-row" }, [
        labelled(T.min, input(field, "min", "text", list)),
        labelled(T.max, input(field, "max", "text", list)),
        labelled(T.min_length, input(field, "min_length", "number", list)),
        labelled(T.max_length, input(field, "max_length", "number", list))
      ]));
      more.appendChild(el("div", { className: "designer-row" }, [
        labelled(T.pattern, input(field, "pattern", "text", list)),
        labelled(T.pattern_message, input(field, "pattern_message", "text", list)),
        depth === 0 ? labelled(T.prefill, select(field, "prefill", PREFILL, T.no_prefill, list)) : null
      ]));
    }
    if (depth === 0) more.appendChild(conditionBox(field, list, list.slice(0, i).filter(function (f) { return f.type !== "heading"; })));
    var parts = [buttons, head, flags];
    var when = (field.show_when || [])[0];
    if (when && when.field) {
      var source = list.filter(function (f) { return f.key === when.field; })[0];
      var value = when.any_of && when.any_of.length ? when.any_of.join("、")
        : (when.equals == null ? T.filled : String(when.equals));
      parts.push(el("p", { className: "designer-when", text: T.shown_if + "「" + ((source && source.label) || when.field) + "」= " + value }));
    }
    if (field.type === "choice" || field.type === "multichoice") {
      parts.push(labelled(T.options, optionsBox(field, list)));
    }
    if (field.type === "table") {
      field.columns = field.columns || [];
      var nested = el("div", { className: "designer-columns" }, [el("p", { className: "muted", text: T.columns })]);
      drawList(nested, field.columns, 1);
      parts.push(nested);
    }
    parts.push(more);
    return el("div", { className: "designer-field" + (holdsValue ? "" : " is-heading"), "data-key": field.key || "" }, parts);
  }

  function button(text, title, act) {
    var b = el("button", { type: "button", className: "secondary small", text: text, title: title });
    b.setAttribute("aria-label", title);
    b.addEventListener("click", act);
    return b;
  }

  function drawList(into, list, depth) {
    list.forEach(function (field, i) { into.appendChild(card(field, i, list, depth)); });
    into.appendChild(button(depth ? T.add_column : T.add, depth ? T.add_column : T.add, function () {
      var n = list.length + 1;
      list.push({ key: (depth ? "col_" : "field_") + n, label: T.new_label + n, type: "text" });
      changed(list, true);
    }));
  }

  function draw() {
    root.textContent = "";
    drawList(root, fields, 0);
  }

  function changed(list, redraw) {
    write();
    if (redraw) draw();
  }

  source.addEventListener("input", function () { if (read()) draw(); });
  if (read()) draw();
})();

// the preview at a desktop's width or a phone's
(function () {
  "use strict";
  document.querySelectorAll(".preview-switch [data-width]").forEach(function (b) {
    b.addEventListener("click", function () {
      var frame = document.getElementById("form-preview");
      frame.classList.toggle("phone", b.getAttribute("data-width") === "phone");
      frame.classList.toggle("desk", b.getAttribute("data-width") !== "phone");
      document.querySelectorAll(".preview-switch [data-width]").forEach(function (o) {
        o.setAttribute("aria-pressed", String(o === b));
      });
    });
  });
})();
