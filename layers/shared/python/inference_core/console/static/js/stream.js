// Server-sent events from a fetch() Response, as {event, data} objects, as they arrive.

export async function* sseEvents(response, signal) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      if (signal && signal.aborted) return;
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of raw.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: data.join("\n") };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

// One streamed reply, in either wire format, reduced to callbacks: onText(delta) per piece of
// text, and the result {inputTokens, outputTokens} when the stream ends. Throws on an error event.
export async function readReply(response, format, { onText, signal }) {
  const usage = { inputTokens: null, outputTokens: null };
  for await (const { event, data } of sseEvents(response, signal)) {
    if (data === "[DONE]") break;
    let body;
    try {
      body = JSON.parse(data);
    } catch {
      continue;
    }
    if (body.error) throw new Error(body.error.message || "The stream ended with an error.");
    if (format === "anthropic") {
      if (event === "message_start" && body.message && body.message.usage) {
        usage.inputTokens = body.message.usage.input_tokens ?? null;
      } else if (event === "content_block_delta" && body.delta && body.delta.text) {
        onText(body.delta.text);
      } else if (event === "message_delta" && body.usage) {
        usage.outputTokens = body.usage.output_tokens ?? usage.outputTokens;
        if (body.usage.input_tokens) usage.inputTokens = body.usage.input_tokens;
      }
    } else {
      const delta = body.choices && body.choices[0] && body.choices[0].delta;
      if (delta && delta.content) onText(delta.content);
      if (body.usage) {
        usage.inputTokens = body.usage.prompt_tokens ?? null;
        usage.outputTokens = body.usage.completion_tokens ?? null;
      }
    }
  }
  return usage;
}
