/* Customer portal: live updates over the websocket /support/ws. Plain JavaScript.
 *
 * The page says whose stream to follow in <div id="live-config" data-customer="12"
 * data-case="34">. On an event about the case shown (or any case, on the list), the
 * live parts of the page are fetched again and swapped in; what the customer is
 * typing is kept (forms are not replaced). Reconnects with backoff.
 */
(function () {
  "use strict";

  var PARTS = ["#request-head", "#conversation", "#survey", "#request-list"];
  var ws = null;
  var retry = 0;
  var refreshTimer = null;
  var silenceTimer = null;

  function config() { return document.getElementById("live-config"); }

  function refresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      fetch(location.pathname + location.search, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          PARTS.forEach(function (selector) {
            var old = document.querySelector(selector);
            var update = fresh.querySelector(selector);
            if (old && update) old.replaceWith(update);
          });
          document.body.setAttribute("data-live-refreshed", String(Date.now()));
        })
        .catch(function () { /* the next event tries again */ });
    }, 200);
  }

  function onMessage(raw) {
    var message;
    try { message = JSON.parse(raw.data); } catch (e) { return; }
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () { if (ws) ws.close(); }, 40000);
    var el = config();
    if (message.type === "hello") {
      retry = 0;
      ws.send(JSON.stringify({ op: "subscribe", stream: "customer:" + el.getAttribute("data-customer") }));
      var organization = el.getAttribute("data-organization");
      if (organization) {  // colleagues' requests, when the company shares them
        ws.send(JSON.stringify({ op: "subscribe", stream: "organization:" + organization }));
      }
      document.body.setAttribute("data-live", "on");
    } else if (message.type === "ping") {
      ws.send(JSON.stringify({ op: "pong" }));
    } else if (message.type === "reload") {
      refresh();
    } else if (message.type === "event") {
      var shown = el.getAttribute("data-case");
      if (!shown || String(message.payload.case_id) === shown) refresh();
    }
  }

  function connect() {
    if (!config() || ws) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/support/ws");
    ws.onmessage = onMessage;
    ws.onclose = function () {
      ws = null;
      document.body.setAttribute("data-live", "off");
      var delay = Math.min(30000, 500 * Math.pow(2, retry++)) + Math.random() * 500;
      setTimeout(connect, delay);
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
