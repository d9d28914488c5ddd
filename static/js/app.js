// Pillarwise: the few behaviours htmx does not cover.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // On a phone the main navigation folds behind a Menu button.
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest(".menu-toggle");
    if (!toggle) return;
    const bar = toggle.closest(".topbar");
    const open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // The live page's outline is folded on a phone and open on a wider screen.
  function unfoldOutline() {
    const outline = document.querySelector("details.live-outline");
    if (outline && window.matchMedia("(min-width: 761px)").matches) outline.open = true;
  }
  document.addEventListener("DOMContentLoaded", unfoldOutline);
  document.addEventListener("htmx:afterSettle", unfoldOutline);

  // Buttons and links with data-confirm ask before they act.
  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // A checkbox marked data-checked-as="name" sends name=1 when it is checked and name=0 when
  // it is not (a choice toggle says which way it goes), without htmx's eval-based js: values.
  document.addEventListener("htmx:configRequest", function (event) {
    const source = event.detail.elt;
    const name = source && source.dataset && source.dataset.checkedAs;
    if (name && source.type === "checkbox") {
      event.detail.parameters[name] = source.checked ? "1" : "0";
    }
  });

  // After an htmx request from an element (or form) marked data-refresh="a b" succeeds, or
  // is refused (the page may show what was refused: a box ticked), tell the fragments named
  // there to re-fetch themselves ("pw:refresh-a" on <body>); after a success, clear forms
  // marked data-reset.
  document.addEventListener("htmx:afterRequest", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const refused = status >= 400 && status < 500;
    if (!event.detail.successful && !refused) return;
    const source = event.detail.elt;
    const marked = source && (source.closest("[data-refresh]") || null);
    if (marked) {
      marked.dataset.refresh.split(/\s+/).filter(Boolean).forEach(function (name) {
        document.body.dispatchEvent(new CustomEvent("pw:refresh-" + name, { bubbles: true }));
      });
    }
    const form = source && source.closest("form[data-reset]");
    if (form && event.detail.successful) form.reset();
  });

  // A form marked data-show-errors shows a 400 answer in place (its target), as a plain form
  // would show the page with the errors, instead of a toast.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 400 && source && source.closest("[data-show-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // When the server refuses an htmx request, say why (the response text), in a toast;
  // not for what is retried without the person's doing (marked quiet, as live.js does).
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.quiet) return;
    const xhr = event.detail.xhr;
    const type = xhr.getResponseHeader("Content-Type") || "";
    let text = "That did not work (" + xhr.status + "). Reload the page and try again.";
    if (type.startsWith("text/plain") && xhr.responseText && xhr.responseText.length < 400) {
      text = xhr.responseText;
    } else if (xhr.status === 403) {
      text = "You cannot do that here.";
    }
    toast(text);
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.quiet) return;
    toast("The server could not be reached. Check your connection; nothing was saved.");
  });

  function toast(text) {
    let box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    const item = document.createElement("p");
    item.textContent = text;
    box.appendChild(item);
    window.setTimeout(function () { item.remove(); }, 6000);
  }
})();
