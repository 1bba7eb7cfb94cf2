// resistscore upload service: progressive enhancement of the server-rendered pages.
// No user data is ever put into HTML: everything from the server is written with textContent.
"use strict";

function meta(name) {
  const el = document.querySelector(`meta[name="${name}"]`);
  return el ? el.getAttribute("content") : "";
}

// ------------------------------------------------------------------------------------ the form
function setupForm(form) {
  const metadata = document.getElementById("metadata");
  const status = document.getElementById("metadata-status");
  const selects = Array.from(document.querySelectorAll("select.design"));
  metadata.addEventListener("change", async () => {
    for (const sel of selects) {
      while (sel.options.length > 1) sel.remove(1);
    }
    status.textContent = "";
    const file = metadata.files[0];
    if (!file) return;
    status.textContent = "reading the columns...";
    const body = new FormData();
    body.append("metadata", file);
    body.append("csrf_token", meta("csrf-token"));
    try {
      const res = await fetch(`${meta("root")}/api/metadata/columns`, {
        method: "POST", body, headers: { "X-CSRF-Token": meta("csrf-token") }, credentials: "same-origin",
      });
      const data = await res.json();
      if (!res.ok) {
        status.textContent = data.detail || "the metadata file could not be read";
        return;
      }
      for (const sel of selects) {
        for (const col of data.columns) {
          const opt = document.createElement("option");
          opt.value = col;
          opt.textContent = col;
          sel.appendChild(opt);
        }
      }
      status.textContent = `${data.columns.length} columns found`;
    } catch (err) {
      status.textContent = "the metadata file could not be read";
    }
  });
  form.addEventListener("submit", () => {
    const kind = (form.querySelector("input[name=sig_kind]:checked") || {}).value || "all";
    let value = "";
    if (kind === "ids") {
      value = Array.from(form.querySelectorAll("input.sig-id:checked")).map((c) => c.value).join(",");
    } else if (kind === "drug") {
      value = `drug:${document.getElementById("drug").value}`;
    }
    document.getElementById("signatures-field").value = value;
    if (kind !== "gmt") {
      const gmt = document.getElementById("gmt");
      if (gmt.files.length) gmt.disabled = true; // the file is sent only when "my own signatures" is chosen
    }
    document.getElementById("submit").disabled = true;
    document.getElementById("submit").textContent = "Uploading...";
  });
  window.addEventListener("pageshow", () => {
    document.getElementById("gmt").disabled = false;
    document.getElementById("submit").disabled = false;
    document.getElementById("submit").textContent = "Start the analysis";
  });
}

// ------------------------------------------------------------------------------------ the job page
function setupJob(main) {
  const api = main.dataset.jobApi;
  const show = (job) => {
    document.getElementById("status").textContent = job.status;
    document.getElementById("stage").textContent = job.stage;
    const bar = document.getElementById("progress");
    bar.value = job.progress;
    bar.textContent = `${job.progress} %`;
    document.getElementById("percent").textContent = `${job.progress} %`;
    document.getElementById("queue").textContent =
      job.status === "queued" ? `${job.queue_position || 0} job(s) ahead of this one.` : "";
    document.getElementById("notice").textContent = job.notice || "";
    document.getElementById("error").textContent = job.error || "";
    const order = ["queued", "reading", "harmonising", "scoring", "testing", "reporting", "done"];
    const at = order.indexOf(job.stage);
    for (const li of document.querySelectorAll("#stages li")) {
      const i = order.indexOf(li.dataset.stage);
      li.className = at >= 0 && i < at ? "past" : i === at ? "current" : "";
    }
    document.getElementById("results-link").hidden = job.status !== "done";
  };
  const poll = async () => {
    try {
      const res = await fetch(api, { credentials: "same-origin", cache: "no-store" });
      if (res.status === 404) {
        document.getElementById("error").textContent = "This job no longer exists (deleted or expired).";
        return;
      }
      const job = await res.json();
      show(job);
      if (job.status === "done") {
        window.location.assign(main.dataset.results);
        return;
      }
      if (job.status === "failed") return;
    } catch (err) {
      // the server may be restarting: keep polling
    }
    setTimeout(poll, 1000);
  };
  poll();
}

// ------------------------------------------------------------------------------------ sortable tables
function setupTables() {
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = Array.from(table.querySelectorAll("thead th"));
    heads.forEach((th, col) => {
      const button = th.querySelector("button.sort");
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = th.dataset.numeric === "1";
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => {
          const text = row.cells[col].textContent;
          if (!numeric) return text;
          const v = parseFloat(text);
          return Number.isNaN(v) ? -Infinity : v;
        };
        rows.sort((a, b) => {
          const x = key(a);
          const y = key(b);
          const c = numeric ? x - y : String(x).localeCompare(String(y));
          return ascending ? c : -c;
        });
        for (const row of rows) body.appendChild(row);
      });
    });
  }
}

function setupDelete() {
  for (const form of document.querySelectorAll("form.delete-form")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm("Delete this job and all its files now?")) event.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("job-form");
  if (form) setupForm(form);
  const main = document.getElementById("main");
  if (main && main.dataset.jobApi) setupJob(main);
  setupTables();
  setupDelete();
});
