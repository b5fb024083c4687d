import { defineCommand } from "citty";
import { notBuilt, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "mine", description: "(not built yet)" },
  args: { ...sharedArgs },
  run() {
    notBuilt("mine");
  },
});
