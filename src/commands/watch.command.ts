import { type Command, InvalidArgumentError } from "commander";
import { parseListenAddress } from "../watch/listen-address.js";
import { addArchiveOptions } from "./archive-options.js";
import { durationOf, type Launch, withExamples } from "./command.js";
import type { WatchFlags } from "./watch.js";

function listenAddress(value: string) {
  const address = parseListenAddress(value);
  if (!address) throw new InvalidArgumentError("must be HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464");
  return address;
}

export function declareWatch(parent: Command, launch: Launch): Command {
  const cmd = addArchiveOptions(
    parent
      .command("watch")
      .description(
        "keep an archive current as calls end: push events say when to look, the call log what to save (a service)",
      ),
  )
    .option(
      "--sweep <duration>",
      "a full sweep of the call log at least this often (30s, 15m, 1h); default 15m",
      durationOf("--sweep"),
    )
    .option(
      "--listen <host:port>",
      "serve GET /healthz and GET /metrics here, e.g. 127.0.0.1:9464 (loopback keeps it private)",
      listenAddress,
    )
    .action((opts: WatchFlags, c: Command) =>
      launch(async () => (await import("./watch.js")).runWatch, opts, c),
    );
  return withExamples(cmd, [
    "rc-recordings watch --out ~/recordings",
    "rc-recordings watch --out s3://my-bucket/calls --listen 127.0.0.1:9464",
    "rc-recordings --log-format json watch --out /srv/recordings --sweep 5m",
  ]);
}
