// Sekisho's passkey buttons (served as /static/webauthn.js; the pages carry no inline
// script).  A button with data-webauthn="create" or "get" asks the browser for a new
// credential or an assertion with what its data-* attributes say, puts the answer in its
// form's inputs as base64url without padding, and submits the form.  Errors go to the
// page's [data-webauthn-error] element.
(function () {
  'use strict';

  function b64u(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function unb64u(s) {
    var bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function list(s) {
    return (s || '').split(',').filter(function (x) { return x !== ''; }).map(function (id) {
      return { type: 'public-key', id: unb64u(id) };
    });
  }

  function showError(err) {
    var el = document.querySelector('[data-webauthn-error]');
    var unsupported = err && err.message === 'unsupported';
    var msg = el && el.getAttribute(unsupported ? 'data-msg-unsupported' : 'data-msg-failed');
    if (!el) return;
    el.textContent = (msg || 'The passkey operation failed.') +
      (err && err.name && !unsupported ? ' (' + err.name + ')' : '');
    el.hidden = false;
  }

  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (!input) {
        input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        form.appendChild(input);
      }
      input.value = values[name];
    });
    form.submit();
  }

  function create(b) {
    var d = b.dataset;
    return navigator.credentials.create({ publicKey: {
      challenge: unb64u(d.challenge),
      rp: { id: d.rp, name: d.rpName || d.rp },
      user: { id: unb64u(d.userId), name: d.userName, displayName: d.userDisplay || d.userName },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 },
        { type: 'public-key', alg: -8 }],
      excludeCredentials: list(d.exclude),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true,
        userVerification: 'required' },
      attestation: 'none',
      timeout: 120000,
    } }).then(function (cred) {
      return { credential_id: b64u(cred.rawId),
        client_data: b64u(cred.response.clientDataJSON),
        attestation_object: b64u(cred.response.attestationObject) };
    });
  }

  function get(b) {
    var d = b.dataset;
    return navigator.credentials.get({ publicKey: {
      challenge: unb64u(d.challenge),
      rpId: d.rp,
      allowCredentials: list(d.allow),
      userVerification: d.uv === 'required' ? 'required' : 'preferred',
      timeout: 120000,
    } }).then(function (cred) {
      var r = cred.response;
      return { credential_id: b64u(cred.rawId), client_data: b64u(r.clientDataJSON),
        authenticator_data: b64u(r.authenticatorData), signature: b64u(r.signature),
        user_handle: r.userHandle ? b64u(r.userHandle) : '' };
    });
  }

  function run(b) {
    var form = document.getElementById(b.dataset.form);
    if (!window.PublicKeyCredential || !navigator.credentials || !form)
      return showError(new Error('unsupported'));
    var err = document.querySelector('[data-webauthn-error]');
    if (err) err.hidden = true;
    b.disabled = true;
    (b.dataset.webauthn === 'create' ? create(b) : get(b)).then(function (values) {
      fill(form, values);
    }, function (e) {
      b.disabled = false;
      showError(e);
    });
  }

  function init() {
    var buttons = document.querySelectorAll('button[data-webauthn]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function (ev) {
        ev.preventDefault();
        run(ev.currentTarget);
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
