import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { S3Destination } from "../../../src/destination/s3/destination.js";
import { tempDir } from "../../helpers/cli.js";
import { destinationContract } from "../../helpers/destination-contract.js";
import { startS3FaultProxy } from "../../helpers/s3-fault-proxy.js";
import { startS3Server } from "../../helpers/s3-server.js";

// Every destination runs the one contract (test/helpers/destination-contract.ts). A new kind adds a block here.

destinationContract("local folder", async () => {
  const root = tempDir("rcr-contract-");
  let made = 0;
  let last = "";
  // A full disk for real: a small tmpfs, filled up. Needs Linux and root (CI runs as root).
  const fullDir = join(root.path, "full");
  mkdirSync(fullDir);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", fullDir]);
  try {
    writeFileSync(join(fullDir, "filler"), Buffer.alloc(1024 * 1024));
  } catch {
    // ENOSPC: full now
  }
  return {
    fresh: async () => {
      made += 1;
      last = join(root.path, `d${made}`);
      mkdirSync(last); // DIR exists before the run: the command makes it
      return new LocalFolder(last);
    },
    again: async () => new LocalFolder(last),
    full: async () => new LocalFolder(fullDir),
    stop: async () => {
      execFileSync("umount", ["-l", fullDir]);
      root.cleanup();
    },
  };
});

destinationContract("S3 (s3rver)", async () => {
  const server = await startS3Server(["archive"]);
  const proxy = await startS3FaultProxy(server.endpoint, { full: true });
  let made = 0;
  const location = () => ({ bucket: "archive", prefix: `c${made}/` });
  return {
    fresh: async () => {
      made += 1;
      return S3Destination.open(location(), server.env);
    },
    again: async () => S3Destination.open(location(), server.env),
    full: async () => {
      made += 1;
      return S3Destination.open(location(), { ...server.env, AWS_ENDPOINT_URL_S3: proxy.endpoint });
    },
    stop: async () => {
      await proxy.stop();
      await server.stop();
    },
  };
});
