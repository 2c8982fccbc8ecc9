// Sell screen keyboard use: ↑/↓ move through the search results, Enter adds the highlighted
// product (or, with nothing highlighted, sends the typed code as a scan), Escape clears.
(function () {
  "use strict";
  var active = -1;

  function input() { return document.querySelector("[data-search-input]"); }
  function results() { return Array.prototype.slice.call(document.querySelectorAll("#search-results [data-result]")); }

  function highlight(index) {
    var items = results();
    items.forEach(function (item) { item.classList.remove("is-active"); item.setAttribute("aria-selected", "false"); });
    if (!items.length) { active = -1; return; }
    active = Math.max(0, Math.min(index, items.length - 1));
    items[active].classList.add("is-active");
    items[active].setAttribute("aria-selected", "true");
    items[active].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var box = input();
    if (!box || event.target !== box) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if (event.key === "Escape") { box.value = ""; document.getElementById("search-results").innerHTML = ""; active = -1; }
    else if (event.key === "Enter" && active >= 0 && results()[active]) {
      event.preventDefault();
      results()[active].click();
    }
  });

  // New results: nothing highlighted until the cashier moves.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "search-results") { active = -1; }
  });

  // After a product went into the cart, get ready for the next one.
  document.addEventListener("htmx:afterRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (!source || !event.detail.successful) return;
    if (source.id === "scan-form" || (source.closest && source.closest("#search-results"))) {
      var box = input();
      if (box) { box.value = ""; box.focus(); }
      var list = document.getElementById("search-results");
      if (list) list.innerHTML = "";
      active = -1;
    }
  });
})();
