// Sortable, searchable tables; inline, no library, no network. The page reads the same without it.
(function () {
  "use strict";
  function value(cell) {
    var v = cell.getAttribute("data-v");
    if (v === null) { return { num: false, key: cell.textContent.trim().toLowerCase() }; }
    if (v === "") { return { num: true, key: NaN }; }
    return { num: true, key: parseFloat(v) };
  }
  function compare(a, b) {
    if (a.num && b.num) {
      if (isNaN(a.key)) { return isNaN(b.key) ? 0 : 1; }   // missing values last
      if (isNaN(b.key)) { return -1; }
      return a.key - b.key;
    }
    return String(a.key).localeCompare(String(b.key), undefined, { numeric: true });
  }
  document.querySelectorAll(".table-block").forEach(function (block) {
    var table = block.querySelector("table");
    var input = block.querySelector("input[type=search]");
    var count = block.querySelector(".count");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var total = count ? count.textContent : "";
    if (input) {
      input.hidden = false;  // shown only where the script runs (a strict policy may block it)
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        var shown = 0;
        rows.forEach(function (row) {
          var hit = !q || row.textContent.toLowerCase().indexOf(q) !== -1;
          row.hidden = !hit;
          if (hit) { shown += 1; }
        });
        if (count) { count.textContent = q ? shown + " of " + rows.length + " rows match" : total; }
      });
    }
    table.classList.add("sortable");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var keyed = rows.map(function (row, i) { return { row: row, v: value(row.cells[col]), i: i }; });
        keyed.sort(function (a, b) {
          var c = compare(a.v, b.v);
          if (c === 0) { return a.i - b.i; }
          if (a.v.num && b.v.num && (isNaN(a.v.key) || isNaN(b.v.key))) { return c; }  // NA stay last
          return asc ? c : -c;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
})();
