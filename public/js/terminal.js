// The Terminal tab of a branch page (views/branches/_terminal.njk): xterm.js on the branch's
// terminal WebSocket. The protocol is src/server/live/terminal.ts's: binary frames carry terminal
// bytes both ways; text frames carry JSON, {"type":"resize","cols","rows"} from here and
// {"type":"exit","code"} from the server once the shell has ended.
import { FitAddon } from "/public/vendor/addon-fit.mjs";
import { Terminal } from "/public/vendor/xterm.mjs";

const encoder = new TextEncoder();

function mount(screen) {
  if (screen.dataset.mounted) return;
  screen.dataset.mounted = "yes";
  const status = screen.closest(".terminal")?.querySelector(".terminal-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace', scrollback: 5000 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);

  let socket;
  let state = "idle"; // idle → open → ended (→ open again on Enter)

  function connect() {
    fit.fit();
    const url = new URL(screen.dataset.terminal, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("cols", String(term.cols));
    url.searchParams.set("rows", String(term.rows));
    state = "connecting";
    socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    let opened = false;
    let exitCode;
    socket.onopen = () => {
      opened = true;
      state = "open";
      term.focus();
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return term.write(new Uint8Array(event.data));
      try {
        const message = JSON.parse(event.data);
        if (message.type === "exit") exitCode = message.code;
      } catch {
        // Not a control message this page knows: ignored, as the protocol says.
      }
    };
    socket.onclose = (event) => {
      state = "ended";
      if (!opened) {
        // A browser is not shown why a handshake was refused; the CLI is.
        say("No terminal: the environment is not running, or you may not push this branch. cook branch attach says which.");
        return;
      }
      const why = exitCode !== undefined ? `The shell exited with code ${exitCode}.` : `The connection ended${event.reason ? `: ${event.reason}` : "."}`;
      term.write(`\r\n[${why} Press Enter for a new shell.]\r\n`);
    };
  }

  term.onData((data) => {
    if (state === "open") socket.send(encoder.encode(data));
    else if (state === "ended" && data === "\r") {
      term.reset();
      connect();
    }
  });
  term.onBinary((data) => {
    if (state === "open") socket.send(Uint8Array.from(data, (ch) => ch.charCodeAt(0)));
  });
  term.onResize(({ cols, rows }) => {
    if (state === "open") socket.send(JSON.stringify({ type: "resize", cols, rows }));
  });

  // The shell starts when the screen is first shown (a hidden tab has no size), not with every page
  // view: an environment costs a process only while someone is attached.
  new ResizeObserver(() => {
    if (screen.clientWidth === 0 || screen.clientHeight === 0) return;
    fit.fit();
    if (state === "idle") connect();
  }).observe(screen);
  // Content swapped away by htmx takes its shell along.
  const gone = new MutationObserver(() => {
    if (screen.isConnected) return;
    gone.disconnect();
    socket?.close();
  });
  gone.observe(document.body, { childList: true, subtree: true });
}

const mountAll = (root) => {
  if (root.matches?.("[data-terminal]")) mount(root);
  for (const screen of root.querySelectorAll?.("[data-terminal]") ?? []) mount(screen);
};
mountAll(document);
// A module runs once per page; a tab that htmx loads later is found here.
document.addEventListener("htmx:load", (event) => mountAll(event.target));
