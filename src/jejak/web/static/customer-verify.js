/* jejak: the customer's browser checks that every entry of their case is in the operator's
   public transparency log, unchanged, and that the log only grew since the last visit.
   WebCrypto only (SHA-256 and Ed25519); no library, no inline script (the CSP forbids it).

   - checkpoint: C2SP tlog-checkpoint in a C2SP signed note; Ed25519 (alg 0x01) by the log key,
     cosignature/v1 (alg 0x04) by witness keys when the page names any;
   - inclusion: RFC 9162 §2.1.3.2 with leaf hash SHA-256(0x00 || entry);
   - consistency: RFC 9162 §2.1.4.2 from the checkpoint kept in localStorage at the last visit. */
"use strict";
(() => {
  const panel = document.getElementById("proof");
  if (!panel) return;
  const STORE = "jejak.checkpoint";
  const text = new TextEncoder();
  const msg = (name, vars = {}) =>
    (panel.dataset[name] || name).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ""));

  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const cat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sha = async (...parts) => new Uint8Array(await crypto.subtle.digest("SHA-256", cat(...parts)));
  const leafHash = (e) => sha(new Uint8Array([0]), e);
  const nodeHash = (l, r) => sha(new Uint8Array([1]), l, r);
  const odd = (n) => n % 2 === 1;
  const half = (n) => Math.floor(n / 2);
  const hex = (a) => Array.from(a, (x) => x.toString(16).padStart(2, "0")).join("");

  class Failure extends Error {}

  // ---- signed note (c2sp.org/signed-note)
  function parseKey(vkey) {
    // name+keyid+base64(alg || key): the base64 may itself hold "+"
    const [name, id, ...rest] = vkey.trim().split("+");
    const raw = b64(rest.join("+"));
    return { name, id, alg: raw[0], pub: raw.slice(1) };
  }
  async function ed25519(pub, sig, message) {
    const key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, sig, message);
  }
  async function openNote(note, logKey, witnessKeys) {
    const cut = note.indexOf("\n\n");
    if (cut < 0) throw new Failure(msg("msgBadCheckpoint"));
    const body = note.slice(0, cut + 1);
    const lines = note.slice(cut + 2).split("\n").filter((l) => l);
    const log = parseKey(logKey);
    const witnesses = witnessKeys.map(parseKey);
    let logOk = false;
    let cosigned = 0;
    for (const line of lines) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) continue;
      const sig = b64(m[2]);
      const id = hex(sig.slice(0, 4));
      if (m[1] === log.name && id === log.id && log.alg === 1) {
        logOk = logOk || (await ed25519(log.pub, sig.slice(4), text.encode(body)));
      }
      for (const w of witnesses) {
        if (m[1] !== w.name || id !== w.id || w.alg !== 4 || sig.length !== 76) continue;
        const t = new DataView(sig.buffer, 4, 8).getBigUint64(0);
        const signed = text.encode(`cosignature/v1\ntime ${t}\n` + body);
        if (await ed25519(w.pub, sig.slice(12), signed)) cosigned += 1;
      }
    }
    if (!logOk) throw new Failure(msg("msgBadSignature"));
    if (witnesses.length && cosigned < witnesses.length) throw new Failure(msg("msgBadWitness"));
    const [origin, size, root] = body.split("\n");
    return { origin, size: Number(size), root: b64(root), cosigned };
  }

  // ---- RFC 9162 §2.1.3.2
  async function rootFromInclusion(leaf, index, size, proof) {
    if (index >= size) return null;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) return null;
      if (odd(fn) || fn === sn) {
        r = await nodeHash(p, r);
        if (!odd(fn)) while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = half(fn); sn = half(sn);
    }
    return sn === 0 ? r : null;
  }

  // ---- RFC 9162 §2.1.4.2
  async function consistent(size1, root1, size2, root2, proof) {
    if (size1 === size2) return proof.length === 0 && same(root1, root2);
    if (size1 === 0) return true;
    if (size1 > size2) return false;
    const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : proof.slice();
    if (!path.length) return false;
    let fn = size1 - 1, sn = size2 - 1;
    while (odd(fn)) { fn = half(fn); sn = half(sn); }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (odd(fn) || fn === sn) {
        fr = await nodeHash(c, fr); sr = await nodeHash(c, sr);
        if (!odd(fn)) while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = half(fn); sn = half(sn);
    }
    return sn === 0 && same(fr, root1) && same(sr, root2);
  }

  function mark(seq, ok, why) {
    const el = document.getElementById("v-" + seq);
    if (!el) return;
    el.textContent = ok ? msg("msgEntryOk") : msg("msgEntryBad") + (why ? " — " + why : "");
    el.className = "verify " + (ok ? "ok" : "bad");
  }

  function say(lines, ok) {
    const out = panel.querySelector(".verdict");
    out.replaceChildren(...lines.map((l) => { const p = document.createElement("p"); p.textContent = l; return p; }));
    panel.classList.remove("checking");
    panel.classList.add(ok ? "ok" : "bad");
    panel.dataset.result = ok ? "verified" : "failed";
  }

  function readStored() {
    try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch { return null; }
  }

  async function run() {
    if (!window.crypto || !crypto.subtle) throw new Failure(msg("msgNoCrypto"));
    const before = readStored();
    const url = new URL(panel.dataset.bundle, location.href);
    if (before && before.size) url.searchParams.set("since", String(before.size));
    const resp = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
    if (!resp.ok) throw new Failure(msg("msgNoBundle"));
    const b = await resp.json();
    if (before && before.key && before.origin === b.origin && before.key !== b.log_key)
      throw new Failure(msg("msgKeyChanged"));
    const cp = await openNote(b.checkpoint, b.log_key, b.witness_keys || []);
    if (cp.origin !== b.origin) throw new Failure(msg("msgBadCheckpoint"));
    const problems = [];
    // consistency with the last visit
    let grown = null;
    if (before && before.origin === cp.origin) {
      const oldRoot = b64(before.root);
      let ok;
      if (cp.size < before.size) ok = false;
      else if (cp.size === before.size) ok = same(oldRoot, cp.root);
      else ok = Array.isArray(b.consistency) && b.since === before.size &&
        (await consistent(before.size, oldRoot, cp.size, cp.root, b.consistency.map(b64)));
      if (!ok) problems.push(msg(cp.size < before.size ? "msgRolledBack" : "msgForked",
        { old: before.size, now: cp.size, when: before.seen_text || before.seen }));
      else grown = before;
    }
    // every entry, in order, none missing
    const seen = new Set();
    let good = 0;
    for (const e of b.entries) {
      seen.add(e.seq);
      if (e.index === null || e.proof === null) {
        mark(e.seq, false, msg("msgNotInLog")); problems.push(msg("msgEntryFailed", { seq: e.seq, why: msg("msgNotInLog") }));
        continue;
      }
      const root = await rootFromInclusion(await leafHash(b64(e.entry)), e.index, cp.size, e.proof.map(b64));
      if (root && same(root, cp.root)) { mark(e.seq, true); good += 1; }
      else { mark(e.seq, false, msg("msgChanged")); problems.push(msg("msgEntryFailed", { seq: e.seq, why: msg("msgChanged") })); }
    }
    for (let s = 1; s <= b.last_seq; s++) {
      if (!seen.has(s)) problems.push(msg("msgEntryFailed", { seq: s, why: msg("msgMissing") }));
    }
    if (problems.length) {
      say([msg("msgFailed"), ...problems], false);
      return;
    }
    const lines = [msg("msgAllOk", { n: good })];
    if (cp.cosigned) lines.push(msg("msgWitnessed", { n: cp.cosigned }));
    lines.push(grown ? msg("msgGrown", { when: grown.seen_text || grown.seen }) : msg("msgFirst"));
    say(lines, true);
    const now = new Date();
    localStorage.setItem(STORE, JSON.stringify({
      origin: cp.origin, size: cp.size, root: btoa(String.fromCharCode(...cp.root)),
      key: b.log_key, seen: now.toISOString(),
      seen_text: now.toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "id-ID"),
    }));
  }

  run().catch((err) => {
    say([msg("msgFailed"), err instanceof Failure ? err.message : msg("msgError") + " " + err], false);
    for (const el of document.querySelectorAll(".verify.checking")) mark(el.dataset.seq, false);
  });
})();
