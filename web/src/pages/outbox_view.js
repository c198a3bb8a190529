// What waits in the outbox: sent again once connected, and told plainly
// (which report, how many figures, since when; and, once sent, that the
// server has it and at which revision).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import * as outbox from "../outbox.js";
import { pb, Closed } from "../net.js";

// Error codes after which sending again cannot help: the submission is
// answered (refused), so it leaves the outbox.
const ANSWERED = new Set([3, 4, 5, 6, 7, 11, 12, 16, 18]);

// Sends one kept submission. Returns the reply Envelope, or throws a
// Closed when the connection is gone or goes before the answer (the
// submission stays kept).
export async function send(app, entry) {
  if (!app.conn) throw new Closed(0, "not connected");
  const submit = pb.SubmitRequest.decode(entry.bytes);
  const env = await app.conn.request({ submit });
  if (!env.error || ANSWERED.has(env.error.code)) await outbox.drop(entry.id);
  return env;
}

// "2022 · 12 项数据 · 填写于 2023-01-05 10:02": which report waits.
export function describe(entry) {
  const n = pb.SubmitRequest.decode(entry.bytes).values.length;
  const d = new Date(entry.created);
  const p = (x) => String(x).padStart(2, "0");
  const when = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  return `${entry.period} · ${n} ${t("figures")} · ${t("keptAt")} ${when}`;
}

// Sends every kept submission of the account, oldest first, until the
// connection goes. Returns [{entry, env}] for those answered.
export async function flush(app) {
  const done = [];
  for (const entry of await outbox.kept(app.account.id)) {
    try {
      done.push({ entry, env: await send(app, entry) });
    } catch (e) {
      if (!(e instanceof Closed)) throw e;
      break;
    }
  }
  return done;
}

// What the answers of a flush say, for the notice above the page: each
// report that waited, and whether the server stored it (at which
// revision; "had it already" for one stored before the answer was lost)
// or refused it (why). null when nothing waited.
export function sentNotice(done) {
  if (!done.length) return null;
  return h("div", { class: "ok", id: "sent" },
    h("p", {}, t("sentWaiting")),
    h("ul", {}, done.map(({ entry, env }) => {
      if (env.error)
        return h("li", { class: "error" }, `${describe(entry)}: ${t("refused")}: `, env.error.message);
      const rep = env.submitReply;
      return h("li", {}, `${describe(entry)}: ${t("sent")}, ${t("revision")} ${rep.revision}`,
        rep.duplicate ? `（${t("hadIt")}）` : "");
    })));
}

// The reports waiting, each named, or nothing.
export async function waitingLine(app) {
  const all = await outbox.kept(app.account.id);
  if (!all.length) return null;
  return h("div", { class: "waiting", id: "waiting" },
    h("p", {}, `${t("waiting")}: ${all.length} ${t("waitingNote")}`),
    h("ul", {}, all.map((e) => h("li", {}, describe(e)))));
}
