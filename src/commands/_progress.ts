/**
 * The mine progress bar on stderr (cli-progress: redraw, ETA and terminal width handled there): files, rows, elapsed,
 * ETA. Only for a terminal: with --json, or stderr/stdout piped, there is no bar at all.
 */
import cliProgress from "cli-progress";
import type { MineProgress } from "../analytics/miner.ts";

export function wantsProgress(json: boolean, stdoutTty = process.stdout.isTTY, stderrTty = process.stderr.isTTY) {
  return !json && stdoutTty === true && stderrTty === true;
}

/** A progress callback drawing one bar on `stream`, and `stop` to end it (a no-op when nothing was drawn). */
export function progressBar(stream: NodeJS.WritableStream = process.stderr): {
  update: (p: MineProgress) => void;
  stop: () => void;
} {
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      if (p.filesTotal === 0) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format:
              "mining {bar} {value}/{total} files | {rows} rows | {duration_formatted} elapsed | ETA {eta_formatted}",
            hideCursor: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.filesTotal, 0, { rows: "0" });
      }
      bar.update(p.files, { rows: p.rows.toLocaleString("en-US") });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
