// Test-only preload (`--require <this file>`): the process emits one runtime warning (process.emitWarning) when it
// sends its first HTTP request, the way a dependency's or Node's own warning arrives in the middle of a run. A
// test then sees where such a warning goes. Never shipped: it lives with the tests.
"use strict";
const diagnostics = require("node:diagnostics_channel");

let warned = false;
diagnostics.subscribe("http.client.request.start", () => {
  if (warned) return;
  warned = true;
  process.emitWarning("a runtime warning in the middle of the run", "TestProbeWarning");
});
