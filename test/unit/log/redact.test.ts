import { describe, expect, it } from "vitest";
import { printable, printableJson } from "../../../src/log/printable.js";
import { redact, registerClientCredentials, registerSecret } from "../../../src/log/redact.js";

describe("redact", () => {
  it("leaves ordinary text alone, however much it looks like a header", () => {
    for (const text of [
      "Acme Basic Services.mp3",
      "2026-11-25/Bearer Of Good News_+16505550100.wav",
      "token=5 jwt=yes basic  credentials",
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it("scrubs a known secret in every form it travels in", () => {
    const secret = "p@ss word/+=";
    registerSecret(secret);
    const forms = [
      secret,
      encodeURIComponent(secret),
      Buffer.from(secret).toString("base64"),
      Buffer.from(secret).toString("base64url"),
    ];
    for (const form of forms) expect(redact(`x ${form} y`)).toBe("x *** y");
  });

  it("scrubs the Basic credentials of the app, and short secrets where they stand alone", () => {
    registerClientCredentials("my-client-id", "abc");
    const basic = Buffer.from("my-client-id:abc").toString("base64");
    expect(redact(`Authorization: Basic ${basic}`)).toBe("Authorization: Basic ***");
    expect(redact("secret abc, again:abc.")).toBe("secret ***, again:***.");
    expect(redact("fabcd abcx")).toBe("fabcd abcx"); // inside a word it is not the secret standing alone
    expect(redact("my-client-id")).toBe("my-client-id"); // the client id is no secret
  });

  it("still catches protocol shapes: an Authorization header, a JWT and OAuth fields", () => {
    expect(redact("echo: Authorization: Bearer abc.def-123, next")).toBe(
      "echo: Authorization: Bearer ***, next",
    );
    expect(redact('{"authorization": "Basic QWxhZGRpbjpvcGVu"}')).toBe('{"authorization": "Basic ***"}');
    expect(redact("jwt eyJhbGciOi.eyJzdWIiOi.sig")).toBe("jwt ***");
    expect(redact("grant&assertion=abc.def&x=1")).toBe("grant&assertion=***&x=1");
    expect(redact('{"access_token": "zzz"}')).toBe('{"access_token":"***"}');
  });
});

describe("printable", () => {
  it("shows terminal controls as escapes and keeps line breaks and tabs", () => {
    expect(printable("a\u001b[31mred\u0007\rb\tc\nd\u009be\u202eright")).toBe(
      "a\\x1b[31mred\\x07\\x0db\tc\nd\\x9be\\u202eright",
    );
  });

  it("escapes C1 controls and bidi overrides in JSON the JSON way (the document stays valid)", () => {
    const json = printableJson(JSON.stringify({ name: "x\u009b2J\u202e\u001b" }));
    expect(json).not.toMatch(/[\u007f-\u009f\u202e]/);
    expect(JSON.parse(json)).toEqual({ name: "x\u009b2J\u202e\u001b" });
  });
});
