/** The UserError a config check refuses with: the tests then assert its exit code and the key and reason it names. */
import { parseConfig } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";

/** The UserError `f` throws; any other error is rethrown, and returning normally fails the test. */
export function refusal(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("accepted: expected a UserError");
}

/** The UserError parseConfig refuses `doc` with (source name `t.toml`). */
export const configRefusal = (doc: unknown): UserError => refusal(() => parseConfig(doc, "t.toml"));
