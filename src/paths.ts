import envPaths from "env-paths";

// env-paths reads the environment when called (XDG_CONFIG_HOME on Linux), so tests can point every run at a
// throw-away directory. No "-nodejs" suffix: the folder is named after the product, like other CLIs.
const APP = "rc-recordings";

/** Where profiles (token stores) live: $XDG_CONFIG_HOME/rc-recordings on Linux, the OS equivalent elsewhere. */
export function configDir(): string {
  return envPaths(APP, { suffix: "" }).config;
}
