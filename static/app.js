// Small behaviours every page shares: inline errors for htmx forms, copy buttons.
// Loaded as a file (no inline scripts): the Content-Security-Policy allows only ours.
(function () {
  "use strict";

  function errorSlot(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    return form ? form.querySelector("[data-errors]") : null;
  }

  // A refused htmx request keeps the form as it is and shows the server's
  // message (web/errors.py renders it) under that form.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status < 400) return;
    var slot = errorSlot(evt.detail.requestConfig && evt.detail.requestConfig.elt);
    // Outside a form (a polling status) the message takes the element's place,
    // which also ends its polling.
    evt.detail.shouldSwap = !slot;
    evt.detail.isError = false;
    if (slot) {
      slot.innerHTML = xhr.responseText;
      var focusable = slot.closest("form").querySelector("input:not([type=hidden]), select");
      if (focusable && !slot.closest("form").contains(document.activeElement)) focusable.focus();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var slot = errorSlot(evt.detail.elt);
    if (slot) slot.textContent = "";
  });

  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    input.select();
    document.execCommand("copy");
    return Promise.resolve();
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    copyText(input).then(function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () {
        button.textContent = "Copy";
        button.classList.remove("copied");
      }, 2000);
    }, function () {
      input.select();
      button.textContent = "Press Ctrl+C";
    });
  });
})();
