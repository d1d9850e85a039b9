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
    if (hit.match && hit.match !== "strong") meta.push(hit.match + " match");
    meta.push(hit.doc_id + ":" + hit.start + "-" + hit.end);
    li.appendChild(el("p", "meta", meta.filter(Boolean).join(" · ")));
    const p = el("p", "passage");
    p.appendChild(marked(hit.text, hit.sentence_start - hit.start, hit.sentence_end - hit.start, "mark"));
    if (hit.speaker) {
      const said = el("span", "speaker", " — " + hit.speaker);
      const mark = p.querySelector("mark");
      mark.after(said);
    }
    li.appendChild(p);
    return li;
  }

  function viewLink(q) {
    return "/view?doc=" + encodeURIComponent(q.doc_id) + "&start=" + q.start + "&end=" + q.end +
      "&s=" + q.sentence_start + "&e=" + q.sentence_end;
  }

  function span(p) {
    if (!p.first_date) return "";
    return p.first_date === p.last_date ? p.first_date : p.first_date + " – " + p.last_date;
  }

  // One actor: a row that opens to its quotes, each linking to the document view.
  function renderActor(p, rank) {
    const li = el("li", "actor");
    const box = el("details");
    const summary = el("summary");
    summary.appendChild(el("span", "actor-name", rank + ". " + p.actor));
    summary.appendChild(el("span", "meta", " score " + p.score.toFixed(3) + " · " + p.documents + " documents · " +
      p.passages + " passages" + (span(p) ? " · " + span(p) : "") + (p.party ? " · a party to the topic" : "")));
    box.appendChild(summary);
    if (p.party && !p.quotes.length) {
      box.appendChild(el("p", "meta", "Named by the topic or by others' passages on it; nothing it says names what the topic is about."));
    }
    const quotes = el("ul", "quotes");
    p.quotes.forEach(function (q) {
      const item = el("li", "quote");
      const a = el("a", null, "“" + q.sentence + "”");
      a.href = viewLink(q);
      item.appendChild(a);
      const who = q.speaker && q.speaker !== p.actor ? " — " + q.speaker : "";
      item.appendChild(el("span", "meta", who + " · " + (q.title || q.doc_id) + (q.date ? " (" + q.date + ")" : "")));
      quotes.appendChild(item);
    });
    box.appendChild(quotes);
    li.appendChild(box);
    return li;
  }

  // --by year: a bar per year, in order; a click lists that year's passages.
  function renderTimeline(positions, q, mode) {
    const box = document.getElementById("timeline");
    box.replaceChildren();
    const years = positions.slice().sort(function (a, b) { return a.actor.localeCompare(b.actor); });
    const top = Math.max.apply(null, years.map(function (p) { return p.score; }).concat([1e-9]));
    years.forEach(function (p) {
      const bar = el("button", "bar");
      bar.type = "button";
      bar.title = p.actor + ": score " + p.score.toFixed(3) + ", " + p.passages + " passages";
      bar.setAttribute("aria-label", bar.title);
      bar.dataset.year = p.actor;
      const fill = el("span", "fill");
      fill.style.height = Math.max(4, Math.round(100 * p.score / top)) + "%";
      bar.appendChild(fill);
      bar.appendChild(el("span", "year", p.actor));
      bar.addEventListener("click", function () {
        box.querySelectorAll(".bar").forEach(function (b) { b.classList.toggle("chosen", b === bar); });
        runSearch(q, mode, p.actor);
      });
      box.appendChild(bar);
    });
    box.hidden = years.length === 0;
  }

  async function runPositions(q, by, mode) {
    const status = document.getElementById("status");
    const list = document.getElementById("actors");
    status.textContent = "Reading positions…";
    status.classList.remove("error");
    try {
      const n = by === "year" ? 100 : 10;
      const body = await getJSON("/positions?quotes=2&n=" + n + "&by=" + encodeURIComponent(by) + "&q=" + encodeURIComponent(q));
      if (by === "year") {
        renderTimeline(body.positions, q, mode);
      } else {
        body.positions.forEach(function (p, i) { list.appendChild(renderActor(p, i + 1)); });
      }
      status.textContent = body.positions.length + (by === "year" ? " years" : " actors") + " in " +
        Math.round(body.took_ms) + " ms" + (by === "year" ? " — click a year for its passages" : "");
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    }
  }

  async function runSearch(q, mode, year) {
    const status = document.getElementById("status");
    const list = document.getElementById("results");
    list.replaceChildren();
    status.textContent = "Searching…";
    status.classList.remove("error");
    const within = year ? "&since=" + encodeURIComponent(year) + "&until=" + encodeURIComponent(year) : "";
    try {
      const body = await getJSON("/search?k=10&mode=" + encodeURIComponent(mode) + within + "&q=" + encodeURIComponent(q));
      showNotices(body.warnings || []);
      body.hits.forEach(function (hit) { list.appendChild(renderHit(hit)); });
      status.textContent = body.hits.length + " hits" + (year ? " from " + year : "") + " in " + Math.round(body.took_ms) + " ms";
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    }
  }

  // Warnings of an answer (no strong match, a query in a language the model cannot read), above the hits.
  function showNotices(warnings) {
    const box = document.getElementById("notices");
    box.replaceChildren();
    warnings.forEach(function (text) { box.appendChild(el("p", "notice", text)); });
    box.hidden = warnings.length === 0;
  }

  function run(q, mode, view) {
    showNotices([]);
    document.getElementById("actors").replaceChildren();
    document.getElementById("results").replaceChildren();
    document.getElementById("timeline").hidden = true;
    if (view === "passages") runSearch(q, mode);
    else runPositions(q, view, mode);
  }

  function searchPage() {
    const form = document.getElementById("search");
    const input = document.getElementById("q");
    const mode = document.getElementById("mode");
    const view = document.getElementById("view");
    const params = new URLSearchParams(location.search);
    if (params.get("mode")) mode.value = params.get("mode");
    if (params.get("view")) view.value = params.get("view");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      history.replaceState(null, "", "/?q=" + encodeURIComponent(q) + "&mode=" + encodeURIComponent(mode.value) +
        "&view=" + encodeURIComponent(view.value));
      run(q, mode.value, view.value);
    });
    if (params.get("q")) {
      input.value = params.get("q");
      run(input.value, mode.value, view.value);
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
