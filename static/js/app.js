// Small progressive enhancements for the back-office. No inline scripts anywhere (CSP):
// behaviour hangs off data- attributes.
(function () {
  "use strict";

  // <select data-autosubmit>: submit its form when the choice changes.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // <input type="checkbox" data-blocks-submit>: while it is ticked its form cannot be submitted (the server
  // renders the button disabled to start with and refuses the submission anyway).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[data-blocks-submit]") && target.form) {
      target.form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = target.checked;
      });
    }
  });

  // <form data-confirm="Are you sure?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Close an open <details class="dropdown"> when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.removeAttribute("open");
    });
  });
})();
