/* Agent console: the notification bell, and browser notifications. Plain JavaScript.
 *
 * live.js hands every websocket message over as a "hd:live" DOM event. On an
 * "agent.notification" event of the agent's own stream, and whenever that stream is
 * (re)subscribed, the unread count is read again from the server (the table is the
 * truth, so a reconnection is right at once) and shown on every [data-unread].
 * When the tab is in the background and the agent allowed it (a click on a
 * [data-notify-permission] button: nothing is asked without one), the newest unread
 * notification is also shown by the browser; clicking it opens it.
 */
(function () {
  "use strict";

  var lastShown = 0;
  var fetching = null;

  function bell() { return document.getElementById("notification-bell"); }

  function countUrl() {
    var el = bell();
    return (el && el.getAttribute("data-count-url")) || "/console/notifications/count";
  }

  function show(count) {
    document.querySelectorAll("[data-unread]").forEach(function (el) {
      el.textContent = String(count);
    });
    var el = bell();
    if (el) el.classList.toggle("has-unread", count > 0);
  }

  function supported() { return typeof window.Notification === "function"; }

  function toBrowser(latest) {
    if (!latest || latest.id <= lastShown) return;
    lastShown = latest.id;
    if (!document.hidden || !supported() || Notification.permission !== "granted") return;
    var shown = new Notification(latest.title, { body: latest.text, tag: "hd-" + latest.id });
    shown.onclick = function () {
      window.focus();
      location.href = latest.href;
      shown.close();
    };
  }

  function toast(latest) {
    var box = document.getElementById("toasts");
    if (!box || !latest || document.hidden) return;
    var item = document.createElement("a");
    item.className = "toast";
    item.href = latest.href;
    item.textContent = latest.text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 15000);
  }

  /* Read the count (and the newest unread one) again; ``fresh``: a new notification came
     (``quiet``: of a kind live.js already shows as a toast, the SLA warnings). */
  function refresh(fresh, quiet) {
    if (fetching) return;
    fetching = fetch(countUrl(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        fetching = null;
        if (!data) return;
        show(data.unread);
        if (fresh) { if (!quiet) toast(data.latest); toBrowser(data.latest); }
        else if (data.latest) lastShown = Math.max(lastShown, data.latest.id);
      })
      .catch(function () { fetching = null; });
  }

  document.addEventListener("hd:live", function (event) {
    var message = event.detail || {};
    var own = typeof message.stream === "string" && message.stream.indexOf("agent:") === 0;
    if (!own) return;
    if (message.type === "event" && message.event === "agent.notification") {
      var kind = (message.payload && message.payload.kind) || "";
      refresh(true, kind.indexOf("sla_") === 0);
    }
    else if (message.type === "subscribed") refresh(false);
  });

  /* The permission button: shown only where the browser can ask and has not been answered. */
  function permissionButtons() {
    document.querySelectorAll("[data-notify-permission]").forEach(function (button) {
      button.hidden = !supported() || Notification.permission !== "default";
      if (button.getAttribute("data-bound")) return;
      button.setAttribute("data-bound", "1");
      button.addEventListener("click", function () {
        if (!supported()) return;
        Notification.requestPermission().then(permissionButtons);
      });
    });
  }

  document.addEventListener("htmx:afterSettle", permissionButtons);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", permissionButtons);
  else permissionButtons();
})();
