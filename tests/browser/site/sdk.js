// @voucherify/sdk (VoucherifyClientSide, UMD global VoucherifySDK) and the react widgets
// (UMD global VoucherifyWidget), set up the way a shop would.
(function () {
  var cfg = window.SHOP_CONFIG;
  var keys = { clientApplicationId: cfg.clientApplicationId, clientSecretKey: cfg.clientSecretKey, apiUrl: cfg.apiUrl };
  window.shopClient = VoucherifySDK.VoucherifyClientSide(keys);
  function props(extra) {
    var p = {};
    Object.keys(keys).forEach(function (k) { p[k] = keys[k]; });
    Object.keys(extra).forEach(function (k) { p[k] = extra[k]; });
    return p;
  }
  function error(kind) {
    return function (e) {
      shopRecord(kind, { message: e && e.message, code: e && e.code, key: e && e.key });
    };
  }
  ReactDOM.render(
    React.createElement(VoucherifyWidget.VoucherifyValidate, props({
      amount: true,
      textPlaceholder: "Discount code",
      amountPlaceholder: "Order total, e.g. 50.00",
      onValidated: function (r) { shopRecord("widget-validated", r); },
      onError: error("widget-validate-error"),
    })),
    document.getElementById("validate-widget"),
  );
  ReactDOM.render(
    React.createElement(VoucherifyWidget.VoucherifyRedeem, props({
      amount: true,
      logoSrc: "/logo.svg",
      logoAlt: "shop",
      onRedeemed: function (r) { shopRecord("widget-redeemed", r); },
      onError: error("widget-redeem-error"),
    })),
    document.getElementById("redeem-widget"),
  );
})();
