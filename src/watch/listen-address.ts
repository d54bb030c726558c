/**
 * `--listen HOST:PORT`, parsed by commander at start-up: apart from the status server (http.ts), so that every
 * command's start, `--help` included, does not load an HTTP server it will not run.
 */

/** `--listen HOST:PORT`, parsed (the host as typed, IPv6 without its brackets). */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT` → its parts; undefined when it is not one (`[::1]:9464` for IPv6). */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}
