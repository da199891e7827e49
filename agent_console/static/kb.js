// The knowledge-base panel of the case page: "Insert link" / "Insert excerpt" put the
// button's data-kb-insert text into the reply box (#reply-body) at the cursor.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kb-insert]") : null;
    if (!button || button.disabled) { return; }
    var box = document.getElementById("reply-body");
    if (!box) { return; }
    var text = button.getAttribute("data-kb-insert");
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    box.setRangeText(spacer + text + " ", start, end, "end");
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
