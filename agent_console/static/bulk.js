/* Case lists: ticking rows for the bulk bar. Plain JavaScript, no build step.
 *
 * x ticks or unticks the highlighted row (j / k move the highlight, see console.js); the
 * header box ticks every row of the page; the bar counts the ticked rows. Ticks survive the
 * list being refreshed live (live.js replaces #queue-results): they are kept by case id and
 * put back on the new rows. Without this file the boxes and the bar still work as a form.
 */
(function () {
  "use strict";

  var ticked = {};  // case id -> true

  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("input.bulk-pick")); }

  function show() {
    var count = 0;
    boxes().forEach(function (box) {
      box.checked = !!ticked[box.value];
      if (box.checked) count += 1;
      var row = box.closest("tr");
      if (row) row.classList.toggle("ticked", box.checked);
    });
    var counter = document.querySelector("[data-bulk-count]");
    if (counter && counter.textContent !== String(count)) counter.textContent = String(count);
    var all = document.querySelector("[data-bulk-all]");
    if (all) all.checked = count > 0 && count === boxes().length;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.classList.contains("bulk-pick")) {
      if (target.checked) ticked[target.value] = true; else delete ticked[target.value];
      show();
    } else if (target.hasAttribute("data-bulk-all")) {
      boxes().forEach(function (box) {
        if (target.checked) ticked[box.value] = true; else delete ticked[box.value];
      });
      show();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "x" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var box = document.querySelector("tr[data-row].selected input.bulk-pick");
    if (!box) return;
    if (ticked[box.value]) delete ticked[box.value]; else ticked[box.value] = true;
    show();
    event.preventDefault();
  });

  /* A new page (htmx navigation) starts with nothing ticked; a live refresh keeps the ticks. */
  document.addEventListener("htmx:afterSettle", function () { ticked = {}; show(); });
  function bringsRows(change) {
    return Array.prototype.some.call(change.addedNodes, function (node) {
      return node.nodeType === 1 && node.querySelector && node.querySelector("input.bulk-pick");
    });
  }
  new MutationObserver(function (changes) {
    if (changes.some(bringsRows)) show();
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
