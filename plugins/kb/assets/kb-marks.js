/* Service KB page marks: what the rep's browser adds to the built pages.
 * - "Report a problem": on a site built without site_url, the page's address in the prefilled
 *   report is its path; it becomes the address the rep has open.
 * - "Updated": a procedure (card, list entry or page) changed since the rep's last visit. A
 *   visit ends after VISIT_GAP_MS without a page of the site; its time is kept in this browser's
 *   localStorage only, and the mark compares it with the data-kb-changed time of the build.
 * - When a search finds nothing: the tag browser, and "Ask for a procedure", the same prefilled
 *   issue (or e-mail) as "Report a problem", carrying the search text (window.KbMarks.nextSteps).
 * Nothing here sends anything anywhere; it only adds or rewrites links and marks of this page. */
(function () {
  "use strict";

  var here = location.origin + location.pathname;
  Array.prototype.forEach.call(document.querySelectorAll("a[data-kb-report][data-kb-page]"), function (link) {
    var token = link.getAttribute("data-kb-page");
    if (!token || location.protocol === "file:") return;
    link.setAttribute("href", link.getAttribute("href").split(token).join(encodeURIComponent(here)));
  });

  var VISIT_GAP_MS = 30 * 60 * 1000, LAST_SEEN = "kb-last-seen", PREVIOUS_VISIT = "kb-previous-visit";

  /* The time (ms) the previous visit ended, or null on a first visit or without localStorage. */
  function previousVisit(now) {
    try {
      var seen = Number(localStorage.getItem(LAST_SEEN)) || 0;
      if (seen && now - seen > VISIT_GAP_MS) localStorage.setItem(PREVIOUS_VISIT, String(seen));
      localStorage.setItem(LAST_SEEN, String(now));
      return Number(localStorage.getItem(PREVIOUS_VISIT)) || null;
    } catch (error) {
      return null;
    }
  }

  function markUpdated(previous) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-kb-changed]"), function (element) {
      var changed = Date.parse(element.getAttribute("data-kb-changed"));
      if (!(changed > previous)) return;
      var mark = document.createElement("span");
      mark.className = "kb-updated";
      mark.textContent = "Updated";
      mark.title = "Changed since your last visit";
      var facts = element.querySelector(".kb-meta__facts");
      var title = element.querySelector(".kb-card__title, .kb-recent__title");
      if (facts) facts.insertBefore(mark, facts.firstChild);
      else if (title) title.parentNode.insertBefore(mark, title.nextSibling);
    });
  }

  var previous = previousVisit(Date.now());
  if (previous !== null) markUpdated(previous);

  /* The address of a request for a procedure about `query`: a new issue in the site's tracker
   * (data-kb-ask-issues, with its title and text fields), else an e-mail (data-kb-ask-mailto),
   * else null. */
  function askLink(container, query) {
    var title = "Procedure needed: " + query;
    var body = "Searched for: " + query + "\nFound: nothing\n\n" +
      "What was the customer's situation, and what did you need to know? (in your own words)\n\n";
    var issues = container.getAttribute("data-kb-ask-issues");
    if (issues) {
      return issues + "?" + encodeURIComponent(container.getAttribute("data-kb-ask-title-field") || "title") + "=" +
        encodeURIComponent(title) + "&" + encodeURIComponent(container.getAttribute("data-kb-ask-body-field") || "body") + "=" +
        encodeURIComponent(body);
    }
    var mail = container.getAttribute("data-kb-ask-mailto");
    if (mail) return "mailto:" + mail + "?subject=" + encodeURIComponent(title) + "&body=" + encodeURIComponent(body);
    return null;
  }

  function link(className, href, text) {
    var a = document.createElement("a");
    a.className = className;
    a.href = href;
    a.textContent = text;
    return a;
  }

  /* What to do next when a search found nothing: browse the tags, or ask for the procedure. */
  function nextSteps(container, rootUrl, query) {
    var block = document.createElement("span");
    block.className = "kb-next-steps";
    block.appendChild(link("kb-next-steps__tags", new URL("tags/", rootUrl).href, "Browse all tags"));
    var ask = askLink(container, query);
    if (ask) {
      var request = link("kb-next-steps__ask", ask, "Ask for a procedure");
      request.target = "_blank";
      request.rel = "noopener";
      request.title = "Opens a prefilled request to the editors with your search";
      block.appendChild(request);
    }
    return block;
  }

  window.KbMarks = { nextSteps: nextSteps };
})();
