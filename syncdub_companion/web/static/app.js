// A little plain JavaScript: live job progress, connection tests, copy buttons, confirms.
// Everything works without it too (the pages are plain forms and links).
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const POLL_MS = 2000;

  function setRow(el, job) {
    const state = el.querySelector('[data-field="state"]');
    if (state && state.textContent !== job.state.replace(/_/g, " ")) {
      state.textContent = job.state.replace(/_/g, " ");
      state.className = "state state-" + job.state;
    }
    const bar = el.querySelector('[data-field="progress"]');
    if (bar) bar.value = job.progress;
    const pct = el.querySelector('[data-field="percent"]');
    if (pct) pct.textContent = job.progress_text || Math.round(job.progress) + "%";
    const step = el.querySelector('[data-field="step"]');
    if (step) step.textContent = job.step || "";
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (r.status === 401) { location.reload(); throw new Error("logged out"); }
    return r.json();
  }

  function pollList(table) {
    const rows = new Map([...table.querySelectorAll("tr[data-job-id]")].map(r => [r.dataset.jobId, r]));
    const tick = async () => {
      try {
        const data = await getJSON(table.dataset.poll);
        const ids = data.jobs.map(j => String(j.id));
        // A job that appeared or changed its final state alters the buttons: reload the list.
        const changed = ids.some(id => !rows.has(id)) ||
          data.jobs.some(j => rows.get(String(j.id)).querySelector('[data-field="state"]').textContent !== j.state.replace(/_/g, " ") && j.final);
        if (changed && ids.length <= 200) { location.reload(); return; }
        data.jobs.forEach(j => setRow(rows.get(String(j.id)), j));
      } catch (e) { /* keep polling */ }
      setTimeout(tick, POLL_MS);
    };
    setTimeout(tick, POLL_MS);
  }

  function pollJob(box) {
    const tick = async () => {
      try {
        const job = await getJSON(box.dataset.jobPoll);
        if (job.state !== box.dataset.jobState) { location.reload(); return; }
        setRow(document, job);
        const log = box.querySelector('[data-field="log"]');
        if (log) {
          const text = job.log.join("\n") + (job.log.length ? "\n" : "");
          if (log.textContent !== text) { log.textContent = text; log.scrollTop = log.scrollHeight; }
        }
        if (job.final) return;
      } catch (e) { /* keep polling */ }
      setTimeout(tick, POLL_MS);
    };
    if (!["done", "skipped", "needs_review", "rejected", "failed", "cancelled"].includes(box.dataset.jobState)) {
      setTimeout(tick, POLL_MS);
    }
  }

  function checkForm(form) {
    const out = document.querySelector("[data-check-results]");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const server = ev.submitter ? ev.submitter.value : "";
      out.innerHTML = "<li class='muted'>Testing…</li>";
      const body = new FormData(form);
      try {
        const r = await fetch(form.action, { method: "POST", body, credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRF-Token": csrf() } });
        const data = await r.json();
        let results = data.results || [];
        const mine = results.filter(c => c.name.toLowerCase().includes(server));
        if (server && mine.length) results = mine;
        out.innerHTML = "";
        if (!results.length) out.innerHTML = "<li class='muted'>No media servers are configured.</li>";
        results.forEach(c => {
          const li = document.createElement("li");
          li.className = c.ok ? "ok" : "fail";
          const b = document.createElement("strong");
          b.textContent = c.name;
          li.append(b, ": " + c.message);
          out.append(li);
        });
      } catch (e) {
        out.innerHTML = "<li class='fail'>The test request failed; see the service log.</li>";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("table[data-poll]").forEach(pollList);
    document.querySelectorAll("[data-job-poll]").forEach(pollJob);
    document.querySelectorAll("[data-check-form]").forEach(checkForm);
    // The policy (Content-Security-Policy) forbids javascript: links, so "Back" is wired here.
    document.querySelectorAll("a[data-back]").forEach(a => a.addEventListener("click", ev => {
      if (history.length > 1) { ev.preventDefault(); history.back(); }
    }));
    document.querySelectorAll("form[data-confirm]").forEach(f =>
      f.addEventListener("submit", ev => { if (!confirm(f.dataset.confirm)) ev.preventDefault(); }));
    document.querySelectorAll("[data-copy-button]").forEach(btn => btn.addEventListener("click", () => {
      const code = btn.closest("tr").querySelector("[data-copy]");
      const done = () => { btn.textContent = "Copied"; setTimeout(() => (btn.textContent = "Copy"), 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code.textContent).then(done);
      else { const r = document.createRange(); r.selectNodeContents(code); getSelection().removeAllRanges(); getSelection().addRange(r); document.execCommand("copy"); done(); }
    }));
  });
})();
