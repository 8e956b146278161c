// The page of `archspec serve`: every edit (debounced) is sent to POST /api/check and the answer fills the
// diagnostics, the editor's markers, the shape table and the diagram. Text from the server is put in with
// textContent, never as HTML; the SVG is parsed as XML and stripped of scripts before it is shown.
"use strict";
(() => {
  const DEBOUNCE_MS = 200;
  const $ = (id) => document.getElementById(id);
  const state = {name: null, version: null, writable: false, saved: null, svg: null, kind: null, seq: 0,
                 inflight: null, view: {s: 1, x: 0, y: 0, fitted: true}};
  let editor, timer;

  function status(text, error = false) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  async function call(path, body, signal) {
    const init = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(body), signal};
    const res = await fetch(path, init);
    let doc;
    try { doc = await res.json(); } catch (e) { doc = {error: `${res.status} ${res.statusText}`}; }
    if (!res.ok) { const err = new Error(doc.error || res.statusText); err.status = res.status; throw err; }
    return doc;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) if (c !== undefined && c !== null) node.append(c);
    return node;
  }

  const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "");
  // [7, 7, 256] -> "7 x 7 x 256"; a merge's several inputs [[7, 7, 256], [7, 7, 256]] -> joined by " + "
  const dims = (d) => (!Array.isArray(d) ? "" : Array.isArray(d[0]) ? d.map(dims).join(" + ") : d.join(" x "));

  // -- diagnostics ---------------------------------------------------------------------------------------

  function showDiagnostics(diags, suggestions) {
    const list = $("diagnostics");
    list.replaceChildren();
    const errors = diags.filter((d) => d.severity === "error").length;
    const warnings = diags.length - errors;
    $("summary").textContent = diags.length ? `${errors} error(s), ${warnings} warning(s)` : "";
    if (!diags.length) {
      list.append(el("li", {class: "ok"}, "No problems: the spec is valid."));
      return;
    }
    let suggested = false;
    for (const d of diags) {
      const where = d.line ? `${d.line}:${d.column}` : "file";
      const item = el("li", {class: d.severity, "data-line": d.line, "data-column": d.column,
                             title: "click to go to this place in the spec"},
                      el("span", {class: "where"}, where), el("span", {class: "code"}, `${d.severity}[${d.code}]`),
                      d.message);
      if (d.hint) item.append(el("span", {class: "hint"}, `hint: ${d.hint}`));
      if (!suggested && d.code.startsWith("rule-") && suggestions.length) {
        for (const s of suggestions) item.append(el("span", {class: "suggest"}, s));
        suggested = true;
      }
      item.addEventListener("click", () => editor.goto(d.line, d.column));
      list.append(item);
    }
  }

  // -- shapes --------------------------------------------------------------------------------------------

  const failed = (answer) => answer.diagnostics.some((d) => d.severity === "error");

  function showShapes(answer) {
    const {shapes, kind} = answer;
    const box = $("shapes");
    if (!shapes && failed(answer) && box.querySelector("table")) {  // errors and no table: keep the last one
      box.classList.add("stale");
      $("totals").textContent = "stale: the last valid table";
      return;
    }
    box.classList.remove("stale");
    box.replaceChildren();
    $("totals").textContent = "";
    if (!shapes) {
      const why = kind && kind !== "cnn" ? `kind '${kind}' has no shape table` : "no shape table (the spec does not parse)";
      box.append(el("p", {class: "empty"}, why));
      return;
    }
    const head = el("tr", {}, ...["#", "layer", "type", "input", "output", "params", "MACs"].map((h) => el("th", {}, h)));
    const rows = shapes.layers.map((l, i) => el("tr", {title: (l.formulas || []).join("\n")},
      el("td", {}, String(i + 1)), el("td", {}, l.name), el("td", {}, l.type),
      el("td", {class: "dims"}, dims(l.input)), el("td", {class: "dims"}, dims(l.output)),
      el("td", {}, fmt(l.params)), el("td", {}, fmt(l.macs))));
    const total = el("tr", {class: "total"}, el("td", {}, ""), el("td", {}, "total"), el("td", {}, ""),
      el("td", {class: "dims"}, dims(shapes.input)), el("td", {}, ""), el("td", {}, fmt(shapes.params)),
      el("td", {}, fmt(shapes.macs)));
    box.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows, total)));
    const totals = [["params", shapes.params], ["MACs", shapes.macs]].filter(([, n]) => typeof n === "number");
    $("totals").textContent = totals.map(([what, n]) => `${fmt(n)} ${what}`).join(", ") +
      (shapes.complete === false ? " (shape inference stops at an error)" : "");
  }

  // -- diagram: inline SVG with zoom and pan -------------------------------------------------------------

  function parseSvg(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (svg.nodeName !== "svg") return null;
    for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
    for (const node of svg.querySelectorAll("*")) {
      for (const a of [...node.attributes]) if (a.name.startsWith("on")) node.removeAttribute(a.name);
    }
    const box = svg.viewBox && svg.viewBox.baseVal;
    const w = box && box.width ? box.width : parseFloat(svg.getAttribute("width")) || 400;
    const h = box && box.height ? box.height : parseFloat(svg.getAttribute("height")) || 300;
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    return {node: document.importNode(svg, true), w, h};
  }

  function place() {
    const svg = $("diagram").querySelector("svg");
    if (svg) svg.style.transform = `translate(${state.view.x}px, ${state.view.y}px) scale(${state.view.s})`;
  }

  function fit() {
    const svg = $("diagram").querySelector("svg");
    if (!svg) return;
    const box = $("diagram").getBoundingClientRect();
    const w = svg.width.baseVal.value, h = svg.height.baseVal.value;
    const s = Math.min(box.width / w, box.height / h, 2) * 0.96;
    Object.assign(state.view, {s, x: (box.width - w * s) / 2, y: (box.height - h * s) / 2, fitted: true});
    place();
  }

  function zoom(factor, cx, cy) {
    const box = $("diagram").getBoundingClientRect();
    const x = cx === undefined ? box.width / 2 : cx, y = cy === undefined ? box.height / 2 : cy;
    const v = state.view, s = Math.min(Math.max(v.s * factor, 0.05), 20);
    Object.assign(v, {x: x - (x - v.x) * (s / v.s), y: y - (y - v.y) * (s / v.s), s, fitted: false});
    place();
  }

  // "auto": left to right in a panel wider than tall (a deep CNN then reads without zooming), else the kind's own
  function layout() {
    const chosen = $("layout").value;
    if (chosen !== "auto") return chosen || null;
    const box = $("diagram").getBoundingClientRect();
    return box.width > box.height ? "LR" : null;
  }

  function showDiagram(answer) {
    const pane = $("diagram");
    const note = answer.notes.filter((n) => n.startsWith("no diagram") || n.includes("has no diagram")).join("; ");
    $("diagram-note").hidden = !note;
    $("diagram-note").textContent = note;
    if (answer.svg) {
      const parsed = parseSvg(answer.svg);
      if (parsed) {
        pane.replaceChildren(parsed.node);
        state.svg = answer.svg;
        if (state.view.fitted) fit(); else place();
      }
      pane.classList.remove("stale");
      $("stale").hidden = true;
    } else if (failed(answer) && state.svg) {  // text with errors and no drawing: keep the last one
      pane.classList.add("stale");
      $("stale").hidden = false;
    } else {
      pane.replaceChildren();
      pane.classList.remove("stale");
      $("stale").hidden = true;
      state.svg = null;
    }
    $("download-svg").disabled = !state.svg;
    if (state.view.fitted) fit();  // the notes above may have changed the pane's size
  }

  // -- checking --------------------------------------------------------------------------------------------

  async function check() {
    const seq = ++state.seq;
    if (state.inflight) state.inflight.abort();
    state.inflight = new AbortController();
    const started = performance.now();
    let answer;
    try {
      answer = await call("/api/check", {text: editor.text(), name: state.name, grads: $("grads").checked,
                                         layout: layout()},
                          state.inflight.signal);
    } catch (err) {
      if (err.name !== "AbortError" && seq === state.seq) status(`check failed: ${err.message}`, true);
      return;
    }
    if (seq !== state.seq) return;  // a newer edit is on its way
    state.kind = answer.kind || state.kind;
    editor.mark(answer.diagnostics);
    showDiagnostics(answer.diagnostics, answer.suggestions);
    showShapes(answer);
    $("shapes-panel").hidden = !!answer.kind && answer.kind !== "cnn";  // the diagram takes the room
    showDiagram(answer);
    $("grads-toggle").hidden = state.kind !== "equations";
    $("download-solution").disabled = failed(answer) || state.kind === "rules";
    document.body.dataset.checked = String(seq);  // tests wait on this
    status(`checked in ${Math.round(performance.now() - started)} ms` + (dirty() ? " (unsaved)" : ""));
  }

  function edited() {
    clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
    document.title = `${dirty() ? "* " : ""}${state.name || ""} - archspec`;
  }

  const dirty = () => state.saved !== null && editor.text() !== state.saved;

  // -- documents, save, downloads ----------------------------------------------------------------------------

  async function open(name) {
    const doc = await call("/api/open", {name});
    Object.assign(state, {name: doc.name, version: doc.version, writable: doc.writable, saved: doc.text, svg: null});
    state.view.fitted = true;
    $("diagram").replaceChildren();
    $("shapes").replaceChildren();
    $("save").disabled = !doc.writable;
    $("save").title = doc.writable ? "write the spec back to its file (Ctrl+S)" : "a built-in example: download it instead";
    editor.setText(doc.text);
    clearTimeout(timer);
    document.title = `${doc.name} - archspec`;
    await check();
  }

  async function save() {
    if (!state.writable) return;
    const text = editor.text();
    try {
      const done = await call("/api/save", {name: state.name, text, version: state.version});
      Object.assign(state, {version: done.version, saved: text});
      document.title = `${state.name} - archspec`;
      status(`saved ${state.name} at ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      status(err.status === 409 ? `not saved: ${err.message}` : `save failed: ${err.message}`, true);
    }
  }

  function download(text, type, filename) {
    const url = URL.createObjectURL(new Blob([text], {type}));
    const a = el("a", {href: url, download: filename});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const stem = () => (state.name || "spec").split("/").pop().replace(/\.ya?ml$/, "");

  async function solution() {
    try {
      const doc = await call("/api/solution", {text: editor.text(), name: state.name});
      if (doc.markdown === null) return status(doc.error, true);
      download(doc.markdown + "\n", "text/markdown", `${stem()}-solution.md`);
    } catch (err) {
      status(`solution failed: ${err.message}`, true);
    }
  }

  // -- start -------------------------------------------------------------------------------------------------

  function wireDiagram() {
    const pane = $("diagram");
    let drag = null;
    pane.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = pane.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, {passive: false});
    pane.addEventListener("pointerdown", (e) => {
      drag = {x: e.clientX - state.view.x, y: e.clientY - state.view.y};
      pane.classList.add("dragging");
      pane.setPointerCapture(e.pointerId);
    });
    pane.addEventListener("pointermove", (e) => {
      if (!drag) return;
      Object.assign(state.view, {x: e.clientX - drag.x, y: e.clientY - drag.y, fitted: false});
      place();
    });
    pane.addEventListener("pointerup", () => { drag = null; pane.classList.remove("dragging"); });
    $("zoom-in").addEventListener("click", () => zoom(1.25));
    $("zoom-out").addEventListener("click", () => zoom(1 / 1.25));
    $("zoom-fit").addEventListener("click", fit);
    window.addEventListener("resize", () => { if (state.view.fitted) fit(); });
  }

  async function start() {
    editor = ArchspecEditor.create($("editor"), "", edited);
    wireDiagram();
    $("save").addEventListener("click", save);
    $("grads").addEventListener("change", check);
    $("layout").addEventListener("change", () => { state.view.fitted = true; check(); });
    $("download-svg").addEventListener("click", () => state.svg && download(state.svg, "image/svg+xml", `${stem()}.svg`));
    $("download-solution").addEventListener("click", solution);
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
    });
    window.addEventListener("beforeunload", (e) => { if (dirty()) e.preventDefault(); });
    const menu = $("documents");
    try {
      const listing = await call("/api/documents");
      for (const d of listing.documents) menu.append(el("option", {value: d.name}, d.name));
      menu.value = listing.start;
      menu.addEventListener("change", async () => {
        if (dirty() && !window.confirm(`Discard the unsaved changes to ${state.name}?`)) {
          menu.value = state.name;
          return;
        }
        await open(menu.value).catch((err) => status(`cannot open: ${err.message}`, true));
      });
      await open(listing.start);
    } catch (err) {
      status(`cannot start: ${err.message}`, true);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
