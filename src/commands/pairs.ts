/** `surveillance pairs`: propose cross-venue candidates, or record --accept / --reject decisions (pairs/run.ts). */
import { defineCommand } from "citty";
import { commandConfig, repeatedArg, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "pairs",
    description:
      "Propose cross-venue pairs (same question on two venues) into mappings/candidates.jsonl, or confirm/reject them in mappings/pairs.jsonl",
  },
  args: {
    ...sharedArgs,
    accept: {
      type: "string",
      description: "Confirm a pair: a candidate's number (as printed) or VENUE:MARKET_ID=VENUE:MARKET_ID (repeatable)",
      valueHint: "N|PAIR",
    },
    reject: {
      type: "string",
      description: "Reject a pair so it is never proposed again (repeatable; same forms as --accept)",
      valueHint: "N|PAIR",
    },
    orientation: {
      type: "enum",
      options: ["same", "flipped"],
      description: "Orientation of the pairs accepted now (default: the candidate's; same when not a candidate)",
      valueHint: "same|flipped",
    },
    "min-score": {
      type: "string",
      description: "Threshold for this run (overrides [pairs] min_score)",
      valueHint: "0..1",
    },
    top: {
      type: "string",
      description: "How many candidates to print",
      default: "10",
      valueHint: "N",
    },
  },
  async run({ args, rawArgs }) {
    const { UserError } = await import("../errors.ts");
    const { RealClock } = await import("../clock.ts");
    const { proposePairs, decidePairs } = await import("../pairs/run.ts");
    const { mappingPath } = await import("../layout.ts");
    const config = await commandConfig(args, rawArgs);
    const now = new RealClock().now();
    const accept = repeatedArg(rawArgs, "accept");
    const reject = repeatedArg(rawArgs, "reject");

    if (accept.length > 0 || reject.length > 0) {
      const done = await decidePairs(
        config,
        { accept, reject, orientation: args.orientation as "same" | "flipped" | undefined },
        now,
      );
      for (const r of done)
        console.log(`${r.status}: ${r.a_venue}:${r.a_market_id} = ${r.b_venue}:${r.b_market_id} (${r.orientation})`);
      console.log(`-> ${mappingPath(config.data_dir)}`);
      return;
    }

    const minScore = args["min-score"] === undefined ? undefined : Number(args["min-score"]);
    if (minScore !== undefined && !(minScore >= 0 && minScore <= 1))
      throw new UserError(`--min-score ${args["min-score"]}: must be a number from 0 to 1`, 2);
    const top = Number(args.top);
    if (!Number.isInteger(top) || top < 0) throw new UserError(`--top ${args.top}: must be a whole number ≥ 0`, 2);
    const r = await proposePairs(config, now, minScore);
    const threshold = minScore ?? config.pairs.min_score;
    for (const p of r.venuePairs) {
      console.log(
        `${p.a} × ${p.b}: ${p.aMarkets} × ${p.bMarkets} active markets, ${p.candidates} candidates with score ≥ ${threshold}`,
      );
      const q = p.quality;
      if (q)
        console.log(
          `  known twins ${q.truePairs}: found ${q.found}, precision ${q.precision.toFixed(3)}, recall ${q.recall.toFixed(3)}, orientation right ${q.orientationRight}/${q.found}`,
        );
    }
    if (r.decided > 0) console.log(`${r.decided} pairs already decided in the mapping (not proposed again)`);
    r.candidates.slice(0, top).forEach((c, i) => {
      console.log(
        `${String(i + 1).padStart(4)}. ${c.score.toFixed(3)} ${c.orientation === "flipped" ? "flipped" : "same   "} ${c.a_venue}:${c.a_market_id} ${JSON.stringify(c.a_title)} = ${c.b_venue}:${c.b_market_id} ${JSON.stringify(c.b_title)}`,
      );
    });
    console.log(`${r.candidates.length} candidates -> ${r.path}`);
  },
});
