/**
 * The app permissions (OAuth scopes) a run needs, by the spec's `x-app-permission` of the endpoints it calls:
 * the call log, the recordings (metadata and content), and extension and account info (the extension directory
 * for names, the retention settings).
 */
export const REQUIRED_PERMISSIONS = ["ReadCallLog", "ReadCallRecording", "ReadAccounts"] as const;

/** The required permissions a token's `scope` (space-separated) does not grant, in the order above. */
export function missingPermissions(scope: string): string[] {
  const granted = new Set(scope.split(/\s+/).filter(Boolean));
  return REQUIRED_PERMISSIONS.filter((permission) => !granted.has(permission));
}
