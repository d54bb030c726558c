import { UsageError } from "./errors.js";

/**
 * Node turns certificate checks off for EVERY TLS connection of the process when this variable is "0" (its
 * exact test): the token, the JWT and the recordings would go to whoever answers. rc-recordings never runs that
 * way; a network that inspects TLS is trusted through its CA certificate instead.
 */
export function refuseDisabledCertificateChecks(env: NodeJS.ProcessEnv): void {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED !== "0") return;
  throw new UsageError(
    "NODE_TLS_REJECT_UNAUTHORIZED=0 would turn off TLS certificate checks, and rc-recordings never runs without them: unset it (to trust a network that inspects TLS, give its CA certificate in NODE_EXTRA_CA_CERTS)",
  );
}
