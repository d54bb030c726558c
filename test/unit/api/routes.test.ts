import { describe, expect, it } from "vitest";
import { routeOf } from "../../../src/api/routes.js";

describe("routeOf: the rate-limit group known before sending (spec §3)", () => {
  it.each([
    ["/restapi/oauth/token", "oauth", "auth"],
    ["/restapi/v1.0/account/~/call-log", "call-log", "heavy"],
    ["/restapi/v1.0/account/~/extension/~/call-log", "call-log", "heavy"],
    ["/restapi/v1.0/account/37439510/extension/62264425011/call-log", "call-log", "heavy"],
    ["/restapi/v1.0/account/~/call-log/ASaxDDkSZ5s42MA", "call-log", "heavy"],
    ["/restapi/v1.0/account/~/call-log-sync", "call-log", "heavy"],
    ["/restapi/v1.0/account/~/recording/2800000001", "recording", "heavy"],
    ["/restapi/v1.0/account/1/recording/2800000001/content", "recording-content", "heavy"],
    ["/restapi/v1.0/account/~/extension/~", "extension-info", "light"],
    ["/restapi/v1.0/account/~", "account-info", "light"],
    ["/restapi/v1.0/account/~/call-recording", "recording-settings", "light"],
    ["/restapi/v1.0/account/~/extension", "extension-list", "medium"],
    ["/restapi/v1.0/glip/chats", "other", "medium"],
  ])("%s → %s (%s)", (path, key, group) => {
    expect(routeOf(new URL(`https://platform.ringcentral.com${path}?perPage=1000`))).toEqual({ key, group });
  });
});
