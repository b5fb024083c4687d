/** Waits for real I/O (loopback sockets) to reach a state; the deadline only turns a hang into a clear failure. */
export async function waitFor(pred: () => boolean, what = "condition", timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}
