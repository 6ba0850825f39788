// Filters: a scenario is shown when it matches the chosen feature, tag and status.
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var scenarios = Array.prototype.slice.call(document.querySelectorAll("details.scenario"));
  var feature = byId("f-feature"), tag = byId("f-tag"), status = byId("f-status"), shown = byId("shown");
  function apply() {
    var n = 0;
    scenarios.forEach(function (el) {
      var ok = (!feature.value || el.dataset.feature === feature.value) &&
        (!tag.value || el.dataset.tags.indexOf(" " + tag.value + " ") >= 0) &&
        (!status.value || el.dataset.status === status.value);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + scenarios.length + " scenarios shown";
  }
  [feature, tag, status].forEach(function (s) { s.addEventListener("change", apply); });
  apply();
})();
