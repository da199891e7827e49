/* Agent console: live updates over the websocket /console/ws. Plain JavaScript, no build step.
 *
 * The page says which streams to follow in <div id="live-config" data-live-streams="case:12 …">.
 * One connection lives as long as the tab (htmx-boosted navigation keeps this script), and
 * after each page swap the subscriptions follow the new page's streams.
 *
 * Never silently stale: the last number seen per stream is kept (sessionStorage, so a reload
 * or a reconnection resumes from it and the server sends what was missed, or says "reload");
 * the server pings every 15 s and a connection silent for 40 s is dropped and reopened with
 * backoff; the header shows whether updates are live.
 */
(function () {
  "use strict";

  var SILENCE_MS = 40000;
  var ws = null;
  var retry = 0;
  var silenceTimer = null;
  var following = {};           // stream -> true, as sent to the server
  var refreshTimer = null;
  var typingSent = 0;

  function config() { return document.getElementById("live-config") || document.body; }

  function texts() {
    try { return JSON.parse(config().getAttribute("data-live-text") || "{}"); }
    catch (e) { return {}; }
  }

  function say(key, values) {
    var text = texts()[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  function wanted() {
    var list = (config().getAttribute("data-live-streams") || "").split(/\s+/);
    return list.filter(function (s) { return s; });
  }

  function lastSeen(stream) {
    var value = sessionStorage.getItem("hd-seq:" + stream);
    return value === null ? null : parseInt(value, 10);
  }

  function remember(stream, seq) {
    sessionStorage.setItem("hd-seq:" + stream, String(seq));
  }

  function status(state) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.hidden = false;
    el.className = "live-status live-" + state;
    el.textContent = state === "on" ? say("live") : say("reconnecting");
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function caseId() {
    var el = document.querySelector("[data-case]");
    return el ? parseInt(el.getAttribute("data-case"), 10) : null;
  }

  /* Follow exactly the streams the current page asks for. */
  function sync() {
    var now = {};
    wanted().forEach(function (stream) {
      now[stream] = true;
      if (!following[stream]) {
        following[stream] = true;
        send({ op: "subscribe", stream: stream, after: lastSeen(stream) });
      }
    });
    Object.keys(following).forEach(function (stream) {
      if (!now[stream]) {
        delete following[stream];
        send({ op: "unsubscribe", stream: stream });
      }
    });
    var id = caseId();
    if (id) send({ op: "presence", case_id: id, state: "viewing" });
    presence({});
  }

  /* Refresh the live parts of the page from the server, keeping what is being typed
     (the forms are not replaced). Coalesced: at most one fetch per 300 ms. */
  var PARTS = ["#case-head", "#sla-panel", "#conversation", "#queue-heading", "#queue-results",
    "#queue-nav"];
  /* A team's event changes lists and counts only: on a case page just the nav's counts. */
  var LIST_PARTS = ["#queue-heading", "#queue-results", "#queue-nav"];
  var pendingParts = {};
  function refresh(parts) {
    (parts || PARTS).forEach(function (selector) { pendingParts[selector] = true; });
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      var wantedParts = Object.keys(pendingParts);
      pendingParts = {};
      var url = location.pathname + location.search;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null || url !== location.pathname + location.search) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          wantedParts.forEach(function (selector) {
            var old = document.querySelector(selector);
            var update = fresh.querySelector(selector);
            if (!old || !update) return;
            old.replaceWith(update);
            if (window.htmx) window.htmx.process(update);
          });
          presence({});
        })
        .catch(function () { /* the next event or reconnection tries again */ });
    }, 300);
  }

  function toast(text, href) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var item = document.createElement(href ? "a" : "p");
    item.className = "toast";
    item.textContent = text;
    if (href) item.href = href;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 15000);
  }

  /* Who else is on this case. A newcomer's "viewing" is answered with ours, so both
     know; announcements are repeated every 30 s and forgotten after 70 s of silence
     (a tab closed without saying "left"); "typing" shows for 8 s. */
  var viewers = {};
  function presence(message) {
    var id = caseId();
    if (message.agent_id) {
      var known = viewers[message.agent_id];
      if (message.state === "left") delete viewers[message.agent_id];
      else viewers[message.agent_id] = { message: message, at: Date.now() };
      if (message.state === "viewing" && !known && id === message.case_id) {
        send({ op: "presence", case_id: id, state: "viewing" });
      }
    }
    var el = document.getElementById("presence");
    if (!el) { viewers = {}; return; }
    var now = Date.now();
    el.textContent = Object.keys(viewers).map(function (key) {
      var v = viewers[key];
      if (v.message.case_id !== id || now - v.at > 70000) return "";
      var typing = v.message.state === "typing" && now - v.at < 8000;
      return say(typing ? "typing" : "viewing", { name: v.message.name });
    }).filter(function (t) { return t; }).join(" · ");
  }

  setInterval(function () {
    var id = caseId();
    if (id) send({ op: "presence", case_id: id, state: "viewing" });
    presence({});
  }, 30000);

  function onEvent(message) {
    remember(message.stream, message.seq);
    var kind = message.event;
    if (kind === "case.sla_at_risk" || kind === "case.sla_breached") {
      if (message.stream.indexOf("agent:") === 0) {
        var ref = "HD-" + ("000000" + message.payload.case_id).slice(-6);
        toast(say(kind === "case.sla_breached" ? "breached" : "at_risk",
          { "case": ref, metric: say(message.payload.metric) }),
          "/console/cases/" + message.payload.case_id);
      }
    }
    if (message.stream.indexOf("team:") === 0) refresh(LIST_PARTS);
    else if (message.stream.indexOf("agent:") !== 0) refresh();
  }

  /* The streams the server confirmed, on #live-status (data-subscribed="case:12 agent:3"). */
  var confirmed = {};
  function markSubscribed(stream) {
    confirmed[stream] = true;
    var el = document.getElementById("live-status");
    if (el) el.setAttribute("data-subscribed", Object.keys(confirmed).join(" "));
  }

  function onMessage(raw) {
    var message;
    try { message = JSON.parse(raw.data); } catch (e) { return; }
    armSilence();
    document.dispatchEvent(new CustomEvent("hd:live", { detail: message }));  // notifications.js
    switch (message.type) {
      case "event": onEvent(message); break;
      case "subscribed":
        remember(message.stream, message.seq);
        markSubscribed(message.stream);
        break;
      case "reload": refresh(); if (message.stream === "*") { sessionStorage.clear(); } break;
      case "presence": presence(message); break;
      case "ping": send({ op: "pong" }); break;
      case "hello": retry = 0; status("on"); break;
      default: break;
    }
  }

  function armSilence() {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () { if (ws) ws.close(); }, SILENCE_MS);
  }

  var connecting = false;
  function connect() {
    if (!wanted().length || ws) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/console/ws");
    connecting = true;
    ws.onopen = function () {
      connecting = false;
      following = {};
      confirmed = {};
      armSilence();
      sync();
    };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      clearTimeout(silenceTimer);
      connecting = false;
      ws = null;
      status("off");
      var delay = Math.min(30000, 500 * Math.pow(2, retry++)) + Math.random() * 500;
      setTimeout(connect, delay);
    };
  }

  document.addEventListener("input", function (event) {
    if (!event.target || event.target.id !== "reply-body") return;
    var id = caseId();
    if (!id || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    send({ op: "presence", case_id: id, state: "typing" });
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!ws && !connecting) { connect(); return; }
    if (ws && ws.readyState === WebSocket.OPEN) status("on");
    Object.keys(confirmed).forEach(markSubscribed);
    sync();
  });

  window.addEventListener("pagehide", function () {
    var id = caseId();
    if (id) send({ op: "presence", case_id: id, state: "left" });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
