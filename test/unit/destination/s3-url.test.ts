import { describe, expect, it } from "vitest";
import { isS3Url, parseS3Url } from "../../../src/destination/s3/url.js";
import { UsageError } from "../../../src/errors.js";

describe("s3:// URLs", () => {
  it.each([
    ["s3://archive", { bucket: "archive", prefix: "" }],
    ["s3://archive/", { bucket: "archive", prefix: "" }],
    ["s3://archive/calls", { bucket: "archive", prefix: "calls/" }],
    ["s3://archive/calls/2026/", { bucket: "archive", prefix: "calls/2026/" }],
    ["S3://my.bucket-1/a b", { bucket: "my.bucket-1", prefix: "a b/" }],
    // The user's key bytes, exactly: NFD stays NFD, NFC stays NFC (was: both became NFC).
    ["s3://archive/Mu\u0308ller", { bucket: "archive", prefix: "Mu\u0308ller/" }],
    ["s3://archive/M\u00fcller", { bucket: "archive", prefix: "M\u00fcller/" }],
  ])("%s", (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each([
    ["s3://", "names no bucket"],
    ["s3:///prefix", "names no bucket"],
    ["s3://Bad_Bucket/x", "not a valid bucket name"],
    ["s3://ab", "not a valid bucket name"],
    ["s3://a..b/x", "not a valid bucket name"],
    ["s3://archive//x", "empty folder name"],
    ["s3://archive/a/../b", ". or .. folders"],
    ["s3://archive/x?versionId=1", "no query"],
    ["s3://archive/.rc-recordings", "state folder"],
    [`s3://archive/${"x".repeat(600)}`, "longer than"],
    ["s3://archive/a\u0001b", "control character"],
    ["s3://archive/a\ud800b", "not valid Unicode"],
  ])("%s is a usage error", (url, why) => {
    expect(() => parseS3Url(url)).toThrow(UsageError);
    expect(() => parseS3Url(url)).toThrow(why);
  });

  it("tells URLs from folders", () => {
    expect(isS3Url("s3://x")).toBe(true);
    expect(isS3Url("./s3://x")).toBe(false);
    expect(isS3Url("recordings")).toBe(false);
  });
});
