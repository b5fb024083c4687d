/**
 * Ctrl-C for `collect`: the first SIGINT/SIGTERM asks for a clean stop (every open bucket finalized); a second exits
 * at once. Staged rows are durable, so the next start recovers them; the data dir's lock is released on the way out.
 */
import { releaseHeldLocks } from "../data-dir-lock.ts";
import { logger } from "../log.ts";

/** Exit status of the hard exit: 128 + the signal number, as a shell reports a process killed by it. */
const EXIT_BY_SIGNAL: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function hardExitOnSecondSignal(
  ac: AbortController,
  exit: (code: number) => never = (code) => process.exit(code),
): (sig: string) => void {
  const log = logger("collect");
  return (sig) => {
    if (!ac.signal.aborted) {
      log.info(`${sig}: finalizing… press Ctrl-C again to exit now (staged rows are recovered at the next start)`);
      ac.abort(new Error(sig));
      return;
    }
    log.warn(`${sig} again: exiting now without finalizing; staged rows are recovered at the next start`);
    releaseHeldLocks();
    exit(EXIT_BY_SIGNAL[sig] ?? 1);
  };
}
