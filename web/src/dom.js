// Building the page: every text a user or the server gave goes in as
// text (textContent), never as markup.

// h("p", {class: "x"}, "text", child, ...): an element. Attributes are
// set with setAttribute; "on" + event names take listeners.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces what parent holds.
export function show(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((c) => c != null));
}
