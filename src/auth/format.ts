/** "in 59 min" / "expired 2 h ago" style, for human output. */
export function relative(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 2) return "just now";
  const amount =
    abs < 90
      ? `${abs} s`
      : abs < 90 * 60
        ? `${Math.round(abs / 60)} min`
        : abs < 48 * 3600
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86400)} d`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

export function describeExpiry(at: number, now: number): string {
  return `${at > now ? "expires" : "expired"} ${new Date(at).toISOString()} (${relative(at, now)})`;
}
