// Progressive enhancement only: every page works without this file.

// "Show password" buttons (NIST 800-63B-4 §3.1.1.2 asks for the option).
// The label says what pressing does next ("Hide password" while shown), so
// everyone can tell the state; no aria-pressed, which would contradict it.
document.querySelectorAll("button[data-reveal]").forEach(function (b) {
  var input = document.getElementById(b.dataset.reveal);
  if (!input) return;
  b.hidden = false;
  b.addEventListener("click", function () {
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    b.textContent = show ? b.dataset.hide : b.dataset.show;
  });
});

// A refused form's summary is focused (autofocus does it too; this covers
// browsers that ignore autofocus on a non-control), so a screen reader reads
// the problems first and Tab continues to their links.
var summary = document.getElementById("error-summary");
if (summary && document.activeElement !== summary) summary.focus();
