// The "sandbox" card-entry driver (see card_entry.js): the offline processor's stand-in for Stripe
// Elements. It loads the sandbox's card fields (inputs without a name, so no form submit can send them
// to our server) and posts what is typed only to the sandbox tokenizer, which answers a payment method
// id. When the bank asks the cardholder to confirm (test card 4000 0025 0000 3155) it shows the
// sandbox's confirm step and posts the answer to the sandbox confirm endpoint.
(function () {
  "use strict";

  if (!window.PosCardEntry) return;

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { error: {} }; });
    });
  }

  window.PosCardEntry.register("sandbox", function (container, settings) {
    var form = null;
    var fallback = "";
    var outer = container.closest("[data-text-error]");
    if (outer) fallback = outer.getAttribute("data-text-error");

    var ready = fetch(settings.formUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("sandbox card form: " + response.status);
        return response.text();
      })
      .then(function (html) {
        container.innerHTML = html;
        form = container.querySelector("[data-sandbox-card-form]");
        fallback = form.getAttribute("data-text-error") || fallback;
        // data-postcode="required" on the container: the card form asks for the billing postcode too.
        if (settings.postcode === "required") form.querySelector("[data-sandbox-postal-code]").hidden = false;
      });

    function failed() {
      return { error: fallback || "The card form could not be loaded." };
    }

    function messageOf(answer) {
      return (answer && answer.error && answer.error.message) || failed().error;
    }

    function field(name) {
      return form.querySelector('[data-sandbox-card="' + name + '"]');
    }

    function intentUrl(template, clientSecret) {
      return template.replace("{id}", encodeURIComponent(window.PosCardEntry.intentId(clientSecret)));
    }

    // The bank's question, answered in the page: resolves "approve" or "refuse".
    function askBank(kind) {
      var panel = form.querySelector("[data-sandbox-confirm]");
      var question = panel.querySelector("[data-sandbox-confirm-question]");
      question.textContent = question.getAttribute(kind === "setup" ? "data-text-setup" : "data-text-payment");
      panel.hidden = false;
      return new Promise(function (resolve) {
        function answered(event) {
          var button = event.target.closest("[data-sandbox-confirm-answer]");
          if (!button) return;
          panel.removeEventListener("click", answered);
          panel.hidden = true;
          resolve(button.getAttribute("data-sandbox-confirm-answer"));
        }
        panel.addEventListener("click", answered);
        panel.querySelector('[data-sandbox-confirm-answer="approve"]').focus();
      });
    }

    function createPaymentMethod() {
      return ready.then(function () {
        var card = { number: field("number").value, expiry: field("expiry").value, cvc: field("cvc").value };
        if (settings.postcode === "required") card.postal_code = field("postal_code").value;
        return post(settings.tokenizeUrl, card);
      }).then(function (answer) {
        if (answer && answer.id) return { id: answer.id, card: answer.card };
        var param = answer && answer.error && answer.error.param;
        if (param && field(param)) field(param).focus();
        return { error: messageOf(answer) };
      }, failed);
    }

    function handleNextAction(clientSecret) {
      return ready.then(function () {
        return askBank("payment");
      }).then(function (outcome) {
        return post(intentUrl(settings.confirmUrlTemplate, clientSecret), { client_secret: clientSecret, outcome: outcome });
      }).then(function (answer) {
        if (answer.error || !answer.status) return { error: messageOf(answer), status: answer.status };
        return { status: answer.status };
      }, failed);
    }

    function confirmSetup(clientSecret) {
      var url = intentUrl(settings.setupConfirmUrlTemplate, clientSecret);
      return createPaymentMethod().then(function (created) {
        if (created.error) return created;
        return post(url, { client_secret: clientSecret, payment_method: created.id }).then(function (answer) {
          if (answer.status !== "requires_action" || answer.error) return answer;
          return askBank("setup").then(function (outcome) {
            return post(url, { client_secret: clientSecret, outcome: outcome });
          });
        }).then(function (answer) {
          if (answer.error || answer.status !== "succeeded") return { error: messageOf(answer), status: answer.status };
          return { status: answer.status, id: answer.id, paymentMethodId: answer.payment_method };
        });
      }).catch(failed);
    }

    return { createPaymentMethod: createPaymentMethod, handleNextAction: handleNextAction, confirmSetup: confirmSetup };
  });
})();
