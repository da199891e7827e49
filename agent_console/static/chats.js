/* The chat desk (/console/chats): Enter sends a line, Shift+Enter starts a new one; a panel's
 * transcript is fetched again when its case changes (events from live.js, "hd:live"), and
 * scrolled to its newest line. Plain JavaScript, no build step. */
(function () {
  "use strict";

  function scrollDown(thread) { if (thread) thread.scrollTop = thread.scrollHeight; }

  function refresh(caseId) {
    var thread = document.getElementById("chat-thread-" + caseId);
    if (!thread) return;
    fetch("/console/chats/" + caseId + "/thread", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(thread.id);
        var current = document.getElementById(thread.id);
        if (fresh && current) { current.replaceWith(fresh); scrollDown(fresh); }
      })
      .catch(function () { /* the next event tries again */ });
  }

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box || box.tagName !== "TEXTAREA" || !box.closest(".chat-composer")) return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (box.value.trim()) box.form.requestSubmit();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!form || !form.classList || !form.classList.contains("chat-composer")) return;
    if (event.detail.successful) form.reset();
  });

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-chat-thread]").forEach(scrollDown);
  });

  document.addEventListener("hd:live", function (event) {
    var message = event.detail || {};
    if (message.type !== "event" || !message.stream) return;
    var match = /^case:(\d+)$/.exec(message.stream);
    if (match) refresh(match[1]);
  });

  document.querySelectorAll("[data-chat-thread]").forEach(scrollDown);
})();
