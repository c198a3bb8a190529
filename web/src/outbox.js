// Submissions kept in the browser (IndexedDB) from before they are sent
// until the server has answered them: each has its id from the start,
// so one sent twice (a lost answer, a closed tab) is stored once.
const DB = "tally";
const STORE = "outbox";

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, mode);
    const out = fn(tx.objectStore(STORE));
    tx.oncomplete = () => { d.close(); resolve(out && out.result); };
    tx.onerror = () => { d.close(); reject(tx.error); };
  });
}

// Keeps a submission: {id, account, unit, period, bytes, created}.
export function keep(entry) { return run("readwrite", (s) => s.put(entry)); }
export function drop(id) { return run("readwrite", (s) => s.delete(id)); }
// Every kept submission of an account, oldest first.
export async function kept(account) {
  const all = (await run("readonly", (s) => s.getAll())) || [];
  return all.filter((e) => e.account === account).sort((a, b) => a.created - b.created);
}
