// The "stripe" card-entry driver (see card_entry.js): Stripe Elements. The card number, expiry and CVC
// are typed into Stripe's own card Element (iframes served by js.stripe.com) and go from there to Stripe
// only; this page gets a payment method id back. Stripe.js itself is loaded by the page from
// https://js.stripe.com/v3/ (Stripe does not allow it to be bundled or hosted elsewhere), only when the
// processor is Stripe; the page's CSP then allows Stripe's origins (payments/card_entry.py).
// Settings from the container's data- attributes: data-publishable-key. Stripe's messages follow the
// page's language (<html lang>).
(function () {
  "use strict";

  if (!window.PosCardEntry) return;

  var STRIPE_LOCALES = ["en", "fr"];

  function pageLocale() {
    var lang = (document.documentElement.getAttribute("lang") || "").toLowerCase().slice(0, 2);
    return STRIPE_LOCALES.indexOf(lang) >= 0 ? lang : "auto";
  }

  window.PosCardEntry.register("stripe", function (container, settings) {
    var outer = container.closest("[data-text-error]");
    var fallback = (outer && outer.getAttribute("data-text-error")) || "The card form could not be loaded.";

    function failed() {
      return { error: fallback };
    }

    function messageOf(error) {
      return (error && error.message) || fallback;
    }

    function refusal(error, intent) {
      var answer = { error: messageOf(error) };
      if (intent && intent.status) answer.status = intent.status;
      return answer;
    }

    if (typeof window.Stripe !== "function" || !settings.publishableKey) {
      // Stripe.js did not load (no network, blocked): every call answers with the page's message.
      var unavailable = function () { return Promise.resolve(failed()); };
      return { createPaymentMethod: unavailable, handleNextAction: unavailable, confirmSetup: unavailable };
    }

    var locale = pageLocale();
    var stripe = window.Stripe(settings.publishableKey, { locale: locale });
    var elements = stripe.elements({ locale: locale });
    // data-postcode="required" on the container (the customer's own card page): Stripe's field asks for it.
    var card = elements.create("card", {
      hidePostalCode: settings.postcode !== "required", style: { base: { fontSize: "16px" } }
    });
    var field = document.createElement("div");
    field.className = "stripe-card-element";
    container.appendChild(field);
    card.mount(field);

    function createPaymentMethod() {
      return stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
        if (result.error || !result.paymentMethod) {
          card.focus();
          return { error: messageOf(result.error) };
        }
        var method = result.paymentMethod;
        var details = method.card || {};
        return {
          id: method.id,
          card: { brand: details.brand, last4: details.last4, exp_month: details.exp_month, exp_year: details.exp_year }
        };
      }, failed);
    }

    // After our server confirmed a payment the bank wants the cardholder to approve (3-D Secure).
    function handleNextAction(clientSecret) {
      return stripe.handleNextAction({ clientSecret: clientSecret }).then(function (result) {
        if (result.error) return refusal(result.error, result.error.payment_intent);
        return { status: result.paymentIntent.status };
      }, failed);
    }

    // Saving a card: Stripe.js confirms the SetupIntent and asks the bank's question itself if needed.
    function confirmSetup(clientSecret) {
      return stripe.confirmCardSetup(clientSecret, { payment_method: { card: card } }).then(function (result) {
        var setup = result.setupIntent;
        if (result.error || !setup || setup.status !== "succeeded") {
          return refusal(result.error, setup || (result.error && result.error.setup_intent));
        }
        var method = setup.payment_method;
        return { status: setup.status, id: setup.id, paymentMethodId: typeof method === "string" ? method : method.id };
      }, failed);
    }

    return { createPaymentMethod: createPaymentMethod, handleNextAction: handleNextAction, confirmSetup: confirmSetup };
  });
})();
