// A plain NATS subscriber in its own process (forked by outbox-relay.mjs): its own
// @nats-io/transport-node connection, a core subscription on the benchmark's subject, and the
// receipt time of every message taken first thing in the callback. Talks to the parent over IPC:
//   → { type: "subscribe", url, subject }      ← { type: "ready" }
//   → { type: "ping", t0 }                      ← { type: "pong", t0, tc }     (clock offset check)
//   → { type: "collect", expect, timeoutMs }    ← { type: "done", received, ids, seqs, recv }
import { connect } from "@nats-io/transport-node";

const now = () => performance.timeOrigin + performance.now();
const decoder = new TextDecoder();

let nc;
const ids = [];
const seqs = [];
const recv = [];
let waiter;

process.on("message", async (message) => {
  if (message.type === "subscribe") {
    nc = await connect({ servers: message.url, name: "cook-bench-subscriber" });
    nc.subscribe(message.subject, {
      callback: (err, msg) => {
        const at = now();
        if (err) return;
        const event = JSON.parse(decoder.decode(msg.data));
        recv.push(at);
        ids.push(event.id);
        seqs.push(event.data?.seq ?? -1);
        if (waiter && recv.length >= waiter.expect) waiter.finish();
      },
    });
    await nc.flush();
    process.send({ type: "ready" });
  } else if (message.type === "ping") {
    process.send({ type: "pong", t0: message.t0, tc: now() });
  } else if (message.type === "collect") {
    const send = () => {
      clearTimeout(timer);
      waiter = undefined;
      process.send({ type: "done", received: recv.length, ids, seqs, recv });
    };
    // Messages beyond the expected count (duplicates) are waited for a short while after the last one.
    const finish = () => setTimeout(send, message.graceMs ?? 500);
    const timer = setTimeout(send, message.timeoutMs);
    waiter = { expect: message.expect, finish: () => ((waiter = undefined), finish()) };
    if (recv.length >= message.expect) waiter.finish();
  } else if (message.type === "exit") {
    await nc?.close();
    process.exit(0);
  }
});
