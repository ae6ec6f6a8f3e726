import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { startModelServer, type ModelServer } from "../../fixtures/model-server/server.js";

// The scripted model server on its own, spoken to as the CLIs speak to it (real-clis.test.ts runs
// the CLIs themselves against it).

const tool = (name: string, properties: string[]) => ({ name, input_schema: { type: "object", properties: Object.fromEntries(properties.map((p) => [p, { type: "string" }])) } });
const claudeTools = [tool("Write", ["file_path", "content"]), tool("Bash", ["command", "description"])];

async function post(server: ModelServer, path: string, body: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The JSON payloads of an SSE body, `[DONE]` left out. */
function events(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

describe("scripted model server", () => {
  let server: ModelServer;
  before(async () => {
    server = await startModelServer({ scripts: { "once-limited": [{ rateLimit: { times: 1, retryAfterSeconds: 3 } }, { text: "after the limit" }] } });
  });
  after(() => server.close());

  it("answers an Anthropic request with the step its tool results point at, as Claude's own tool with an absolute path", async () => {
    const body = {
      model: "claude-test",
      stream: true,
      tools: claudeTools,
      messages: [
        { role: "user", content: [{ type: "text", text: "go [script:commit-file]" }] },
        { role: "system", content: "# Environment\n - Primary working directory: /work/repo\n" },
      ],
    };
    const first = events((await post(server, "/v1/messages?beta=true", body)).text);
    const toolUse = first.find((e) => e.type === "content_block_start" && (e.content_block as { type: string }).type === "tool_use");
    assert.deepEqual((toolUse?.content_block as { name: string }).name, "Write");
    const input = first.find((e) => (e.delta as { type?: string } | undefined)?.type === "input_json_delta")?.delta as { partial_json: string };
    assert.deepEqual(JSON.parse(input.partial_json), { file_path: "/work/repo/hello.txt", content: "hello from the scripted model\n" });

    const afterWrite = { ...body, messages: [...body.messages, { role: "assistant", content: [] }, { role: "user", content: [{ type: "tool_result", tool_use_id: "x", content: "ok" }] }] };
    const second = events((await post(server, "/v1/messages", afterWrite)).text);
    assert.match(JSON.stringify(second), /"name":"Bash"/);
    assert.deepEqual(server.requests.slice(-2).map((r) => [r.api, r.model, r.script, r.step, r.query.beta]), [
      ["anthropic", "claude-test", "commit-file", 0, "true"],
      ["anthropic", "claude-test", "commit-file", 1, undefined],
    ]);
  });

  it("hands out fresh message and tool call ids for the same request", async () => {
    const body = { model: "m", stream: false, tools: claudeTools, messages: [{ role: "user", content: "[script:commit-file]" }] };
    const [a, b] = await Promise.all([post(server, "/v1/messages", body), post(server, "/v1/messages", body)]);
    const ids = [a, b].map((r) => JSON.parse(r.text) as { id: string; content: Array<{ id?: string }> });
    assert.notEqual(ids[0]?.id, ids[1]?.id);
    assert.notEqual(ids[0]?.content[1]?.id, ids[1]?.content[1]?.id);
  });

  it("writes files for Codex with an apply_patch custom tool call and runs commands with exec_command", async () => {
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "<environment_context>\n  <cwd>/work/repo</cwd>\n</environment_context>" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "go [script:commit-file]" }] },
    ];
    const tools = [{ type: "function", name: "exec_command", parameters: { properties: { cmd: {} } } }, { type: "custom", name: "apply_patch" }];
    const first = events((await post(server, "/v1/responses", { model: "gpt-5.5", stream: true, tools, input })).text);
    const patch = first.find((e) => e.type === "response.output_item.done" && (e.item as { type: string }).type === "custom_tool_call")?.item as { input: string };
    assert.equal(patch.input, "*** Begin Patch\n*** Add File: hello.txt\n+hello from the scripted model\n*** End Patch");
    assert.equal(first.at(-1)?.type, "response.completed");

    const second = events((await post(server, "/v1/responses", { model: "gpt-5.5", stream: true, tools, input: [...input, { type: "custom_tool_call_output", call_id: "c", output: "ok" }] })).text);
    const call = second.find((e) => e.type === "response.output_item.done")?.item as { name: string; arguments: string };
    assert.equal(call.name, "exec_command");
    assert.deepEqual(JSON.parse(call.arguments), { cmd: "git add -A && git commit -q -m 'Add hello.txt'" });
  });

  it("answers a request that offers no tools (OpenCode's title) with a short text, outside the script", async () => {
    const response = await post(server, "/v1/chat/completions", { model: "scripted-model", stream: true, messages: [{ role: "user", content: "[script:commit-file]" }] });
    const chunks = events(response.text);
    const text = chunks.map((c) => ((c.choices as Array<{ delta: { content?: string } }>)[0]?.delta.content ?? "")).join("");
    assert.equal(text, "Scripted session");
    assert.equal(server.requests.at(-1)?.side, true);
    assert.equal(server.requests.at(-1)?.script, undefined);
  });

  it("streams Gemini function calls and answers generateContent whole", async () => {
    const body = {
      contents: [{ role: "user", parts: [{ text: "[script:commit-file]" }] }, { role: "model", parts: [{ functionCall: { name: "write_file", args: {} } }] }, { role: "user", parts: [{ functionResponse: { name: "write_file", response: {} } }] }],
      tools: [{ functionDeclarations: [{ name: "run_shell_command", parametersJsonSchema: { properties: { command: {}, description: {} } } }] }],
    };
    const whole = JSON.parse((await post(server, "/v1beta/models/gemini-test:generateContent", body)).text) as { candidates: Array<{ content: { parts: unknown[] }; finishReason: string }> };
    assert.deepEqual(whole.candidates[0]?.finishReason, "STOP");
    assert.match(JSON.stringify(whole.candidates[0]?.content.parts), /"name":"run_shell_command","args":\{"command":"git add -A/);
    const streamed = events((await post(server, "/v1beta/models/gemini-test:streamGenerateContent?alt=sse", body)).text);
    assert.equal((streamed.at(-1)?.candidates as Array<{ finishReason: string }>)[0]?.finishReason, "STOP");
    assert.equal(server.requests.at(-1)?.model, "gemini-test");
  });

  it("refuses with 429 and retry-after as many times as the script says, then goes on with the next step", async () => {
    const body = { model: "m", stream: false, tools: claudeTools, messages: [{ role: "user", content: "[script:once-limited]" }] };
    const limited = await post(server, "/v1/messages", body);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "3");
    assert.equal((JSON.parse(limited.text) as { error: { type: string } }).error.type, "rate_limit_error");
    const retried = await post(server, "/v1/messages", body);
    assert.equal(retried.status, 200);
    assert.match(retried.text, /after the limit/);
  });

  it("keeps a hanging reply open until the server closes", async () => {
    const hanging = await startModelServer({ script: [{ hang: true, text: "Thinking about it" }] });
    const response = await fetch(`${hanging.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "m", stream: true, tools: [{ type: "function", function: { name: "bash" } }], messages: [{ role: "user", content: "hi" }] }) });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /chat\.completion\.chunk/);
    const stillOpen = await Promise.race([reader.read().then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), 300))]);
    assert.equal(stillOpen, true);
    await hanging.close();
    let rest = "";
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    } catch {
      // the connection was cut: what close() does to a reply that never finished
    }
    assert.doesNotMatch(first + rest, /finish_reason":"stop"|\[DONE\]/);
  });

  it("records and refuses a client that uses it as a proxy to reach another host", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, method: "CONNECT", path: "registry.example.com:443" });
      req.on("connect", (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 403);
    assert.deepEqual(server.outbound, ["registry.example.com:443"]);
  });
});
