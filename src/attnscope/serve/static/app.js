// attnscope serve: say "Working…" on the button of a submitted form (reports with figures take a few seconds).
document.addEventListener("submit", function (e) {
  var b = e.target.querySelector("button[type=submit], button:not([type])");
  if (b) { b.disabled = true; b.textContent = "Working…"; }
});
window.addEventListener("pageshow", function () {  // back/forward cache: re-enable
  document.querySelectorAll("button[disabled]").forEach(function (b) { b.disabled = false; });
});
