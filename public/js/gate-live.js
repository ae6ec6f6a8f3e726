// The live half of a branch page's gate logs (views/branches/_gate-log.njk). The page's stream
// sends each stored chunk of a gate's output as a `gate-output` message (_gate-output.njk):
//   <span data-log="<run>/<gate>/<attempt>" data-offset="<bytes before it>" data-bytes="<its bytes>">text</span>
// htmx's SSE extension hands it to the hidden [data-gate-live] element; this appends its text to
// the <pre data-log> of the same key instead of swapping anything. The <pre>'s data-bytes says how
// much of the log it holds (UTF-8 bytes, as the server counts), so:
//   a chunk that ends before that is on the page already (the stream replays from where the page was read);
//   a chunk that starts there is appended;
//   a chunk that starts further on means some were missed (the Gates section was being read again
//   when they came): the whole log is fetched as text, and chunks that come meanwhile wait for it.
// The <pre> keeps to the end of the log, data-max characters, like the page does.
(() => {
  const byData = (name, value) => document.querySelector(`[${name}="${CSS.escape(value)}"]`);
  const encoder = new TextEncoder();
  /** Keys of logs being fetched whole, with the chunks that came meanwhile. */
  const fetching = new Map();

  const atEnd = (pre) => pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;

  function show(pre, text, replace) {
    const follow = atEnd(pre);
    if (replace) pre.textContent = text;
    else pre.append(text);
    const max = Number(pre.dataset.max || 65536);
    // Cut back only once well past the limit: not on every chunk of a long log.
    if (pre.textContent.length > max * 1.25) {
      pre.textContent = pre.textContent.slice(-max);
      const note = byData("data-cut-for", pre.dataset.log);
      if (note) note.hidden = false;
    }
    if (follow) pre.scrollTop = pre.scrollHeight;
  }

  async function fetchWhole(key, src) {
    fetching.set(key, []);
    try {
      const response = await fetch(src, { headers: { Accept: "text/plain" } });
      const pre = byData("data-log", key);
      if (response.ok && pre) {
        const text = await response.text();
        pre.dataset.bytes = String(encoder.encode(text).length);
        show(pre, text, true);
      }
    } catch {
      // The next state change reads the section again, log and all.
    } finally {
      const waiting = fetching.get(key) ?? [];
      fetching.delete(key);
      for (const chunk of waiting) apply(chunk);
    }
  }

  function apply(chunk) {
    const key = chunk.dataset.log;
    if (fetching.has(key)) {
      fetching.get(key).push(chunk);
      return;
    }
    // A log not on the page (another run, a collapsed page) has nothing to follow.
    const pre = byData("data-log", key);
    if (!pre) return;
    const have = Number(pre.dataset.bytes || 0);
    const bytes = Number(chunk.dataset.bytes || 0);
    const offset = chunk.dataset.offset === "" || chunk.dataset.offset === undefined ? have : Number(chunk.dataset.offset);
    if (offset + bytes <= have) return;
    if (offset !== have) {
      void fetchWhole(key, pre.dataset.src);
      return;
    }
    pre.dataset.bytes = String(have + bytes);
    show(pre, chunk.textContent, false);
  }

  document.addEventListener("htmx:sseBeforeMessage", (event) => {
    if (!(event.target instanceof Element) || !event.target.hasAttribute("data-gate-live")) return;
    event.preventDefault();
    const template = document.createElement("template");
    template.innerHTML = event.detail.data;
    for (const chunk of Array.from(template.content.querySelectorAll("[data-log]"))) apply(chunk);
  });
})();
