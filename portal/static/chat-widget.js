/* Helpdesk live chat widget: one script tag on any site, no build step.

   <script src="https://helpdesk.example/static/portal/chat-widget.js"
           data-helpdesk="https://helpdesk.example" data-team="1" async></script>

   Optional data-lang="vi|en" (else the page's <html lang>). Talks to /chat/ws
   (see portal/chat.py); every text comes from the server's "hello". Lives in a
   shadow root, so the page's styles and ours never mix. The visitor token is
   kept in localStorage, so a reload returns to the same chat. Each operation
   that creates something (start, request, say) carries a random id and is kept
   until answered: after a reconnection it is sent again, and the server answers
   a repeat with the first answer instead of creating it twice. The chat the
   server describes carries what the visitor typed and the chat's own token and
   number only; a transcript asked for before the typed address is confirmed
   answers "verification_sent" (a confirmation link was mailed) instead. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = (script.getAttribute("data-helpdesk") || new URL(script.src).origin).replace(/\/+$/, "");
  var team = script.getAttribute("data-team") || null;
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  var storeKey = "helpdesk-chat:" + base + ":" + (team || "any");

  var CSS = [
    ":host{all:initial}",
    ".hd{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2937}",
    ".btn{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;",
    "padding:12px 18px;background:#0b5cad;color:#fff;font:inherit;font-weight:600;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);",
    "height:460px;max-height:calc(100vh - 100px);background:#fff;border-radius:12px;display:flex;",
    "flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{background:#0b5cad;color:#fff;padding:10px 14px;display:flex;justify-content:space-between;align-items:center}",
    "header button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".body{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px}",
    "form{display:flex;flex-direction:column;gap:8px}",
    "input,textarea{font:inherit;padding:8px;border:1px solid #cbd5e1;border-radius:6px}",
    "textarea{resize:vertical;min-height:60px}",
    "form button,.foot button{font:inherit;padding:8px 12px;border:0;border-radius:6px;background:#0b5cad;color:#fff;cursor:pointer}",
    ".line{max-width:80%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".line small{display:block;font-size:11px;opacity:.7}",
    ".customer{align-self:flex-end;background:#dbeafe}",
    ".agent{align-self:flex-start;background:#f1f5f9}",
    ".note{color:#475569;font-size:13px}",
    ".error{color:#b91c1c;font-size:13px}",
    ".typing{min-height:18px;padding:0 12px;color:#64748b;font-size:12px}",
    ".foot{display:flex;gap:6px;padding:8px;border-top:1px solid #e2e8f0}",
    ".foot input{flex:1}",
    ".link{border:0;background:none!important;color:#0b5cad!important;padding:0 12px 8px!important;text-align:left;font-size:12px!important}",
    // A phone (.phone, see fitPanel): the open chat fills the screen and follows
    // the visual viewport, so the input stays above the on-screen keyboard.
    ".phone .panel{top:0;left:0;right:auto;bottom:auto;width:100vw;max-width:none;height:100vh;height:100dvh;",
    "max-height:none;border-radius:0}",
    ".phone header{padding:4px 4px 4px 14px}.phone header button{min-width:44px;min-height:44px;font-size:26px}",
    ".phone input,.phone textarea{font-size:16px}",
    ".phone .foot input,.phone .foot button,.phone form button,.phone .link{min-height:44px}",
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-helpdesk-chat", "");
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS;
  root.appendChild(style);
  var box = el("div", "hd");
  root.appendChild(box);

  var texts = {}, available = false, chat = null, socket = null, seen = {};
  var retry = 0, pinger = null, typingSent = 0, typingTimer = null, stopped = false, mail = null;
  var pending = {}; // operation id -> frame, until the server answers it

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function say(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  var button = el("button", "btn");
  button.type = "button";
  button.hidden = true;
  var panel = el("div", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  var header = el("header");
  var title = el("strong");
  var close = el("button", null, "×");
  close.type = "button";
  header.appendChild(title);
  header.appendChild(close);
  var body = el("div", "body");
  body.setAttribute("aria-live", "polite");
  var typing = el("div", "typing");
  var foot = el("div", "foot");
  panel.appendChild(header);
  panel.appendChild(body);
  panel.appendChild(typing);
  panel.appendChild(foot);
  box.appendChild(panel);
  box.appendChild(button);
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 480px)") : null;
  // A phone: a narrow page, or a narrow screen (a page without a viewport tag is
  // laid out wider than the phone). The open panel then covers what is visible
  // (the visual viewport: what the on-screen keyboard leaves) and the launcher
  // hides behind it. A desktop keeps the floating card.
  function isPhone() {
    return !!(narrow && narrow.matches) || (window.screen && screen.width > 0 && screen.width <= 480);
  }
  function fitPanel() {
    var phone = isPhone(), full = phone && !panel.hidden, view = window.visualViewport;
    box.classList.toggle("phone", phone);
    // A page zoomed out (no viewport tag) would shrink the panel: zoom it back
    // to the phone's own size (lengths below are then multiplied by the zoom).
    var scale = full && view && view.scale > 0 && view.scale < 1 ? view.scale : 1;
    panel.style.zoom = scale < 1 ? String(1 / scale) : "";
    ["top", "left", "width", "height"].forEach(function (side) {
      var value = { top: "offsetTop", left: "offsetLeft", width: "width", height: "height" }[side];
      panel.style[side] = full && view ? view[value] * scale + "px" : "";
    });
    button.style.display = full ? "none" : "";
  }
  function toggle(open) {
    panel.hidden = !open;
    fitPanel();
    if (open && isPhone()) close.focus();
    if (!open) button.focus();
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitPanel);
    window.visualViewport.addEventListener("scroll", fitPanel);
  }
  if (narrow && narrow.addEventListener) narrow.addEventListener("change", fitPanel);
  button.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });

  function send(message) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  }
  function sendOp(message, id) {
    message.id = id || newId();
    pending[message.id] = message;
    send(message);
  }
  function resendPending() {
    Object.keys(pending).forEach(function (id) {
      var frame = pending[id];
      if ((frame.op === "say") === !!chat) send(frame);
      else delete pending[id];
    });
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/chat/ws";
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 0;
      send({ op: "hello", token: localStorage.getItem(storeKey), team: team ? Number(team) : null, lang: lang });
      clearInterval(pinger);
      pinger = setInterval(function () { send({ op: "ping" }); }, 25000);
    };
    socket.onmessage = function (event) { receive(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      clearInterval(pinger);
      if (stopped || event.code === 4403) return;
      if (chat) typing.textContent = say("disconnected");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  function receive(message) {
    if (message.id && message.type !== "error") delete pending[message.id];
    switch (message.type) {
      case "hello":
        texts = message.texts;
        available = message.available;
        button.textContent = say("button");
        title.textContent = say("title");
        close.setAttribute("aria-label", say("close"));
        button.hidden = false;
        typing.textContent = "";
        if (message.chat) showChat(message.chat);
        else if (!chat) showForm();
        else { localStorage.removeItem(storeKey); showEnded(); }
        resendPending();
        break;
      case "started":
        localStorage.setItem(storeKey, message.chat.token);
        showChat(message.chat);
        break;
      case "line": addLine(message.line); break;
      case "typing":
        clearTimeout(typingTimer);
        typing.textContent = message.state === "typing" ? say("typing", { name: message.name }) : "";
        typingTimer = setTimeout(function () { typing.textContent = ""; }, 8000);
        break;
      case "status":
        if (message.ended) { localStorage.removeItem(storeKey); showEnded(); }
        break;
      case "transcript_queued": note(say("transcript_queued")); break;
      case "verification_sent": note(say("verification_sent")); break;
      case "request_received":
        clear();
        body.appendChild(el("p", "note", say("request_received", { reference: message.reference })));
        break;
      case "reload": if (socket) socket.close(); break;
      case "error":
        if (message.id && message.code === "idempotency_key_in_use" && pending[message.id]) {
          setTimeout(function () { if (pending[message.id]) send(pending[message.id]); }, 2000);
          break;
        }
        if (message.id) delete pending[message.id];
        if (message.code === "chat_ended") { localStorage.removeItem(storeKey); showEnded(); break; }
        var key = { rate_limited: "rate_limited", validation_error: "invalid", no_mailbox: "no_mailbox" }[message.code];
        note(say(key || "error"), "error");
        break;
    }
  }

  function clear() {
    body.textContent = "";
    foot.textContent = "";
    seen = {};
    if (mail) { mail.remove(); mail = null; }
  }
  function note(text, cls) {
    body.appendChild(el("p", cls || "note", text));
    body.scrollTop = body.scrollHeight;
  }

  function field(form, name, kind, label) {
    var input = el(kind === "textarea" ? "textarea" : "input");
    if (kind !== "textarea") input.type = kind;
    input.name = name;
    input.required = true;
    input.placeholder = label;
    input.setAttribute("aria-label", label);
    form.appendChild(input);
    return input;
  }

  function showForm() {
    chat = null;
    clear();
    body.appendChild(el("p", "note", say(available ? "intro" : "offline_intro")));
    var form = el("form");
    form.setAttribute("data-mode", available ? "chat" : "request");
    var name = field(form, "name", "text", say("name"));
    var email = field(form, "email", "email", say("email"));
    var text = field(form, "message", "textarea", say("message"));
    var formId = newId(); // one per form shown: a double click sends one request
    var submit = el("button", null, say(available ? "start" : "send_request"));
    submit.type = "submit";
    form.appendChild(submit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendOp({ op: available ? "start" : "request", name: name.value, email: email.value, message: text.value }, formId);
    });
    body.appendChild(form);
  }

  function showChat(session) {
    chat = session;
    clear();
    body.appendChild(el("p", "note", say("reference", { reference: session.reference })));
    session.lines.forEach(addLine);
    var input = el("input");
    input.type = "text";
    input.name = "text";
    input.placeholder = say("placeholder");
    input.setAttribute("aria-label", say("placeholder"));
    var go = el("button", null, say("send"));
    go.type = "button";
    function submit() {
      var value = input.value.trim();
      if (!value) return;
      sendOp({ op: "say", text: value });
      input.value = "";
      typingSent = 0;
    }
    go.addEventListener("click", submit);
    input.addEventListener("keydown", function (event) { if (event.key === "Enter") submit(); });
    input.addEventListener("input", function () {
      if (Date.now() - typingSent < 3000) return;
      typingSent = Date.now();
      send({ op: "typing", state: "typing" });
    });
    foot.appendChild(input);
    foot.appendChild(go);
    mail = el("button", "link", say("email_transcript"));
    mail.type = "button";
    mail.setAttribute("data-action", "transcript");
    mail.addEventListener("click", function () { send({ op: "transcript" }); });
    panel.appendChild(mail);
  }

  function showEnded() {
    chat = null;
    clear();
    typing.textContent = "";
    body.appendChild(el("p", "note", say("ended")));
    var again = el("button", null, say("new_chat"));
    again.type = "button";
    again.addEventListener("click", showForm);
    foot.appendChild(again);
  }

  function addLine(line) {
    if (seen[line.id]) return;
    seen[line.id] = true;
    if (line.who === "agent") typing.textContent = "";
    var item = el("div", "line " + line.who, line.text);
    item.setAttribute("data-line", String(line.id));
    item.insertBefore(el("small", null, line.who === "customer" ? say("you") : line.name), item.firstChild);
    body.appendChild(item);
    body.scrollTop = body.scrollHeight;
  }

  function start() {
    (document.body || document.documentElement).appendChild(host);
    connect();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
