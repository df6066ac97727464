/* Service KB search box: results as you type in Material's header search, keyboard habits of
 * Material (/ or s to focus, arrows, Enter, Escape), ?q= links, and window.kbSearch(query).
 * However the search is opened (a click or tap on any label for it, Enter or Space on one, a
 * shortcut, a ?q= link), the cursor is put in its field; shortcuts never take a key typed in a
 * text field.
 * Procedure text only ever reaches the page through textContent, never as HTML. */
(function () {
  "use strict";

  var container = document.querySelector("[data-kb-search]");
  var rootUrl = new URL(container ? container.getAttribute("data-kb-root") || "./" : "./", location.href);
  var baseUrl = new URL(container ? container.getAttribute("data-kb-base") || "kb-search/" : "kb-search/", location.href);
  var engine = new window.KbEngine.Engine(baseUrl.href);
  var LIMIT = 10;

  function publicResult(result) {
    return {
      path: result.path, url: new URL(result.url, rootUrl).href, title: result.title, tags: result.tags,
      summary: result.summary, score: result.score, matched: result.matched
    };
  }

  /* The JavaScript API: a Promise of ranked results [{path, url, title, tags, summary, score, matched}]. */
  window.kbSearch = function (query, limit) {
    return engine.search(String(query == null ? "" : query), limit || LIMIT).then(function (response) {
      return response.results.map(publicResult);
    });
  };

  if (!container) return;
  var input = container.querySelector("[data-kb-query]");
  var list = container.querySelector("[data-kb-results]");
  var meta = container.querySelector("[data-kb-meta]");
  var form = container.querySelector("[data-kb-form]");
  var toggle = document.getElementById("__search");
  var scrollwrap = list.closest(".md-search__scrollwrap");
  var sequence = 0, selected = -1, items = [];
  var IDLE_META = meta.textContent;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function setOpen(open) {
    if (toggle && toggle.checked !== open) {
      toggle.checked = open;
      toggle.dispatchEvent(new Event("change"));
    }
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function focusSearch() {
    setOpen(true);
    input.focus();
    input.select();
  }

  function select(index, scroll) {
    if (!items.length) { selected = -1; return; }
    selected = (index + items.length) % items.length;
    items.forEach(function (item, i) {
      item.setAttribute("aria-selected", i === selected ? "true" : "false");
      item.classList.toggle("kb-result--selected", i === selected);
    });
    if (scroll !== false) items[selected].scrollIntoView({ block: "nearest" });
  }

  function renderResult(result, index) {
    var item = element("li", "md-search-result__item kb-result");
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.id = "kb-result-" + index;
    var link = element("a", "md-search-result__link");
    link.href = result.url;
    link.tabIndex = -1;
    var article = element("article", "md-search-result__article md-typeset kb-result__article");
    article.appendChild(element("h1", "kb-result__title", result.title));
    if (result.tags && result.tags.length) {
      var tags = element("div", "kb-result__tags");
      result.tags.forEach(function (tag) { tags.appendChild(element("span", "kb-chip", tag)); });
      article.appendChild(tags);
    }
    if (result.summary) article.appendChild(element("p", "kb-result__summary", result.summary));
    if (result.matched && result.matched.length) {
      var where = element("p", "kb-result__where");
      where.appendChild(element("span", "kb-result__where-label", "Matched: "));
      result.matched.forEach(function (place, i) {
        var alternate = place.indexOf("alternate method: ") === 0;
        if (i) where.appendChild(document.createTextNode(" · "));
        where.appendChild(element("span", alternate ? "kb-result__alternate" : null, alternate ? "Alternate method: " + place.slice(18) : place));
      });
      article.appendChild(where);
    }
    link.appendChild(article);
    item.appendChild(link);
    item.addEventListener("mousemove", function () { if (selected !== index) select(index); });
    return item;
  }

  // A new list of results, the first selected. The list scrolls back to its top before it changes
  // (reading the scroll position after would force a layout on every keystroke).
  function render(response) {
    if (scrollwrap && scrollwrap.scrollTop) scrollwrap.scrollTop = 0;
    list.textContent = "";
    items = [];
    selected = -1;
    if (!response.results.length) {
      meta.textContent = "No results";
      if (response.didYouMean) {
        meta.appendChild(document.createTextNode(". Did you mean "));
        var suggestion = element("a", "kb-did-you-mean", response.didYouMean);
        suggestion.href = "?q=" + encodeURIComponent(response.didYouMean);
        suggestion.addEventListener("click", function (event) {
          event.preventDefault();
          input.value = response.didYouMean;
          run();
        });
        meta.appendChild(suggestion);
        meta.appendChild(document.createTextNode("?"));
      }
      if (window.KbMarks) meta.appendChild(window.KbMarks.nextSteps(container, rootUrl, input.value.trim()));
      return;
    }
    var corrected = Object.keys(response.corrections || {}).map(function (w) { return w + " → " + response.corrections[w]; });
    meta.textContent = response.total === 1 ? "1 matching procedure" :
      (response.total > LIMIT ? "Top " + Math.min(LIMIT, response.total) + " of " + response.total : response.total) + " matching procedures";
    if (corrected.length) meta.textContent += " (also searched for " + corrected.join(", ") + ")";
    extend(response);
    select(0, false);
  }

  // Adds the results of `response` that the list does not show yet (it shows a prefix of them).
  function extend(response) {
    response.results.slice(items.length).map(publicResult).forEach(function (result) {
      var item = renderResult(result, items.length);
      items.push(item);
      list.appendChild(item);
    });
  }

  // The query goes into the address (?q=) once results are shown and typing pauses, not at every
  // keystroke: history.replaceState is not free (Chromium fetches the favicon again each time).
  // Leaving the page (pagehide) writes a pending query at once, so Back returns to it.
  var REMEMBER_DELAY_MS = 500, rememberPending = null, rememberTimer = 0;

  function remember(query) {
    clearTimeout(rememberTimer);
    rememberPending = query;
    rememberTimer = setTimeout(rememberNow, REMEMBER_DELAY_MS);
  }

  function rememberNow() {
    clearTimeout(rememberTimer);
    if (rememberPending === null) return;
    var url = new URL(location.href);
    if (rememberPending) url.searchParams.set("q", rememberPending); else url.searchParams.delete("q");
    rememberPending = null;
    if (url.href !== location.href) history.replaceState(history.state, "", url.href);
  }

  function run() {
    var query = input.value;
    var mine = ++sequence;
    if (!query.trim()) {
      list.textContent = "";
      items = [];
      selected = -1;
      meta.textContent = IDLE_META;
      sendReport(null);
      remember("");
      return Promise.resolve();
    }
    var started = false;
    var show = function (response) {
      if (mine !== sequence) return;
      if (started) extend(response); else render(response);
      started = true;
    };
    return engine.search(query, LIMIT, show).then(function (response) {
      show(response);
      if (mine === sequence) noteSearch(query, response);
    }).catch(function (error) {
      if (mine !== sequence) return;
      meta.textContent = "Search is not available: " + error.message;
    }).then(function () {
      if (mine === sequence) remember(query.trim());
    });
  }

  // Whether a key pressed on `target` is text being typed (or a choice in a list), which no
  // shortcut may take: any input, textarea, select or editable content.
  function isTyping(target) {
    return !!target && (target.isContentEditable || /^(input|textarea|select)$/i.test(target.tagName));
  }

  // The element a key event is really for, inside a shadow root too.
  function keyTarget(event) {
    return event.composedPath ? event.composedPath()[0] : event.target;
  }

  // The search opens through the toggle (Material's #__search checkbox) from the header's
  // magnifier, the home page's search box or any other label for it: whoever opens it, the cursor
  // goes to the field, so what the rep types next lands there. Closing it takes the cursor out.
  if (toggle) {
    toggle.addEventListener("change", function () {
      if (toggle.checked && document.activeElement !== input) focusSearch();
      else if (!toggle.checked && document.activeElement === input) input.blur();
    });
  }

  // Tabbing out of the search closes it: the next control is not left under its overlay.
  container.addEventListener("focusout", function (event) {
    if (event.relatedTarget && !container.contains(event.relatedTarget)) setOpen(false);
  });

  // The labels that open the search are controls: reachable with Tab, opened by Enter or Space.
  Array.prototype.forEach.call(document.querySelectorAll("label[for='__search']"), function (opener) {
    if (container.contains(opener)) return;
    if (!opener.hasAttribute("tabindex")) opener.tabIndex = 0;
    opener.setAttribute("role", "button");
    if (!opener.textContent.trim() && !opener.hasAttribute("aria-label")) opener.setAttribute("aria-label", "Search");
    opener.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      focusSearch();
    });
  });

  input.addEventListener("input", run);
  window.addEventListener("pagehide", rememberNow);
  input.addEventListener("focus", function () {
    setOpen(true);
    engine.load().catch(function () { /* reported when a search runs */ });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (items.length) items[Math.max(selected, 0)].querySelector("a").click();
  });
  form.addEventListener("reset", function () { setTimeout(run, 0); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target === input) {
      if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
      else if (event.key === "Enter") {
        event.preventDefault();
        if (items.length) items[Math.max(selected, 0)].querySelector("a").click();
      } else if (event.key === "Escape") {
        event.preventDefault();
        setOpen(false);
        input.blur();
      }
      return;
    }
    if (event.isComposing || isTyping(keyTarget(event))) return;
    if (toggle && toggle.checked) {
      // The search is open but the cursor is elsewhere (the rep clicked its list or margin): a
      // character goes into the field, where the rep means it to go, not to a shortcut.
      if (event.key.length === 1) input.focus();
      return;
    }
    if (event.key === "/" || event.key === "s" || event.key === "S") {
      event.preventDefault();
      focusSearch();
    }
  }, true);

  // Search insights (the kb plugin's insights_url): each finished search is reported once with
  // navigator.sendBeacon, which the page never waits for; when the collector is down nothing else
  // changes. A search is finished when a result of it is opened, when the search is cleared or
  // closed, when the page is left, or when the rep starts another search (typing on, or deleting
  // back, refines the same one). Sent: the query, the number of results, the first result's path
  // and the opened result's path (or null); nothing about the rep.
  var insightsAttribute = container.getAttribute("data-kb-insights");
  var insightsUrl = insightsAttribute ? new URL(insightsAttribute, rootUrl) : null;
  var pendingReport = null, pendingPaths = [];

  function noteSearch(query, response) {
    if (!insightsUrl) return;
    var text = query.trim().replace(/\s+/g, " "), previous = pendingReport && pendingReport.query.toLowerCase();
    var lower = text.toLowerCase();
    if (previous && previous.indexOf(lower) !== 0 && lower.indexOf(previous) !== 0) sendReport(null);
    pendingPaths = response.results.map(function (result) { return result.path; });
    pendingReport = { query: text, results: response.total, first: pendingPaths[0] || null, opened: null };
  }

  function sendReport(opened) {
    if (!pendingReport) return;
    var report = pendingReport;
    pendingReport = null;
    report.opened = opened || null;
    try {
      var json = JSON.stringify(report);
      // A text body needs no CORS preflight, for a collector on another host.
      navigator.sendBeacon(insightsUrl.href, insightsUrl.origin === location.origin ? new Blob([json], { type: "application/json" }) : json);
    } catch (error) { /* reporting never gets in the way of searching */ }
  }

  if (insightsUrl) {
    var reportOpened = function (event) {
      var item = event.target.closest && event.target.closest("li");
      var index = items.indexOf(item);
      if (index >= 0 && event.target.closest("a")) sendReport(pendingPaths[index]);
    };
    list.addEventListener("click", reportOpened);
    list.addEventListener("auxclick", reportOpened);
    if (toggle) toggle.addEventListener("change", function () { if (!toggle.checked) sendReport(null); });
    window.addEventListener("pagehide", function () { sendReport(null); });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") sendReport(null); });
  }

  // Shareable links: ?q=... opens the search with that query.
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) {
    input.value = initial;
    focusSearch();
    run();
  }
})();
