/* Service KB page marks: what the rep's browser adds to the built pages.
 * - "Report a problem": on a site built without site_url, the page's address in the prefilled
 *   report is its path; it becomes the address the rep has open.
 * Nothing here sends anything anywhere; it only rewrites links and marks of this page. */
(function () {
  "use strict";

  var here = location.origin + location.pathname;
  Array.prototype.forEach.call(document.querySelectorAll("a[data-kb-report][data-kb-page]"), function (link) {
    var token = link.getAttribute("data-kb-page");
    if (!token || location.protocol === "file:") return;
    link.setAttribute("href", link.getAttribute("href").split(token).join(encodeURIComponent(here)));
  });
})();
