// What the browser journeys share: the real tallyd on ephemeral
// loopback ports, the real tally client, and one Chromium.
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const top = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const webModules = join(top, "web", "node_modules");
export const { chromium } = require(join(webModules, "playwright-core"));
// The generated protobuf code the pages use, for requests the pages
// would not make (another unit's figures).
export const { tally: pb } = await import(join(top, "web", "src", "gen", "tally.js"));

// A tallyd of build, its store made with 'tallyd init', serving the web
// pages; catalog: a JSON file (the built-in one when null); extra:
// further arguments.
export async function startServer(build, catalog, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), "tally-web-"));
  const init = spawnSync(join(build, "tallyd"), ["init", "--data", join(dir, "data")],
                         { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`tallyd init: ${init.stderr}`);
  const admin = init.stdout.trim();
  const args = ["--data", join(dir, "data"), "--listen", "127.0.0.1:0",
                "--http", "127.0.0.1:0", "--web-dir", join(build, "web")];
  if (catalog) args.push("--catalog", catalog);
  args.push(...extra);
  const log = join(dir, "tallyd.log");
  const proc = spawn(join(build, "tallyd"), args, { stdio: ["ignore", "pipe", "pipe"] });
  let errText = "";
  proc.stderr.on("data", (d) => { errText += d; appendFileSync(log, d); });
  const out = await new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`tallyd did not start: ${errText}`)), 10000);
    proc.stdout.on("data", (d) => {
      text += d;
      if (/web pages on \S+\n/.test(text)) { clearTimeout(timer); resolve(text); }
    });
    proc.on("exit", (code) => reject(new Error(`tallyd exited ${code}: ${errText}`)));
  });
  const server = {
    dir, admin, build, proc,
    tcp: /listening on (\S+)/.exec(out)[1],
    web: /web pages on (\S+)/.exec(out)[1],
    log: () => errText,
    // Runs the real client as the admin (or token); the result.
    tally(args, { input, token } = {}) {
      const r = spawnSync(join(build, "tally"), args, {
        input: input || "", encoding: "utf8",
        env: { ...process.env, TALLY_SERVER: server.tcp, TALLY_TOKEN: token || admin,
               TALLY_CONFIG: join(dir, "none.json"), TALLY_SPOOL: join(dir, "spool") },
      });
      return { status: r.status, out: r.stdout, err: r.stderr };
    },
    // An account with a first password; its id.
    account(role, unit, name, password) {
      const add = server.tally(["account", "add", "--role", role, "--name", name,
                                ...(unit ? ["--unit", unit] : [])]);
      if (add.status !== 0) throw new Error(`account add: ${add.err}`);
      const id = Number(/^tally_(\d+)_/.exec(add.out.trim())[1]);
      const pw = server.tally(["account", "password", String(id)], { input: `${password}\n` });
      if (pw.status !== 0) throw new Error(`account password: ${pw.err}`);
      return { id, token: add.out.trim(), name, password };
    },
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// Signs in through the page: the first password, then a new one; waits
// for the page a reporter sees (#periods), or the one named.
export async function signIn(page, server, who, newPassword, landing = "#periods") {
  await page.goto(`${server.web}/`);
  await page.fill("#name", who.name);
  await page.fill("#password", who.password);
  await page.click("#sign-in button[type=submit]");
  if (newPassword) {
    await page.waitForSelector("#change:not([hidden])");
    await page.fill("#new-password", newPassword);
    await page.fill("#new-password-again", newPassword);
    await page.click("#sign-in button[type=submit]");
    who.password = newPassword;
  }
  await page.waitForSelector(landing);
}

export function assert(ok, what) {
  if (!ok) throw new Error(what);
}

export function eq(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// A catalog like the built-in one whose wenchang is named with markup.
export function markupCatalog(dir) {
  const cat = JSON.parse(readFileSync(join(top, "catalog", "changqing.json"), "utf8"));
  for (const u of cat.units)
    if (u.code === "wenchang") u.name_zh = "文昌<script>window.pwned=1</script><b>街道</b>";
  const file = join(dir, "catalog.json");
  writeFileSync(file, JSON.stringify(cat));
  return file;
}

// A workbook tally form --format xlsx wrote, filled in as Excel saves
// it: each figure in column F of its element's row (a number as a
// number, a string as an inline string), and explanations in the rows
// for them (explain:RULE in column A, the text in F, inline strings).
export function fillForm(xlsx, figures, explanations = {}) {
  const { unzipSync, zipSync, strFromU8, strToU8 } = require(join(webModules, "fflate"));
  const files = unzipSync(new Uint8Array(xlsx));
  const strings = [...strFromU8(files["xl/sharedStrings.xml"]).matchAll(/<si>(.*?)<\/si>/gs)]
    .map((m) => m[1].replace(/<[^>]+>/g, ""));
  let sheet = strFromU8(files["xl/worksheets/sheet1.xml"]);
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const cell = (ref, style, v) => (typeof v === "number"
    ? `<c r="${ref}" s="${style}"><v>${v}</v></c>`
    : `<c r="${ref}" s="${style}" t="inlineStr"><is><t>${esc(v)}</t></is></c>`);
  for (const [code, v] of Object.entries(figures)) {
    const i = strings.indexOf(code);
    const m = new RegExp(`<c r="A(\\d+)" s="\\d+" t="s"><v>${i}</v></c>`).exec(sheet);
    if (i < 0 || !m) throw new Error(`the form has no row for ${code}`);
    sheet = sheet.replace(new RegExp(`<c r="F${m[1]}" s="(\\d+)"/>`), (_, s) => cell(`F${m[1]}`, s, v));
  }
  for (const [rule, text] of Object.entries(explanations)) {
    // The first explanation row still empty: an input cell in A and F.
    const m = /<c r="A(\d+)" s="(\d+)"\/><c r="F\1" s="\2"\/>/.exec(sheet);
    if (!m) throw new Error("the form has no empty explanation row");
    sheet = sheet.replace(m[0], cell(`A${m[1]}`, m[2], `explain:${rule}`) + cell(`F${m[1]}`, m[2], text));
  }
  files["xl/worksheets/sheet1.xml"] = strToU8(sheet);
  return Buffer.from(zipSync(files));
}

// The bundled sample figures (deploy/sample/YEAR/UNIT.csv) of years,
// imported by the admin in one file of the long form; the reports of
// skip ("unit/year") left out.
export function importSamples(server, years, skip = []) {
  const lines = ["unit,period,element,value"];
  for (const y of years)
    for (const f of readdirSync(join(top, "deploy", "sample", String(y))).sort()) {
      const unit = f.replace(/\.csv$/, "");
      if (skip.includes(`${unit}/${y}`)) continue;
      for (const l of readFileSync(join(top, "deploy", "sample", String(y), f), "utf8").split("\n"))
        if (l && !l.startsWith("#") && !l.startsWith("data_element,")) lines.push(`${unit},${y},${l}`);
    }
  const file = join(server.dir, "samples.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  const r = server.tally(["import", file]);
  if (r.status !== 0) throw new Error(`tally import: ${r.err}`);
}

// In the page: opens /ws and sends bytes (or nothing); resolves with
// {opened, reply (bytes), code}.
export async function wsTry(page, url, bytes) {
  return page.evaluate(([url, bytes]) => new Promise((resolve) => {
    const ws = new WebSocket(url, "tally");
    ws.binaryType = "arraybuffer";
    let opened = false;
    ws.onopen = () => { opened = true; if (bytes) ws.send(new Uint8Array(bytes)); else ws.close(); };
    ws.onmessage = (ev) => { resolve({ opened, reply: [...new Uint8Array(ev.data)] }); ws.close(); };
    ws.onclose = (ev) => resolve({ opened, code: ev.code });
  }), [url, bytes]);
}

export const wsUrl = (server) => server.web.replace(/^http/, "ws") + "/ws";

// An Envelope with body, as bytes for wsTry.
export function request(body) {
  return [...pb.Envelope.encode(pb.Envelope.create({ id: 7, ...body })).finish()];
}
