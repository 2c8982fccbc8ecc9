// Sell screen › Credit/Debit › Manual entry. The card fields are the processor's (PosCardEntry);
// this form only ever sends our server the payment method id, the amount and whether to save the card
// ("Save payment details for future purchases", when the page offers it). Once paid, the sell screen
// completes the sale ("Complete sale", with the receipt e-mail).
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("[data-card-payment]");
    var container = form && form.querySelector("[data-card-entry]");
    if (!form || !container || !window.PosCardEntry) return;
    var entry = window.PosCardEntry.mount(container);
    var message = form.querySelector("[data-card-message]");
    var status = form.querySelector("[data-card-status]");
    var button = form.querySelector("[data-card-submit]");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

    function show(element, text) { element.textContent = text || ""; element.hidden = !text; }
    function busy(on) {
      button.disabled = on;
      show(status, on ? form.getAttribute("data-text-processing") : "");
      if (on) show(message, "");
    }

    function post(url, fields) { return window.PosCardEntry.post(url, fields, csrf); }

    function handle(answer) {
      if (answer.status === "succeeded") { window.location.assign(answer.redirect); return; }
      if (answer.status === "requires_action") {
        show(status, answer.message);
        return entry.handleNextAction(answer.client_secret).then(function () {
          return post(answer.finish_url, {}).then(handle);
        });
      }
      busy(false);
      show(message, answer.message || form.getAttribute("data-text-error"));
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      busy(true);
      entry.createPaymentMethod().then(function (result) {
        if (!result || result.error) { busy(false); show(message, result && result.error); return; }
        var save = form.querySelector("[name=save_card]");
        return post(form.action, {
          payment_method_id: result.id,
          amount: form.querySelector("[name=amount]").value,
          save_card: save && save.checked ? "1" : ""
        }).then(handle);
      }).catch(function () { busy(false); show(message, form.getAttribute("data-text-error")); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
