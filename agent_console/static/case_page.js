/*
 * The case page's Markdown preview: the "Preview" button under a reply or note
 * box asks the server for the rendered (sanitised) HTML and shows it in
 * place of the box; "Edit" goes back. Listeners are on the document, so they
 * keep working after htmx's boosted navigation swaps the page.
 */
(function () {
  "use strict";

  function csrf(form) {
    var field = form && form.querySelector("input[name=_csrf]");
    return field ? field.value : "";
  }

  function showEditor(button, box, panel) {
    panel.hidden = true;
    box.hidden = false;
    button.textContent = button.dataset.labelPreview;
    button.setAttribute("aria-pressed", "false");
    box.focus();
  }

  function showPreview(button, box, panel) {
    var body = new FormData();
    body.append("_csrf", csrf(box.form));
    body.append("kind", button.dataset.previewKind);
    body.append("body", box.value);
    fetch(button.dataset.previewUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(box.form) },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("preview failed: " + response.status);
        return response.text();
      })
      .then(function (html) {
        panel.innerHTML = html; // sanitised by the server (helpdesk.markup)
        panel.hidden = false;
        box.hidden = true;
        button.textContent = button.dataset.labelEdit;
        button.setAttribute("aria-pressed", "true");
      })
      .catch(function () {
        panel.hidden = true;
        box.hidden = false;
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.preview-toggle");
    if (!button) return;
    event.preventDefault();
    var box = document.getElementById(button.dataset.previewFor);
    var panel = document.getElementById(button.dataset.previewTarget);
    if (!box || !panel) return;
    if (panel.hidden) {
      showPreview(button, box, panel);
    } else {
      showEditor(button, box, panel);
    }
  });

  // A hidden, required box would block sending without saying why: show it again first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    form.querySelectorAll("button.preview-toggle[aria-pressed=true]").forEach(function (button) {
      var box = document.getElementById(button.dataset.previewFor);
      var panel = document.getElementById(button.dataset.previewTarget);
      if (box && panel) showEditor(button, box, panel);
    });
  }, true);
})();

/* The reply box's "then" select names the action on the Send button ("Send and set Solved"). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.dataset || !select.dataset.sendButton) return;
    var button = document.getElementById(select.dataset.sendButton);
    if (!button) return;
    var chosen = select.options[select.selectedIndex];
    button.textContent = (chosen && chosen.dataset.label) || button.dataset.labelSend;
  });
})();

/*
 * Pasting an image into a reply or note box attaches it to that message: the
 * file joins the form's own attachments input (the ordinary upload, checked
 * by the server like any file) and a reference to it is typed at the cursor.
 * The thread shows image attachments inline (thumbnails).
 */
(function () {
  "use strict";
  var counter = 0;

  function stamp() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return now.getFullYear() + two(now.getMonth() + 1) + two(now.getDate()) + "-" +
      two(now.getHours()) + two(now.getMinutes()) + two(now.getSeconds());
  }

  document.addEventListener("paste", function (event) {
    var box = event.target;
    if (!box || box.tagName !== "TEXTAREA" || !box.form || !event.clipboardData) return;
    var input = box.form.querySelector("input[type=file][name=attachments]");
    if (!input || typeof DataTransfer === "undefined") return;
    var images = Array.prototype.filter.call(event.clipboardData.files || [], function (file) {
      return /^image\/(png|jpeg|gif|webp)$/.test(file.type);
    });
    if (!images.length) return;
    event.preventDefault();
    var files = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { files.items.add(file); });
    var references = images.map(function (file) {
      counter += 1;
      var extension = file.type.split("/")[1].replace("jpeg", "jpg");
      var name = "pasted-" + stamp() + "-" + counter + "." + extension;
      files.items.add(new File([file], name, { type: file.type }));
      return "[" + name + "]";
    });
    input.files = files.files;
    var text = references.join(" ");
    var start = box.selectionStart, end = box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
  });
})();
