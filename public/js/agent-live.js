// The live half of a branch page's Agent tab (views/agents/_panel.njk). The page's stream sends
// `agent` messages made of parts (views/agents/_live.njk); htmx's SSE extension hands each one to
// the hidden [data-agent-live] element, and this puts the parts in place instead of swapping them:
//   data-append="<session>": events, added after the session's last one, in order, never twice
//     (the stream replays from where the page was read, so the first ones may be on the page already);
//   data-replace="<part>": a session head or a whole session, in place of [data-part=<part>];
//   data-prepend="<session>": a new session, added on top unless it is there.
// Targets are found by data attributes, which sanitized markdown cannot carry (ids it can).
(() => {
  const atBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 48;
  const byData = (name, value) => document.querySelector(`[${name}="${CSS.escape(value)}"]`);

  function appendEvents(sessionId, part) {
    const list = byData("data-events", sessionId);
    // A session not shown, or shown at an earlier stretch of its events: nothing to follow there.
    if (!list || !list.hasAttribute("data-live")) return;
    let last = Number(list.dataset.last || 0);
    for (const item of Array.from(part.querySelectorAll(":scope > ol > li[data-seq]"))) {
      const seq = Number(item.dataset.seq);
      if (seq <= last) continue;
      list.append(item);
      last = seq;
    }
    list.dataset.last = String(last);
    list.closest("[data-session]")?.querySelector(".no-events")?.remove();
  }

  function insert(part) {
    const node = part.firstElementChild;
    if (!node) return;
    const replace = part.dataset.replace;
    const prepend = part.dataset.prepend;
    if (replace) {
      const old = byData("data-part", replace);
      if (!old) return;
      old.replaceWith(node);
    } else if (prepend) {
      const sessions = document.querySelector("[data-sessions]");
      if (!sessions || byData("data-session", prepend)) return;
      sessions.querySelector(".no-sessions")?.remove();
      sessions.prepend(node);
    }
    window.htmx?.process(node);
  }

  document.addEventListener("htmx:sseBeforeMessage", (event) => {
    if (!(event.target instanceof Element) || !event.target.hasAttribute("data-agent-live")) return;
    event.preventDefault();
    const follow = atBottom();
    const template = document.createElement("template");
    template.innerHTML = event.detail.data;
    for (const part of Array.from(template.content.children)) {
      if (part.dataset.append) appendEvents(part.dataset.append, part);
      else insert(part);
    }
    // Someone reading the newest events keeps seeing them as they come; someone scrolled up stays put.
    if (follow) window.scrollTo(0, document.documentElement.scrollHeight);
  });
})();
