/**
 * Iterate until the signal aborts, without waiting for a pending item: a listing request may sit in the rate
 * limiter for a minute, and Ctrl-C must not.
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextOrAbort(iterator, signal);
      if (next === "aborted" || next.done) return;
      yield next.value;
    }
  } finally {
    // Do not await: a generator busy with a request finishes it first; its result is simply dropped.
    void iterator.return?.()?.catch(() => undefined);
  }
}

/**
 * One `next()`, or "aborted" as soon as the signal fires. The abort listener lives for this call only: racing
 * every `next()` against one long-lived promise would keep every item of the listing reachable.
 */
function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T> | "aborted"> {
  if (signal.aborted) return Promise.resolve("aborted");
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
