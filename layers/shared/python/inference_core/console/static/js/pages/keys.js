// API keys: list with limits, spend and what remains; create (secret shown once); limits; revoke.

import * as api from "../api.js";
import { announce, claim, errorText, field, fmt, h, replace, section, table } from "../dom.js";
import { describeLimits, limitInputs, spendOf } from "../limits.js";

export const title = "API keys";

export async function render(main, ctx) {
  const secretBox = h("div", { id: "new-key" });
  const list = h("div", { id: "key-list" });
  const models = await api.get("v1/models").catch(() => ({ data: [] }));
  main.append(createForm(models.data || [], secretBox, () => refresh()), secretBox, section("Your keys", list));

  async function refresh() {
    const current = claim(list);
    const keys = await api.get("v1/auth/api-keys");
    if (!current()) return;
    replace(
      list,
      table(
        "API keys",
        ["Name", "Key", "Created", "Last used", "Models", "Limits", "Spend", "Remaining", ""],
        (keys.data || []).map((key) => {
          const { spend, remaining } = spendOf(key);
          return [
            key.name || "—",
            h("code", {}, `${key.prefix}…`),
            fmt.date(key.created_at),
            fmt.date(key.last_used_at),
            key.allowed_models ? key.allowed_models.join(", ") : "all",
            describeLimits(key),
            fmt.usd(spend),
            fmt.usd(remaining),
            actions(key, ctx, refresh),
          ];
        }),
        { empty: "No keys yet: create one above.", className: "keys" },
      ),
    );
  }
  await refresh();
}

function createForm(models, secretBox, refresh) {
  const name = h("input", { type: "text", name: "name", maxLength: 100, required: true });
  const modelBoxes = models.map((m) => h("input", { type: "checkbox", name: "allowed_models", value: m.id }));
  const limits = limitInputs();
  const expires = h("input", { type: "date", name: "expires_at" });
  const error = h("p", { className: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, "Create key");
  return h(
    "form",
    {
      className: "card",
      "aria-label": "Create an API key",
      onSubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        const body = { name: name.value.trim(), ...limits.read() };
        const picked = modelBoxes.filter((b) => b.checked).map((b) => b.value);
        if (picked.length) body.allowed_models = picked;
        if (expires.value) body.expires_at = Math.floor(Date.parse(`${expires.value}T23:59:59Z`) / 1000);
        submit.disabled = true;
        try {
          const created = await api.json("POST", "v1/auth/api-keys", { body });
          showSecret(secretBox, created);
          event.target.reset();
          await refresh();
        } catch (e) {
          error.textContent = errorText(e);
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h2", {}, "Create a key"),
    h(
      "div",
      { className: "form-grid" },
      field("Name", name),
      ...limits.fields,
      field("Expires", expires, "Optional; the key stops working after this day (UTC)."),
    ),
    modelBoxes.length
      ? h(
          "fieldset",
          {},
          h("legend", {}, "Models (none ticked: all of yours)"),
          modelBoxes.map((box, i) => h("label", { className: "check" }, box, ` ${models[i].id}`)),
        )
      : null,
    error,
    submit,
  );
}

// The secret, once: a read-only field, a copy button, and a button that forgets it.
function showSecret(box, created) {
  const secret = h("input", { type: "text", readOnly: true, value: created.key, id: "new-key-secret", className: "secret" });
  const copied = h("span", { className: "hint", role: "status" });
  const copy = h(
    "button",
    {
      type: "button",
      onClick: async () => {
        try {
          await navigator.clipboard.writeText(secret.value);
        } catch {
          secret.select();
          document.execCommand("copy");
        }
        copied.textContent = "Copied.";
      },
    },
    "Copy",
  );
  const done = h("button", { type: "button", className: "secondary", onClick: () => replace(box) }, "Done, I have stored it");
  replace(
    box,
    h(
      "div",
      { className: "card notice", role: "region", "aria-label": "Your new key" },
      h("h2", {}, `Key “${created.name || created.prefix}” created`),
      h("p", {}, "This is the only time the secret is shown. Copy it now and keep it somewhere safe."),
      field("Secret", secret),
      h("div", { className: "row" }, copy, done, copied),
    ),
  );
  secret.focus();
  secret.select();
}

function actions(key, ctx, refresh) {
  const cell = h("div", { className: "row" });
  const revoke = h(
    "button",
    {
      type: "button",
      className: "danger",
      "aria-label": `Revoke key ${key.name || key.prefix}`,
      onClick: async () => {
        if (!window.confirm(`Revoke the key “${key.name || key.prefix}”? Programs using it stop working.`)) return;
        try {
          await api.call("DELETE", `v1/auth/api-keys/${encodeURIComponent(key.id)}`);
          announce(`Key ${key.name || key.prefix} revoked.`);
          await refresh();
        } catch (e) {
          announce(`Could not revoke: ${errorText(e)}`, "error");
        }
      },
    },
    "Revoke",
  );
  cell.append(revoke);
  if (ctx.superuser) cell.prepend(limitsEditor(`v1/admin/keys/${encodeURIComponent(key.id)}`, key, refresh, `key ${key.name || key.prefix}`));
  return cell;
}

// A disclosure with the limit fields, saved with PATCH (superusers, through the admin API).
export function limitsEditor(path, item, refresh, what) {
  const limits = limitInputs(item, { clearing: true });
  const error = h("p", { className: "error", role: "alert", hidden: true });
  return h(
    "details",
    { className: "editor" },
    h("summary", {}, "Limits"),
    h(
      "form",
      {
        "aria-label": `Limits of ${what}`,
        onSubmit: async (event) => {
          event.preventDefault();
          try {
            await api.json("PATCH", path, { body: limits.read() });
            announce(`Limits of ${what} saved.`);
            await refresh();
          } catch (e) {
            error.textContent = errorText(e);
            error.hidden = false;
          }
        },
      },
      limits.fields,
      error,
      h("button", { type: "submit" }, "Save limits"),
    ),
  );
}
