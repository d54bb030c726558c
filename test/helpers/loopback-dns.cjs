// Test-only preload (NODE_OPTIONS="--require <this file>"): the host names listed in RC_TEST_LOOPBACK_HOSTS
// (comma-separated) resolve to 127.0.0.1 inside the process that loads it, and nowhere else. It lets the built
// CLI talk to the emulator as https://platform.ringcentral.biz:<port> with real TLS name checks, without
// touching /etc/hosts. Every other name resolves as usual. Never shipped: it lives with the tests.
"use strict";
const dns = require("node:dns");

const names = new Set(
  (process.env.RC_TEST_LOOPBACK_HOSTS ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean),
);
const original = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  const done = typeof options === "function" ? options : callback;
  const opts =
    typeof options === "function" ? {} : typeof options === "number" ? { family: options } : (options ?? {});
  if (!names.has(String(hostname).toLowerCase())) return original.call(this, hostname, options, callback);
  const address = "127.0.0.1";
  if (opts.all) process.nextTick(done, null, [{ address, family: 4 }]);
  else process.nextTick(done, null, address, 4);
  return {};
};
