// Sort and filter the report's tables: plain JavaScript, no network, no framework. It reads the rows the page
// already holds and only reorders or hides them; report values are never parsed as HTML here.
(function () {
  "use strict";
  var slice = Array.prototype.slice;
  // rows drawn at once: a table of 100,000 rows stays quick to open, sort and filter; "show more" draws the next
  var PAGE = 500;

  function keyOf(row, col) {
    var cell = row.cells[col];
    if (!cell) return "";
    var k = cell.getAttribute("data-sort");
    if (k !== null) return Number(k);
    return cell.classList.contains("num") ? Number(cell.textContent) : cell.textContent.toLowerCase();
  }

  function setup(table) {
    var bar = document.getElementById(table.getAttribute("data-filters"));
    var tbody = table.tBodies[0];
    if (!bar || !tbody) return;
    var rows = slice.call(tbody.rows);
    var heads = slice.call(table.tHead.rows[0].cells);
    var selects = slice.call(bar.querySelectorAll("select"));
    var search = bar.querySelector("input");
    var count = bar.querySelector(".count");
    var texts = null;
    var limit = PAGE;
    var more = document.createElement("button");
    more.type = "button";
    more.hidden = true;
    more.addEventListener("click", function () { limit += PAGE; apply(false); });
    bar.appendChild(more);

    selects.forEach(function (sel) {
      var key = "data-" + sel.getAttribute("data-key");
      var seen = {};
      rows.forEach(function (r) {
        (r.getAttribute(key) || "").split(" ").forEach(function (v) { if (v) seen[v] = true; });
      });
      var order = (sel.getAttribute("data-order") || "").split(" ");
      Object.keys(seen).sort(function (a, b) {
        var ia = order.indexOf(a), ib = order.indexOf(b);
        if (ia !== ib) return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
        return a < b ? -1 : a > b ? 1 : 0;
      }).forEach(function (v) {
        var o = document.createElement("option");
        o.value = v;
        o.textContent = v;
        sel.appendChild(o);
      });
      sel.addEventListener("change", function () { apply(true); });
    });
    if (search) search.addEventListener("input", function () { apply(true); });

    function apply(fromTop) {
      if (fromTop) limit = PAGE;
      var want = selects.filter(function (s) { return s.value; }).map(function (s) {
        return ["data-" + s.getAttribute("data-key"), " " + s.value + " "];
      });
      var q = search ? search.value.trim().toLowerCase() : "";
      if (q && !texts) texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
      var matched = 0;
      rows.forEach(function (r, i) {
        var ok = want.every(function (w) { return (" " + (r.getAttribute(w[0]) || "") + " ").indexOf(w[1]) >= 0; });
        if (ok && q) ok = texts[i].indexOf(q) >= 0;
        r.hidden = !ok || matched >= limit;
        if (ok) matched += 1;
      });
      var text = matched === rows.length ? rows.length + " rows" : matched + " of " + rows.length + " rows";
      count.textContent = text + (matched > limit ? ", the first " + limit + " shown" : "");
      more.hidden = matched <= limit;
      more.textContent = "show " + Math.min(PAGE, matched - limit) + " more";
    }

    function sortBy(col, dir) {
      var keyed = rows.map(function (r, i) { return [keyOf(r, col), i, r]; });
      keyed.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
      rows = keyed.map(function (k) { return k[2]; });
      texts = null;
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      tbody.appendChild(frag);
      apply(false);
      heads.forEach(function (th, i) {
        if (i === col) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
    }

    heads.forEach(function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var first = th.hasAttribute("data-desc") ? -1 : 1;
        sortBy(col, now === "ascending" ? -1 : now === "descending" ? 1 : first);
      });
    });
    var first = table.getAttribute("data-sort-col");
    if (first !== null) sortBy(Number(first), -1);
    else apply(false);
    table.setAttribute("data-ready", "");
    bar.hidden = false;
  }

  slice.call(document.querySelectorAll("table[data-filters]")).forEach(setup);

  // a finding's reasons are written once, after the findings: show them in place when the row is opened
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    var id = details.getAttribute && details.getAttribute("data-why");
    var source = id && document.getElementById(id);
    var link = details.querySelector("a");
    if (!details.open || !source || !link) return;
    details.replaceChild(source.firstElementChild.cloneNode(true), link);
  }, true);
})();
