// Run-time configuration, replaced by serve.mjs (make run, make test-web).
// Fields (all optional): apiURL ("http://localhost:8080"), wsURL
// ("ws://localhost:8081/ws"), devMode (true: sign in by user id with tokens
// signed by the public development secret; false: paste a token).
window.__ROOMWIRE_CONFIG__ = window.__ROOMWIRE_CONFIG__ || {};
