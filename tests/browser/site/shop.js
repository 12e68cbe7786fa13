// Shared by every page: the cart, the origin banner and a log of what the libraries answered.
(function () {
  window.SHOP_CART = { amount: 5000, items: [{ product_id: "prod_shirt", quantity: 2, price: 2500 }] };
  window.shopEvents = [];
  window.shopRecord = function (kind, data) {
    window.shopEvents.push({ kind: kind, data: data });
    var log = document.getElementById("log");
    if (log) {
      var text = kind + ": " + JSON.stringify(data);
      log.textContent += (text.length > 300 ? text.slice(0, 300) + "…" : text) + "\n";
    }
  };
  document.addEventListener("DOMContentLoaded", function () {
    var o = document.querySelector(".origin");
    if (o) o.textContent = window.location.origin;
  });
})();
