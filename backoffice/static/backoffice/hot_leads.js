/* Hot leads: poll the JSON view and update each lead's info block in place. A lead's call form is
 * never replaced, so a note being typed survives every refresh. */
(function () {
  "use strict";
  var container = document.getElementById("leads");
  if (!container) return;
  var url = container.dataset.url;
  var every = (parseInt(container.dataset.poll, 10) || 15) * 1000;
  var template = document.getElementById("call-form-template");
  var stamp = document.getElementById("refreshed");

  function newSection(lead) {
    var section = document.createElement("section");
    section.className = "lead fresh";
    section.dataset.id = lead.id;
    var info = document.createElement("div");
    info.className = "lead-info";
    section.appendChild(info);
    if (template) {
      var form = template.content.firstElementChild.cloneNode(true);
      // getAttribute: inside a <template> the resolved `action` property is empty.
      form.setAttribute("action", form.getAttribute("action").replace(/\/0\/call\/$/, "/" + lead.id + "/call/"));
      section.appendChild(form);
    }
    return section;
  }

  function apply(data) {
    var empty = container.querySelector(".empty");
    if (empty && data.leads.length) empty.remove();
    var previous = null;
    data.leads.forEach(function (lead) {
      var section = container.querySelector('section.lead[data-id="' + lead.id + '"]');
      if (!section) section = newSection(lead);
      if (section.dataset.version !== lead.version) {
        section.querySelector(".lead-info").innerHTML = lead.html;
        section.dataset.version = lead.version;
        ["to_call", "meeting", "to_review", "done", "do_not_contact"].forEach(function (state) {
          section.classList.toggle("lead-" + state, state === lead.state);
        });
      }
      var waited = section.querySelector(".waited");
      if (waited && lead.waited !== undefined) waited.textContent = lead.waited;
      // Keep the server's order (newest signal first) without touching focused elements' content.
      var expected = previous ? previous.nextElementSibling : container.firstElementChild;
      if (expected !== section && !section.contains(document.activeElement)) {
        container.insertBefore(section, expected);
      } else if (!section.parentNode) {
        container.appendChild(section);
      }
      previous = section;
    });
    if (stamp) stamp.textContent = "· " + stamp.dataset.label + " " + new Date().toLocaleTimeString();
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) apply(data); })
      .catch(function () {})
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
  window.arkwatchHotLeads = { refresh: function () { return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(apply); } };
})();
