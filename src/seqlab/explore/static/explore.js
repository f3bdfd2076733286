// seqlab explore: the page. Every answer comes from the server's JSON API (/api/docs lists it);
// this script only draws.
"use strict";

const FONT = getComputedStyle(document.documentElement).getPropertyValue("--font");
const $ = (id) => document.getElementById(id);
const LABELLED = 300; // the "labels" box names this many of the most frequent words
// The words are drawn by WebGL where the browser renders it on a GPU, else as SVG. With a GPU,
// WebGL pans and zooms 5,000 points smoothly. Without one (software WebGL, as in headless
// Chromium), every frame of the WebGL canvas is read back to the CPU: a search answered 0.27 s
// after the map was drawn against 0.12 s with SVG, whose points a search never redraws (the
// highlights live in the layout, see highlightLayout).
const WEBGL = (() => {
  try {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) return false;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "";
    gl.getExtension("WEBGL_lose_context")?.loseContext(); // a probe: give its context back
    return !/SwiftShader|llvmpipe|softpipe|Software/i.test(renderer);
  } catch (e) {
    return false;
  }
})();
const plot = $("plot");
const state = {
  info: null,
  map: null, // the projection: {method, dims, words, x, y, z}
  index: new Map(), // plotted word -> position in map.words
  axes: null, // word axes in use: {x, y, x_label, y_label}
  marks: { words: [], lines: [], odd: null }, // what the last query highlighted
  // Shapes and annotations kept in a 2-D map's layout for highlights (see highlightLayout):
  // enough for a search of up to 31 neighbours; more makes room once, with one full redraw.
  slots: 32,
};

class ApiError extends Error {
  constructor(body, status) {
    super(body.detail || `HTTP ${status}`);
    this.suggestions = body.suggestions || {};
  }
}

async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [].concat(value)) if (v !== undefined && v !== "") query.append(key, v);
  }
  return answer(fetch(`${path}?${query}`));
}

// The JSON body of a pending fetch, or an ApiError with the server's message.
async function answer(pending) {
  let response;
  try {
    response = await pending;
  } catch (e) {
    throw new ApiError({ detail: "the server does not answer: is `seqlab explore` still running?" });
  }
  const body = await response.json().catch(() => ({ detail: `HTTP ${response.status}` }));
  if (!response.ok) throw new ApiError(body, response.status);
  return { status: response.status, body };
}

function showError(error) {
  const box = $("error");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  let text = error.message;
  for (const [word, close] of Object.entries(error.suggestions || {})) {
    if (close.length) text += `\nDid you mean (for ${word}): ${close.join(", ")}?`;
  }
  box.textContent = text;
  box.hidden = false;
}

// Run a query; its errors show in the error box instead of being lost.
async function guarded(task) {
  try {
    await task();
    showError(null);
  } catch (e) {
    showError(e);
  }
}

const fmt = (x) => x.toFixed(4);

function fillList(list, rows, onClick) {
  list.replaceChildren(
    ...rows.map((row) => {
      const li = document.createElement("li");
      const word = document.createElement("span");
      word.textContent = row.word;
      if (!state.index.has(row.word)) {
        const off = document.createElement("span");
        off.className = "off";
        off.textContent = " (not on the map)";
        word.append(off);
      }
      const cos = document.createElement("span");
      cos.className = "cos";
      cos.textContent = fmt(row.cosine);
      li.append(word, cos);
      if (row.odd) li.className = "odd";
      li.dataset.word = row.word;
      li.addEventListener("click", () => onClick(row.word));
      return li;
    }),
  );
}

// ------------------------------------------------------------------------------ drawing
const MARK = "#d6336c"; // the searched word, and the lines to its neighbours
const NEAR = "#f08c00";
const ODD = "#e8590c";

function coords(i) {
  const src = state.axes || state.map;
  return [src.x[i], src.y[i], state.axes ? 0 : state.map.z ? state.map.z[i] : 0];
}

// What the last query highlighted, on the map: [{word, at: [x, y, z], color}] and [[from, to]].
function marksOnMap() {
  const words = state.marks.words.filter((w) => state.index.has(w));
  const points = words.map((w, i) => ({
    word: w,
    at: coords(state.index.get(w)),
    color: w === state.marks.odd ? ODD : i === 0 ? MARK : NEAR,
  }));
  const lines = state.marks.lines
    .filter(([a, b]) => state.index.has(a) && state.index.has(b))
    .map(([a, b]) => [coords(state.index.get(a)), coords(state.index.get(b))]);
  return { points, lines };
}

// A 2-D map carries the highlights in its layout (shapes and annotations), so a search redraws
// only them, never the 5,000 points. plotly redraws the whole plot when the number of shapes or
// annotations changes (0.2-0.3 s on a first visit in headless Chromium), and only them when
// they move (20-90 ms): the layout always holds the same number of each, the spare ones
// transparent (opacity 0) on the first point of the map. A 3-D scene has no shapes, so there
// the highlights are two traces.
function highlightLayout({ points, lines }) {
  const slots = (state.slots = Math.max(state.slots, points.length, lines.length));
  const spare = coords(0);
  const shapes = [];
  const annotations = [];
  for (let i = 0; i < slots; i++) {
    const [a, b] = lines[i] || [spare, spare];
    shapes.push({
      type: "line", xref: "x", yref: "y", x0: a[0], y0: a[1], x1: b[0], y1: b[1], layer: "above",
      line: { color: MARK, width: 1.5 }, opacity: lines[i] ? 1 : 0,
    });
  }
  for (let i = 0; i < slots; i++) {
    const p = points[i] || { word: "", at: spare, color: MARK };
    shapes.push({
      type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel", layer: "above",
      xanchor: p.at[0], yanchor: p.at[1], x0: -5, x1: 5, y0: -5, y1: 5,
      fillcolor: p.color, line: { color: "#fff", width: 1 }, opacity: points[i] ? 1 : 0,
    });
    annotations.push({
      x: p.at[0], y: p.at[1], text: p.word, showarrow: false, yshift: 13,
      font: { size: 13, color: "#111", family: FONT }, opacity: points[i] ? 1 : 0,
    });
  }
  return { shapes, annotations };
}

function highlightTraces({ points, lines }) {
  const path = { x: [], y: [], z: [] };
  for (const [a, b] of lines) for (const k of [0, 1, 2]) path["xyz"[k]].push(a[k], b[k], null);
  return [
    {
      type: "scatter3d", mode: "lines", ...path, line: { color: MARK, width: 1.5 },
      hoverinfo: "skip", name: "links",
    },
    {
      type: "scatter3d", mode: "markers+text", x: points.map((p) => p.at[0]),
      y: points.map((p) => p.at[1]), z: points.map((p) => p.at[2]),
      text: points.map((p) => p.word), textposition: "top center",
      hoverinfo: "text", textfont: { size: 13, color: "#111", family: FONT },
      marker: { size: 5, line: { width: 1, color: "#fff" }, color: points.map((p) => p.color) },
      name: "highlighted",
    },
  ];
}

// The LABELLED most frequent words of a map or of word axes, sliced once: plotly compares data
// arrays by identity, and a new array would make it recompute and redraw every trace.
const heads = new WeakMap();
function firstWords(src) {
  if (!heads.has(src)) {
    const n = Math.min(LABELLED, state.map.words.length);
    const z = src.z ? src.z.slice(0, n) : undefined;
    const words = state.map.words.slice(0, n);
    heads.set(src, { x: src.x.slice(0, n), y: src.y.slice(0, n), z, words });
  }
  return heads.get(src);
}

// Traces: 0 the words, 1 the labels of the most frequent ones (3-D: 2 links, 3 highlighted).
function draw() {
  const map = state.map;
  const three = !state.axes && map.dims === 3;
  const src = state.axes || map;
  const type = three ? "scatter3d" : WEBGL ? "scattergl" : "scatter";
  const all = {
    type, mode: "markers", x: src.x, y: src.y, text: map.words, hoverinfo: "text",
    marker: { size: three ? 2.5 : 5, color: "#5b7fb5", opacity: 0.55 }, name: "words",
  };
  if (three) all.z = map.z;
  // Labels for the most frequent words only: thousands of labels would hide each other.
  const head = firstWords(src);
  const labels = {
    type: three ? "scatter3d" : "scatter", mode: "text", x: head.x, y: head.y,
    text: head.words, textfont: { size: 10, color: "#445", family: FONT },
    hoverinfo: "skip", visible: $("labels").checked, name: "labels",
  };
  if (three) labels.z = head.z;
  const marks = marksOnMap();
  const title = state.axes
    ? "word axes"
    : `${{ pca: "PCA", tsne: "t-SNE", umap: "UMAP" }[map.method]} of the ${map.words.length.toLocaleString()} most frequent words`;
  const axis = (label) => ({ title: { text: label || "" }, zeroline: false });
  const layout = {
    title: { text: title, font: { size: 14 } }, showlegend: false, hovermode: "closest",
    font: { family: FONT }, margin: { l: 50, r: 20, t: 40, b: 40 }, uirevision: title,
    xaxis: axis(state.axes && state.axes.x_label), yaxis: axis(state.axes && state.axes.y_label),
    ...(three ? {} : highlightLayout(marks)),
  };
  if (three) layout.scene = { xaxis: { title: "" }, yaxis: { title: "" }, zaxis: { title: "" } };
  const traces = three ? [all, labels, ...highlightTraces(marks)] : [all, labels];
  return Plotly.react(plot, traces, layout, { responsive: true, displaylogo: false });
}

// The words highlighted on the map (read by the browser tests).
window.highlighted = () => {
  if (plot.data && plot.data.length > 2) return plot.data[3].text;
  return (plot.layout.annotations || []).filter((a) => a.opacity).map((a) => a.text);
};

function mark(words, lines = [], odd = null) {
  state.marks = { words, lines, odd };
  const missing = words.filter((w) => !state.index.has(w));
  $("status").textContent = missing.length
    ? `not on the map (outside the ${state.index.size.toLocaleString()} plotted words): ${missing.join(", ")}`
    : "";
  if (state.map) draw();
}

// ------------------------------------------------------------------------------ the map
// early: the request index.html sent before this script ran (the server's first projection).
async function loadMap(early = null) {
  const method = $("method").value;
  const dims = Number($("dims").value);
  const name = $("method").selectedOptions[0].textContent;
  for (;;) {
    const { status, body } = await (early ? answer(early) : api("/api/projection", { method, dims }));
    early = null;
    if (status === 200) {
      state.map = body;
      state.index = new Map(body.words.map((w, i) => [w, i]));
      state.axes = null;
      $("axes-off").hidden = true;
      const how = body.cached ? "from the cache" : `computed in ${body.seconds.toFixed(1)} s`;
      $("status").textContent = `${name} ${dims}-D: ${how}`;
      await draw();
      // milliseconds from navigation to the first usable map (read by benchmarks/explore.py)
      if (!document.body.dataset.ready) document.body.dataset.ready = Math.round(performance.now());
      return;
    }
    $("status").textContent = `${name} ${dims}-D: ${body.message}… ${body.elapsed.toFixed(0)} s`;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

// ------------------------------------------------------------------------------ queries
async function search(word) {
  $("search-word").value = word;
  const topn = $("search-topn").value || 10;
  const { body } = await api("/api/neighbors", { word, topn });
  fillList($("neighbors"), body.neighbors, (w) => guarded(() => search(w)));
  const near = body.neighbors.map((n) => n.word);
  mark([word, ...near], near.map((n) => [word, n]));
}

async function analogy() {
  const [a, b, c] = ["a", "b", "c"].map((k) => $(`analogy-${k}`).value.trim());
  const method = $("analogy-method").value;
  const { body } = await api("/api/analogy", { a, b, c, method, topn: 10 });
  fillList($("analogy-results"), body.results, (w) => guarded(() => search(w)));
  const d = body.results.length ? body.results[0].word : null;
  // a − b + c = d: the offsets b→a and c→d are the same vector in a good embedding.
  mark(d ? [d, a, b, c] : [a, b, c], d ? [[b, a], [c, d]] : [[b, a]]);
}

async function oddOneOut() {
  const words = $("odd-words").value.split(/[\s,]+/).filter(Boolean);
  const { body } = await api("/api/doesnt_match", { words });
  const rows = body.cosines.map((r) => ({ ...r, odd: r.word === body.odd_one }));
  fillList($("odd-results"), rows, (w) => guarded(() => search(w)));
  mark(words, [], body.odd_one);
}

async function similarity() {
  const w1 = $("similarity-w1").value.trim();
  const w2 = $("similarity-w2").value.trim();
  const { body } = await api("/api/similarity", { w1, w2 });
  $("similarity-result").textContent = `cos(${w1}, ${w2}) = ${fmt(body.cosine)}`;
  mark([w1, w2], [[w1, w2]]);
}

async function wordAxes() {
  const [x0, x1, y0, y1] = ["x0", "x1", "y0", "y1"].map((k) => $(`axes-${k}`).value.trim());
  const { body } = await api("/api/axes", { x0, x1, y0, y1 });
  state.axes = body;
  $("axes-off").hidden = false;
  mark(y0 && y1 ? [x0, x1, y0, y1] : [x0, x1], [[x0, x1]].concat(y0 && y1 ? [[y0, y1]] : []));
}

function onSubmit(id, task) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(task);
  });
}

async function start() {
  const { body: info } = await answer(window.firstAnswers.info);
  state.info = info;
  const oov = info.out_of_vocabulary ? "; unseen words get fastText vectors" : "";
  $("info").textContent = `${info.name}: ${info.words.toLocaleString()} words × ${info.vector_size} dims${oov}`;
  $("search-topn").max = info.max_topn;
  for (const option of $("method").options) {
    if (!info.methods[option.value]) {
      option.disabled = true;
      option.textContent += " (pip install umap-learn)";
    }
  }
  $("method").value = info.projection;
  $("dims").value = String(info.dims);
  onSubmit("search-form", () => search($("search-word").value.trim()));
  onSubmit("analogy-form", analogy);
  onSubmit("odd-form", oddOneOut);
  onSubmit("similarity-form", similarity);
  onSubmit("axes-form", wordAxes);
  $("axes-off").addEventListener("click", () => { state.axes = null; $("axes-off").hidden = true; draw(); });
  for (const id of ["method", "dims"]) $(id).addEventListener("change", () => guarded(loadMap));
  $("labels").addEventListener("change", () => state.map && draw());
  await loadMap(window.firstAnswers.map);
  // Plotly adds .on() to the element at its first draw; a click on a point searches its word.
  plot.on("plotly_click", (event) => {
    const point = event.points[0];
    if (point && point.curveNumber === 0) guarded(() => search(state.map.words[point.pointNumber]));
  });
}

guarded(start);
