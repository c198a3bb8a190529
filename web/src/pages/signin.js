// Signing in with the account's name and password; a first password
// set by the admin is replaced here before anything else.
import { h, show } from "../dom.js";
import { t } from "../i18n.js";
import * as net from "../net.js";

export function signInPage(app, mustChange) {
  const name = h("input", { id: "name", name: "name", autocomplete: "username", required: true });
  const pw = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const np = h("input", { id: "new-password", type: "password", autocomplete: "new-password", minlength: 8 });
  const np2 = h("input", { id: "new-password-again", type: "password", autocomplete: "new-password", minlength: 8 });
  const said = h("p", { id: "sign-in-message", class: "error", role: "alert" }, app.message || "");
  const change = h("div", { id: "change", hidden: !mustChange },
    h("p", {}, t("mustChange")),
    h("label", {}, t("newPassword"), np),
    h("label", {}, t("newPasswordAgain"), np2));
  const form = h("form", { id: "sign-in" },
    h("h2", {}, t("signIn")),
    h("label", {}, t("name"), name),
    h("label", {}, t("password"), pw),
    change,
    said,
    h("button", { type: "submit" }, t("signIn")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    said.textContent = "";
    if (!change.hidden && np.value !== np2.value) {
      said.textContent = t("differ");
      return;
    }
    const env = await net.signIn(name.value, pw.value, change.hidden ? "" : np.value)
      .catch((e) => ({ error: { message: String(e) } }));
    if (env.error) {
      said.textContent = env.error.message;
      return;
    }
    const rep = env.signInReply;
    if (rep.mustChange) {
      change.hidden = false;
      np.required = np2.required = true;
      np.focus();
      return;
    }
    app.message = "";
    pw.value = np.value = np2.value = "";
    location.hash = "#/";
    app.start(rep.account);
  });
  show(app.main, form);
  name.focus();
}
