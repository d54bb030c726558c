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
    expect(csvRow(["Alice;=2*21;"])).toBe('"Alice;\'=2*21;"\r\n');
  });

  it("neutralises a formula after a `;`, a tab or a line break inside a cell (where other readers split)", () => {
    // A `;` locale splits the line at every `;` and honours quotes only at its own cells' start.
    expect(neutralise("Alice;=2*21;")).toBe("Alice;'=2*21;");
    expect(neutralise("Bob\t+1+1")).toBe("Bob\t'+1+1");
    expect(neutralise("x\n@cmd\r-2;+4")).toBe("x\n'@cmd\r'-2;'+4");
    expect(neutralise("=a;=b")).toBe("'=a;'=b");
    for (const plain of ["a;b", "Tab\tNew\nLine", "a; =b", "1;2"]) expect(neutralise(plain)).toBe(plain);
  });
});
