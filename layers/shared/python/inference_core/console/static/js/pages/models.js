// The model registry, which providers are configured, and (superusers) each deployment's circuit
// breaker and recent error rate.

import * as api from "../api.js";
import { errorText, fmt, h, section, table } from "../dom.js";

export const title = "Models and providers";

export async function render(main, ctx) {
  const [models, ready] = await Promise.all([
    api.get("v1/models"),
    // /ready is public; it answers 503 with the same body when something is not configured.
    fetch(api.apiUrl("ready"), { credentials: "omit" }).then((r) => r.json()).catch(() => null),
  ]);
  const rows = [];
  for (const m of models.data || []) {
    (m.deployments || []).forEach((d, i) => {
      rows.push([
        i === 0 ? h("strong", {}, m.id) : "",
        String(i + 1),
        d.provider,
        fmt.int(d.context_window || m.context_window),
        d.input_price_per_mtok === undefined ? "—" : `$${d.input_price_per_mtok}`,
        d.output_price_per_mtok === undefined ? "—" : `$${d.output_price_per_mtok}`,
        m.embeddings ? "yes" : "no",
      ]);
    });
  }
  main.append(
    section(
      "Registry",
      table("Models and their deployments, in fallback order", ["Model", "Order", "Provider", "Context", "Input $/Mtok", "Output $/Mtok", "Embeddings"], rows, { empty: "No models you may use.", className: "models" }),
    ),
  );
  const checks = ready && ready.checks ? Object.entries(ready.checks).filter(([name]) => name.startsWith("provider:")) : [];
  main.append(
    section(
      "Providers",
      table("Providers in use", ["Provider", "Configured"], checks.map(([name, c]) => [name.slice(9), c.ok ? "yes" : `no (${c.error || "not configured"})`]), { empty: "Provider status is unavailable." }),
    ),
  );
  if (ctx.superuser) {
    const box = section("Deployments: circuit breakers");
    box.append(h("p", { className: "hint" }, "As seen by the instance that answered: breakers and counters are per process."));
    main.append(box);
    try {
      const providers = await api.get("v1/admin/providers");
      const data = providers.data || [];
      box.append(
        table("Deployments", ["Model", "Provider", "Upstream", "Configured", "Breaker", "Failures in a row", "Recent calls", "Recent error rate"],
          data.map((p) => [
            p.model_alias || p.alias || p.model || "—",
            p.provider,
            p.upstream_model || p.deployment || p.endpoint || "—",
            p.configured ? "yes" : "no",
            h("span", { className: `breaker ${p.breaker_state || p.circuit_state || p.state || ""}` }, p.breaker_state || p.circuit_state || p.state || "—"),
            fmt.int(p.consecutive_failures),
            fmt.int(p.recent_calls),
            fmt.pct(p.error_rate ?? p.recent_error_rate),
          ]),
          { empty: "No deployments." }),
      );
    } catch (error) {
      box.append(h("p", { className: "error" }, `Breaker states are unavailable: ${errorText(error)}`));
    }
  }
}
