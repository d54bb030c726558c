import { createHash } from "node:crypto";
import { StoreError } from "./errors.js";

/**
 * What a PUT (or a part) says about its body, and what the store's answer must match. Content-MD5 goes on every
 * body: stores that check it refuse bytes damaged on the way, and an Object Lock bucket refuses a PUT without it
 * (or a checksum). x-amz-checksum-sha256 too, unless the user turned request checksums off for a store that
 * refuses them (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED).
 */
export class BodyChecksum {
  readonly md5: string;
  readonly sha256: string;

  private constructor(body: Buffer) {
    this.md5 = createHash("md5").update(body).digest("hex");
    this.sha256 = createHash("sha256").update(body).digest("base64");
  }

  static of(body: Buffer | string): BodyChecksum {
    return new BodyChecksum(typeof body === "string" ? Buffer.from(body) : body);
  }

  /** The request's checksum fields. */
  params(withSha256: boolean): { ContentMD5: string; ChecksumSHA256?: string } {
    return {
      ContentMD5: Buffer.from(this.md5, "hex").toString("base64"),
      ...(withSha256 ? { ChecksumSHA256: this.sha256 } : {}),
    };
  }

  /**
   * Throws when the answer shows the store holds other bytes: its checksum echo differs, or (without an echo) its
   * ETag is a plain MD5 that differs. An encrypted object's ETag (SSE-KMS, SSE-C) is no MD5 and says nothing.
   */
  check(answer: StoreAnswer, where: string): void {
    if (answer.ChecksumSHA256 !== undefined) {
      if (answer.ChecksumSHA256 !== this.sha256) throw mismatch(where, "SHA-256 checksum");
      return;
    }
    const etag = answer.ETag?.replace(/"/g, "");
    const encrypted =
      answer.SSECustomerAlgorithm !== undefined || /kms/i.test(answer.ServerSideEncryption ?? "");
    if (etag && /^[0-9a-f]{32}$/i.test(etag) && !encrypted && etag.toLowerCase() !== this.md5) {
      throw mismatch(where, "MD5 (ETag)");
    }
  }
}

/** The fields of a PutObject or UploadPart answer that speak of the bytes held. */
export interface StoreAnswer {
  ETag?: string | undefined;
  ChecksumSHA256?: string | undefined;
  ServerSideEncryption?: string | undefined;
  SSECustomerAlgorithm?: string | undefined;
}

function mismatch(where: string, what: string): StoreError {
  return new StoreError(
    `${where}: the store's ${what} does not match the bytes sent (damaged on the way or in the store)`,
    true,
  );
}
