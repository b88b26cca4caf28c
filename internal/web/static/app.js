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

// "Copy" buttons: data-copy names the element whose text is copied (a list
// one item a line), or data-copy-text carries the exact text; data-status
// names the live region that says it was done. Without this script the
// buttons stay hidden and the text is there to select by hand.
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  return new Promise(function (resolve, reject) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    if (ok) { resolve(); } else { reject(new Error("copy refused")); }
  });
}

document.querySelectorAll("button[data-copy]").forEach(function (b) {
  var target = document.getElementById(b.dataset.copy);
  if (!target) return;
  var status = document.getElementById(b.dataset.status || "");
  var say = function (key) {
    if (!status) return;
    status.textContent = "";
    // A fresh text node after a pause, so that a second press is announced too.
    setTimeout(function () { status.textContent = status.dataset[key] || ""; }, 50);
  };
  b.hidden = false;
  b.addEventListener("click", function () {
    var items = target.querySelectorAll("li");
    var text = b.dataset.copyText || (items.length
      ? Array.prototype.map.call(items, function (li) { return li.textContent.trim(); }).join("\n")
      : target.textContent.trim());
    copyText(text).then(function () {
      say("done");
    }, function () {
      // Select the text instead, for the device's own copy command.
      var range = document.createRange();
      range.selectNodeContents(target);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      say("failed");
    });
  });
});

// "Print" buttons; the print stylesheet decides what is printed.
document.querySelectorAll("button[data-print]").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () { window.print(); });
});
