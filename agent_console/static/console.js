/* Agent console: keyboard shortcuts and small conveniences. Plain JavaScript, no build step.
 *
 * Everything works without this file (forms post, links navigate); it only adds:
 *   /  focus the search box          j / k  next / previous case in a list
 *   o, Enter  open the selected case  r  reply     n  internal note
 *   t  take the case                  ?  show the shortcuts     Esc  leave a text box
 * and submits the availability select on change and fills the reply box from a macro.
 * Listeners sit on the document, so they keep working after htmx swaps the page body.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  /* Dates on the pages follow the viewer's own time zone: tell the server once. */
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("helpdesk_tz=" + encodeURIComponent(zone)) < 0) {
      document.cookie = "helpdesk_tz=" + encodeURIComponent(zone) +
        "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: the helpdesk's time zone is used */ }

  function typing(target) {
    if (!(target instanceof HTMLElement)) return false;
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    field.focus();
    field.scrollIntoView({ block: "center" });
    return true;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  }

  function moveSelection(step) {
    var all = rows();
    if (!all.length) return false;
    var current = all.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = current < 0 ? 0 : Math.min(all.length - 1, Math.max(0, current + step));
    all.forEach(function (row) { row.classList.remove("selected"); });
    all[next].classList.add("selected");
    all[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function openSelection() {
    var row = document.querySelector("tr[data-row].selected");
    var link = row && row.querySelector("a[href]");
    if (!link) return false;
    link.click();
    return true;
  }

  function clickById(id) {
    var button = document.getElementById(id);
    if (!button) return false;
    button.click();
    return true;
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    if (dialog.open) dialog.close(); else dialog.showModal();
    return true;
  }

  var KEYS = {
    "/": function () { return focusField("search"); },
    "r": function () { return focusField("reply-body"); },
    "n": function () { return focusField("note-body"); },
    "t": function () { return clickById("take-button"); },
    "j": function () { return moveSelection(1); },
    "k": function () { return moveSelection(-1); },
    "o": openSelection,
    "Enter": openSelection,
    "?": toggleHelp
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var action = KEYS[event.key];
    if (action && action()) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement)) return;
    if (target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit();
    } else if (target.dataset.macroTarget) {
      var option = target.selectedOptions[0];
      var box = document.getElementById(target.dataset.macroTarget);
      if (option && option.dataset.text !== undefined && box) {
        box.value = box.value ? box.value.replace(/\s*$/, "\n\n") + option.dataset.text : option.dataset.text;
        box.focus();
      }
      target.value = "";
    }
  });
})();
