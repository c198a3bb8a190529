// The one module that talks to the server: the sign-in over HTTP
// (POST /session, its cookie set by the server) and the WebSocket that
// carries one Envelope per binary message, as the command line's frames
// do.
import { tally } from "./gen/tally.js";

export const Envelope = tally.Envelope;
export const pb = tally;

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-protobuf" },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return bytes.length ? Envelope.decode(bytes) : Envelope.create({});
}

// Who the cookie signs in as: a SignInReply, or null.
export async function session() {
  const res = await fetch("/session", { credentials: "same-origin" });
  if (!res.ok) return null;
  const env = Envelope.decode(new Uint8Array(await res.arrayBuffer()));
  return env.signInReply || null;
}

// Signs in (and changes a first password); the Envelope answered.
export function signIn(name, password, newPassword) {
  const env = Envelope.create({
    signIn: { name, password, newPassword: newPassword || "" },
  });
  return post("/session", Envelope.encode(env).finish());
}

export function signOut() {
  return post("/session/end", new Uint8Array(0));
}

// A WebSocket to the server; requests are answered in order.
export class Connection {
  constructor(onClose) {
    this.next = 1;
    this.waiting = new Map();
    this.onClose = onClose;
    this.ws = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(`${scheme}://${location.host}/ws`, "tally");
      ws.binaryType = "arraybuffer";
      let opened = false;
      ws.onopen = () => { opened = true; this.ws = ws; resolve(this); };
      ws.onmessage = (ev) => this.receive(new Uint8Array(ev.data));
      ws.onclose = (ev) => {
        this.ws = null;
        for (const [, w] of this.waiting) w.reject(new Closed(ev.code, ev.reason));
        this.waiting.clear();
        if (opened) this.onClose(ev.code, ev.reason);
        else reject(new Closed(ev.code, ev.reason));
      };
    });
  }

  get open_() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

  receive(bytes) {
    const env = Envelope.decode(bytes);
    const w = this.waiting.get(Number(env.id));
    if (!w) return;
    this.waiting.delete(Number(env.id));
    w.resolve(env);
  }

  // Sends a request body ({catalog: {}}, {submit: {...}}): the reply
  // Envelope (an error reply among them); rejects when the connection
  // closes first.
  request(body) {
    if (!this.open_) return Promise.reject(new Closed(0, "not connected"));
    const id = this.next++;
    const env = Envelope.create({ id, ...body });
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(Envelope.encode(env).finish());
    });
  }

  close() { if (this.ws) this.ws.close(1000); }
}

export class Closed extends Error {
  constructor(code, reason) {
    super(`closed (${code}) ${reason || ""}`);
    this.code = code;
  }
}

// The reply's error, or null.
export function errorOf(env) { return env.error || null; }
