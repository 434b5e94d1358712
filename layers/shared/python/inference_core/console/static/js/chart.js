// A small SVG bar chart: y axis with rounded ticks, x labels, stacked series, a value over each bar
// when they fit, and a tooltip on hover or keyboard focus (every bar is focusable). No library.

import { h, uid } from "./dom.js";

const W = 560;
const H = 240;
const MARGIN = { top: 18, right: 12, bottom: 36 };

export function niceStep(max, ticks = 4, integer = false) {
  if (!(max > 0)) return 1;
  if (integer && max <= ticks) return 1;
  const rough = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (integer && !Number.isInteger(m * mag)) continue;
    if (m * mag >= rough) return m * mag;
  }
  return 10 * mag;
}

function shortLabel(label) {
  // Days (YYYY-MM-DD) read better as MM-DD on a narrow axis.
  return /^\d{4}-\d{2}-\d{2}$/.test(label) ? label.slice(5) : String(label).slice(0, 14);
}

/**
 * barChart({id, title, labels, series: [{name, values}], format}) → <figure>.
 * `format` renders a value (axis ticks use a compact form of it); `integer` keeps ticks whole.
 */
export function barChart({ id, title, labels, series, format = String, compact = format, integer = false }) {
  const titleId = uid("chart-title");
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (Number(s.values[i]) || 0), 0));
  const figure = h("figure", { className: "chart", dataset: { chart: id } });
  figure.append(h("figcaption", { id: titleId }, title));
  if (!labels.length || totals.every((t) => t === 0)) {
    figure.append(h("p", { className: "empty" }, "No data for this period."));
    return figure;
  }
  const max = Math.max(...totals);
  const step = niceStep(max, 4, integer);
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  // Room on the left for the longest tick label (up to 8.5 units a character: the phone stylesheet enlarges them).
  const M = { ...MARGIN, left: Math.max(36, 10 + 8.5 * Math.max(...ticks.map((v) => String(compact(v)).length))) };
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v) => M.top + plotH - (v / top) * plotH;
  const band = plotW / labels.length;
  const barW = Math.max(2, Math.min(48, band * 0.7));

  const svg = h("svg:svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "group",
    "aria-labelledby": titleId,
    className: "chart-svg",
  });
  // y axis: gridlines and tick labels
  for (const v of ticks) {
    svg.append(
      h("svg:line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), className: "grid" }),
      h("svg:text", { x: M.left - 6, y: y(v) + 4, className: "tick", "text-anchor": "end" }, compact(v)),
    );
  }
  svg.append(h("svg:line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, className: "axis" }));
  svg.append(
    h("svg:line", { x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH, className: "axis" }),
  );
  const every = Math.ceil(labels.length / 8);
  const tooltip = h("div", { className: "tooltip", role: "tooltip", hidden: true });

  labels.forEach((label, i) => {
    const cx = M.left + band * i + band / 2;
    const parts = series.map((s) => `${s.name} ${format(Number(s.values[i]) || 0)}`);
    const description = `${label}: ${parts.join(", ")}`;
    const group = h("svg:g", {
      className: "bar",
      tabindex: 0,
      role: "img",
      "aria-label": description,
      dataset: { label, value: String(totals[i]) },
    });
    let base = 0;
    series.forEach((s, k) => {
      const v = Number(s.values[i]) || 0;
      if (v > 0) {
        group.append(
          h("svg:rect", {
            x: cx - barW / 2,
            y: y(base + v),
            width: barW,
            height: Math.max(1, y(base) - y(base + v)),
            className: `series-${k}`,
          }),
        );
      }
      base += v;
    });
    group.append(h("svg:title", {}, description));
    if (labels.length <= 16 && totals[i] > 0) {
      group.append(
        h("svg:text", { x: cx, y: y(totals[i]) - 4, className: "value", "text-anchor": "middle" }, compact(totals[i])),
      );
    }
    const show = () => {
      tooltip.textContent = description;
      tooltip.hidden = false;
      tooltip.style.left = `${(cx / W) * 100}%`;
      tooltip.style.top = `${(y(totals[i]) / H) * 100}%`;
    };
    group.addEventListener("mouseenter", show);
    group.addEventListener("focus", show);
    group.addEventListener("mouseleave", () => (tooltip.hidden = true));
    group.addEventListener("blur", () => (tooltip.hidden = true));
    svg.append(group);
    if (i % every === 0) {
      svg.append(
        h("svg:text", { x: cx, y: H - M.bottom + 16, className: "tick", "text-anchor": "middle" }, shortLabel(label)),
      );
    }
  });
  figure.append(h("div", { className: "chart-box" }, svg, tooltip));
  if (series.length > 1) {
    figure.append(
      h(
        "ul",
        { className: "legend" },
        series.map((s, k) => h("li", {}, h("span", { className: `swatch series-${k}`, "aria-hidden": "true" }), s.name)),
      ),
    );
  }
  return figure;
}
