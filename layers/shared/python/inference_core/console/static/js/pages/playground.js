// Try a model: streamed output as it arrives, with tokens, cost, latency and the cache's answer,
// in OpenAI's or Anthropic's wire format.

import * as api from "../api.js";
import { announce, errorText, field, fmt, h, replace, select } from "../dom.js";
import { readReply } from "../stream.js";

export const title = "Playground";

export async function render(main) {
  const models = ((await api.get("v1/models")).data || []).filter((m) => m.deployments && m.deployments.length);
  const model = select("model", models.map((m) => [m.id, m.id]), models[0] && models[0].id);
  const formats = [
    ["openai", "OpenAI"],
    ["anthropic", "Anthropic"],
  ];
  const formatRadios = formats.map(([value], i) =>
    h("input", { type: "radio", name: "format", value, checked: i === 0, id: `format-${value}` }),
  );
  const system = h("textarea", { name: "system", rows: 2 });
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true });
  const maxTokens = h("input", { type: "number", name: "max_tokens", min: "1", max: "4096", value: "128" });
  const temperature = h("input", { type: "number", name: "temperature", min: "0", max: "2", step: "0.1", value: "0.7" });
  const noCache = h("input", { type: "checkbox", name: "no_cache", id: "no-cache" });
  const send = h("button", { type: "submit" }, "Send");
  const stop = h("button", { type: "button", className: "secondary", disabled: true }, "Stop");
  const clear = h("button", { type: "button", className: "secondary" }, "New conversation");
  const log = h("ol", { className: "conversation", id: "conversation", "aria-label": "Conversation" });
  const stats = h("dl", { className: "stats", id: "playground-stats" });
  let history = [];
  let controller = null;

  const form = h(
    "form",
    {
      className: "card",
      "aria-label": "Playground",
      onSubmit: async (event) => {
        event.preventDefault();
        const text = prompt.value.trim();
        if (!text) return;
        const format = formatRadios.find((r) => r.checked).value;
        const card = models.find((m) => m.id === model.value);
        history.push({ role: "user", content: text });
        log.append(h("li", { className: "turn user" }, h("span", { className: "who" }, "You"), h("p", {}, text)));
        const output = h("p", { className: "output", id: "playground-output", dataset: { chunks: "0" }, "aria-busy": "true" });
        for (const old of log.querySelectorAll("#playground-output")) old.removeAttribute("id");
        log.append(h("li", { className: "turn assistant" }, h("span", { className: "who" }, model.value), output));
        prompt.value = "";
        controller = new AbortController();
        send.disabled = true;
        stop.disabled = false;
        try {
          const reply = await run({
            format,
            model: model.value,
            system: system.value.trim(),
            history,
            maxTokens: Number(maxTokens.value) || 128,
            temperature: Number(temperature.value),
            noCache: noCache.checked,
            signal: controller.signal,
            onText: (delta) => {
              output.append(delta);
              output.dataset.chunks = String(Number(output.dataset.chunks) + 1);
            },
          });
          history.push({ role: "assistant", content: output.textContent });
          showStats(stats, reply, card);
          announce(`Reply finished: ${fmt.int(reply.outputTokens)} tokens in ${fmt.ms(reply.totalMs)}.`);
        } catch (error) {
          history.pop();
          const aborted = error.name === "AbortError";
          output.append(h("span", { className: aborted ? "hint" : "error", role: aborted ? null : "alert" }, aborted ? " [stopped]" : ` ${errorText(error)}`));
        } finally {
          output.setAttribute("aria-busy", "false");
          controller = null;
          send.disabled = false;
          stop.disabled = true;
        }
      },
    },
    h(
      "div",
      { className: "form-grid" },
      field("Model", model),
      h(
        "fieldset",
        { className: "format" },
        h("legend", {}, "Wire format"),
        formats.map(([value, label], i) => h("label", { className: "check", for: `format-${value}` }, formatRadios[i], ` ${label}`)),
        h("small", { className: "hint" }, "/v1/chat/completions or /v1/messages"),
      ),
      field("Max tokens", maxTokens),
      field("Temperature", temperature),
    ),
    field("System prompt (optional)", system),
    field("Message", prompt),
    h("label", { className: "check", for: "no-cache" }, noCache, " Bypass the response cache"),
    h("div", { className: "row" }, send, stop, clear),
  );
  stop.addEventListener("click", () => controller && controller.abort());
  clear.addEventListener("click", () => {
    history = [];
    replace(log);
    replace(stats);
  });
  // Ctrl/Cmd+Enter sends from the message box.
  prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  main.append(form, h("section", { className: "card", "aria-label": "Reply" }, log, stats));
}

async function run({ format, model, system, history, maxTokens, temperature, noCache, signal, onText }) {
  const headers = noCache ? { "cache-control": "no-cache" } : {};
  let path;
  let body;
  if (format === "anthropic") {
    path = "v1/messages";
    body = { model, max_tokens: maxTokens, temperature, messages: history, stream: true };
    if (system) body.system = system;
    headers["anthropic-version"] = "2023-06-01";
  } else {
    path = "v1/chat/completions";
    const messages = system ? [{ role: "system", content: system }, ...history] : history;
    body = { model, max_tokens: maxTokens, temperature, messages, stream: true, stream_options: { include_usage: true } };
  }
  const started = performance.now();
  let firstMs = null;
  const response = await api.call("POST", path, { body, headers, signal });
  const usage = await readReply(response, format, {
    signal,
    onText: (delta) => {
      if (firstMs === null) firstMs = performance.now() - started;
      onText(delta);
    },
  });
  return { ...usage, firstMs, totalMs: performance.now() - started, cache: response.headers.get("x-cache") };
}

function showStats(box, reply, card) {
  const price = card && card.deployments && card.deployments[0];
  let cost = null;
  if (reply.cache === "hit") cost = 0;
  else if (price && reply.inputTokens !== null && reply.outputTokens !== null) {
    cost = (reply.inputTokens * (price.input_price_per_mtok || 0) + reply.outputTokens * (price.output_price_per_mtok || 0)) / 1e6;
  }
  const item = (label, value, id) => h("div", {}, h("dt", {}, label), h("dd", { dataset: { stat: id } }, value));
  replace(
    box,
    item("Input tokens", fmt.int(reply.inputTokens), "input"),
    item("Output tokens", fmt.int(reply.outputTokens), "output"),
    item("Cost", cost === null ? "—" : `≈ ${fmt.usd(cost)}`, "cost"),
    item("First token", fmt.ms(reply.firstMs), "ttft"),
    item("Total", fmt.ms(reply.totalMs), "latency"),
    item("Cache", reply.cache || "—", "cache"),
  );
}
