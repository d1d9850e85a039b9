// fpsearch search page and document view. Plain JS; all server text goes in through textContent.
(function () {
  "use strict";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // A document id may contain "/": keep the separators, encode everything else, and never let a
  // "." or ".." segment be collapsed by the browser.
  function docPath(docId) {
    return docId.split("/").map(function (seg) {
      return seg === "." || seg === ".." ? seg.replace(/\./g, "%2E") : encodeURIComponent(seg);
    }).join("/");
  }

  function detail(body, status) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail)) return body.detail.map(function (d) { return d.msg; }).join("; ");
    return "request failed (" + status + ")";
  }

  async function getJSON(url) {
    const response = await fetch(url);
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) throw new Error(detail(body, response.status));
    return body;
  }

  // Text with [a, b) wrapped in `tag` (offsets relative to the text).
  function marked(text, a, b, tag, id) {
    const frag = document.createDocumentFragment();
    frag.appendChild(document.createTextNode(text.slice(0, a)));
    const m = el(tag, null, text.slice(a, b));
    if (id) m.id = id;
    frag.appendChild(m);
    frag.appendChild(document.createTextNode(text.slice(b)));
    return frag;
  }

  function renderHit(hit) {
    const li = el("li", "hit");
    const view = "/view?doc=" + encodeURIComponent(hit.doc_id) + "&start=" + hit.start + "&end=" + hit.end +
      "&s=" + hit.sentence_start + "&e=" + hit.sentence_end;
    const h = el("h2");
    const a = el("a", null, hit.title || hit.doc_id);
    a.href = view;
    h.appendChild(a);
    li.appendChild(h);
    const meta = [hit.date, hit.source, "score " + hit.score.toFixed(4)];
    if (hit.cosine !== null && hit.cosine !== hit.score) meta.push("cosine " + hit.cosine.toFixed(3));
    meta.push(hit.doc_id + ":" + hit.start + "-" + hit.end);
    li.appendChild(el("p", "meta", meta.filter(Boolean).join(" · ")));
    const p = el("p", "passage");
    p.appendChild(marked(hit.text, hit.sentence_start - hit.start, hit.sentence_end - hit.start, "mark"));
    li.appendChild(p);
    return li;
  }

  async function runSearch(q, mode) {
    const status = document.getElementById("status");
    const list = document.getElementById("results");
    list.replaceChildren();
    status.textContent = "Searching…";
    try {
      const body = await getJSON("/search?k=10&mode=" + encodeURIComponent(mode) + "&q=" + encodeURIComponent(q));
      body.hits.forEach(function (hit) { list.appendChild(renderHit(hit)); });
      status.textContent = body.hits.length + " hits in " + Math.round(body.took_ms) + " ms";
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    }
  }

  function searchPage() {
    const form = document.getElementById("search");
    const input = document.getElementById("q");
    const mode = document.getElementById("mode");
    const params = new URLSearchParams(location.search);
    if (params.get("mode")) mode.value = params.get("mode");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      history.replaceState(null, "", "/?q=" + encodeURIComponent(q) + "&mode=" + encodeURIComponent(mode.value));
      runSearch(q, mode.value);
    });
    if (params.get("q")) {
      input.value = params.get("q");
      runSearch(input.value, mode.value);
    } else {
      input.focus();
    }
  }

  async function viewPage() {
    const params = new URLSearchParams(location.search);
    const docId = params.get("doc");
    const status = document.getElementById("status");
    if (document.referrer && new URL(document.referrer).pathname === "/") {
      document.getElementById("back").href = document.referrer;
    }
    if (!docId) { status.textContent = "no document given"; return; }
    try {
      const doc = await getJSON("/documents/" + docPath(docId));
      document.title = doc.title + " — fpsearch";
      document.getElementById("title").textContent = doc.title || doc.doc_id;
      document.getElementById("meta").textContent =
        [doc.date, doc.source, doc.doc_id].filter(Boolean).join(" · ");
      const dl = document.getElementById("metadata");
      Object.keys(doc.metadata).forEach(function (key) {
        const value = doc.metadata[key];
        if (value === null || value === "" || (Array.isArray(value) && !value.length)) return;
        dl.appendChild(el("dt", null, key));
        const dd = el("dd");
        const text = typeof value === "string" ? value : JSON.stringify(value);
        if (/^https?:\/\//.test(text)) {
          const a = el("a", null, text);
          a.href = text;
          a.rel = "noopener noreferrer";
          dd.appendChild(a);
        } else {
          dd.textContent = text;
        }
        dl.appendChild(dd);
      });
      const box = document.getElementById("text");
      const start = parseInt(params.get("start"), 10);
      const end = parseInt(params.get("end"), 10);
      if (Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= doc.text.length) {
        box.appendChild(document.createTextNode(doc.text.slice(0, start)));
        const span = el("mark", "span");
        span.id = "hit";
        const s = parseInt(params.get("s"), 10);
        const e = parseInt(params.get("e"), 10);
        const passage = doc.text.slice(start, end);
        if (Number.isInteger(s) && Number.isInteger(e) && start <= s && s <= e && e <= end) {
          span.appendChild(marked(passage, s - start, e - start, "strong"));
        } else {
          span.textContent = passage;
        }
        box.appendChild(span);
        box.appendChild(document.createTextNode(doc.text.slice(end)));
        span.scrollIntoView({ block: "center" });
      } else {
        box.textContent = doc.text;
      }
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    }
  }

  window.fpsearch = { searchPage: searchPage, viewPage: viewPage, docPath: docPath };
})();
