// callgym leaderboard: sortable tables and the episode viewer. No dependencies, no network.
// Every piece of run data is inserted with textContent, never innerHTML: transcripts are
// model output and must not be able to inject markup.
"use strict";
(function () {
  const RUNS = JSON.parse(document.getElementById("callgym-data").textContent);
  const viewer = document.getElementById("viewer");
  const scrim = document.getElementById("scrim");
  let lastRow = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1));
  const asText = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 1));

  // ------------------------------------------------------------------ sorting
  function sortBy(table, column, th) {
    const numeric = th.dataset.type === "num";
    const current = th.getAttribute("aria-sort");
    const dir = current ? (current === "ascending" ? "descending" : "ascending") : (numeric ? "descending" : "ascending");
    table.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", dir);
    const body = table.tBodies[0];
    const value = (row) => row.cells[column].dataset.sort;
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = value(a), y = value(b);
      const order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return dir === "ascending" ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  }
  document.querySelectorAll("table.board").forEach((table) => {
    table.querySelectorAll("thead th").forEach((th, column) => {
      th.querySelector("button").addEventListener("click", () => sortBy(table, column, th));
    });
    table.querySelectorAll("tbody tr").forEach((row) => {
      row.addEventListener("click", () => openRun(row.dataset.run, row));
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openRun(row.dataset.run, row); }
      });
    });
  });

  // ------------------------------------------------------------------ viewer
  function facts(run) {
    const list = el("dl", "facts");
    const items = [
      ["run", run.id === null ? "–" : run.id], ["model", run.model || "–"], ["lineage", run.lineage || "–"],
      ["parameters", run.model_size ? run.model_size.toLocaleString("en-US") : "unknown"],
      ["agent", run.agent || "–"], ["backend", run.backend || "–"], ["sampling", JSON.stringify(run.sampling)],
      ["env", run.env_id + " (v" + run.env_version + ")"], ["env settings", JSON.stringify(run.env_kwargs)],
      ["suite", run.suite ? run.suite + " v" + run.suite_version : "–"], ["seed", run.seed === null ? "–" : run.seed],
      ["episodes", run.n + " on " + run.problems + " problems" + (run.excluded ? " (" + run.excluded + " training problems excluded)" : "")],
      ["tag", run.tag || "–"], ["notes", run.notes || "–"], ["callgym version", run.version || "–"], ["created", run.created],
    ];
    items.forEach(([key, value]) => { list.appendChild(el("dt", null, key)); list.appendChild(el("dd", null, String(value))); });
    return list;
  }

  function levels(run) {
    const by = new Map();  // a Map keeps "all" first: object keys would put "0", "1" before it
    run.metrics.forEach((m) => {
      if (!by.has(m.difficulty)) by.set(m.difficulty, {});
      by.get(m.difficulty)[m.name] = m;
    });
    const table = el("table", "levels");
    const head = table.createTHead().insertRow();
    ["difficulty", "n", "accuracy %", "95% CI", "valid calls %", "steps"].forEach((h) => head.appendChild(el("th", null, h)));
    const body = table.createTBody();
    by.forEach((m, level) => {
      const acc = m.accuracy || {};
      const row = body.insertRow();
      [level, m.n ? m.n.value : "–", pct(acc.value), pct(acc.ci_low) + "–" + pct(acc.ci_high),
       pct(m.valid_call_rate && m.valid_call_rate.value), m.mean_steps ? m.mean_steps.value.toFixed(1) : "–"]
        .forEach((cell) => row.appendChild(el("td", null, String(cell))));
    });
    return table;
  }

  function message(kind, role, text, badge) {
    const box = el("div", "msg " + kind);
    const head = el("div", "role", role);
    if (badge) head.appendChild(el("span", "badge", badge));
    box.appendChild(head);
    box.appendChild(el("pre", null, asText(text)));
    return box;
  }

  function transcript(episode) {
    const box = el("div", "transcript");
    const messages = episode.messages || [];
    const system = messages.find((m) => m.role === "system");
    const task = messages.find((m) => m.role === "user");
    if (system) {
      const details = el("details", "msg system");
      details.appendChild(el("summary", null, "System prompt · " + asText(system.content).length + " characters (click to expand)"));
      details.appendChild(el("pre", null, asText(system.content)));
      box.appendChild(details);
    }
    if (task) box.appendChild(message("task", "Task", task.content));
    const steps = episode.steps || [];
    steps.forEach((step, i) => {
      const kind = step.valid ? "call" : "call invalid";
      const badge = step.valid ? null : "invalid call" + (step.error_type ? " · " + step.error_type : "");
      box.appendChild(message(kind, "Assistant · call " + (i + 1), step.action, badge));
      box.appendChild(message("result", "Environment", step.observation));
    });
    if (!steps.length) {
      messages.slice(2).forEach((m) => box.appendChild(message(m.role === "assistant" ? "call" : "result",
        m.role === "assistant" ? "Assistant" : "Environment", m.content)));
    }
    const verdict = (episode.correct ? "Correct" : "Incorrect") + " · answer " + asText(episode.answer ?? "none") +
      " · gold " + asText(episode.gold ?? "–") + (episode.truncated ? " · stopped at the step limit" : "");
    box.appendChild(el("div", "verdict " + (episode.correct ? "ok" : "fail"), verdict));
    return box;
  }

  function showSample(run, index, buttons, slot) {
    buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === index)));
    slot.replaceChildren(transcript(run.samples[index]));
  }

  function openRun(key, row) {
    const run = RUNS[key];
    if (!run) return;
    document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
    if (row) { row.classList.add("selected"); lastRow = row; }
    const close = el("button", "close", "Close ✕");
    close.type = "button";
    close.addEventListener("click", closeViewer);
    const title = (run.model || run.agent || "run " + key) + (run.tag ? " · " + run.tag : "");
    const parts = [close, el("h2", null, title), el("p", "group", run.group), facts(run), levels(run)];
    const samples = run.samples || [];
    parts.push(el("h3", null, samples.length ? "Sample episodes" : "No sample episodes stored for this run"));
    const strip = el("div", "samples"), slot = el("div", "episode");
    const buttons = samples.map((episode, i) => {
      const b = el("button", episode.correct ? "ok" : "fail", "problem " + episode.index + (episode.sample ? " #" + episode.sample : ""));
      b.type = "button";
      b.addEventListener("click", () => showSample(run, i, buttons, slot));
      strip.appendChild(b);
      return b;
    });
    parts.push(strip, slot);
    viewer.replaceChildren(...parts);
    if (samples.length) showSample(run, 0, buttons, slot);
    viewer.hidden = scrim.hidden = false;
    viewer.scrollTop = 0;
    close.focus();
    try { history.replaceState(null, "", "#run-" + key); } catch (e) { /* file:// in some browsers */ }
  }

  function closeViewer() {
    viewer.hidden = scrim.hidden = true;
    document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
    if (lastRow) lastRow.focus();
    try { history.replaceState(null, "", location.pathname + location.search); } catch (e) { /* as above */ }
  }
  scrim.addEventListener("click", closeViewer);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !viewer.hidden) closeViewer(); });

  // A link to #run-12 opens that run's episodes.
  const linked = /^#run-(.+)$/.exec(location.hash);
  if (linked) openRun(decodeURIComponent(linked[1]), document.querySelector('tr[data-run="' + CSS.escape(decodeURIComponent(linked[1])) + '"]'));
  document.documentElement.dataset.ready = "true";
})();
