/** The value checks the config sections share: valibot pipes whose messages are the reasons a config error gives. */
import * as v from "valibot";

export const posInt = (max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.number(),
    v.integer("must be an integer"),
    v.minValue(1, "must be ≥ 1"),
    v.maxValue(max, `must be ≤ ${max}`),
  );
export const nonNegInt = () => v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be ≥ 0"));
export const nonNeg = () => v.pipe(v.number(), v.minValue(0, "must be ≥ 0"));
export const rate = () => v.pipe(v.number(), v.minValue(0, "must be ≥ 0"), v.maxValue(1, "must be ≤ 1"));
export const url = () =>
  v.pipe(v.string(), v.regex(/^(https?|wss?):\/\/\S+$/, "must be an http(s):// or ws(s):// URL"));
export const envName = () =>
  v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"));
