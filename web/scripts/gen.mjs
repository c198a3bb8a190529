// Generates src/gen/tally.js from proto/tally.proto (never committed):
// protobufjs's static code, with 64-bit integers as numbers.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(web, "src", "gen", "tally.js");
mkdirSync(dirname(out), { recursive: true });
execFileSync(
  process.execPath,
  [join(web, "node_modules", "protobufjs-cli", "bin", "pbjs"),
   "-t", "static-module", "-w", "es6", "--force-number",
   "--no-verify", "--no-delimited", "--no-convert", "--no-comments",
   "-o", out, join(web, "..", "proto", "tally.proto")],
  { stdio: "inherit" });
// Node's own ESM loader (the browser tests) needs the file's name.
writeFileSync(out, readFileSync(out, "utf8")
  .replace('import * as $protobuf from "protobufjs/minimal";',
           'import $protobuf from "protobufjs/minimal.js";'));
