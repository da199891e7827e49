/* Dates on the portal follow the reader's own time zone: tell the server once (a cookie).
   Without it (no JavaScript, first visit) the helpdesk's time zone is used. */
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("helpdesk_tz=" + encodeURIComponent(zone)) < 0) {
      document.cookie = "helpdesk_tz=" + encodeURIComponent(zone) +
        "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser */ }
})();
