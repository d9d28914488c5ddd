// The live questionnaire: connection status, catch-up after a reconnection, following the
// facilitator, and the pillar timer. Fragments themselves are re-fetched by htmx on events.
(function () {
  "use strict";

  let openedBefore = false;

  function setStatus(state) {
    const box = document.getElementById("live-status");
    if (!box) return;
    const text = { ok: "Live", lost: "Reconnecting…", connecting: "Connecting…" }[state];
    box.innerHTML = "";
    const span = document.createElement("span");
    span.className = state === "ok" ? "ok" : state === "lost" ? "lost" : "muted";
    span.textContent = (state === "ok" ? "● " : "") + text;
    box.appendChild(span);
    document.body.dataset.live = state;
  }

  // Everything on screen re-fetches itself: after a reconnection, or when the server says
  // it cannot tell what was missed.
  function resync() {
    document.body.dispatchEvent(new CustomEvent("pw:resync", { bubbles: true }));
  }

  function notesDirty() {
    const editor = document.querySelector("form#notes textarea");
    return editor && editor.value !== editor.defaultValue;
  }

  function following() {
    const toggle = document.getElementById("follow-toggle");
    return toggle ? toggle.checked : false;
  }

  function goTo(url) {
    htmx.ajax("GET", url, { target: "#live", select: "#live", swap: "outerHTML" }).then(function () {
      history.pushState({}, "", url);
    });
  }

  function onFocus(message) {
    let data = {};
    try { data = JSON.parse(message.data || "{}"); } catch (e) { return; }
    const live = document.getElementById("live");
    if (!live || live.dataset.facilitator === "1" || !data.url || !following()) return;
    if (data.question === live.dataset.question) return;
    if (notesDirty()) {
      showNotice("The facilitator moved to another question. Save or cancel your notes, then follow.", data.url);
      return;
    }
    goTo(data.url);
  }

  function showNotice(text, url) {
    let notice = document.getElementById("follow-notice");
    if (!notice) {
      notice = document.createElement("div");
      notice.id = "follow-notice";
      notice.className = "messages";
      notice.setAttribute("role", "status");
      const root = document.getElementById("live-root");
      root.parentNode.insertBefore(notice, root);
    }
    notice.innerHTML = "";
    const item = document.createElement("p");
    item.className = "info";
    item.textContent = text + " ";
    const link = document.createElement("a");
    link.href = url;
    link.textContent = "Go there";
    item.appendChild(link);
    notice.appendChild(item);
  }

  // The names of the events this script handles, as the page writes them from the server's
  // table of events (data-sse-resync, data-sse-follow on #live-root).
  function eventName(role) {
    const root = document.getElementById("live-root");
    return root ? root.dataset["sse" + role] : undefined;
  }

  // Wrap the SSE extension's EventSource factory to watch the connection itself.
  if (window.htmx && htmx.createEventSource) {
    const create = htmx.createEventSource;
    htmx.createEventSource = function (url) {
      const source = create(url);
      setStatus("connecting");
      source.addEventListener("open", function () {
        setStatus("ok");
        if (openedBefore) resync();
        openedBefore = true;
      });
      source.addEventListener("error", function () { setStatus("lost"); });
      const resyncName = eventName("Resync"), followName = eventName("Follow");
      if (resyncName) source.addEventListener(resyncName, resync);
      if (followName) source.addEventListener(followName, onFocus);
      return source;
    };
  }

  // Back and forward buttons after following or clicking through questions.
  window.addEventListener("popstate", function () {
    if (document.getElementById("live")) window.location.reload();
  });

  // The pillar timer ticks locally between events, from the server's figures.
  function tick() {
    document.querySelectorAll("[data-timer]").forEach(function (el) {
      if (!el.dataset.offset) {
        el.dataset.offset = String(Date.now() / 1000 - Number(el.dataset.now || Date.now() / 1000));
      }
      const spent = Number(el.dataset.spent || 0);
      const since = el.dataset.since ? Number(el.dataset.since) : null;
      const now = Date.now() / 1000 - Number(el.dataset.offset);
      const total = Math.max(0, Math.floor(spent + (since ? now - since : 0)));
      const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
      el.textContent = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
      const budget = Number(el.dataset.budget || 0) * 60;
      const over = budget > 0 && total > budget;
      el.classList.toggle("over", over);
      const box = el.closest(".timer-box");
      const warning = box && box.querySelector(".over-warning");
      if (warning) warning.hidden = !over;
    });
  }
  window.setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
