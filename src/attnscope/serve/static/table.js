// attnscope serve: sortable and filterable tables (no dependencies).
// <table class="sortable">: click a header to sort (data-type="num" sorts numbers, using each cell's data-v).
// <input class="table-filter" data-filter="ID">: keep rows containing the text.
// <select|input data-col-filter="ID" data-col="NAME">: keep rows whose data-NAME equals the value.
(function () {
  "use strict";
  function cellKey(td, numeric) {
    var raw = td.hasAttribute("data-v") ? td.getAttribute("data-v") : td.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    var v = parseFloat(raw.replace(/[, ]/g, ""));
    return isNaN(v) ? null : v;
  }
  function sortBy(table, th) {
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-type") === "num";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a.cells[idx], numeric), y = cellKey(b.cells[idx], numeric);
      if (x === null && y === null) return 0;
      if (x === null) return 1;            // missing values last, whatever the direction
      if (y === null) return -1;
      var c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function applyFilters(id) {
    var table = document.getElementById(id);
    if (!table) return;
    var text = document.querySelector('.table-filter[data-filter="' + id + '"]');
    var q = text ? text.value.trim().toLowerCase() : "";
    var cols = document.querySelectorAll('[data-col-filter="' + id + '"]');
    var shown = 0, rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
      for (var j = 0; ok && j < cols.length; j++) {
        var el = cols[j], want = el.type === "checkbox" ? (el.checked ? el.getAttribute("data-checked") : "") : el.value;
        if (want && r.getAttribute("data-" + el.getAttribute("data-col")) !== want) ok = false;
      }
      r.hidden = !ok;
      if (ok) shown++;
    }
    var count = document.querySelector('[data-count-for="' + id + '"]');
    if (count) count.textContent = shown + " of " + rows.length + " rows";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.tHead.addEventListener("click", function (e) {
        var th = e.target.closest("th");
        if (th) sortBy(table, th);
      });
    });
    var ids = {};
    document.querySelectorAll("[data-filter], [data-col-filter]").forEach(function (el) {
      var id = el.getAttribute("data-filter") || el.getAttribute("data-col-filter");
      ids[id] = true;
      el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input",
                          function () { applyFilters(id); });
    });
    Object.keys(ids).forEach(applyFilters);
  });
})();
