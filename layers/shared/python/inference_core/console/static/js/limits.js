// The limit and budget fields every level (key, user, team) carries, as form controls and back.

import { field, h, select } from "./dom.js";

export const LIMIT_FIELDS = [
  ["rpm_limit", "Requests per minute", "int"],
  ["tpm_limit", "Tokens per minute", "int"],
  ["max_parallel_requests", "Parallel requests", "int"],
  ["max_budget_usd", "Budget (USD)", "usd"],
];

// Inputs for the limits, prefilled from `current`; read() gives only the fields that are set
// (and, with `clearing`, null for the ones emptied, so a PATCH removes them).
export function limitInputs(current = {}, { clearing = false } = {}) {
  const inputs = {};
  const fields = LIMIT_FIELDS.map(([name, label, kind]) => {
    inputs[name] = h("input", {
      type: "number",
      name,
      min: kind === "usd" ? "0" : "1",
      step: kind === "usd" ? "0.01" : "1",
      inputmode: kind === "usd" ? "decimal" : "numeric",
      value: current[name] ?? "",
    });
    return field(label, inputs[name]);
  });
  const period = select(
    "budget_period",
    [["", "—"], ["day", "per day"], ["month", "per month"], ["total", "in total"]],
    current.budget_period || "",
  );
  fields.push(field("Budget period", period));
  const read = () => {
    const out = {};
    for (const [name, , kind] of LIMIT_FIELDS) {
      const raw = inputs[name].value.trim();
      if (raw !== "") out[name] = kind === "usd" ? Number(raw) : Math.round(Number(raw));
      else if (clearing && current[name] !== undefined && current[name] !== null) out[name] = null;
    }
    if (period.value) out.budget_period = period.value;
    if (out.max_budget_usd !== undefined && out.max_budget_usd !== null && !out.budget_period) {
      out.budget_period = "month";
    }
    return out;
  };
  return { fields, read };
}

export function describeLimits(item) {
  const parts = [];
  if (item.rpm_limit) parts.push(`${item.rpm_limit} req/min`);
  if (item.tpm_limit) parts.push(`${item.tpm_limit} tok/min`);
  if (item.max_parallel_requests) parts.push(`${item.max_parallel_requests} parallel`);
  if (item.max_budget_usd !== undefined && item.max_budget_usd !== null) {
    parts.push(`$${item.max_budget_usd} ${item.budget_period || ""}`.trim());
  }
  return parts.length ? parts.join(", ") : "defaults";
}

// This period's spend and what remains. Keys answer `spend_usd` and `budget_remaining_usd`; the
// admin API's users and teams answer `spend`, a map of period id (d2026-12-01, m2026-12, total)
// to USD, read here for the level's own budget period.
export function spendOf(item) {
  if (item.spend_usd !== undefined) {
    return { spend: item.spend_usd, remaining: item.budget_remaining_usd ?? null };
  }
  if (item.spend && typeof item.spend === "object") {
    const today = new Date().toISOString();
    const period = item.budget_period || "month";
    const id = { day: `d${today.slice(0, 10)}`, month: `m${today.slice(0, 7)}`, total: "total" }[period];
    const spend = Number(item.spend[id] || 0);
    const budget = item.max_budget_usd;
    return { spend, remaining: budget === null || budget === undefined ? null : Math.max(0, budget - spend) };
  }
  return { spend: null, remaining: null };
}
