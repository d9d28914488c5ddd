// Pillarwise: the few behaviours htmx does not cover.
(function () {
  "use strict";
  // Buttons and links with data-confirm ask before they act.
  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
