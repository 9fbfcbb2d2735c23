// The API's Swagger UI (/schema), started from a file of ours: the page allows no inline
// script (web/schema_ui.py). The schema is fetched from the same origin.
(function () {
  "use strict";
  var box = document.getElementById("swagger-container");
  if (!box || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  window.ui = SwaggerUIBundle({
    url: box.getAttribute("data-spec"),
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  });
})();
