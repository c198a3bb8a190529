// The network is cut between sending and the acknowledgement: the
// server has committed the figures, its answer never reaches the page.
// The page says what waits; once the network is back it sends it again
// by itself, says that it was sent, and the server holds it once.
import { signIn, assert, eq, pb } from "../lib.mjs";

export async function figures_sent_as_the_network_goes_are_stored_once({ context, page, server }) {
  const clerk = server.account("reporter", "xiaoli", "孝里镇统计站", "first-pass-678");
  // Every WebSocket of the page goes through here: messages pass both
  // ways until the first acknowledgement of a submission, which is
  // dropped as the network goes; while it is down, none opens.
  let down = false, dropped = null, opened = 0;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (down) {
      ws.close({ code: 1001, reason: "the network is down" });
      return;
    }
    opened++;
    const tallyd = ws.connectToServer();
    tallyd.onMessage((m) => {
      const env = pb.Envelope.decode(m);
      if (env.submitReply && !env.submitReply.dryRun && !dropped) { // not the dry run the form asks first
        dropped = env.submitReply;
        down = true;
        context.setOffline(true);
        tallyd.close();
        ws.close({ code: 1001, reason: "the network is down" });
        return;
      }
      ws.send(m);
    });
  });
  await signIn(page, server, clerk, "new-pass-9012");
  // 2020: no other journey's figures to be compared with.
  await page.click('tr[data-period="2020"] a.open');
  await page.waitForSelector("#figures");
  await page.fill("#f-live_births", "321");
  await page.fill("#f-infant_deaths", "1");
  await page.fill("#f-under5_deaths", "2");
  await page.click("#submit");

  // The server has it; the page does not know: it says what waits.
  await page.waitForSelector("#said #waiting");
  assert(dropped && Number(dropped.revision) === 1 && !dropped.duplicate,
         `the dropped answer: ${JSON.stringify(dropped)}`);
  const waiting = await page.textContent("#said #waiting");
  assert(waiting.includes("等待发送") && waiting.includes("2020") && waiting.includes("3 项数据"),
         `the page says what waits: ${waiting}`);
  assert(waiting.includes("不会重复保存"), `and that it will be stored once: ${waiting}`);
  await page.waitForSelector("#offline");
  await page.waitForTimeout(2500); // a try to reconnect fails meanwhile
  assert(await page.$("#figures"), "the form stays while the network is down");

  // The network is back: the page reconnects and sends what waited.
  down = false;
  await context.setOffline(false);
  await page.waitForSelector("#notice #sent", { timeout: 15000 });
  const sent = await page.textContent("#notice #sent");
  assert(sent.includes("已送达") && sent.includes("2020") && sent.includes("版本 1"),
         `the page says it was sent: ${sent}`);
  assert(sent.includes("没有重复保存"), `and that the server had it already: ${sent}`);
  assert(opened >= 2, `the page connected again (${opened})`);
  eq(await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open("tally", 1);
    req.onsuccess = () => {
      const all = req.result.transaction("outbox").objectStore("outbox").getAll();
      all.onsuccess = () => { resolve(all.result.length); req.result.close(); };
    };
  })), 0, "the outbox is empty");

  // Stored once: revision 1, one entry in the history.
  const values = server.tally(["values", "--unit", "xiaoli", "--period", "2020", "--format", "json"]);
  eq(values.status, 0, `tally values: ${values.err}`);
  const v = JSON.parse(values.out);
  eq(v.revision, 1, "the report's revision");
  const by = Object.fromEntries(v.values.map((x) => [x.element, x.value]));
  eq([by.live_births, by.infant_deaths, by.under5_deaths], [321, 1, 2], "the figures stored");
  const history = server.tally(["history", "--unit", "xiaoli", "--period", "2020", "--format", "json"]);
  eq(history.status, 0, `tally history: ${history.err}`);
  const h = JSON.parse(history.out);
  eq(h.history.length, 1, `one entry in the history: ${history.out}`);
  eq([h.history[0].revision, h.history[0].submission_id], [1, dropped.submissionId],
     "its revision and submission id");
}

// The tab is closed before the answer came: the next page opened sends
// what waited, and it is stored once.
export async function figures_of_a_tab_closed_before_the_answer_are_sent_by_the_next({ context, page, server }) {
  const clerk = server.account("reporter", "mashan", "马山镇统计站", "first-pass-789");
  let dropped = null;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const tallyd = ws.connectToServer();
    tallyd.onMessage((m) => {
      const env = pb.Envelope.decode(m);
      if (env.submitReply && !env.submitReply.dryRun && !dropped) { // not the dry run the form asks first
        dropped = env.submitReply; // the tab closes before it arrives
        return;
      }
      ws.send(m);
    });
  });
  await signIn(page, server, clerk, "new-pass-0123");
  await page.click('tr[data-period="2021"] a.open');
  await page.waitForSelector("#figures");
  await page.fill("#f-live_births", "77");
  await page.click("#submit");
  await page.waitForFunction(() => document.querySelector("#sending"));
  for (let i = 0; i < 50 && !dropped; i++) await page.waitForTimeout(100);
  assert(dropped, "the server answered (and the answer was held back)");
  await page.close();

  const next = await context.newPage();
  await next.goto(`${server.web}/`);
  await next.waitForSelector("#notice #sent");
  const sent = await next.textContent("#notice #sent");
  assert(sent.includes("2021") && sent.includes("1 项数据") && sent.includes("没有重复保存"),
         `the next page says what it sent: ${sent}`);
  const h = JSON.parse(server.tally(["history", "--unit", "mashan", "--period", "2021",
                                     "--format", "json"]).out);
  eq(h.history.map((c) => c.submission_id), [dropped.submissionId], "stored once");
}
