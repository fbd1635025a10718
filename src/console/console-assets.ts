/**
 * The console's only script and stylesheet, served from /console/static/ (same origin, so the CSP needs
 * no inline script or style). Kept as strings so they ship inside the compiled build with no copy step.
 */
export const CONSOLE_JS = `"use strict";
(function () {
  // Countdown texts change every second; they alone never make a live region re-render.
  function stable(text) { return text.replace(/(<time[^>]*>)[^<]*(<[/]time>)/g, "$1$2"); }
  function format(seconds) {
    if (seconds <= 0) return "passed";
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h > 0 ? h + "h " + m + "m" : m > 0 ? m + "m " + s + "s" : s + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.round((Number(el.getAttribute("data-countdown")) - now) / 1000);
      var text = format(left);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  // A live region: re-rendered by the server every data-refresh-ms until it reports data-final.
  function live(el) {
    var url = el.getAttribute("data-live-url");
    var every = Number(el.getAttribute("data-refresh-ms")) || 3000;
    var busy = false;
    el.setAttribute("data-last", stable(el.innerHTML));
    function refresh() {
      if (busy || document.hidden || el.querySelector("[data-final]")) return;
      busy = true;
      fetch(url, { headers: { accept: "text/html" }, credentials: "same-origin" })
        .then(function (res) {
          if (res.status === 401) { window.location.reload(); return null; }
          return res.ok ? res.text() : null;
        })
        .then(function (text) {
          if (text !== null && stable(text) !== el.getAttribute("data-last")) {
            var focused = document.activeElement && el.contains(document.activeElement);
            if (!focused) { el.innerHTML = text; el.setAttribute("data-last", stable(text)); tick(); }
          }
        })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    setInterval(refresh, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    document.querySelectorAll("[data-live-url]").forEach(live);
  });
})();
`;

export const CONSOLE_CSS = `:root{--fg:#161616;--bg:#fff;--muted:#4a4a4a;--line:#c6c6c6;--accent:#0b4f9c;--bad:#a1001b;--ok:#1b5e20}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,textarea:focus,main:focus{outline:3px solid #f5a623;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.3rem .6rem;z-index:2}
header{background:#10243f;color:#fff;padding:.4rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff}.brand{margin:0;font-weight:700}
nav{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;flex:1}nav ul{display:flex;flex-wrap:wrap;gap:.9rem;list-style:none;margin:0;padding:0}
nav a[aria-current]{font-weight:700;text-decoration:underline 3px}.signout{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{padding:1rem 1.25rem;max-width:80rem}h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}code{font-size:.9em;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.8rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.7rem}.card .n{font-size:1.8rem;font-weight:700;display:block}
label{font-weight:600;display:block;margin:.4rem 0 .15rem}input,select,textarea,button{font:inherit;padding:.35rem .5rem}
textarea{width:100%;max-width:36rem}button{cursor:pointer;border:1px solid #333;border-radius:4px;background:#f3f3f3;color:#111}
button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}button.danger{background:var(--bad);color:#fff;border-color:var(--bad)}
.filters{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-end}.inline{display:inline}
.alert{border-left:5px solid var(--bad);background:#fdecee;padding:.6rem .8rem}.note{border-left:5px solid var(--ok);background:#edf7ee;padding:.6rem .8rem}
.muted{color:var(--muted)}.tree{list-style:none;padding-left:1.2rem;border-left:2px solid var(--line)}.tree>li{margin:.3rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .9rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.approval{border:1px solid var(--line);border-radius:6px;padding:.7rem 1rem;margin:.8rem 0}
@media print{header,nav,form,button,.skip{display:none!important}body{font-size:11pt}main{max-width:none;padding:0}a{color:inherit;text-decoration:none}table{page-break-inside:auto}tr{page-break-inside:avoid}}
`;
