// Starts Swagger UI on the document this api serves. Kept out of the page
// so that the page's Content-Security-Policy needs no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.yaml", // relative to /docs, so it works behind a path prefix
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no third-party validator badge: nothing leaves this origin
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
