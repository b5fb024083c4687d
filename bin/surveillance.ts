#!/usr/bin/env bun
import { runCli } from "../src/cli.ts";
await runCli();
