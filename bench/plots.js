#!/usr/bin/env node
// Plots of the benchmark suite's results: reads the TSV files the benchmarks wrote into a results
// folder and writes an SVG next to each (and a PNG copy through libvips' `vips`, when installed).
//   node bench/plots.js RESULTS_DIR
// Plain Node on purpose: the benchmarks must not depend on an npm install, so the SVG is written
// as text here.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

// ---- Reading the TSV files ------------------------------------------------------------------

class Malformed extends Error {}

// What each column may hold. Ranges are checked as well as the syntax: a recall of 83 instead of
// 0.83 is a bug in the benchmark, and would otherwise come out as a plot that looks plausible.
const kinds = {
  text: s => (s ? s : undefined), // an empty name would be a bar or line with no label
  count: s => (/^\d+$/.test(s) ? Number(s) : undefined),
  fraction: s => { const v = number(s); return v >= 0 && v <= 1 ? v : undefined; },
  positive: s => { const v = number(s); return v > 0 ? v : undefined; },
  nonnegative: s => { const v = number(s); return v >= 0 ? v : undefined; },
};
const kindWords = {
  text: "a name, not empty", count: "a whole number", fraction: "a number from 0 to 1",
  positive: "a number above 0", nonnegative: "a number, 0 or above",
};
function number(s) {
  // Number("") is 0 and Number("0x1") is 1: only plain decimal notation is a value here.
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : NaN;
}

// Rows of a TSV file as objects keyed by column name; columns lists the expected header in order.
function readTsv(file, columns) {
  const names = Object.keys(columns);
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  if (!lines.length) throw new Malformed(`empty, expected the header "${names.join("\\t")}"`);
  if (lines[0] !== names.join("\t"))
    throw new Malformed(`line 1: header is "${lines[0].replace(/\t/g, "\\t")}", expected "${names.join("\\t")}"`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split("\t");
    if (cells.length !== names.length)
      throw new Malformed(`line ${i + 2}: ${cells.length} columns, expected ${names.length} (${names.join(", ")})`);
    const row = {};
    names.forEach((name, c) => {
      const v = kinds[columns[name]](cells[c].trim());
      if (v === undefined || Number.isNaN(v))
        throw new Malformed(`line ${i + 2}: ${name} is "${cells[c]}", expected ${kindWords[columns[name]]}`);
      row[name] = v;
    });
    return row;
  });
}

// ---- SVG text ------------------------------------------------------------------------------------

const esc = s => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const r1 = v => Math.round(v * 10) / 10; // a tenth of a pixel is finer than any renderer shows

function el(tag, attrs, content) {
  const a = Object.entries(attrs).filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(typeof v === "number" ? r1(v) : v)}"`).join("");
  return content === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${content}</${tag}>`;
}
const text = (x, y, s, attrs = {}) => el("text", { x, y, ...attrs }, esc(s));

// Layout needs label widths before anything is drawn, and there is no font metrics API in plain
// Node; 0.6 em per character is a little above DejaVu Sans' average, so estimates err on room.
const textWidth = (s, size) => String(s).length * size * 0.6;

const FONT = 12;
const TITLE = 17;
const WIDTH = 900;

function svgDocument(width, height, title, body) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(height)}" ` +
      `viewBox="0 0 ${width} ${Math.ceil(height)}" font-family="sans-serif" font-size="${FONT}">`,
    el("rect", { width, height: Math.ceil(height), fill: "white" }),
    text(width / 2, 28, title, { "font-size": TITLE, "font-weight": "bold", "text-anchor": "middle" }),
    ...body,
    "</svg>\n",
  ].join("\n");
}

// Up to 3 significant digits, thousands as k and millions as M: tick and value labels stay short.
function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

// ---- Scales ----------------------------------------------------------------------------------------

// A linear scale from lo to hi onto pixels a..b, with ticks at 1, 2 or 5 times a power of ten.
function linearScale(lo, hi, a, b, step) {
  if (!step) {
    const rough = (hi - lo) / 8;
    const p = 10 ** Math.floor(Math.log10(rough));
    step = [1, 2, 5, 10].map(m => m * p).find(s => s >= rough);
  }
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return { lo, hi, ticks, log: false, map: v => a + ((v - lo) / (hi - lo)) * (b - a) };
}

// A log scale from lo to hi, widened to the nearest 1, 2 or 5 times a power of ten: whole decades
// would leave up to nine tenths of the width empty. Ticks at each decade, and within two decades
// or less at 2 and 5 too, otherwise a plot would have only two or three labelled ticks.
function logScale(lo, hi, a, b) {
  const steps = d => [1, 2, 5].map(m => +(m * 10 ** d).toPrecision(12));
  const dLo = Math.floor(Math.log10(lo) + 1e-9), dHi = Math.floor(Math.log10(hi) - 1e-9);
  lo = steps(dLo).filter(v => v <= lo * (1 + 1e-9)).pop();
  hi = [...steps(dHi), 10 ** (dHi + 1)].find(v => v >= hi * (1 - 1e-9));
  if (hi <= lo) hi = lo * 10; // one value: a decade around it
  const ticks = [];
  for (let d = dLo; d <= dHi + 1; d++)
    for (const v of dHi - dLo < 2 ? steps(d) : [10 ** d]) if (v >= lo && v <= hi) ticks.push(+v.toPrecision(12));
  if (ticks[0] !== lo) ticks.unshift(lo);
  if (ticks[ticks.length - 1] !== hi) ticks.push(hi);
  const L = Math.log10;
  return { lo, hi, ticks, log: true, map: v => a + ((L(v) - L(lo)) / (L(hi) - L(lo))) * (b - a) };
}

// Log when the values span more than 30x, since then the small ones would be invisible slivers;
// a log scale cannot show a zero, so any zero keeps the scale linear.
function autoScale(values, a, b) {
  const lo = Math.min(...values), hi = Math.max(...values);
  return lo > 0 && hi / lo > 30 ? logScale(lo, hi, a, b) : linearScale(0, hi > 0 ? hi : 1, a, b);
}

// ---- Colours ------------------------------------------------------------------------------------

// Fixed colours for the methods the suite knows, so a method looks the same in every plot and in
// every run whichever subset a results folder holds; likeness' methods get the strong colours.
const PALETTE = ["#1f5fbf", "#e07b00", "#1a9641", "#c9302c", "#8e5bb5", "#8c564b", "#d957b0",
  "#6b6b6b", "#a8a800", "#17a2b8"];
const KNOWN = ["likeness PDQ", "likeness embedding", "likeness fused", "opencv PHash",
  "opencv BlockMean", "opencv ColorMoment", "opencv RadialVariance"];
const assigned = new Map(KNOWN.map((m, i) => [m, PALETTE[i]]));
function methodColour(method) {
  if (!assigned.has(method)) assigned.set(method, PALETTE[assigned.size % PALETTE.length]);
  return assigned.get(method);
}

// A lighter shade of a colour, for variants of one thing (the same input on one thread or two).
function lighten(hex, amount) {
  const c = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  return "#" + c.map(v => Math.round(v + (255 - v) * amount).toString(16).padStart(2, "0")).join("");
}

// ---- Legend ---------------------------------------------------------------------------------------

// Legend entries laid out left to right, wrapping within maxWidth; returns its SVG and height so
// the caller can place the plot below or beside it, never under it.
function legend(items, x0, y0, maxWidth) {
  const rowH = 20, swatch = 22, out = [];
  let x = x0, y = y0;
  for (const it of items) {
    const w = swatch + 6 + textWidth(it.label, FONT) + 18;
    if (x > x0 && x + w > x0 + maxWidth) { x = x0; y += rowH; }
    const cy = y + rowH / 2;
    if (it.kind === "line" || it.kind === "dash") {
      out.push(el("line", { x1: x, y1: cy, x2: x + swatch, y2: cy, stroke: it.colour, "stroke-width": 2.5,
        "stroke-dasharray": it.kind === "dash" ? "6 3" : undefined }));
      if (it.markers) out.push(el("circle", { cx: x + swatch / 2, cy, r: 3, fill: it.colour }));
    }
    else if (it.kind === "tick")
      out.push(el("rect", { x: x + swatch / 2 - 1, y: cy - 7, width: 2.5, height: 14, fill: it.colour }));
    else out.push(el("rect", { x, y: cy - 6, width: swatch, height: 12, fill: it.colour }));
    out.push(text(x + swatch + 6, cy + 4, it.label));
    x += w;
  }
  return { svg: out, height: items.length ? y - y0 + rowH : 0 };
}

// ---- Horizontal grouped bars ------------------------------------------------------------------

// Groups stacked top to bottom, one bar per series within each, the value axis along x. The height
// follows the number of groups and bars, so 16 edits of 7 methods each get a tall plot instead of
// overlapping labels. A bar may carry a marker, a dark tick at a second value on the same axis.
function barChart({ title, axisLabel, groups, series, legendExtra = [], scale, barH = 12, valueFmt = fmt }) {
  const gap = 1, groupGap = 16;
  const labelW = Math.max(...groups.map(g => textWidth(g.label, FONT + 1)), 40);
  const left = labelW + 24, right = WIDTH - 56;
  const leg = legend([...series.map(s => ({ label: s.name, colour: s.colour })), ...legendExtra], left, 44, right - left);
  const top = 44 + leg.height + 26; // room for the top tick labels
  const groupH = g => g.slots * (barH + gap) - gap + groupGap;
  const plotH = groups.reduce((h, g) => h + groupH(g), 0);
  const bottom = top + plotH;
  const values = groups.flatMap(g => g.bars.map(b => b.value));
  const x = scale === "fraction" ? linearScale(0, 1, left, right, 0.1) : autoScale(values, left, right);
  const out = [];

  // Alternate bands tell the groups apart where 7 bars of similar colours sit close together.
  let y = top;
  groups.forEach((g, i) => {
    const h = groupH(g);
    if (i % 2 === 0) out.push(el("rect", { x: 8, y, width: WIDTH - 16, height: h, fill: "#f3f4f6" }));
    y += h;
  });
  for (const t of x.ticks) {
    const px = x.map(t);
    out.push(el("line", { x1: px, y1: top, x2: px, y2: bottom, stroke: t === x.lo ? "#444" : "#d4d4d4" }));
    out.push(text(px, top - 7, fmt(t), { "text-anchor": "middle", fill: "#333" }));
    out.push(text(px, bottom + 16, fmt(t), { "text-anchor": "middle", fill: "#333" }));
  }
  out.push(text((left + right) / 2, bottom + 40, axisLabel, { "text-anchor": "middle", "font-size": FONT + 1 }));

  y = top;
  for (const g of groups) {
    const h = groupH(g);
    const inner = h - groupGap;
    const mid = y + groupGap / 2 + inner / 2;
    const label = { "text-anchor": "end", "font-size": FONT + 1, "font-weight": g.bold ? "bold" : undefined };
    if (g.note) {
      out.push(text(left - 10, mid - 1, g.label, label));
      out.push(text(left - 10, mid + 14, g.note, { "text-anchor": "end", fill: "#666", "font-size": 11 }));
    } else out.push(text(left - 10, mid + 5, g.label, label));
    for (const b of g.bars) {
      const by = y + groupGap / 2 + b.slot * (barH + gap);
      const x0 = x.map(x.lo), x1 = x.map(b.value);
      out.push(el("rect", { x: x0, y: by, width: Math.max(x1 - x0, 0), height: barH, fill: b.colour }));
      if (b.marker !== undefined)
        out.push(el("rect", { x: x.map(b.marker) - 1.25, y: by - 1, width: 2.5, height: barH + 2, fill: "#111" }));
      out.push(text(x1 + 4, by + barH / 2 + 4, valueFmt(b.value), { "font-size": 11, fill: "#222" }));
    }
    y += h;
  }
  return svgDocument(WIDTH, bottom + 56, title, [...leg.svg, ...out]);
}

// ---- Lines ---------------------------------------------------------------------------------------

// Lines over a plot area with the legend to its right, outside, so it never covers a curve.
function lineChart({ title, xLabel, yLabel, x: makeX, y: makeY, lines, plotW, plotH }) {
  const left = 78, top = 50, right = left + plotW, bottom = top + plotH;
  const x = makeX(left, right), y = makeY(bottom, top);
  const out = [];
  for (const t of x.ticks) {
    const px = x.map(t);
    out.push(el("line", { x1: px, y1: top, x2: px, y2: bottom, stroke: "#d4d4d4" }));
    out.push(text(px, bottom + 17, fmt(t), { "text-anchor": "middle", fill: "#333" }));
  }
  for (const t of y.ticks) {
    const py = y.map(t);
    out.push(el("line", { x1: left, y1: py, x2: right, y2: py, stroke: "#d4d4d4" }));
    out.push(text(left - 7, py + 4, fmt(t), { "text-anchor": "end", fill: "#333" }));
  }
  out.push(el("rect", { x: left, y: top, width: plotW, height: plotH, fill: "none", stroke: "#444" }));
  out.push(text((left + right) / 2, bottom + 42, xLabel, { "text-anchor": "middle", "font-size": FONT + 1 }));
  out.push(text(0, 0, yLabel, { transform: `translate(22 ${(top + bottom) / 2}) rotate(-90)`,
    "text-anchor": "middle", "font-size": FONT + 1 }));
  for (const l of lines) {
    const pts = l.points.map(([px, py]) => `${r1(x.map(px))},${r1(y.map(py))}`).join(" ");
    out.push(el("polyline", { points: pts, fill: "none", stroke: l.colour, "stroke-width": 2.2,
      "stroke-linejoin": "round", "stroke-dasharray": l.dash ? "7 4" : undefined }));
    if (l.markers)
      for (const [px, py] of l.points) out.push(el("circle", { cx: x.map(px), cy: y.map(py), r: 3.5, fill: l.colour }));
  }
  const legendX = right + 24;
  const leg = legend(lines.map(l => ({ label: l.label, colour: l.colour, kind: l.dash ? "dash" : "line", markers: l.markers })),
    legendX, top, 1); // a width of 1 puts each entry on its own row
  return svgDocument(Math.max(WIDTH, legendX + Math.max(...lines.map(l => textWidth(l.label, FONT))) + 50),
    bottom + 60, title, [...out, ...leg.svg]);
}

// ---- The plots -----------------------------------------------------------------------------------

// Distinct values in order of first appearance: the benchmarks write rows in a meaningful order.
const distinct = values => [...new Set(values)];

// "n=500", or "n=480–500" where the methods were measured on different numbers of queries.
function queriesNote(rows) {
  const lo = Math.min(...rows.map(r => r.queries)), hi = Math.max(...rows.map(r => r.queries));
  return lo === hi ? `n=${lo}` : `n=${lo}–${hi}`;
}

function recallByEdit(quality) {
  const methods = distinct(quality.map(r => r.method));
  const groups = distinct(quality.map(r => r.edit)).map(edit => {
    const rows = quality.filter(r => r.edit === edit);
    return {
      label: edit, note: queriesNote(rows), bold: edit === "all copies", slots: methods.length,
      // A method without a row for this edit leaves its slot empty, so bars keep their places.
      bars: rows.map(r => ({ slot: methods.indexOf(r.method), value: r.recall_1pct, marker: r.recall_01pct,
        colour: methodColour(r.method) })),
    };
  });
  return barChart({
    title: "Recall by edit", axisLabel: "recall at 1% false positives (fraction of copies found)", groups, scale: "fraction",
    series: methods.map(m => ({ name: m, colour: methodColour(m) })),
    legendExtra: [{ label: "recall at 0.1% false positives", colour: "#111", kind: "tick" }],
    valueFmt: v => v.toFixed(2),
  });
}

function prCurves(pr, quality) {
  const ap = new Map((quality || []).filter(r => r.edit === "all copies").map(r => [r.method, r.ap]));
  const lines = distinct(pr.map(r => r.method)).map(m => ({
    label: ap.has(m) ? `${m}  (AP ${ap.get(m).toFixed(2)})` : m, colour: methodColour(m),
    points: pr.filter(r => r.method === m).map(r => [r.recall, r.precision]),
  }));
  return lineChart({
    title: "Precision and recall, all copies (micro-averaged)", xLabel: "recall (fraction of copies found)",
    yLabel: "precision (fraction of matches that are copies)", lines, plotW: 560, plotH: 560,
    x: (a, b) => linearScale(0, 1, a, b, 0.1), y: (a, b) => linearScale(0, 1, a, b, 0.1),
  });
}

function latency(registry) {
  const kindsOfSearch = distinct(registry.map(r => r.search));
  const lines = kindsOfSearch.flatMap((s, i) => {
    const rows = registry.filter(r => r.search === s).sort((a, b) => a.references - b.references);
    return ["p50", "p99"].map(p => ({ label: `${s} search, ${p}`, colour: PALETTE[i % PALETTE.length],
      dash: p === "p99", markers: true, points: rows.map(r => [r.references, r[`${p}_ms`]]) }));
  });
  const ms = registry.flatMap(r => [r.p50_ms, r.p99_ms]);
  const refs = registry.map(r => r.references);
  const yScale = (a, b) => autoScale(ms, a, b);
  return lineChart({
    title: "Search latency by registry size", xLabel: "references in the registry (log scale)",
    yLabel: `latency per query, ms${yScale(0, 1).log ? " (log scale)" : ""}`, lines, plotW: 600, plotH: 430,
    x: (a, b) => logScale(Math.min(...refs), Math.max(...refs), a, b), y: yScale,
  });
}

function speed(rows) {
  const combos = distinct(rows.map(r => `${r.input}\t${r.threads}`));
  const inputs = distinct(rows.map(r => r.input));
  const threadCounts = distinct(rows.map(r => r.threads)).sort((a, b) => a - b);
  // One hue per input, lighter for fewer threads: pairs of bars read as the same input.
  const colour = c => {
    const [input, threads] = c.split("\t");
    const shade = threadCounts.length > 1 ? 0.55 * (1 - threadCounts.indexOf(Number(threads)) / (threadCounts.length - 1)) : 0;
    return lighten(PALETTE[inputs.indexOf(input) % PALETTE.length], shade);
  };
  const name = c => { const [input, t] = c.split("\t"); return `${input}, ${t} thread${t === "1" ? "" : "s"}`; };
  const groups = distinct(rows.map(r => r.tool)).map(tool => ({
    label: tool, slots: combos.length,
    bars: rows.filter(r => r.tool === tool).map(r => {
      const c = `${r.input}\t${r.threads}`;
      return { slot: combos.indexOf(c), value: r.images_per_s, colour: colour(c) };
    }),
  }));
  const values = rows.map(r => r.images_per_s);
  return barChart({
    title: "Throughput by tool, input format and threads", groups, barH: 14,
    axisLabel: `images per second${autoScale(values, 0, 1).log ? " (log scale)" : ""}`,
    series: combos.map(c => ({ name: name(c), colour: colour(c) })),
  });
}

function characterTrack(rows) {
  const groups = rows.map(r => ({ label: r.method, note: `n=${r.queries}`, slots: 1,
    bars: [{ slot: 0, value: r.recall_at_1, colour: methodColour(r.method) }] }));
  return barChart({
    title: "Character track: the right character ranked first", groups, series: [], scale: "fraction", barH: 22,
    axisLabel: "recall at rank 1 (fraction of queries whose top match is their character)",
    valueFmt: v => v.toFixed(2),
  });
}

// ---- Main ----------------------------------------------------------------------------------------

const inputs = {
  quality: { file: "quality.tsv", columns: { method: "text", edit: "text", queries: "count",
    recall_1pct: "fraction", recall_01pct: "fraction", ap: "fraction" } },
  pr: { file: "pr.tsv", columns: { method: "text", recall: "fraction", precision: "fraction" } },
  registry: { file: "registry.tsv", columns: { references: "positive", search: "text",
    p50_ms: "nonnegative", p99_ms: "nonnegative" } },
  speed: { file: "speed.tsv", columns: { tool: "text", input: "text", threads: "count",
    images_per_s: "positive", p50_ms: "nonnegative", p99_ms: "nonnegative" } },
  character: { file: "character.tsv", columns: { method: "text", queries: "count",
    recall_at_1: "fraction", recall_1pct: "fraction" } },
};

const plots = [
  { out: "recall_by_edit.svg", needs: "quality", draw: d => recallByEdit(d.quality) },
  { out: "pr.svg", needs: "pr", draw: d => prCurves(d.pr, d.quality) },
  { out: "latency_vs_registry.svg", needs: "registry", draw: d => latency(d.registry) },
  { out: "speed.svg", needs: "speed", draw: d => speed(d.speed) },
  { out: "character_track.svg", needs: "character", draw: d => characterTrack(d.character) },
];

function main(argv) {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    process.stderr.write("usage: node bench/plots.js RESULTS_DIR\n");
    return 2;
  }
  const dir = argv[0];
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`plots: ${dir} is not a folder\n`);
    return 2;
  }
  let status = 0;
  const data = {};
  for (const [key, { file, columns }] of Object.entries(inputs)) {
    const p = path.join(dir, file);
    if (!fs.existsSync(p)) continue;
    try {
      data[key] = readTsv(p, columns);
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      process.stderr.write(`plots: malformed ${p}: ${e.message}\n`);
      data[key] = null; // present but unusable: its plots are skipped, and the run fails
      status = 1;
    }
  }
  if (!Object.keys(data).length) {
    // Most likely the wrong folder, or benchmarks that wrote nothing: worth failing over.
    const names = Object.values(inputs).map(i => i.file).join(", ");
    process.stderr.write(`plots: no results in ${dir} (looked for ${names})\n`);
    return 1;
  }
  let vips = true;
  for (const plot of plots) {
    const rows = data[plot.needs];
    if (rows === null) continue;
    if (rows === undefined || !rows.length) {
      process.stderr.write(`plots: skipping ${plot.out}: ${inputs[plot.needs].file} ${rows ? "has no rows" : "is missing"}\n`);
      continue;
    }
    const svg = path.join(dir, plot.out);
    fs.writeFileSync(svg, plot.draw(data));
    const png = svg.replace(/\.svg$/, ".png");
    if (vips) {
      try {
        // svgload rather than `copy in.svg[scale=2]`: a folder name with brackets in it would be
        // read as load options.
        execFileSync("vips", ["svgload", svg, png, "--scale", "2"], { stdio: ["ignore", "ignore", "pipe"] });
      } catch (e) {
        if (e.code === "ENOENT") {
          process.stderr.write("plots: vips is not installed, so no PNG copies; the SVGs are written\n");
          vips = false;
        } else {
          process.stderr.write(`plots: vips could not render ${svg}: ${String(e.stderr || e.message).trim()}\n`);
          status = 1;
        }
      }
    }
    process.stdout.write(`${svg}\n`);
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
