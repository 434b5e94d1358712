// Reading usage: /v1/usage for one's own (the caller's keys), /v1/admin/usage for a superuser's
// deployment-wide, team, user or key view. Both answer {total_*, data: [rows]}.

import * as api from "./api.js";
import { dayRange } from "./dom.js";

// scope: "me" | "all" | "team:<id>" | "user:<id>"; filters: {key_id, model, team_id, user_id}.
export async function fetchUsage({ scope = "me", start, end, groupBy = "day", filters = {} }) {
  if (scope === "me") {
    return api.get("v1/usage", { start, end, group_by: groupBy });
  }
  const query = { start, end, group_by: groupBy, ...filters };
  if (scope.startsWith("team:")) query.team_id = scope.slice(5);
  if (scope.startsWith("user:")) query.user_id = scope.slice(5);
  return api.get("v1/admin/usage", query);
}

const BUCKET_FIELDS = {
  day: ["day", "date"],
  model: ["model"],
  key: ["key_id", "key"],
  user: ["user_id", "user"],
  team: ["team_id", "team"],
};

// One row as {bucket, label, requests, input, output, cost, errors, cacheHits}.
export function normalizeRow(row, groupBy) {
  let bucket = row.bucket;
  for (const name of BUCKET_FIELDS[groupBy] || []) {
    if (bucket === undefined && row[name] !== undefined) bucket = row[name];
  }
  const num = (...names) => {
    for (const name of names) if (row[name] !== undefined && row[name] !== null) return Number(row[name]);
    return null;
  };
  return {
    bucket: bucket === undefined || bucket === null ? "—" : String(bucket),
    label: row.key_name || row.name || row.email || null,
    requests: num("requests", "total_requests", "request_count") ?? 0,
    input: num("input_tokens", "total_input_tokens") ?? 0,
    output: num("output_tokens", "total_output_tokens") ?? 0,
    cost: num("cost_usd", "total_cost_usd") ?? 0,
    errors: num("errors", "error_count", "failed_requests"),
    cacheHits: num("cache_hits", "cached_requests", "cache_hit_count"),
  };
}

export function rowsOf(body, groupBy) {
  return (body && body.data ? body.data : []).map((r) => normalizeRow(r, groupBy));
}

// Day rows spread over every day of the range (missing days are zero), in order.
export function byDay(rows, start, end) {
  const index = new Map(rows.map((r) => [r.bucket.slice(0, 10), r]));
  return dayRange(start, end).map(
    (day) => index.get(day) || { bucket: day, requests: 0, input: 0, output: 0, cost: 0, errors: null, cacheHits: null },
  );
}

export function rate(rows, field) {
  const known = rows.filter((r) => r[field] !== null);
  if (!known.length) return null;
  const requests = known.reduce((s, r) => s + r.requests, 0);
  return requests ? known.reduce((s, r) => s + r[field], 0) / requests : null;
}

// The scope picker a superuser sees on the overview and usage pages.
export async function scopeOptions(ctx) {
  const options = [["me", "My usage"]];
  if (!ctx.superuser) return options;
  options.push(["all", "Whole deployment"]);
  try {
    const teams = await api.get("v1/admin/teams", { limit: 100 });
    for (const team of teams.data || []) options.push([`team:${team.id}`, `Team: ${team.name}`]);
  } catch {
    // the admin API is unavailable: own usage and the deployment only
  }
  return options;
}

// Key ids to names: one's own keys, and for a superuser the first page of everyone's.
export async function keyNames(ctx) {
  const lists = [api.get("v1/auth/api-keys").catch(() => ({ data: [] }))];
  if (ctx.superuser) lists.push(api.get("v1/admin/keys", { limit: 100 }).catch(() => ({ data: [] })));
  const names = new Map();
  for (const list of await Promise.all(lists)) {
    for (const key of list.data || []) names.set(key.id, key.name || key.prefix);
  }
  return names;
}

export function keyLabel(id, names) {
  if (id === "—") return "signed-in sessions (no key)";
  return names.has(id) ? `${names.get(id)} (${id})` : id;
}

