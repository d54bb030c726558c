import { describe, expect, it } from "vitest";
import { csvRow, neutralise } from "../../../src/archive/archive-index.js";

describe("index.csv cells", () => {
  it("neutralises formula-looking cells and keeps phone numbers", () => {
    for (const formula of ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTab", "\rCR", "+44 London", "+"]) {
      expect(neutralise(formula)).toBe(`'${formula}`);
    }
    for (const plain of ["+16505550123", "+44", "John", "", "1-800", "a=b", " =x"]) {
      expect(neutralise(plain)).toBe(plain);
    }
  });

  it("quotes per RFC 4180 and ends rows with CRLF", () => {
    expect(csvRow(["a", "b,c", 'say "hi"', "two\nlines", ""])).toBe('a,"b,c","say ""hi""","two\nlines",\r\n');
    expect(csvRow(['=HYPERLINK("x")'])).toBe('"\'=HYPERLINK(""x"")"\r\n');
    // A `;` or a tab splits cells in other locales: the cell is quoted, so `=2*21` never starts a cell there.
    expect(csvRow(["Alice;=2*21;", "Bob\t+1+1"])).toBe('"Alice;=2*21;","Bob\t+1+1"\r\n');
  });
});
