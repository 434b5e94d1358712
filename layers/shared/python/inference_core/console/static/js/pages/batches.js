// Batches: progress, output and error files, cancel.

import * as api from "../api.js";
import { announce, claim, errorText, fmt, h, replace, section, table } from "../dom.js";

export const title = "Batches";

const CANCELLABLE = new Set(["validating", "in_progress", "finalizing"]);

export async function render(main) {
  const list = h("div", { id: "batch-list" });
  const refresh = h("button", { type: "button", className: "secondary", onClick: () => load() }, "Refresh");
  main.append(
    h("p", {}, "Submit batches with the API (POST /v1/files, then POST /v1/batches) or ", h("code", {}, "inference-core batch submit"), "."),
    section("Your batches", refresh, list),
  );
  async function load(after) {
    const current = claim(list);
    const body = await api.get("v1/batches", { limit: 20, after });
    if (!current()) return;
    replace(
      list,
      table(
        "Batches",
        ["Batch", "Created", "Status", "Progress", "Tokens", "Files", ""],
        (body.data || []).map((b) => {
          const counts = b.request_counts || { total: 0, completed: 0, failed: 0 };
          const done = counts.completed + counts.failed;
          return [
            h("code", {}, b.id),
            fmt.date(b.created_at),
            b.status,
            h(
              "span",
              { className: "progress" },
              h("progress", { max: String(counts.total || 1), value: String(done), "aria-label": `${b.id} progress` }),
              ` ${done}/${counts.total}${counts.failed ? ` (${counts.failed} failed)` : ""}`,
            ),
            fmt.int(b.usage ? b.usage.total_tokens : null),
            h(
              "div",
              { className: "row" },
              b.output_file_id ? downloadButton(b.output_file_id, `${b.id}-output.jsonl`, "Output") : null,
              b.error_file_id ? downloadButton(b.error_file_id, `${b.id}-errors.jsonl`, "Errors") : null,
            ),
            CANCELLABLE.has(b.status)
              ? h(
                  "button",
                  {
                    type: "button",
                    className: "danger",
                    "aria-label": `Cancel ${b.id}`,
                    onClick: async () => {
                      if (!window.confirm(`Cancel ${b.id}? Lines already done are kept.`)) return;
                      try {
                        await api.json("POST", `v1/batches/${encodeURIComponent(b.id)}/cancel`);
                        announce(`${b.id} is being cancelled.`);
                        await load();
                      } catch (e) {
                        announce(errorText(e), "error");
                      }
                    },
                  },
                  "Cancel",
                )
              : null,
          ];
        }),
        { empty: "No batches yet." },
      ),
      body.has_more ? h("button", { type: "button", className: "secondary", onClick: () => load(body.last_id) }, "Older") : null,
    );
  }
  await load();
}

// The file comes through the API with the access token, then is handed to the browser to save.
function downloadButton(fileId, name, label) {
  return h(
    "button",
    {
      type: "button",
      className: "secondary small",
      "aria-label": `Download ${label.toLowerCase()} file ${name}`,
      onClick: async () => {
        try {
          const response = await api.call("GET", `v1/files/${encodeURIComponent(fileId)}/content`);
          const url = URL.createObjectURL(await response.blob());
          const a = h("a", { href: url, download: name });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 1000);
        } catch (e) {
          announce(`Download failed: ${errorText(e)}`, "error");
        }
      },
    },
    label,
  );
}
