import { defineCommand } from "citty";
import { notBuilt, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "demo", description: "(not built yet)" },
  args: { ...sharedArgs },
  run() {
    notBuilt("demo");
  },
});
