// What a page of another site, a browser without a session, a clerk of
// another unit and markup in the data cannot do.
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { signIn, assert, eq, pb, wsTry, wsUrl, request } from "../lib.mjs";

export async function without_a_session_nothing_opens({ page, server }) {
  await page.goto(`${server.web}/`);
  await page.waitForSelector("#sign-in");
  const who = await page.evaluate(() => fetch("/session").then((r) => r.status));
  eq(who, 401, "GET /session without a cookie");
  const got = await wsTry(page, wsUrl(server), request({ whoami: {} }));
  eq(got.opened, false, "the WebSocket opens without a session");
}

export async function every_response_carries_the_strict_headers({ page, server }) {
  const res = await page.goto(`${server.web}/`);
  const hd = res.headers();
  const csp = hd["content-security-policy"] || "";
  for (const part of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
                      "object-src 'none'", "base-uri 'none'"])
    assert(csp.includes(part), `the CSP has ${part}: ${csp}`);
  assert(!/unsafe-inline|unsafe-eval|\*/.test(csp), `the CSP allows nothing loose: ${csp}`);
  eq(hd["x-content-type-options"], "nosniff", "nosniff");
  eq(hd["x-frame-options"], "DENY", "x-frame-options");
  eq(hd["referrer-policy"], "no-referrer", "referrer-policy");
  const script = await page.getAttribute("script[type=module]", "src");
  const js = await page.request.get(`${server.web}${script}`);
  assert(js.headers()["content-security-policy"] === csp, "an asset carries the CSP too");
  assert(/javascript/.test(js.headers()["content-type"]), `a script's type: ${js.headers()["content-type"]}`);
  const up = await page.request.get(`${server.web}/../../../etc/passwd`);
  assert(up.status() === 404 && !(await up.text()).includes("root:"), "no file above --web-dir");
}

export async function a_clerk_cannot_read_or_write_another_units_figures({ page, server }) {
  const clerk = server.account("reporter", "wenchang", "文昌街道报表员", "first-pass-234");
  await signIn(page, server, clerk, "new-pass-5678");
  const read = await wsTry(page, wsUrl(server),
                           request({ values: { unit: "guide", period: "2022" } }));
  const r = pb.Envelope.decode(Uint8Array.from(read.reply));
  eq(r.error && r.error.code, 16, "reading guide's figures: permission denied");
  const write = await wsTry(page, wsUrl(server), request({
    submit: { unit: "guide", period: "2022", values: [{ element: "live_births", value: 5 }] } }));
  const w = pb.Envelope.decode(Uint8Array.from(write.reply));
  eq(w.error && w.error.code, 16, "writing guide's figures: permission denied");
  const got = server.tally(["values", "--unit", "guide", "--period", "2022", "--format", "json"]);
  assert(!got.out.includes("live_births"), `nothing stored for guide: ${got.out}`);
}

export async function a_page_of_another_origin_cannot_open_the_websocket({ page, server }) {
  const clerk = server.account("reporter", "wenchang", "文昌街道审核员", "first-pass-345");
  await signIn(page, server, clerk, "new-pass-6789"); // the browser has the cookie
  const evil = createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><title>...</title><script>
      const ws = new WebSocket(${JSON.stringify(wsUrl(server))}, "tally");
      ws.onopen = () => { document.title = "opened"; };
      ws.onclose = () => { if (document.title !== "opened") document.title = "refused"; };
    </script>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  try {
    await page.goto(`http://127.0.0.1:${evil.address().port}/`);
    await page.waitForFunction(() => document.title === "opened" || document.title === "refused");
    eq(await page.title(), "refused", "a WebSocket from another origin");
    assert(server.log().includes("a WebSocket from another origin"), "the server says why");
  } finally {
    evil.close();
  }
}

export async function markup_in_names_and_reasons_is_shown_as_text({ page, server }) {
  const clerk = server.account("reporter", "wenchang", "<script>window.pwned=3</script>站",
                               "first-pass-456");
  // A 2021 report, returned by the central office with markup in its reason.
  const csv = join(server.dir, "2021.csv");
  writeFileSync(csv, "live_births,90\n");
  const sent = server.tally(["submit", "--unit", "wenchang", "--period", "2021", "--file", csv],
                            { token: clerk.token });
  eq(sent.status, 0, `tally submit: ${sent.err}`);
  const reason = "<script>window.pwned=2</script><img src=x onerror=window.pwned=4>请核实";
  const ret = server.tally(["review", "return", "--unit", "wenchang", "--period", "2021",
                            "--reason", reason]);
  eq(ret.status, 0, `tally review return: ${ret.err}`);

  await signIn(page, server, clerk, "new-pass-7890");
  const unit = await page.textContent("#unit-name");
  assert(unit.includes("<script>window.pwned=1</script>"), `the unit's name as text: ${unit}`);
  const shown = await page.textContent('tr[data-period="2021"] .reason');
  assert(shown.includes(reason), `the reason as text: ${shown}`);
  assert((await page.textContent("header .who")).includes("<script>"), "the account's name as text");
  eq(await page.evaluate(() => window.pwned), undefined, "no markup ran");
  eq(await page.evaluate(() => document.querySelectorAll("main script, main img, header script").length),
     0, "no element was made from the data");
}

export async function a_revoked_accounts_open_page_stops_at_once({ page, server }) {
  const clerk = server.account("reporter", "guide", "归德街道统计站", "first-pass-567");
  await signIn(page, server, clerk, "new-pass-8901");
  // A second WebSocket of the page's, to hear how it is closed.
  await page.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url, "tally");
    ws.onopen = resolve;
    ws.onclose = (ev) => { window.closedWith = [ev.code, ev.reason]; };
  }), wsUrl(server));
  const revoked = server.tally(["account", "revoke", String(clerk.id)]);
  eq(revoked.status, 0, `tally account revoke: ${revoked.err}`);
  await page.waitForSelector("#sign-in", { timeout: 5000 });
  assert((await page.textContent("#sign-in-message")).includes("会话已结束"), "the page says why");
  await page.waitForFunction(() => window.closedWith);
  eq(await page.evaluate(() => window.closedWith), [1008, "session ended"], "closed with 1008");
  eq(await page.evaluate(() => fetch("/session").then((r) => r.status)), 401, "the session is gone");
  const again = await wsTry(page, wsUrl(server), request({ whoami: {} }));
  eq(again.opened, false, "no WebSocket for it any more");
}
