"""The web kit: what every face of the helpdesk (the agent console, the
customer portal, any later one) shares, written once.

* :mod:`helpdesk.web.sessions` — the signed session cookie, CSRF tokens,
  signing in and out (sessions are revocable: :mod:`helpdesk.services.web_sessions`);
* :mod:`helpdesk.web.guards` — the sign-in and CSRF guards;
* :mod:`helpdesk.web.errors` — the one table of error codes and the pages' error handlers;
* :mod:`helpdesk.web.headers` — security headers on every response;
* :mod:`helpdesk.web.downloads` — safe file downloads;
* :mod:`helpdesk.web.face` — a face as configuration: :func:`~helpdesk.web.face.face_router`;
* :mod:`helpdesk.web.sockets` — the one websocket loop (heartbeats, error
  frames, re-authorisation when access changes).

This is the web layer: domain code never imports it (``tests/unit/test_layers.py``).
"""
