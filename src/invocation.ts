/**
 * How to run this program again, as it was started, for the commands we print (`surveillance` is on no PATH after
 * `bun install`): the compiled executable's own path, else `bun run start --` in the checkout, else `bun SCRIPT`.
 */
import { delimiter, dirname, basename, relative, resolve, sep } from "node:path";

export interface Started {
  /** Bun.main: the entry script, or a path in the executable's embedded file system when compiled. */
  main: string;
  /** process.execPath: the executable (bun itself when run from source). */
  execPath: string;
  cwd: string;
  /** $PATH, to shorten an executable found there to its name. */
  path?: string;
}

/** Bun's embedded file system of a `bun build --compile` executable: `/$bunfs/…` (`B:\~BUN\…` on Windows). */
const isCompiled = (main: string) => main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main);

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command prefix that runs this program from `cwd`, e.g. `bun run start --`, `./dist/surveillance`. */
export function cliCommand(s: Started): string {
  if (isCompiled(s.main)) {
    const exe = s.execPath;
    if ((s.path ?? "").split(delimiter).some((d) => d !== "" && resolve(d) === dirname(exe))) return basename(exe);
    const rel = relative(s.cwd, exe);
    return shellWord(rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) ? `./${rel}` : exe);
  }
  // From a checkout: package.json's `start` script runs bin/surveillance.ts.
  if (resolve(s.main) === resolve(s.cwd, "bin", "surveillance.ts")) return "bun run start --";
  return `bun ${shellWord(s.main)}`;
}

/** cliCommand for this process. */
export function thisCliCommand(): string {
  return cliCommand({ main: Bun.main, execPath: process.execPath, cwd: process.cwd(), path: process.env.PATH });
}
