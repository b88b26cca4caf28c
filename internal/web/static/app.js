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

// "This wasn't me" signs every session out. On a narrow screen, where a
// thumb may land on it by mistake, the first press says what it will do
// and asks for a second; without this script (or on a wide screen) one
// press answers, and the page already says what the answer does.
document.querySelectorAll("button[data-confirm]").forEach(function (b) {
  var armed = false;
  b.addEventListener("click", function (e) {
    if (armed || !window.matchMedia("(max-width: 40em)").matches) return;
    e.preventDefault();
    armed = true;
    b.textContent = b.dataset.confirm;
    // Said again in a status line, which a screen reader announces.
    var say = document.createElement("p");
    say.setAttribute("role", "status");
    say.className = "visually-hidden";
    b.form.appendChild(say);
    setTimeout(function () { say.textContent = b.dataset.confirm; }, 50);
  });
});
