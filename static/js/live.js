// The live pages: whether the page hears its session (the badge), catching up after any
// reconnection, fragments that fail to load, following the facilitator, and the pillar timer.
// Fragments themselves are swapped in by htmx from the HTML an event carries, or re-fetched
// by htmx on events that carry none. HTML sent to every page says nothing of the page's own
// question or person: the page marks it (markCurrent, markFocus, markHere, showOwnRemovals).
(function () {
  "use strict";

  // The element that holds the event stream. The page writes on it the names of the events
  // this script handles, from the server's table (data-sse-heartbeat, data-sse-resync,
  // data-sse-follow), and how often the stream sends a heartbeat (data-heartbeat-seconds).
  function streamRoot() {
    return document.querySelector("[sse-connect][data-sse-resync]");
  }

  function eventName(role) {
    const root = streamRoot();
    return root ? root.dataset["sse" + role] : undefined;
  }

  const stream = {
    source: null, // the stream's current EventSource
    hearing: false, // heard from the session within the heartbeat interval
    trouble: false, // lost the stream, or a fragment failed, at least once
    resyncWhenHeard: false, // refresh everything once the session is heard again
    lastId: "", // the last event id the stream carried
    watchdog: 0,
    failing: new Map(), // fragment id -> failed loads in a row
  };

  function setStatus(state) {
    const box = document.getElementById("live-status");
    document.body.dataset.live = state;
    if (!box) return;
    const text = { ok: "Live", lost: "Reconnecting…", connecting: "Connecting…" }[state];
    box.innerHTML = "";
    const span = document.createElement("span");
    span.className = state === "ok" ? "ok" : state === "lost" ? "lost" : "muted";
    span.textContent = (state === "ok" ? "● " : "") + text;
    box.appendChild(span);
  }

  // "Live" only while the page hears its session and shows all of it.
  function render() {
    if (stream.hearing && stream.failing.size === 0) setStatus("ok");
    else setStatus(stream.trouble ? "lost" : "connecting");
  }

  // Everything on screen re-fetches itself: after a reconnection, or when the server says
  // it cannot tell what was missed.
  function resync() {
    document.body.dispatchEvent(new CustomEvent("pw:resync", { bubbles: true }));
  }

  // Silence for longer than the heartbeat: the stream is gone, whatever the browser thinks.
  function silenceLimit() {
    const root = streamRoot();
    const seconds = Number(root && root.dataset.heartbeatSeconds) || 15;
    return (seconds * 1.5 + 2) * 1000;
  }

  function watch() {
    window.clearTimeout(stream.watchdog);
    stream.watchdog = window.setTimeout(function () {
      lost();
      reopen();
    }, silenceLimit());
  }

  function heard(message) {
    if (message && message.lastEventId) stream.lastId = message.lastEventId;
    watch();
    if (!stream.hearing) {
      stream.hearing = true;
      if (stream.resyncWhenHeard) resync();
      stream.resyncWhenHeard = false;
      render();
    }
  }

  function lost() {
    if (stream.hearing) stream.resyncWhenHeard = true;
    stream.hearing = false;
    stream.trouble = true;
    render();
  }

  // Close the stream and hand it back to htmx's SSE extension as failed: it opens another.
  function reopen() {
    const source = stream.source;
    if (!source) return;
    source.close();
    source.dispatchEvent(new Event("error"));
  }

  // Where the page stands: the stream resumes from there (the browser does the same with
  // Last-Event-ID when it reconnects by itself).
  function resumeFrom(url) {
    if (!stream.lastId) return url;
    const address = new URL(url, window.location.href);
    address.searchParams.set("last", stream.lastId);
    return address.pathname + address.search;
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

  // Wrap the SSE extension's EventSource factory to watch the connection itself.
  if (window.htmx && htmx.createEventSource) {
    const create = htmx.createEventSource;
    let first = true;
    htmx.createEventSource = function (url) {
      if (first) {
        // Rendered without knowing where the session's events stood (?last=): what happened
        // before the stream opened is unknown, so refresh once it is heard.
        stream.resyncWhenHeard = !/[?&]last=/.test(url);
        first = false;
      }
      const source = create(resumeFrom(url));
      stream.source = source;
      watch();
      source.addEventListener("error", function () {
        if (stream.source === source) lost();
      });
      const heartbeatName = eventName("Heartbeat");
      const resyncName = eventName("Resync");
      const followName = eventName("Follow");
      if (heartbeatName) source.addEventListener(heartbeatName, heard);
      if (resyncName) {
        source.addEventListener(resyncName, function (message) {
          heard(message);
          resync();
        });
      }
      if (followName) {
        source.addEventListener(followName, function (message) {
          heard(message);
          onFocus(message);
        });
      }
      return source;
    };
  }
  // Every other event a fragment listens for.
  document.addEventListener("htmx:sseMessage", function (event) {
    heard(event.detail);
  });

  // A fragment that fails to load (an error answer, or no answer) is loaded again, after 1 s
  // then 2 s; failing that the page refreshes everything, and so on while it fails. It says
  // nothing in a toast: the badge shows that the page is not up to date meanwhile.
  function isFragment(elt) {
    return Boolean(elt && elt.id && elt.matches && elt.matches("[hx-get][hx-trigger]")
      && elt.closest("[sse-connect]"));
  }

  function failedFragment(event) {
    const elt = event.detail && event.detail.elt;
    const config = event.detail && event.detail.requestConfig;
    if (!config || config.verb !== "get" || !isFragment(elt)) return null;
    return elt;
  }

  function onFragmentError(event) {
    const elt = failedFragment(event);
    if (!elt) return;
    event.detail.quiet = true; // no toast (app.js)
    const attempts = (stream.failing.get(elt.id) || 0) + 1;
    stream.failing.set(elt.id, attempts);
    stream.trouble = true;
    render();
    if (attempts % 3 === 0) {
      resync();
      return;
    }
    window.setTimeout(function () {
      const current = document.getElementById(elt.id);
      if (!current || !stream.failing.has(elt.id)) return;
      htmx.ajax("GET", current.getAttribute("hx-get"), {
        source: current, target: current, swap: "outerHTML",
      });
    }, Math.min(1000 * attempts, 10000));
  }
  document.addEventListener("htmx:responseError", onFragmentError, true);
  document.addEventListener("htmx:sendError", onFragmentError, true);
  // A fragment swapped in (its old element is gone, so listen for the new one).
  document.addEventListener("htmx:load", function (event) {
    const elt = event.detail && event.detail.elt;
    if (elt && elt.id && stream.failing.delete(elt.id)) render();
    if (elt && elt.id === "nav-body") markCurrent(elt);
    if (elt && elt.id === "focus-status") markFocus(elt);
    if (elt && elt.id === "people") markHere(elt);
    if (elt && elt.id === "parking-list") showOwnRemovals(elt);
    // A question swapped in (following the facilitator) brings the badge as first drawn.
    if (elt && elt.querySelector && elt.querySelector("#live-status")) render();
  });

  function pageQuestion() {
    const live = document.getElementById("live");
    return (live && live.dataset.question) || "";
  }

  // Where the facilitator is arrives with a change of focus, the same for every page: say
  // "this question" on the page of the focus, and set the facilitator's two buttons.
  function markFocus(status) {
    const question = pageQuestion();
    const focus = status.dataset.focus || "";
    const link = status.querySelector("a[data-question]");
    if (link && question && link.dataset.question === question) {
      const strong = document.createElement("strong");
      strong.textContent = "this question";
      link.replaceWith(strong);
    }
    const box = document.getElementById("facilitator");
    if (box) box.dataset.focus = focus;
    const here = document.querySelector("#facilitator [data-focus-here]");
    if (here) here.disabled = !!question && focus === question;
    const stop = document.querySelector("#facilitator [data-focus-stop]");
    if (stop) stop.hidden = !focus;
  }

  // Who is here arrives the same for every page: say "on this question" for those on it.
  function markHere(list) {
    const question = pageQuestion();
    if (!question) return;
    list.querySelectorAll("[data-question]").forEach(function (where) {
      if (where.dataset.question !== question) return;
      const here = document.createTextNode("on this question");
      where.replaceWith(here);
    });
  }

  // The parking lot arrives with the remove buttons of every item hidden, for those who may
  // remove their own items only: show theirs.
  function showOwnRemovals(list) {
    const live = document.getElementById("live");
    const me = live && live.dataset.me;
    if (!me) return;
    list.querySelectorAll("form[data-owner]").forEach(function (form) {
      if (form.dataset.owner === me) form.hidden = false;
    });
  }

  // Only the newest state of a fragment is swapped in, and no request is aborted (htmx logs
  // an abort as an error). A fragment re-fetches with hx-sync="this:queue last": asked again
  // while a re-fetch is in flight, it waits for that one and then fetches. An answer is not
  // swapped in when a newer re-fetch was asked for since it left, nor when HTML that came
  // with an event (newer than the answer) was swapped in meanwhile.
  const newest = new Map(); // fragment id -> number of the newest re-fetch asked or HTML swapped
  let asked = 0;
  document.addEventListener("htmx:confirm", function (event) {
    const elt = event.detail && event.detail.elt;
    if (isFragment(elt) && event.detail.verb === "get") newest.set(elt.id, ++asked);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail && event.detail.elt;
    if (isFragment(elt) && event.detail.xhr) event.detail.xhr.pwAsked = newest.get(elt.id) || 0;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    const elt = event.detail && event.detail.elt;
    const xhr = event.detail && event.detail.xhr;
    // (The fragment may have left the page meanwhile: HTML from an event replaced it.)
    if (!elt || !elt.id || !xhr || xhr.pwAsked === undefined) return;
    if (xhr.pwAsked < (newest.get(elt.id) || 0)) event.detail.shouldSwap = false;
  });
  // A change marked data-refresh-late="choices" (a box ticked): its own event brings the
  // fragment's HTML to every page, this one included, so the page does not re-fetch it at
  // once (that answer would be dropped as older anyway). It re-fetches it only if no HTML
  // for it came within LATE_REFRESH_MS of the change, and at once when the change was
  // refused or the page does not hear its session.
  const LATE_REFRESH_MS = 3000;
  function lateNames(source) {
    const marked = source && source.closest && source.closest("[data-refresh-late]");
    return marked ? marked.dataset.refreshLate.split(/\s+/).filter(Boolean) : [];
  }
  function refreshNow(name) {
    document.body.dispatchEvent(new CustomEvent("pw:refresh-" + name, { bubbles: true }));
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    const names = lateNames(event.detail && event.detail.elt);
    if (!names.length || !event.detail.xhr) return;
    const marks = {};
    names.forEach(function (name) { marks[name] = newest.get(name) || 0; });
    event.detail.xhr.pwLate = marks;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const xhr = event.detail && event.detail.xhr;
    const marks = xhr && xhr.pwLate;
    if (!marks) return;
    const refused = xhr.status >= 400 && xhr.status < 500;
    if (!event.detail.successful && !refused) return;
    const hearing = document.body.dataset.live === "ok";
    Object.keys(marks).forEach(function (name) {
      if (refused || !hearing) {
        refreshNow(name);
        return;
      }
      window.setTimeout(function () {
        if ((newest.get(name) || 0) === marks[name]) refreshNow(name);
      }, LATE_REFRESH_MS);
    });
  });

  // HTML that comes with an event while the pointer is pressed inside the element it
  // replaces waits until the pointer is released: replaced between the press and the
  // release, the box under the pointer would be gone and the click with it (a choice ticked
  // at the moment another person's change arrives would not count). Only the newest HTML
  // waits, and none once a re-fetch of its fragment was asked since (its answer is newer).
  let pressed = null; // what the pointer is pressed on
  const held = new Map(); // id of the element to replace -> { message, fragment, mark }
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    const fragment = event.target && event.target.closest && event.target.closest("[hx-get]");
    if (fragment && fragment.id) newest.set(fragment.id, ++asked);
    if (!pressed || !event.target.id || !event.target.contains(pressed)) return;
    event.preventDefault(); // htmx does not swap it in now
    heard(event.detail);
    const id = fragment && fragment.id;
    held.set(event.target.id, { message: event.detail, fragment: id, mark: newest.get(id) });
  });
  function release() {
    pressed = null;
    const source = stream.source;
    held.forEach(function (waiting) {
      if (!source || newest.get(waiting.fragment) !== waiting.mark) return;
      // Heard again, as from the stream: the element swaps it in now.
      source.dispatchEvent(new MessageEvent(waiting.message.type, {
        data: waiting.message.data, lastEventId: waiting.message.lastEventId,
      }));
    });
    held.clear();
  }
  document.addEventListener("pointerdown", function (event) {
    pressed = event.target;
  }, true);
  // Released after the click that follows (dispatched in the same turn).
  ["pointerup", "pointercancel", "dragend"].forEach(function (name) {
    document.addEventListener(name, function () {
      window.setTimeout(release, 0);
    }, true);
  });

  // The outline arrives with a change, the same for every page: mark this page's question.
  function markCurrent(nav) {
    const live = document.getElementById("live");
    const question = live && live.dataset.question;
    nav.querySelectorAll("a[aria-current]").forEach(function (link) {
      link.removeAttribute("aria-current");
    });
    if (!question) return;
    nav.querySelectorAll("a[href]").forEach(function (link) {
      if (link.getAttribute("href").endsWith("/questions/" + question + "/")) {
        link.setAttribute("aria-current", "true");
      }
    });
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
