// Suggest knowledge-base articles while a customer types a request (no inline script, CSP-safe).
// The form works without it; with it, suggested articles are listed under the message and
// opening one is recorded (with the form's token) for the deflection report.
(function () {
  "use strict";
  var form = document.querySelector("form[data-kb-suggest]");
  if (!form || !window.fetch) { return; }
  var token = form.getAttribute("data-kb-suggest");
  var locale = form.getAttribute("data-locale") || "vi";
  var box = document.getElementById("kb-suggestions");
  var list = box && box.querySelector("ul");
  var subject = form.querySelector("[name=subject]");
  var message = form.querySelector("[name=message]");
  if (!box || !list || !subject || !message) { return; }
  var timer = null;
  var last = "";
  var shown = {};

  function words(text) {
    return text.split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  function query() {
    var picked = words(subject.value);
    if (picked.length < 3) { picked = picked.concat(words(message.value)); }
    return picked.slice(0, 6);
  }

  function search(picked) {
    var url = "/api/v1/public/kb/search?limit=5&locale=" + encodeURIComponent(locale) +
      "&q=" + encodeURIComponent(picked.join(" "));
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.ok ? r.json() : { items: [] };
    });
  }

  function show(items) {
    list.textContent = "";
    items.forEach(function (hit) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/support/kb/articles/" + hit.id + "?t=" + encodeURIComponent(token) +
        "&lang=" + encodeURIComponent(locale);
      a.target = "_blank";
      a.rel = "noopener";
      a.innerHTML = hit.title_html; // escaped by the server, <mark> around matches
      li.appendChild(a);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
    var fresh = items.map(function (h) { return h.id; }).filter(function (id) { return !shown[id]; });
    if (fresh.length) {
      fresh.forEach(function (id) { shown[id] = true; });
      var body = new URLSearchParams({ t: token, ids: fresh.join(",") });
      fetch("/support/kb/shown", { method: "POST", body: body }).catch(function () {});
    }
  }

  function update() {
    var picked = query();
    var key = picked.join(" ").toLowerCase();
    if (key === last) { return; }
    last = key;
    if (key.length < 3) { show([]); return; }
    search(picked).then(function (found) {
      if (found.items.length === 0 && picked.length > 3) { return search(picked.slice(0, 3)); }
      return found;
    }).then(function (found) {
      if (last === key) { show(found.items || []); }
    }).catch(function () {});
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(update, 300);
  }

  subject.addEventListener("input", later);
  message.addEventListener("input", later);
})();
