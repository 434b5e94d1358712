// Superusers: teams (create, limits and budgets, members), users (limits, deactivate) and the audit
// log, all through /v1/admin/*.

import * as api from "../api.js";
import { announce, claim, errorText, field, fmt, h, replace, section, table } from "../dom.js";
import { describeLimits, limitInputs, spendOf } from "../limits.js";
import { limitsEditor } from "./keys.js";

export const title = "Teams and users";

export async function render(main) {
  const teams = h("div", { id: "team-list" });
  const users = h("div", { id: "user-list" });
  const audit = h("div", { id: "audit-log" });
  // Ids to names, for the users' team column and the audit log's "who" and "on".
  const names = new Map();
  async function refreshNames() {
    const [teamList, userList] = await Promise.all([
      api.get("v1/admin/teams", { limit: 100 }),
      api.get("v1/admin/users", { limit: 100 }),
    ]);
    for (const t of teamList.data || []) names.set(t.id, t.name);
    for (const u of userList.data || []) names.set(u.id, u.email);
  }
  async function refreshAll() {
    const current = claim(main);
    await refreshNames();
    if (!current()) return; // a newer refresh has started: it renders
    await Promise.all([loadTeams(teams, refreshAll), loadUsers(users, refreshAll, names), loadAudit(audit, names)]);
  }
  main.append(
    section("Teams", createTeamForm(refreshAll), teams),
    section("Users", users),
    section("Audit log", audit),
  );
  await refreshAll();
}

function createTeamForm(refresh) {
  const name = h("input", { type: "text", name: "team_name", required: true, maxLength: 100 });
  const limits = limitInputs();
  const error = h("p", { className: "error", role: "alert", hidden: true });
  return h(
    "form",
    {
      "aria-label": "Create a team",
      onSubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        try {
          const team = await api.json("POST", "v1/admin/teams", { body: { name: name.value.trim(), ...limits.read() } });
          announce(`Team ${team.name || name.value} created.`);
          event.target.reset();
          await refresh();
        } catch (e) {
          error.textContent = errorText(e);
          error.hidden = false;
        }
      },
    },
    h("h3", {}, "Create a team"),
    h("div", { className: "form-grid" }, field("Team name", name), ...limits.fields),
    error,
    h("button", { type: "submit" }, "Create team"),
  );
}

function spentText(item) {
  const { spend, remaining } = spendOf(item);
  if (spend === null) return "";
  return ` · spent ${fmt.usd(spend)}${remaining === null ? "" : `, ${fmt.usd(remaining)} left`}`;
}

function memberIds(team) {
  const members = team.members || team.member_ids || [];
  return members.map((m) => (typeof m === "string" ? { id: m } : { id: m.user_id || m.id, email: m.email }));
}

async function loadTeams(box, refresh) {
  const current = claim(box);
  const body = await api.get("v1/admin/teams", { limit: 100 });
  const teams = await Promise.all(
    (body.data || []).map((t) => (t.members ? t : api.get(`v1/admin/teams/${encodeURIComponent(t.id)}`).catch(() => t))),
  );
  if (!current()) return;
  replace(
    box,
    teams.length
      ? h("ul", { className: "teams" }, teams.map((team) => h("li", { className: "team", dataset: { team: team.name } }, teamCard(team, refresh))))
      : h("p", { className: "empty" }, "No teams yet."),
  );
}

function teamCard(team, refresh) {
  const path = `v1/admin/teams/${encodeURIComponent(team.id)}`;
  const email = h("input", { type: "email", name: "member_email", required: true, autocomplete: "off" });
  const error = h("p", { className: "error", role: "alert", hidden: true });
  const members = memberIds(team);
  const addMember = h(
    "form",
    {
      className: "row",
      "aria-label": `Add a member to ${team.name}`,
      onSubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        try {
          const found = await api.get("v1/admin/users", { email: email.value.trim() });
          const user = (found.data || []).find((u) => u.email.toLowerCase() === email.value.trim().toLowerCase());
          if (!user) throw new Error(`No user with the email ${email.value.trim()}.`);
          await api.json("POST", `${path}/members`, { body: { user_id: user.id } });
          announce(`${user.email} added to ${team.name}.`);
          await refresh();
        } catch (e) {
          error.textContent = errorText(e);
          error.hidden = false;
        }
      },
    },
    field("Member email", email),
    h("button", { type: "submit" }, "Add member"),
  );
  return [
    h("h3", {}, team.name),
    h("p", {}, describeLimits(team), spentText(team)),
    h(
      "ul",
      { className: "members", "aria-label": `Members of ${team.name}` },
      members.length
        ? members.map((m) =>
            h(
              "li",
              {},
              m.email || m.id,
              " ",
              h(
                "button",
                {
                  type: "button",
                  className: "secondary small",
                  "aria-label": `Remove ${m.email || m.id} from ${team.name}`,
                  onClick: async () => {
                    try {
                      await api.call("DELETE", `${path}/members/${encodeURIComponent(m.id)}`);
                      await refresh();
                    } catch (e) {
                      announce(errorText(e), "error");
                    }
                  },
                },
                "Remove",
              ),
            ),
          )
        : h("li", { className: "empty" }, "No members."),
    ),
    addMember,
    error,
    h(
      "div",
      { className: "row" },
      limitsEditor(path, team, refresh, `team ${team.name}`),
      h(
        "button",
        {
          type: "button",
          className: "danger",
          onClick: async () => {
            if (!window.confirm(`Delete the team “${team.name}”?`)) return;
            try {
              await api.call("DELETE", path);
              await refresh();
            } catch (e) {
              announce(errorText(e), "error");
            }
          },
        },
        "Delete team",
      ),
    ),
  ];
}

async function loadUsers(box, refresh, names, { email = "", after } = {}) {
  const current = claim(box);
  const filter = h("input", { type: "search", name: "user_email", value: email });
  const body = await api.get("v1/admin/users", { email: email || undefined, after, limit: 50 });
  if (!current()) return;
  const rows = (body.data || []).map((user) => {
    const active = user.active !== false && user.is_active !== false;
    return [
      user.email,
      user.role,
      active ? "active" : "deactivated",
      user.team_id ? names.get(user.team_id) || user.team_id : "—",
      `${describeLimits(user)}${spentText(user)}`,
      h(
        "div",
        { className: "row" },
        limitsEditor(`v1/admin/users/${encodeURIComponent(user.id)}`, user, refresh, `user ${user.email}`),
        h(
          "button",
          {
            type: "button",
            className: active ? "danger" : "secondary",
            "aria-label": `${active ? "Deactivate" : "Reactivate"} ${user.email}`,
            onClick: async () => {
              if (active && !window.confirm(`Deactivate ${user.email}? Their sessions and keys stop working.`)) return;
              try {
                await api.json("PATCH", `v1/admin/users/${encodeURIComponent(user.id)}`, { body: { active: !active } });
                await refresh();
              } catch (e) {
                announce(errorText(e), "error");
              }
            },
          },
          active ? "Deactivate" : "Reactivate",
        ),
      ),
    ];
  });
  replace(
    box,
    h(
      "form",
      { className: "filters", role: "search", onSubmit: (e) => { e.preventDefault(); loadUsers(box, refresh, names, { email: filter.value.trim() }); } },
      field("Find by email", filter),
      h("button", { type: "submit", className: "secondary" }, "Find"),
    ),
    table("Users", ["Email", "Role", "Status", "Team", "Limits", ""], rows, { empty: "No users match." }),
    body.has_more
      ? h("button", { type: "button", className: "secondary", onClick: () => loadUsers(box, refresh, names, { email, after: body.after }) }, "Next page")
      : null,
  );
}

function auditValue(value) {
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

// What changed: the fields whose value differs, as "field: before → after".
export function auditChange(before, after) {
  if (!before || !after || typeof before !== "object" || typeof after !== "object") {
    return `${auditValue(before)} → ${auditValue(after)}`;
  }
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (!fields.length) return "no change";
  return fields.map((k) => `${k}: ${auditValue(before[k])} → ${auditValue(after[k])}`).join("; ");
}

async function loadAudit(box, names, after) {
  const current = claim(box);
  const body = await api.get("v1/admin/audit", { limit: 50, after });
  if (!current()) return;
  const named = (id) => (id && names.has(id) ? `${names.get(id)}` : id || "—");
  const rows = (body.data || []).map((r) => [
    fmt.date(r.at || r.created_at || r.timestamp),
    named(r.actor_id || r.actor),
    r.action || "—",
    `${r.target_type || ""} ${named(r.target_id || r.target)}`.trim(),
    h("code", { className: "diff" }, auditChange(r.before, r.after)),
  ]);
  replace(
    box,
    table("Audit log", ["When", "Who", "What", "On", "Change"], rows, { empty: "No admin changes recorded yet." }),
    body.has_more ? h("button", { type: "button", className: "secondary", onClick: () => loadAudit(box, names, body.after) }, "Older") : null,
  );
}
