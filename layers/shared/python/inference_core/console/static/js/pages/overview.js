// Requests, tokens and cost per day, top models and keys, error and cache-hit rates.

import * as api from "../api.js";
import { barChart } from "../chart.js";
import { claim, daysAgo, errorText, field, fmt, h, isoDay, replace, section, select, table } from "../dom.js";
import { byDay, fetchUsage, keyLabel, keyNames, rate, rowsOf, scopeOptions } from "../usage-data.js";

export const title = "Overview";

export async function render(main, ctx) {
  const scope = select("scope", await scopeOptions(ctx), "me");
  const days = select("days", [["7", "Last 7 days"], ["14", "Last 14 days"], ["30", "Last 30 days"]], "14");
  const body = h("div", { className: "overview" });
  const controls = h("form", { className: "filters", onSubmit: (e) => e.preventDefault() },
    ctx.superuser ? field("Scope", scope) : null, field("Period", days));
  main.append(controls, body);
  const load = async () => {
    const current = claim(body);
    replace(body, h("p", { className: "loading" }, "Loading usage…"));
    try {
      const parts = await overview(scope.value, Number(days.value), ctx);
      if (current()) replace(body, ...parts);
    } catch (error) {
      if (current()) replace(body, h("p", { className: "error", role: "alert" }, `Usage is unavailable: ${errorText(error)}`));
    }
  };
  scope.addEventListener("change", load);
  days.addEventListener("change", load);
  await load();
}

// Upstream errors are not usage (refused and failed calls cost nothing); the router keeps a
// recent error rate per deployment, which superusers can read.
async function upstreamErrorRate(ctx) {
  if (!ctx.superuser) return null;
  try {
    const { data } = await api.get("v1/admin/providers");
    const calls = data.reduce((n, d) => n + (d.recent_calls || 0), 0);
    if (!calls) return null;
    return data.reduce((n, d) => n + (d.recent_error_rate || 0) * (d.recent_calls || 0), 0) / calls;
  } catch {
    return null;
  }
}

async function overview(scope, days, ctx) {
  const start = daysAgo(days - 1);
  const end = isoDay(new Date());
  const [daily, models, keys, names, errorRate] = await Promise.all([
    ...["day", "model", "key"].map((groupBy) => fetchUsage({ scope, start, end, groupBy })),
    keyNames(ctx),
    upstreamErrorRate(ctx),
  ]);
  const dayRows = byDay(rowsOf(daily, "day"), start, end);
  const labels = dayRows.map((r) => r.bucket);
  const tiles = h(
    "dl",
    { className: "tiles" },
    tile("Requests", fmt.int(daily.total_requests), "total-requests"),
    tile("Input tokens", fmt.int(daily.total_input_tokens), "total-input"),
    tile("Output tokens", fmt.int(daily.total_output_tokens), "total-output"),
    tile("Cost", fmt.usd(daily.total_cost_usd), "total-cost"),
    tile("Upstream error rate (recent)", fmt.pct(rate(dayRows, "errors") ?? errorRate), "error-rate"),
    tile("Cache-hit rate", fmt.pct(rate(dayRows, "cacheHits")), "cache-rate"),
  );
  const charts = h(
    "div",
    { className: "charts" },
    barChart({ id: "requests", title: "Requests per day", labels, series: [{ name: "requests", values: dayRows.map((r) => r.requests) }], format: fmt.int, compact: fmt.compact, integer: true }),
    barChart({
      id: "tokens",
      title: "Tokens per day",
      labels,
      series: [
        { name: "input", values: dayRows.map((r) => r.input) },
        { name: "output", values: dayRows.map((r) => r.output) },
      ],
      format: fmt.int,
      compact: fmt.compact,
      integer: true,
    }),
    barChart({ id: "cost", title: "Cost per day (USD)", labels, series: [{ name: "cost", values: dayRows.map((r) => r.cost) }], format: fmt.usd, compact: (v) => `$${fmt.compact(v)}` }),
  );
  const top = (rows) => [...rows].sort((a, b) => b.cost - a.cost || b.requests - a.requests).slice(0, 5);
  const modelRows = top(rowsOf(models, "model"));
  const keyRows = top(rowsOf(keys, "key"));
  return [
    tiles,
    charts,
    h(
      "div",
      { className: "two-up" },
      section("Top models", table("Top models by cost", ["Model", "Requests", "Tokens", "Cost"],
        modelRows.map((r) => [r.bucket, fmt.int(r.requests), fmt.int(r.input + r.output), fmt.usd(r.cost)]))),
      section("Top keys", table("Top keys by cost", ["Key", "Requests", "Tokens", "Cost"],
        keyRows.map((r) => [keyLabel(r.bucket, names), fmt.int(r.requests), fmt.int(r.input + r.output), fmt.usd(r.cost)]))),
    ),
  ];
}

function tile(label, value, id) {
  return h("div", { className: "tile" }, h("dt", {}, label), h("dd", { dataset: { tile: id } }, value));
}
