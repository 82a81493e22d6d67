/*! MPay button v1 — https://github.com/mpay (packages/merchant/browser/mpay.js). No dependencies.
 *
 * <script src="https://pay.example/v1/js/mpay.js" integrity="sha384-…" crossorigin="anonymous"></script>
 * MPay.button(document.getElementById("pay"), {
 *   publishableKey: "pk_test_…",
 *   createPayment: () => fetch("/checkout", { method: "POST" }).then((r) => r.json()), // your server: { checkoutUrl }
 *   mode: "popup",                                     // "redirect" (default), "popup" or "qr"
 *   onComplete: ({ id, status }) => location.assign("/orders/" + id),
 * });
 *
 * Your server creates the payment with its secret key (never this page) and answers its checkoutUrl; this script
 * only opens it:
 * - "redirect": this tab goes to MPay's hosted checkout, which returns to your returnUrl.
 * - "popup": a window with the checkout; when the payer is done (or closes it), the window closes and onComplete
 *   gets the payment's status, read with the publishable key (GET /v1/checkout-status/{id}; only from one of your
 *   account's allowedOrigins). A blocked popup falls back to "redirect".
 * - "qr": on a desktop, "popup" — the hosted checkout shows the payment as a QR code for the payer's phone and follows
 *   it live; on a phone (a touch screen), "redirect". The QR is the checkout's own, so this script carries no encoder.
 * Your order becomes paid from the verified webhook, not from onComplete: a payer may close the tab at any time.
 */
(function (global) {
  "use strict";

  var script = global.document && global.document.currentScript;
  var API_ORIGIN = script && script.src ? new URL(script.src).origin : global.location.origin;
  var DONE = { authorized: 1, captured: 1, declined: 1, canceled: 1, expired: 1 };
  var POLL_MS = 2000;

  function isPhone() {
    return global.matchMedia ? global.matchMedia("(pointer: coarse)").matches : false;
  }

  function checkoutUrlOf(answer) {
    var url =
      answer && typeof answer.checkoutUrl === "string" ? new URL(answer.checkoutUrl, global.location.href) : null;
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw new Error(
        "MPay: createPayment must resolve to { checkoutUrl } (the payment's checkoutUrl from your server)",
      );
    }
    return url;
  }

  /** The payment's id: the answer's `id`, or the last pay_… segment of its checkout URL. */
  function paymentIdOf(answer, url) {
    if (answer && typeof answer.id === "string") return answer.id;
    var match = /pay_[0-9A-Z]{26}/.exec(url.pathname + url.search + url.hash);
    return match ? match[0] : null;
  }

  function status(key, id) {
    var url = API_ORIGIN + "/v1/checkout-status/" + encodeURIComponent(id) + "?key=" + encodeURIComponent(key);
    return fetch(url, { credentials: "omit", cache: "no-store" }).then(function (r) {
      return r.ok ? r.json() : null;
    });
  }

  /** Polls the status while the popup is open; ends when the payment is done or the popup is closed. */
  function follow(popup, key, id, finish) {
    var ended = false;
    function end(state) {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      if (!popup.closed) popup.close();
      finish(state);
    }
    var timer = setInterval(function () {
      var closed = popup.closed;
      status(key, id).then(
        function (answer) {
          var current = answer && answer.status;
          if ((current && DONE[current]) || closed) end(current || "unknown");
        },
        function () {
          if (closed) end("unknown");
        },
      );
    }, POLL_MS);
  }

  function button(target, options) {
    var element = typeof target === "string" ? global.document.querySelector(target) : target;
    if (!element) throw new Error("MPay.button: no element " + String(target));
    var o = options || {};
    if (typeof o.publishableKey !== "string" || !/^pk_(test|live)_/.test(o.publishableKey)) {
      throw new Error("MPay.button: publishableKey must be your pk_test_… or pk_live_… key (never the secret key)");
    }
    if (typeof o.createPayment !== "function") throw new Error("MPay.button: createPayment must be a function");
    var mode = o.mode || "redirect";
    if (mode !== "redirect" && mode !== "popup" && mode !== "qr") {
      throw new Error('MPay.button: mode is "redirect", "popup" or "qr"');
    }

    var b = global.document.createElement("button");
    b.type = "button";
    b.className = "mpay-button";
    b.textContent = o.label || "Pay with MPay";
    b.style.cssText =
      "font:600 16px/1.2 system-ui,sans-serif;color:#fff;background:#1b64da;border:0;border-radius:10px;" +
      "padding:14px 20px;min-height:48px;min-width:200px;cursor:pointer";
    element.appendChild(b);

    function reset() {
      b.disabled = false;
      b.style.opacity = "";
      b.removeAttribute("aria-busy");
    }
    function fail(error) {
      reset();
      if (typeof o.onError === "function") o.onError(error);
      else if (global.console) global.console.error(error);
    }

    b.addEventListener("click", function () {
      var how = mode === "qr" ? (isPhone() ? "redirect" : "popup") : mode;
      // Opened within the click, before any await: a popup opened later is blocked.
      var popup = how === "popup" ? global.open("about:blank", "mpay-checkout", "popup,width=460,height=760") : null;
      b.disabled = true;
      b.style.opacity = "0.6";
      b.setAttribute("aria-busy", "true");
      Promise.resolve()
        .then(o.createPayment)
        .then(function (answer) {
          var url = checkoutUrlOf(answer);
          var id = paymentIdOf(answer, url);
          if (!popup || popup.closed || !id) {
            if (popup && !popup.closed) popup.close();
            global.location.assign(url.href);
            return;
          }
          popup.location.href = url.href;
          follow(popup, o.publishableKey, id, function (state) {
            reset();
            if (typeof o.onComplete === "function") o.onComplete({ id: id, status: state });
          });
        })
        .catch(function (error) {
          if (popup && !popup.closed) popup.close();
          fail(error);
        });
    });

    return {
      element: b,
      destroy: function () {
        b.remove();
      },
    };
  }

  global.MPay = Object.assign(global.MPay || {}, { button: button, version: "1" });
})(window);
