/**
 * Text from a server (an error message, a caller's name, a reason) must not steer the terminal it is printed on:
 * ESC starts colour changes, cursor moves and title or clipboard writes, BEL rings, CR overwrites the line, and
 * bidirectional overrides reorder what is shown. Such characters are shown as visible escapes (`\x1b`) instead;
 * line breaks and tabs stay.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// JSON.stringify already escapes U+0000-U+001F; these it leaves raw (C1 controls such as U+009B, a one-byte CSI,
// and the bidi overrides). They can only occur inside JSON strings, where a \u escape keeps the document valid.
const RAW_IN_JSON = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A JSON document with every character that could steer a terminal written as a JSON `\u` escape. */
export function printableJson(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
