// The analysis page live: a finding's card arrives with each change, rendered once for
// everyone (static/js/live.js keeps the stream). What is this person's own stays as it was
// on their page: their ratings ("Your rating"), the folds they opened and an acceptance they
// are writing; the same when their own change comes back. Only elements marked data-keep are
// kept, by their id.
(function () {
  "use strict";

  let kept = null; // id -> the state of each kept element of the card being replaced

  function state(elt) {
    return elt.tagName === "DETAILS" ? { open: elt.open } : { value: elt.value };
  }

  function restore(elt, saved) {
    if ("open" in saved) elt.open = saved.open;
    else if (elt.value !== saved.value) elt.value = saved.value;
  }

  function keep(card) {
    if (!card || !card.matches || !card.matches("article.finding")) return;
    kept = new Map();
    card.querySelectorAll("[data-keep][id]").forEach(function (elt) {
      kept.set(elt.id, state(elt));
    });
  }

  // A card from an event, or the person's own change coming back: the folds they opened
  // stay open, and what they typed stays.
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    keep(event.target);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    keep(event.detail && event.detail.target);
  });

  document.addEventListener("htmx:load", function (event) {
    const card = event.detail && event.detail.elt;
    if (!kept || !card || !card.matches || !card.matches("article.finding")) return;
    card.querySelectorAll("[data-keep][id]").forEach(function (elt) {
      const saved = kept.get(elt.id);
      if (saved) restore(elt, saved);
    });
    kept = null;
  });
})();
