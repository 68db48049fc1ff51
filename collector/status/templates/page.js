// Times in the reader's time zone: the server writes UTC into every
// <time datetime>, whose title keeps it for hovering.
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.dateTime);
    if (isNaN(d)) return;
    var s = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    if (t.hasAttribute("data-date")) s = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + s;
    t.textContent = s;
  });
  var tz = document.getElementById("tz");
  if (tz) tz.textContent = "times in your time zone (" + Intl.DateTimeFormat().resolvedOptions().timeZone + "); hover one for UTC";

  // The filter applies as you choose, without a round trip, and the
  // address keeps it (for a link on a pager, and for the reload).
  var form = document.getElementById("filters");
  if (!form) return;
  var rows = document.querySelectorAll("tr[data-target]");
  var shown = document.getElementById("shown");
  function apply() {
    var q = new URLSearchParams(location.search), want = {}, n = 0;
    form.querySelectorAll("select").forEach(function (s) {
      q.delete(s.name);
      if (s.value) { want[s.name] = s.value; q.set(s.name, s.value); }
    });
    rows.forEach(function (r) {
      var ok = Object.keys(want).every(function (k) { return r.getAttribute("data-" + k) === want[k]; });
      r.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n < rows.length ? "Showing " + n + " of " + rows.length + " targets." : "";
    var qs = q.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
    document.querySelectorAll("a[data-refresh]").forEach(function (a) {
      var l = new URLSearchParams(q);
      l.delete("refresh");
      if (a.getAttribute("data-refresh")) l.set("refresh", a.getAttribute("data-refresh"));
      a.href = "?" + l.toString();
    });
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
})();
