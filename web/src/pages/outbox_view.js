// What waits in the outbox: sent again once connected, and told plainly.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import * as outbox from "../outbox.js";
import { pb } from "../net.js";

// Error codes after which sending again cannot help: the submission is
// answered (refused), so it leaves the outbox.
const ANSWERED = new Set([3, 4, 5, 6, 7, 11, 12, 16, 18]);

// Sends one kept submission. Returns the reply Envelope, or throws when
// the connection went before the answer (it stays kept).
export async function send(app, entry) {
  const submit = pb.SubmitRequest.decode(entry.bytes);
  const env = await app.conn.request({ submit });
  if (!env.error || ANSWERED.has(env.error.code)) await outbox.drop(entry.id);
  return env;
}

// Sends every kept submission of the account, oldest first.
export async function flush(app) {
  for (const e of await outbox.kept(app.account.id)) {
    try { await send(app, e); } catch { return; }
  }
}

// A line saying how many wait, or nothing.
export async function waitingLine(app) {
  const n = (await outbox.kept(app.account.id)).length;
  return n ? h("p", { class: "waiting", id: "waiting" }, `${t("waiting")}: ${n} ${t("waitingNote")}`) : null;
}
