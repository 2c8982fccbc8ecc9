// Saving a card with the card-entry module (PosCardEntry.confirmSetup, see card_entry.js): the
// profile's "Add card and save" and the customer's own /card/ page. Our server is asked to start a
// setup (with the consent box's answer), the processor's card fields confirm it with the card, and our
// server is told to record what the processor saved. Card numbers and CVCs never come through here.
//
//   <form data-card-setup data-start-url="…" data-text-processing="…" data-text-error="…">
//     <div data-card-entry …></div> <input type="checkbox" name="consent" value="1"> …
//   </form>
//   <button data-reveal-card-setup> (optional: shows the form)   <div data-card-done hidden> (optional)
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("[data-card-setup]");
    if (!form || !window.PosCardEntry) return;
    var container = form.querySelector("[data-card-entry]");
    var reveal = document.querySelector("[data-reveal-card-setup]");
    var message = form.querySelector("[data-card-message]");
    var status = form.querySelector("[data-card-status]");
    var button = form.querySelector("[data-card-submit]");
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var entry = null;

    function mount() {
      if (!entry) entry = window.PosCardEntry.mount(container);
      return entry;
    }
    function show(element, text) { element.textContent = text || ""; element.hidden = !text; }
    function busy(on) {
      button.disabled = on;
      show(status, on ? form.getAttribute("data-text-processing") : "");
      if (on) show(message, "");
    }
    function failed(text) {
      busy(false);
      show(message, text || form.getAttribute("data-text-error"));
    }
    function post(url, fields) { return window.PosCardEntry.post(url, fields, csrf); }
    function saved(answer) {
      if (answer.redirect) { window.location.assign(answer.redirect); return; }
      var area = document.querySelector("[data-card-setup-area]") || form;
      area.hidden = true;
      var done = document.querySelector("[data-card-done]");
      if (done) { done.hidden = false; done.focus(); }
    }

    if (reveal) {
      reveal.addEventListener("click", function () {
        form.hidden = false;
        reveal.hidden = true;
        mount();
      });
    } else {
      mount();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      mount();
      busy(true);
      var consent = form.querySelector("[name=consent]");
      post(form.getAttribute("data-start-url"), { consent: consent && consent.checked ? "1" : "" })
        .then(function (answer) {
          if (answer.status !== "ready") { failed(answer.message); return; }
          return entry.confirmSetup(answer.client_secret).then(function (result) {
            if (!result || result.error) { failed(result && result.error); return; }
            return post(answer.finish_url, {}).then(function (finished) {
              if (finished.status !== "saved") { failed(finished.message); return; }
              saved(finished);
            });
          });
        })
        .catch(function () { failed(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
