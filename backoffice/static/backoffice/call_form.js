/* The call form: "RDV pris" needs the meeting's date and time; ask for it in place rather than let the
 * server refuse the tap. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("lead-call")) return;
    var field = form.querySelector("input[name=meeting_at]");
    if (event.submitter && event.submitter.value === "meeting_booked" && field && !field.value) {
      event.preventDefault();
      field.closest("label").classList.add("asked");
      field.focus();
      // Required for this one question only: another outcome must still record in one tap.
      field.required = true;
      field.reportValidity();
      field.required = false;
    }
  });
})();
