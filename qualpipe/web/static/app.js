// qualpipe web app: keyboard shortcuts on the review page. Kept in a file (never inline) so the
// Content-Security-Policy can say script-src 'self'.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var review = document.getElementById("review-item");
    if (!review) return;
    var key = event.key.toLowerCase();
    var control = review.querySelector('[data-key="' + (/^[0-9yns]$/.test(key) ? key : "none") + '"]');
    if (control) {
      event.preventDefault();
      control.click();
    }
  });
})();
