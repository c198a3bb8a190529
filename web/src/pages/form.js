// A period's form: the unit's data elements grouped as the plans group
// them, with both names and the unit of measure, last year's figure
// beside each field, the catalog's rules checked as the clerk types,
// and the submission kept in the outbox until the server answers it.
import { h, show } from "../dom.js";
import { t, en, named, unitOf } from "../i18n.js";
import { sections, cellsOf } from "../catalog.js";
import { loadRules, broken } from "../rules.js";
import { decode, readFigures, readSheet } from "../upload.js";
import { looksLikeXlsx, readXlsx, XlsxError } from "../xlsx.js";
import { pb, Closed } from "../net.js";
import * as outbox from "../outbox.js";
import { send, waitingLine, describe } from "./outbox_view.js";

// The same period a year before: 2022 → 2021, 2022Q3 → 2021Q3.
function yearBefore(period) {
  return period.replace(/^(\d{4})/, (y) => String(Number(y) - 1));
}

function valuesOf(reply) {
  const m = new Map();
  for (const v of (reply && reply.values) || []) m.set(v.element, v.value);
  return m;
}

const fmt = (x) => (x === undefined ? "" : String(x));

export async function formPage(app, period) {
  const unit = app.account.unit;
  const [now, before] = await Promise.all([
    app.conn.request({ values: { unit, period } }),
    app.conn.request({ values: { unit, period: yearBefore(period) } }),
  ]);
  if (now.error) {
    show(app.main, h("p", { class: "error", id: "form-error" }, now.error.message),
      h("p", {}, h("a", { href: "#/" }, t("back"))));
    return;
  }
  const cat = app.catalog;
  if (!cat.rules) cat.rules = loadRules(cat);
  const stored = valuesOf(now.valuesReply);
  const last = valuesOf(before.valuesReply);
  const explained = new Map((now.valuesReply.explanations || []).map((e) => [e.rule, e.text]));
  let baseRevision = Number(now.valuesReply.revision || 0);

  const inputs = new Map();   // cell code → <input>
  const notes = new Map();    // cell code → <div> for its messages
  const boxes = new Map();    // warning rule → its explanation <textarea>
  // What the server's dry run of the figures found that the page cannot
  // judge (the outlier tests read other units' and years' figures):
  // {key, found: [{rule, warning, text, cells}]} for the figures of key.
  let serverSaw = { key: null, found: [] };
  let serverTimer = null;
  const elementOf = new Map(); // cell → element

  function field(cell, el) {
    const input = h("input", {
      id: `f-${cell}`, name: cell, inputmode: "decimal", autocomplete: "off",
      "aria-label": `${named(el)} ${cell.includes(".") ? cell.split(".")[1] : ""}`,
      value: fmt(stored.get(cell)),
    });
    input.addEventListener("input", () => { check(); askSoon(); });
    inputs.set(cell, input);
    elementOf.set(cell, el);
    const note = h("div", { class: "note", id: `n-${cell}` });
    notes.set(cell, note);
    return [input, note];
  }

  function plainRow(el) {
    const [input, note] = field(el.code, el);
    return h("tr", {},
      h("th", { scope: "row" }, h("div", {}, el.name_zh), h("div", { class: "en" }, el.name_en)),
      h("td", { class: "uom" }, unitOf(el)),
      h("td", {}, input, note),
      h("td", { class: "last" }, fmt(last.get(el.code))));
  }

  function ageTable(el) {
    return h("table", { class: "ages", id: `t-${el.code}` },
      h("caption", {}, h("span", {}, el.name_zh), " ", h("span", { class: "en" }, el.name_en), ` (${unitOf(el)})`),
      h("thead", {}, h("tr", {}, h("th", {}, t("ageGroup")), h("th", {}, t("value")), h("th", {}, t("lastYear")))),
      h("tbody", {}, el.age_groups.map((g) => {
        const cell = `${el.code}.${g}`;
        const [input, note] = field(cell, el);
        return h("tr", {}, h("th", { scope: "row" }, g), h("td", {}, input, note),
          h("td", { class: "last" }, fmt(last.get(cell))));
      })));
  }

  const parts = sections(cat, unit).map((s) => {
    const plain = s.elements.filter((el) => !el.age_groups);
    const aged = s.elements.filter((el) => el.age_groups);
    return h("section", {},
      h("h3", {}, en() ? s.en : s.zh),
      plain.length ? h("table", { class: "plain" },
        h("thead", {}, h("tr", {}, h("th", {}, t("element")), h("th", {}, t("unit")),
          h("th", {}, t("value")), h("th", {}, t("lastYear")))),
        h("tbody", {}, plain.map(plainRow))) : null,
      aged.map(ageTable));
  });

  // A file read into the form, for a look before it is sent.
  const file = h("input", { type: "file", id: "upload", accept: ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const uploadSaid = h("div", { id: "upload-said", role: "status" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    file.value = ""; // the same file may be read again
    const elements = new Map();
    for (const el of elementOf.values()) elements.set(el.code, el);
    const words = { line: t("lineError"), otherForm: t("otherForm"), emptyExplanation: t("emptyExplanation"),
                    columns: t("columns"), unknown: t("unknownElement"), notNumber: t("notNumber"),
                    twice: t("twice") };
    const opts = { unit, period, elements, cells: new Set(inputs.keys()), words };
    let got, encoding;
    if (looksLikeXlsx(bytes)) {
      encoding = "xlsx";
      try {
        got = readSheet(readXlsx(bytes, t("xlsxWords")), opts);
      } catch (e) {
        if (!(e instanceof XlsxError)) throw e;
        got = { errors: [e.message] };
      }
    } else {
      const read = decode(bytes);
      encoding = read.encoding;
      got = readFigures(read.text, opts);
    }
    if (got.errors.length) {
      uploadSaid.replaceChildren(h("div", { class: "error", id: "upload-errors" },
        h("p", {}, t("uploadRefused")), h("ul", {}, got.errors.map((e) => h("li", {}, e)))));
      return;
    }
    for (const [cell, input] of inputs) input.value = fmt(got.values.get(cell));
    for (const [rule, text] of got.explanations) {
      explained.set(rule, text);
      if (boxes.has(rule)) boxes.get(rule).value = text;
    }
    uploadSaid.replaceChildren(h("p", { class: "ok", id: "uploaded" }, t("uploaded")(got.values.size, encoding)));
    check();
  });

  const said = h("div", { id: "said", role: "status" });
  const submitButton = h("button", { type: "submit", id: "submit" }, t("submit"));
  const summary = h("p", { id: "summary" });
  // The server's findings that name no field of the form.
  const general = h("div", { id: "server-notes" });
  const form = h("form", { id: "figures", novalidate: true }, parts, general, summary, submitButton);
  const review = now.valuesReply.review;
  show(app.main,
    h("p", {}, h("a", { href: "#/" }, t("back"))),
    h("h2", { id: "form-title" }, `${named(cat.units.get(unit) || { code: unit })} · ${period}`),
    review && review.reason ? h("p", { class: "reason", id: "review-reason" }, `${t("reason")}: `, review.reason) : null,
    await waitingLine(app),
    h("label", { class: "upload" }, t("upload"), file),
    uploadSaid,
    said,
    form);

  // The figures typed, and what is wrong with each field by itself.
  function read() {
    const values = new Map();
    let bad = 0;
    for (const [cell, input] of inputs) {
      const el = elementOf.get(cell);
      const text = input.value.trim();
      input.classList.remove("bad", "warn");
      notes.get(cell).replaceChildren();
      if (text === "") continue;
      const x = Number(text);
      const whole = el.type === "count";
      if (!Number.isFinite(x) || x < 0 || (whole && !Number.isInteger(x))) {
        notes.get(cell).append(h("div", { class: "error" }, t(whole ? "wholeNumber" : "number")));
        input.classList.add("bad");
        bad++;
        continue;
      }
      values.set(cell, x);
    }
    return { values, bad };
  }

  // The submission of these figures, as sent (or, dryRun, as checked).
  function request(values, shown, dryRun) {
    return pb.SubmitRequest.create({
      unit, period,
      values: [...values].map(([element, value]) => ({ element, value })),
      submissionId: dryRun ? "" : crypto.randomUUID(),
      replace: true,
      checkRevision: true,
      baseRevision,
      explanations: [...shown].filter((rule) => (explained.get(rule) || "").trim())
        .map((rule) => ({ rule, text: explained.get(rule).trim() })),
      dryRun,
    });
  }
  const keyOf = (values) => JSON.stringify([...values]);

  // Asks the server what it would say of the figures (a dry run: nothing
  // stored) and keeps the rules it found that the page did not. It is
  // sent without explanations, so that every warning not explained
  // before comes back with the fields it reads.
  async function askServer() {
    const { values, errors, local } = check();
    if (values.size === 0 || !app.conn || errors > 0) return; // the page's own errors first
    const key = keyOf(values);
    if (serverSaw.key === key) return;
    summary.textContent = t("serverChecking");
    let env;
    try {
      env = await app.conn.request({ submit: request(values, new Set(), true) });
    } catch (e) {
      // Not checked (the connection went, no answer): the submission is
      // kept and sent as ever, and the server's own answer decides.
      check();
      return;
    }
    if (keyOf(check().values) !== key) return; // typed on since: asked again
    const cellsAt = [...values.keys()];
    const found = [];
    for (const d of (env.error && env.error.details) || []) {
      if (!d.rule || local.has(d.rule)) continue;
      const cells = [d.index, ...(d.also || [])].map((i) => cellsAt[i - 1]).filter(Boolean);
      found.push({ rule: d.rule, warning: d.warning, text: d.text, cells });
    }
    serverSaw = { key, found };
    check();
  }
  function askSoon() {
    clearTimeout(serverTimer);
    serverTimer = setTimeout(() => askServer().catch(() => {}), 700);
  }

  // Checks every rule on what is typed: errors and warnings at the
  // fields their left side names (every field it reads is marked); and
  // what the server's dry run found of these same figures.
  function check() {
    const { values, bad } = read();
    const found = broken(cat.rules, values).map(({ rule, left, right }) => ({
      code: rule.code, warning: rule.warning, cells: [...rule.left.cells, ...rule.right.cells],
      first: rule.left.cells,
      words: `${en() ? rule.message_en : rule.message_zh} (${left} ${rule.op} ${right})`,
    }));
    const local = new Set(found.map((f) => f.code));
    if (serverSaw.key === keyOf(values))
      for (const s of serverSaw.found)
        found.push({ code: s.rule, warning: s.warning, cells: s.cells, first: s.cells,
                     words: `${t("serverSays")}: ${s.text}`, server: true });
    let errors = bad, unexplained = 0;
    const shown = new Set();
    general.replaceChildren();
    for (const f of found) {
      const rule = { code: f.code, warning: f.warning };
      const cells = f.cells;
      const at = f.first.find((c) => notes.has(c)) || cells.find((c) => notes.has(c));
      for (const c of cells) if (inputs.has(c)) inputs.get(c).classList.add(rule.warning ? "warn" : "bad");
      if (!at && !f.server) continue;
      const place = at ? notes.get(at) : general; // a server rule may name no field here
      const msg = h("div", { class: rule.warning ? "warning" : "error", "data-rule": rule.code,
                             "data-server": f.server ? "1" : null }, f.words);
      place.append(msg);
      if (rule.warning) {
        let box = boxes.get(rule.code);
        if (!box) {
          box = h("textarea", { id: `x-${rule.code}`, rows: 2, maxlength: 600, placeholder: t("explain") });
          box.value = explained.get(rule.code) || "";
          box.addEventListener("input", () => { explained.set(rule.code, box.value); summarize(); });
          boxes.set(rule.code, box);
        }
        place.append(h("label", { class: "explain" }, t("explain"), box));
        shown.add(rule.code);
      } else {
        errors++;
      }
    }
    function summarize() {
      unexplained = [...shown].filter((c) => !(explained.get(c) || "").trim()).length;
      summary.textContent = errors ? t("errors") : unexplained ? t("needExplain") : "";
      submitButton.disabled = errors > 0 || unexplained > 0;
    }
    summarize();
    return { values, shown, ok: errors === 0 && unexplained === 0, errors, local };
  }
  check();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let { values, shown, ok } = check();
    if (!ok) return;
    if (serverSaw.key !== keyOf(values)) { // what only the server can judge
      clearTimeout(serverTimer);
      await askServer();
      ({ values, shown, ok } = check());
      if (!ok) return;
    }
    const req = request(values, shown, false);
    const entry = {
      id: req.submissionId, account: app.account.id, unit, period,
      bytes: pb.SubmitRequest.encode(req).finish(), created: Date.now(),
    };
    await outbox.keep(entry); // before it is sent: nothing is lost
    submitButton.disabled = true;
    show(app.notice);
    said.replaceChildren(h("p", { class: "sending", id: "sending" }, `${t("sending")}: ${describe(entry)}`));
    let env;
    try {
      env = await send(app, entry);
    } catch (e) {
      if (!(e instanceof Closed)) throw e;
      said.replaceChildren(await waitingLine(app));
      return;
    }
    submitButton.disabled = false;
    if (env.error) {
      said.replaceChildren(h("div", { class: "error", id: "refused" },
        h("p", {}, `${t("refused")}: `, env.error.message),
        (env.error.details || []).map((d) => h("p", {}, d.text))));
      return;
    }
    const rep = env.submitReply;
    baseRevision = Number(rep.revision);
    said.replaceChildren(h("p", { class: "ok", id: "stored" },
      `${t("sent")}: ${rep.accepted} · ${t("revision")} ${rep.revision}`));
  });
}
