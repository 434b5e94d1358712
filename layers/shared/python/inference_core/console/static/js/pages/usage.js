// Usage with filters (dates, grouping; superusers also team, user, key, model), a chart, a table,
// and the same rows as CSV.

import { barChart } from "../chart.js";
import { claim, daysAgo, errorText, field, fmt, h, isoDay, replace, select } from "../dom.js";
import { byDay, fetchUsage, keyLabel, keyNames, rowsOf, scopeOptions } from "../usage-data.js";

export const title = "Usage";

const METRICS = {
  requests: ["Requests", (r) => r.requests, fmt.int, fmt.compact],
  tokens: ["Tokens", (r) => r.input + r.output, fmt.int, fmt.compact],
  cost: ["Cost (USD)", (r) => r.cost, fmt.usd, (v) => `$${fmt.compact(v)}`],
};

export async function render(main, ctx) {
  const start = h("input", { type: "date", name: "start", value: daysAgo(29), required: true });
  const end = h("input", { type: "date", name: "end", value: isoDay(new Date()), required: true });
  const groups = [["day", "Day"], ["model", "Model"], ["key", "Key"]];
  if (ctx.superuser) groups.push(["user", "User"], ["team", "Team"]);
  const groupBy = select("group_by", groups, "day");
  const metric = select("metric", Object.entries(METRICS).map(([k, [label]]) => [k, label]), "requests");
  const scope = select("scope", await scopeOptions(ctx), "me");
  const keyId = h("input", { type: "text", name: "key_id", autocomplete: "off" });
  const model = h("input", { type: "text", name: "model", autocomplete: "off" });
  const result = h("div", { id: "usage-result", "aria-live": "polite" });
  let last = null;
  const names = await keyNames(ctx);
  const exportButton = h("button", { type: "button", className: "secondary", disabled: true, onClick: () => last && download(last) }, "Export CSV");

  const form = h(
    "form",
    {
      className: "filters card",
      "aria-label": "Usage filters",
      onSubmit: async (event) => {
        event.preventDefault();
        await load();
      },
    },
    field("From", start),
    field("To", end),
    field("Group by", groupBy),
    field("Chart", metric),
    ctx.superuser ? [field("Scope", scope), field("Key id", keyId), field("Model", model)] : null,
    h("div", { className: "row" }, h("button", { type: "submit" }, "Show"), exportButton),
  );
  main.append(form, result);
  metric.addEventListener("change", () => last && draw(last));

  async function load() {
    const current = claim(result);
    replace(result, h("p", { className: "loading" }, "Loading…"));
    exportButton.disabled = true;
    try {
      const filters = {};
      if (keyId.value.trim()) filters.key_id = keyId.value.trim();
      if (model.value.trim()) filters.model = model.value.trim();
      const sc = ctx.superuser && (scope.value !== "me" || Object.keys(filters).length) ? (scope.value === "me" ? "all" : scope.value) : "me";
      const body = await fetchUsage({ scope: sc, start: start.value, end: end.value, groupBy: groupBy.value, filters });
      if (!current()) return;
      let rows = rowsOf(body, groupBy.value);
      if (groupBy.value === "day") rows = byDay(rows, start.value, end.value);
      last = { body, rows, groupBy: groupBy.value, start: start.value, end: end.value };
      draw(last);
      exportButton.disabled = false;
    } catch (error) {
      if (current()) replace(result, h("p", { className: "error", role: "alert" }, `Usage is unavailable: ${errorText(error)}`));
    }
  }

  function draw({ body, rows, groupBy: by }) {
    const [label, value, format, compact] = METRICS[metric.value];
    replace(
      result,
      h(
        "p",
        { className: "totals", dataset: { totalRequests: String(body.total_requests ?? 0) } },
        `${fmt.int(body.total_requests)} requests · ${fmt.int(body.total_input_tokens)} input and ${fmt.int(body.total_output_tokens)} output tokens · ${fmt.usd(body.total_cost_usd)}`,
      ),
      barChart({ id: "usage", title: `${label} by ${by}`, labels: rows.map((r) => r.bucket), series: [{ name: label.toLowerCase(), values: rows.map(value) }], format, compact, integer: metric.value !== "cost" }),
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          { id: "usage-table" },
          h("caption", { className: "visually-hidden" }, "Usage rows"),
          h("thead", {}, h("tr", {}, [by, "requests", "input tokens", "output tokens", "cost"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            rows.filter((r) => r.requests || by !== "day").map((r) =>
              h("tr", {}, h("td", {}, by === "key" ? keyLabel(r.bucket, names) : r.bucket), h("td", {}, fmt.int(r.requests)), h("td", {}, fmt.int(r.input)), h("td", {}, fmt.int(r.output)), h("td", {}, fmt.usd(r.cost))),
            ),
          ),
        ),
      ),
    );
  }
  await load();
}

export function toCsv(rows, by) {
  const quote = (v) => {
    const s = String(v ?? "");
    // A leading = + - @ would be a formula in a spreadsheet: prefix it with a quote.
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = [[by, "requests", "input_tokens", "output_tokens", "cost_usd"].join(",")];
  for (const r of rows) lines.push([r.bucket, r.requests, r.input, r.output, r.cost].map(quote).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

function download({ rows, groupBy, start, end }) {
  const blob = new Blob([toCsv(rows, groupBy)], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: `usage-${groupBy}-${start}-to-${end}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
