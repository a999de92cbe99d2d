// Live progress of a batch export job: polls the job's progress URL and reloads the page when the
// job ends (so the download button or the final failure list appear).
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box || box.getAttribute("data-finished") === "true") { return; }
  var bar = box.querySelector(".progress-bar");

  function set(field, value) {
    var element = box.querySelector('[data-field="' + field + '"]');
    if (element) { element.textContent = value === null || value === undefined ? "—" : value; }
  }

  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (p) {
        bar.style.width = p.percent + "%";
        bar.textContent = p.percent + "%";
        set("processed", p.processed);
        set("done", p.done);
        set("failed", p.failed);
        set("rate", p.rate);
        set("eta", p.eta);
        set("elapsed", p.elapsed);
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
