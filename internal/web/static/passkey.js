// Passkeys: the browser half of a WebAuthn ceremony. The server put the
// options of the ceremony it began in the form (a <script type=
// "application/json" class="passkey-options">); this asks the browser for a
// passkey with them, puts the answer in the form's hidden "credential"
// field and submits the form, which the server checks. No inline script:
// the CSP is script-src 'self'.
//
//   <form data-passkey="create|get|conditional" data-passkey-error="…">
//     <script type="application/json" class="passkey-options">…</script>
//     <input type="hidden" name="credential">
//     <button type="button" class="passkey-start">…</button>
//     <p class="passkey-status" role="status"></p>
//     <p data-passkey-unsupported hidden>…</p>
//   </form>
(function () {
  "use strict";

  // base64url (no padding) <-> ArrayBuffer: WebAuthn's binary fields
  // travel as base64url in JSON.
  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }
  function toBase64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withIDs(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: toBuffer(d.id) }); });
  }

  // The options as the browser's API wants them. The browser's own parser
  // (WebAuthn Level 3) is preferred; older browsers get the same by hand.
  function creationOptions(pk) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      try { return PublicKeyCredential.parseCreationOptionsFromJSON(pk); } catch (e) { /* by hand below */ }
    }
    return Object.assign({}, pk, {
      challenge: toBuffer(pk.challenge),
      user: Object.assign({}, pk.user, { id: toBuffer(pk.user.id) }),
      excludeCredentials: withIDs(pk.excludeCredentials)
    });
  }
  function requestOptions(pk) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      try { return PublicKeyCredential.parseRequestOptionsFromJSON(pk); } catch (e) { /* by hand below */ }
    }
    return Object.assign({}, pk, { challenge: toBuffer(pk.challenge), allowCredentials: withIDs(pk.allowCredentials) });
  }

  // The answer as JSON, in the shape of PublicKeyCredential.toJSON().
  function serialise(cred) {
    if (typeof cred.toJSON === "function") {
      try { return JSON.stringify(cred.toJSON()); } catch (e) { /* by hand below */ }
    }
    var r = cred.response, out = {
      id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (r.attestationObject) { // a registration
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else { // an assertion
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) out.response.userHandle = toBase64url(r.userHandle);
    }
    return JSON.stringify(out);
  }

  // The server's options: {"publicKey": {…}}, as the Begin call made them.
  // A form with data-passkey-options (the sign-in page) asks the server for
  // a new ceremony each time instead, so that a page view writes nothing:
  // the answer names the ceremony, which goes in the form's "pk" field.
  // A template that wrote the options as a string, not as JSON, is
  // tolerated.
  function publicKeyOf(form) {
    var url = form.dataset.passkeyOptions;
    if (!url) {
      var o = JSON.parse(form.querySelector("script.passkey-options").textContent);
      if (typeof o === "string") o = JSON.parse(o);
      return Promise.resolve(o.publicKey);
    }
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: "{}"
    }).then(function (res) {
      if (!res.ok) throw new Error("options: " + res.status);
      return res.json();
    }).then(function (j) {
      form.querySelector('input[name="pk"]').value = j.ceremony;
      return j.options.publicKey;
    });
  }

  // submit fills the hidden field and sends the form. The prototype's
  // submit is called because a control named "submit" would shadow
  // form.submit.
  function submit(form, cred) {
    form.querySelector('input[name="credential"]').value = serialise(cred);
    HTMLFormElement.prototype.submit.call(form);
  }

  // ask runs one ceremony; create is true for a registration.
  function ask(form, create, extra) {
    return publicKeyOf(form).then(function (pk) {
      var opts = Object.assign({ publicKey: create ? creationOptions(pk) : requestOptions(pk) }, extra);
      return create ? navigator.credentials.create(opts) : navigator.credentials.get(opts);
    });
  }

  function setup(form) {
    var kind = form.dataset.passkey, button = form.querySelector(".passkey-start");
    var status = form.querySelector(".passkey-status");
    if (!window.PublicKeyCredential) {
      if (button) button.hidden = true;
      var note = form.querySelector("[data-passkey-unsupported]");
      if (note) note.hidden = false;
      return;
    }
    var conditional = null; // the AbortController of a pending autofill request

    if (button) button.addEventListener("click", function () {
      if (conditional) conditional.abort(); // one request at a time
      button.disabled = true;
      if (status) status.textContent = "";
      ask(form, kind === "create").then(function (cred) {
        if (!cred) throw new Error("no credential");
        submit(form, cred);
      }).catch(function (err) {
        // Cancelled, timed out, refused (NotAllowedError), or no passkey:
        // say so, and let the holder try again. Nothing is submitted. A
        // registration refused because this authenticator already holds
        // one of the account's passkeys (InvalidStateError) says that
        // instead: trying again cannot help.
        var text = form.dataset.passkeyError || "";
        if (err && err.name === "InvalidStateError" && form.dataset.passkeyExists) text = form.dataset.passkeyExists;
        if (status) status.textContent = text;
        button.disabled = false;
      });
    });

    // Autofill: on the sign-in page the browser offers passkeys in the
    // address field's suggestions (autocomplete="username webauthn").
    if (kind === "conditional" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) return;
        conditional = new AbortController();
        return ask(form, false, { mediation: "conditional", signal: conditional.signal }).then(function (cred) {
          if (cred) submit(form, cred);
        });
      }).catch(function () {
        // Aborted for the button, or dismissed: the holder did not ask for
        // this, so nothing is shown.
      });
    }
  }

  function start() {
    document.querySelectorAll("form[data-passkey]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
