// A stand-in for Stripe.js (https://js.stripe.com/v3/) in tests/payments/test_stripe_card_entry.py, served
// at Stripe's address by the test's routes so the page's CSP is exercised: the card Element is an iframe
// from js.stripe.com, and each call is a request to api.stripe.com whose JSON answer the test chooses
// (a Stripe object, or {"error": {...}} as Stripe.js reports it). It records how it was set up.
(function () {
  "use strict";

  function call(path, body) {
    return fetch("https://api.stripe.com" + path, { method: "POST", body: JSON.stringify(body) })
      .then(function (response) { return response.json(); });
  }

  window.Stripe = function (publishableKey, options) {
    var seen = window.fakeStripe = { publishableKey: publishableKey, locale: options && options.locale, focused: 0 };
    return {
      elements: function (elementsOptions) {
        seen.elementsLocale = elementsOptions && elementsOptions.locale;
        return {
          create: function (type) {
            seen.element = type;
            return {
              mount: function (node) {
                var frame = document.createElement("iframe");
                frame.src = "https://js.stripe.com/v3/elements-inner-card.html";
                frame.title = "Secure card payment input frame";
                node.classList.add("StripeElement");
                node.appendChild(frame);
              },
              focus: function () { seen.focused += 1; }
            };
          }
        };
      },
      createPaymentMethod: function (data) {
        return call("/v1/payment_methods", { type: data.type }).then(function (answer) {
          return answer.error ? { error: answer.error } : { paymentMethod: answer };
        });
      },
      handleNextAction: function (options) {
        return call("/v1/payment_intents/next_action", { client_secret: options.clientSecret }).then(function (answer) {
          return answer.error ? { error: answer.error } : { paymentIntent: answer };
        });
      },
      confirmCardSetup: function (clientSecret) {
        return call("/v1/setup_intents/confirm", { client_secret: clientSecret }).then(function (answer) {
          return answer.error ? { error: answer.error } : { setupIntent: answer };
        });
      }
    };
  };
})();
