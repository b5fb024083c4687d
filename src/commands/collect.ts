import { defineCommand } from "citty";
import { notBuilt, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "collect", description: "(not built yet)" },
  args: { ...sharedArgs },
  run() {
    notBuilt("collect");
  },
});
