// End-to-end encryption for the browser client, byte for byte as docs/e2ee.md and the C# SDK
// (Client.Crypto): X3DH, the Double Ratchet, envelopes and bodies. X25519, Ed25519, HKDF, HMAC are
// WebCrypto; ChaCha20-Poly1305 (which WebCrypto lacks) is @noble/ciphers, vendored.
import { chacha20poly1305 } from "./vendor/noble-ciphers/chacha.js";

const subtle = crypto.subtle;
const ascii = (s) => new TextEncoder().encode(s);
const MAX_SKIP = 1000;
const MAX_SKIPPED = 2000;
const NO_ONE_TIME_KEY = 0xffffffff;

export const bytes = {
  concat: (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  },
  u32: (n) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; },
  readU32: (b, at) => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0),
  equal: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  hex: (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""),
  toBase64: (b) => { let s = ""; for (const x of b) s += String.fromCharCode(x); return btoa(s); },
  fromBase64: (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)),
};
const toUrl64 = (b) => bytes.toBase64(b).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
export const fromUrl64 = (s) => bytes.fromBase64(s.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (s.length % 4)) % 4));

// --- primitives ---------------------------------------------------------------------------------

async function generate(name, usages) {
  const pair = await subtle.generateKey({ name }, true, usages);
  const jwk = await subtle.exportKey("jwk", pair.privateKey);
  return { priv: fromUrl64(jwk.d), pub: fromUrl64(jwk.x) };
}

const x25519Generate = () => generate("X25519", ["deriveBits"]);

async function x25519(own, peerPublic) {
  const priv = await subtle.importKey("jwk", { kty: "OKP", crv: "X25519", d: toUrl64(own.priv), x: toUrl64(own.pub) },
    { name: "X25519" }, false, ["deriveBits"]);
  const peer = await subtle.importKey("raw", peerPublic, { name: "X25519" }, false, []);
  const out = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: peer }, priv, 256));
  if (out.every((x) => x === 0)) throw new Error("a low-order X25519 key");
  return out;
}

async function sign(identity, message) {
  const key = await subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d: toUrl64(identity.priv), x: toUrl64(identity.pub) },
    { name: "Ed25519" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign({ name: "Ed25519" }, key, message));
}

async function verify(identityKey, message, signature) {
  try {
    const key = await subtle.importKey("raw", identityKey, { name: "Ed25519" }, false, ["verify"]);
    return await subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch { return false; }
}

async function hkdf(ikm, salt, info, length) {
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: ascii(info) }, key, length * 8));
}

async function hmac(key, data) {
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

const seal = (key, nonce, ad, plaintext) => chacha20poly1305(key, nonce, ad).encrypt(plaintext);
const open = (key, nonce, ad, ciphertext) => chacha20poly1305(key, nonce, ad).decrypt(ciphertext); // throws on a bad tag

// --- device keys --------------------------------------------------------------------------------

const idhMessage = (idhPublic) => bytes.concat(ascii("natter-idh-v1"), idhPublic);
const spkMessage = (id, spkPublic) => bytes.concat(ascii("natter-spk-v1"), bytes.u32(id), spkPublic);

/** New keys for a device: identity, X25519 identity, signed prekey 1 and `count` one-time prekeys. */
export async function generateDeviceKeys(count) {
  const identity = await generate("Ed25519", ["sign", "verify"]);
  const idh = await x25519Generate();
  const spk = { id: 1, ...(await x25519Generate()) };
  const keys = { identity, idh, idhSignature: await sign(identity, idhMessage(idh.pub)), spk, opks: [], nextOpk: 1, baseKeys: [] };
  keys.spk.signature = await sign(identity, spkMessage(spk.id, spk.pub));
  for (let i = 0; i < count; i++) keys.opks.push({ id: keys.nextOpk++, ...(await x25519Generate()) });
  return keys;
}

/** The body of PUT /api/keys. */
export const publishRequest = (keys) => ({
  identityKey: bytes.toBase64(keys.identity.pub),
  identityDhKey: bytes.toBase64(keys.idh.pub),
  identityDhSignature: bytes.toBase64(keys.idhSignature),
  signedPreKey: { id: keys.spk.id, publicKey: bytes.toBase64(keys.spk.pub), signature: bytes.toBase64(keys.spk.signature) },
  oneTimePreKeys: keys.opks.map((k) => ({ id: k.id, publicKey: bytes.toBase64(k.pub) })),
});

/** A directory identity ({identityKey, identityDhKey, identityDhSignature}, base64) as bytes, if its signature holds. */
export async function verifiedIdentity(view) {
  const identity = { ik: bytes.fromBase64(view.identityKey), ikdh: bytes.fromBase64(view.identityDhKey) };
  if (!(await verify(identity.ik, idhMessage(identity.ikdh), bytes.fromBase64(view.identityDhSignature)))) throw new Error("a forged identity");
  return identity;
}

// --- which devices belong to an account (docs/e2ee.md §7.1, §7.2) ------------------------------

const deviceMessage = (userId, deviceIk) => bytes.concat(ascii("natter-device-v1"), deviceIk, new TextEncoder().encode(userId));

/**
 * Checks a user's directory listing (bundles or identities, base64) against the account key `known` (the primary's
 * identity key pinned earlier, or null): one primary, and every other device signed by its key. Answers the listing's
 * account key; throws naming a device the account did not endorse.
 */
export async function checkAccount(userId, devices, known) {
  if (devices.length === 0) return known;
  const primaries = devices.filter((d) => d.primary);
  if (primaries.length !== 1) throw new Error(`the directory lists ${primaries.length} primary devices for +${userId}`);
  const accountKey = bytes.fromBase64(primaries[0].identityKey);
  // An endorsement names a key, not a device id: one key under two ids would be sealed for twice.
  if (new Set(devices.map((d) => d.identityKey)).size !== devices.length) throw new Error(`the directory lists one identity key for two devices of +${userId}`);
  for (const d of devices.filter((x) => !x.primary))
    if (!d.accountSignature || !(await verify(accountKey, deviceMessage(userId, bytes.fromBase64(d.identityKey)), bytes.fromBase64(d.accountSignature))))
      throw new Error(`device ${d.deviceId} of +${userId} is not endorsed by the account's key`);
  return accountKey;
}

const deviceListMessage = (userId, version, keys) => {
  const head = new Uint8Array(9);
  new DataView(head.buffer).setBigUint64(0, BigInt(version));
  head[8] = keys.length;
  return bytes.concat(ascii("natter-devices-v1"), head, ...keys, new TextEncoder().encode(userId));
};

/**
 * The account's signed device list of a listing (`{version, keys, signature}`, base64; docs/e2ee.md §7.2), checked: signed
 * by `accountKey` and naming every listed device. Answers `{version, keys}` (keys as bytes), or null when there is none.
 */
export async function checkDeviceList(userId, accountKey, devices, list) {
  if (!list) return null;
  const keys = (list.keys || []).map((k) => bytes.fromBase64(k));
  if (keys.length > 255 || keys.some((k) => k.length !== 32) || !list.signature
      || !(await verify(accountKey, deviceListMessage(userId, list.version, keys), bytes.fromBase64(list.signature))))
    throw new Error(`the device list of +${userId} is not signed by its account key`);
  const checked = { version: list.version, keys };
  for (const d of devices)
    if (!listNames(checked, bytes.fromBase64(d.identityKey)))
      throw new Error(`device ${d.deviceId} of +${userId} is not in its account's signed device list`);
  return checked;
}

/** Whether a checked list names this identity key. */
export const listNames = (list, ik) => list.keys.some((k) => bytes.equal(k, ik));

/** This device, as its account's primary, signs the account's device list: the body of PUT /api/devices/list (base64). */
export async function signDeviceList(keys, userId, version, listKeys) {
  const signature = await sign(keys.identity, deviceListMessage(userId, version, listKeys));
  return { version, keys: listKeys.map((k) => bytes.toBase64(k)), signature: bytes.toBase64(signature) };
}

/** One device (a bundle or identity, base64) against a pinned account key. */
export async function endorsedBy(accountKey, userId, device) {
  const ik = bytes.fromBase64(device.identityKey);
  return device.primary ? bytes.equal(ik, accountKey)
    : Boolean(device.accountSignature) && verify(accountKey, deviceMessage(userId, ik), bytes.fromBase64(device.accountSignature));
}

/** What this device, asking to be linked, shows the primary: its identity key and a secret the server never sees. */
export function linkCode(link, keys, secret) {
  return `natter-link-v1:${link.linkId}:${link.approvalCode}:${toUrl64(keys.identity.pub)}:${toUrl64(secret)}`;
}

/** A link code another device shows (`natter-link-v1:{linkId}:{approvalCode}:{identityKey}:{secret}`), read; throws saying what is wrong. */
export function parseLinkCode(text) {
  const parts = text.trim().split(":");
  if (parts.length !== 5 || parts[0] !== "natter-link-v1") throw new Error("not a link code: it reads natter-link-v1:link:code:key:secret");
  let ik, secret;
  try { ik = fromUrl64(parts[3]); secret = fromUrl64(parts[4]); } catch { throw new Error("the link code's keys are not base64url"); }
  if (ik.length !== 32 || secret.length !== 16) throw new Error("the link code's key or secret has the wrong length");
  return { linkId: parts[1], approvalCode: parts[2], ik, secret };
}

/** This device, as its account's primary, endorses the device of a scanned link code: the body of the approval (base64). */
export async function endorse(keys, userId, code) {
  const signature = await sign(keys.identity, deviceMessage(userId, code.ik));
  const mac = await hmac(code.secret, bytes.concat(ascii("natter-link-v1"), keys.identity.pub, code.ik));
  return { approvalCode: code.approvalCode, identityKey: bytes.toBase64(code.ik), accountSignature: bytes.toBase64(signature), linkMac: bytes.toBase64(mac) };
}

/** The endorsement a link's completion carries (base64), checked: the MAC under the code's secret, then the signature. Answers the account key. */
export async function checkEndorsement(endorsement, userId, keys, secret) {
  if (!endorsement) throw new Error("the primary approved this browser without endorsing its keys");
  const accountKey = bytes.fromBase64(endorsement.accountKey);
  const mac = await hmac(secret, bytes.concat(ascii("natter-link-v1"), accountKey, keys.identity.pub));
  if (!bytes.equal(mac, bytes.fromBase64(endorsement.linkMac))) throw new Error("the account key did not come from the device that scanned the link code");
  if (!(await verify(accountKey, deviceMessage(userId, keys.identity.pub), bytes.fromBase64(endorsement.signature))))
    throw new Error("the account key's endorsement is not of this browser's identity key");
  return accountKey;
}

// --- the Double Ratchet -------------------------------------------------------------------------

async function kdfRoot(rootKey, dhOut) {
  const out = await hkdf(dhOut, rootKey, "natter-ratchet-v1", 64);
  return [out.slice(0, 32), out.slice(32)];
}

async function kdfChain(chainKey) {
  return [await hmac(chainKey, new Uint8Array([1])), await hmac(chainKey, new Uint8Array([2]))];
}

async function messageCipher(messageKey) {
  const out = await hkdf(messageKey, new Uint8Array(32), "natter-message-v1", 44);
  return { key: out.slice(0, 32), nonce: out.slice(32) };
}

const skippedId = (ratchetKey, n) => `${bytes.hex(ratchetKey)}:${n}`;

async function ratchetEncrypt(s, plaintext) {
  const [messageKey, next] = await kdfChain(s.cks);
  s.cks = next;
  const header = bytes.concat(s.dhs.pub, bytes.u32(s.pn), bytes.u32(s.ns++));
  const { key, nonce } = await messageCipher(messageKey);
  return bytes.concat(new Uint8Array([2]), header, seal(key, nonce, bytes.concat(s.ad, header), plaintext));
}

async function skipTo(s, until) {
  if (until > s.nr + MAX_SKIP) throw new Error("too far ahead");
  while (s.ckr && s.nr < until) {
    const [messageKey, next] = await kdfChain(s.ckr);
    s.ckr = next;
    s.skipped[skippedId(s.dhr, s.nr++)] = messageKey;
  }
  const ids = Object.keys(s.skipped);
  for (const old of ids.slice(0, Math.max(0, ids.length - MAX_SKIPPED))) delete s.skipped[old];
}

/** Decrypts a ratchet message (0x02 || header || ciphertext) on a copy of the session; the copy on success. */
async function ratchetDecrypt(session, message) {
  const s = structuredClone(session);
  const header = message.subarray(1, 41);
  const ratchetKey = header.slice(0, 32);
  const pn = bytes.readU32(header, 32);
  const n = bytes.readU32(header, 36);
  const ad = bytes.concat(s.ad, header);
  let messageKey = s.skipped[skippedId(ratchetKey, n)];
  if (messageKey) delete s.skipped[skippedId(ratchetKey, n)];
  else {
    if (!s.dhr || !bytes.equal(ratchetKey, s.dhr)) {
      await skipTo(s, pn);
      s.pn = s.ns; s.ns = 0; s.nr = 0; s.dhr = ratchetKey;
      [s.rk, s.ckr] = await kdfRoot(s.rk, await x25519(s.dhs, s.dhr));
      s.dhs = await x25519Generate();
      [s.rk, s.cks] = await kdfRoot(s.rk, await x25519(s.dhs, s.dhr));
    }
    if (n < s.nr) throw new Error("a used message");
    await skipTo(s, n);
    [messageKey, s.ckr] = await kdfChain(s.ckr);
    s.nr++;
  }
  const { key, nonce } = await messageCipher(messageKey);
  const plaintext = open(key, nonce, ad, message.subarray(41));
  s.setup = null; // a message came back: no more prekey messages
  return { session: s, plaintext };
}

// --- X3DH ---------------------------------------------------------------------------------------

const x3dhSecret = (dhs) => hkdf(bytes.concat(new Uint8Array(32).fill(0xff), ...dhs), new Uint8Array(32), "natter-x3dh-v1", 32);

/** A session with the device of a directory bundle (its signatures checked first). */
export async function initiate(keys, bundle) {
  const ik = bytes.fromBase64(bundle.identityKey);
  const ikdh = bytes.fromBase64(bundle.identityDhKey);
  const spk = bytes.fromBase64(bundle.signedPreKey.publicKey);
  if (!(await verify(ik, idhMessage(ikdh), bytes.fromBase64(bundle.identityDhSignature)))
      || !(await verify(ik, spkMessage(bundle.signedPreKey.id, spk), bytes.fromBase64(bundle.signedPreKey.signature))))
    throw new Error("a bundle whose signatures do not verify");
  const ek = await x25519Generate();
  const dhs = [await x25519(keys.idh, spk), await x25519(ek, ikdh), await x25519(ek, spk)];
  const opk = bundle.oneTimePreKey;
  if (opk) dhs.push(await x25519(ek, bytes.fromBase64(opk.publicKey)));
  const s = { ad: bytes.concat(keys.identity.pub, ik), ik, dhr: spk, nr: 0, ns: 0, pn: 0, ckr: null, skipped: {} };
  s.dhs = await x25519Generate();
  [s.rk, s.cks] = await kdfRoot(await x3dhSecret(dhs), await x25519(s.dhs, spk));
  s.setup = bytes.concat(keys.identity.pub, keys.idh.pub, ek.pub, bytes.u32(bundle.signedPreKey.id), bytes.u32(opk ? opk.id : NO_ONE_TIME_KEY));
  return s;
}

/** The responder's session from a prekey message's setup, the sender's identity verified from the directory. */
async function respond(keys, setup, sender) {
  const ik = setup.subarray(0, 32), ikdh = setup.subarray(32, 64), ek = setup.slice(64, 96);
  const spkId = bytes.readU32(setup, 96), opkId = bytes.readU32(setup, 100);
  if (!bytes.equal(ik, sender.ik) || !bytes.equal(ikdh, sender.ikdh)) throw new Error("the sender's identity does not match the directory");
  if (spkId !== keys.spk.id) throw new Error("an unknown signed prekey");
  if (keys.baseKeys.includes(bytes.hex(ek))) throw new Error("a replayed prekey message");
  const dhs = [await x25519(keys.spk, ikdh), await x25519(keys.idh, ek), await x25519(keys.spk, ek)];
  if (opkId !== NO_ONE_TIME_KEY) {
    const opk = keys.opks.find((k) => k.id === opkId);
    if (!opk) throw new Error("an unknown one-time prekey");
    dhs.push(await x25519(opk, ek));
  }
  const s = { ad: bytes.concat(ik, keys.identity.pub), ik: ik.slice(), baseKey: ek, rk: await x3dhSecret(dhs),
    dhs: { priv: keys.spk.priv, pub: keys.spk.pub }, dhr: null, cks: null, ckr: null, nr: 0, ns: 0, pn: 0, skipped: {}, setup: null };
  return { session: s, used: () => { keys.opks = keys.opks.filter((k) => k.id !== opkId); keys.baseKeys.push(bytes.hex(ek)); } };
}

// --- envelopes and bodies -----------------------------------------------------------------------

const sha256 = async (data) => new Uint8Array(await subtle.digest("SHA-256", data));

/**
 * Seals a message's content key in the device's session (a prekey message until the device has answered),
 * bound to its body: content key (32) || SHA-256(body) (32), so no other holder of the key can pass
 * another body off as the sender's.
 */
export async function sealKey(session, contentKey, body) {
  const message = await ratchetEncrypt(session, bytes.concat(contentKey, await sha256(body)));
  return session.setup ? bytes.concat(new Uint8Array([1]), session.setup, message) : message;
}

/**
 * Opens a message's envelope with the sessions of its sender device (newest first); a prekey message with a
 * new base key starts a session. `sender` is the verified directory identity, needed for a new session; the
 * sealed hash must be `body`'s. Returns the content key and the sessions to keep; nothing is kept when it fails.
 */
export async function openKey(keys, sessions, envelope, sender, body) {
  let message = envelope;
  let fresh = null;
  if (envelope[0] === 1) {
    const setup = envelope.subarray(1, 105);
    message = envelope.subarray(105);
    if (!sessions.some((s) => s.baseKey && bytes.equal(s.baseKey, setup.subarray(64, 96)))) {
      if (!sender) throw new Error("the sender's identity is needed for a new session");
      fresh = await respond(keys, setup, sender);
      sessions = [fresh.session, ...sessions];
    }
  }
  if (message[0] !== 2 || message.length < 41 + 16) throw new Error("not an envelope");
  let failure = null;
  for (const [i, candidate] of sessions.entries()) {
    try {
      const { session, plaintext } = await ratchetDecrypt(candidate, message);
      if (plaintext.length !== 64 || !bytes.equal(plaintext.subarray(32), await sha256(body)))
        throw new Error("the body is not the one the sender sealed this key for");
      fresh?.used();
      return { contentKey: plaintext.slice(0, 32), sessions: [session, ...sessions.filter((_, j) => j !== i)].slice(0, 6) };
    } catch (e) { failure = e; /* the next session, if any */ }
  }
  throw new Error(failure?.message?.startsWith("the body") ? failure.message : "no session opens this envelope");
}

export function encryptBody(chatId, plaintext) {
  const contentKey = crypto.getRandomValues(new Uint8Array(32));
  return { contentKey, body: bytes.concat(new Uint8Array([1]), seal(contentKey, new Uint8Array(12), ascii(chatId), plaintext)) };
}

export function decryptBody(chatId, body, contentKey) {
  if (body[0] !== 1) throw new Error("not an encrypted body");
  return open(contentKey, new Uint8Array(12), ascii(chatId), body.subarray(1));
}

// --- backups (docs/e2ee.md §10): content keys sealed under a passphrase, as BackupArchive -------

const BACKUP_MAGIC = ascii("NATTERBK");
const BACKUP_HEADER = 29;
export const BACKUP_ITERATIONS = 600000;

/** As BackupArchive: NFKC, and a recovery key (64 hex digits once spaces, tabs, line breaks and dashes are dropped) in lowercase. */
function passphraseBytes(passphrase) {
  const normalized = passphrase.normalize("NFKC");
  const compact = normalized.replace(/[ \t\r\n-]/g, "");
  return ascii(/^[0-9a-fA-F]{64}$/.test(compact) ? compact.toLowerCase() : normalized);
}

async function backupKey(passphrase, salt, iterations) {
  const material = await subtle.importKey("raw", passphraseBytes(passphrase), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256));
}

export async function sealBackup(plaintext, passphrase, userId, iterations = BACKUP_ITERATIONS) {
  if (passphrase.normalize("NFKC").length < 8) throw new Error("a backup passphrase has at least 8 characters");
  const header = bytes.concat(BACKUP_MAGIC, new Uint8Array([1]), bytes.u32(iterations), crypto.getRandomValues(new Uint8Array(16)));
  const key = await backupKey(passphrase, header.subarray(13), iterations);
  return bytes.concat(header, seal(key, new Uint8Array(12), bytes.concat(header, ascii(userId)), plaintext));
}

export async function openBackup(archive, passphrase, userId) {
  if (archive.length < BACKUP_HEADER + 16 || !bytes.equal(archive.subarray(0, 8), BACKUP_MAGIC)) throw new Error("not a Natter backup");
  if (archive[8] !== 1) throw new Error(`a version ${archive[8]} backup; this client reads version 1`);
  const iterations = bytes.readU32(archive, 9);
  if (iterations < 100000 || iterations > 10000000) throw new Error(`a backup with ${iterations} iterations is refused`);
  const header = archive.subarray(0, BACKUP_HEADER);
  const key = await backupKey(passphrase, header.subarray(13), iterations);
  try {
    return open(key, new Uint8Array(12), bytes.concat(header, ascii(userId)), archive.subarray(BACKUP_HEADER));
  } catch {
    throw new Error("the backup does not open: wrong passphrase, or another account's");
  }
}

export const sha256Hex = async (data) => bytes.hex(await sha256(data));

/** Which identity key a session seals for, as the server compares it: SHA-256 of the key, its first 8 bytes, base64. */
export const identityTag = async (session) => bytes.toBase64((await sha256(session.ik)).subarray(0, 8));
