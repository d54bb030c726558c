#!/usr/bin/env node
// First: a V8 setting that must be in place before the program allocates (see src/young-generation.ts).
import "../dist/young-generation.js";
import { main } from "../dist/cli.js";

main(process.argv);
