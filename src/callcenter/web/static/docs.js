// Starts Swagger UI on /docs (web/api_docs.py): the OpenAPI document of this server, and
// "Try it out" requests sent with the session's CSRF token (the cookie goes along).
"use strict";
(() => {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,  // never sends the document to swagger.io's validator
    requestInterceptor: (req) => { if (csrf) req.headers["X-CSRF-Token"] = csrf; return req; },
  });
})();
