// Progressive enhancement only: every page works without this file.
// "Show password" buttons (NIST 800-63B-4 §3.1.1.2 asks for the option).
document.querySelectorAll("button[data-reveal]").forEach(function (b) {
  var input = document.getElementById(b.dataset.reveal);
  if (!input) return;
  b.hidden = false;
  b.setAttribute("aria-pressed", "false");
  b.addEventListener("click", function () {
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    b.setAttribute("aria-pressed", String(show));
  });
});
