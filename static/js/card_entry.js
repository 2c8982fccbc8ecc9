// PosCardEntry: the one interface pages use to take a card in the browser, whatever the processor.
// Card numbers and CVCs go from the processor's own fields straight to the processor; a page only ever
// gets a payment method id. Drivers register themselves: card_sandbox.js ("sandbox", the offline
// stand-in) and card_stripe.js ("stripe", Stripe Elements). Load this file first, then the driver.
//
//   <div data-card-entry data-driver="sandbox" data-tokenize-url="…" …></div>   (from browser_config())
//   var entry = PosCardEntry.mount(container);
//   entry.createPaymentMethod()           -> Promise<{id, card} | {error: message}>
//   entry.handleNextAction(clientSecret)  -> Promise<{status} | {error: message, status}>
//   entry.confirmSetup(clientSecret)      -> Promise<{status: "succeeded", id, paymentMethodId} | {error: message}>
//
// The promises always resolve; `error` is a message for the person at the screen, in their language.
// Drivers read their settings from the container's data- attributes (container.dataset: driver,
// tokenizeUrl, publishableKey, …). A page adds data-postcode="required" when the card fields must ask
// for the billing postcode too (the customer's own card-entry page); the processor keeps it with the
// card (Stripe: billing_details.address.postal_code), we never receive it.
(function () {
  "use strict";

  var drivers = {};

  window.PosCardEntry = {
    // factory(container, settings) -> {createPaymentMethod, handleNextAction, confirmSetup}
    register: function (name, factory) {
      drivers[name] = factory;
    },

    mount: function (container) {
      if (container.posCardEntry) return container.posCardEntry;
      var name = container.getAttribute("data-driver");
      var factory = drivers[name];
      if (!factory) throw new Error("PosCardEntry: no card-entry driver named " + JSON.stringify(name));
      var settings = {};
      Object.keys(container.dataset).forEach(function (key) { settings[key] = container.dataset[key]; });
      container.posCardEntry = factory(container, settings);
      return container.posCardEntry;
    },

    // What the pages using the card entry send our own server (a payment method id, a consent, never
    // card data): a form POST with the CSRF token, answered in JSON.
    post: function (url, fields, csrfToken) {
      var body = new FormData();
      Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
      return fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" }
      }).then(function (response) { return response.json(); });
    },

    // "pi_…_secret_…" -> "pi_…": the intent a client secret belongs to (Stripe's format).
    intentId: function (clientSecret) {
      var at = String(clientSecret || "").indexOf("_secret_");
      return at > 0 ? clientSecret.slice(0, at) : "";
    }
  };
})();
