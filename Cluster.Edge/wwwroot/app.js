// A minimal browser client of Natter's protocol v1: one WebSocket, JSON frames, end-to-end encrypted bodies
// (e2ee.js, docs/e2ee.md). It keeps per-chat messages by seq (the protocol's dedupe key), acknowledges
// delivery, and resyncs on reconnect. Keys, sessions and the content keys of read messages stay in this
// browser's localStorage; the server gets ciphertext only, backups (sealed under a passphrase) included.
import * as e2ee from "./e2ee.js";

const { bytes } = e2ee;
const state = {
  token: null, me: null, device: null, socket: null, chats: new Map(), current: null, messages: new Map(), cursors: {},
  // Crypto work runs one task at a time: sessions change with every message.
  queue: Promise.resolve(),
  vault: null,
  texts: new Map(),
  outgoing: new Map(),
};
const $ = (id) => document.getElementById(id);
const utf8 = (text) => new TextEncoder().encode(text);
const fromUtf8 = (b) => new TextDecoder().decode(b);

async function api(path, options = {}) {
  const response = await fetch(`/api/${path}`, {
    ...options,
    headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(body?.error?.message || `HTTP ${response.status}`), { code: body?.error?.code, status: response.status });
  return body;
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

function enqueue(task) {
  state.queue = state.queue.then(task).catch((e) => { $("error").textContent = e.message; });
  return state.queue;
}

// --- the vault: this device's keys, sessions and content keys, kept in localStorage -------------

const vaultName = () => `natter-e2ee/${state.me}/${state.device}`;
const toJson = (value) => JSON.stringify(value, (_, v) => (v instanceof Uint8Array ? { $b: bytes.toBase64(v) } : v));
const fromJson = (text) => JSON.parse(text, (_, v) => (v && typeof v === "object" && typeof v.$b === "string" ? bytes.fromBase64(v.$b) : v));
const saveVault = () => { if (!state.replaced) localStorage.setItem(vaultName(), toJson(state.vault)); };

async function openVault() {
  const saved = localStorage.getItem(vaultName());
  // A browser linked here brings the keys its link code showed, and the account key that endorsed them.
  const keys = state.linked?.keys || await e2ee.generateDeviceKeys(20);
  state.vault = saved ? fromJson(saved) : { keys, sessions: {}, devices: {}, contentKeys: {},
    accounts: { [state.me]: state.linked ? { device: null, key: state.linked.accountKey } : { device: state.device, key: keys.identity.pub } } };
  // A vault from before account keys were kept learns them and its device lists again from the directory, checked.
  if (!state.vault.accounts) Object.assign(state.vault, { accounts: {}, devices: {} });
  // New keys (a first visit, or this browser's data was cleared) replace whatever the directory holds for
  // the device: its contacts are told its identity changed.
  // (Not once another page has taken the device over: its keys are the device's now.)
  if (!state.replaced && (!saved || !(await api("keys")).published))
    await api("keys", { method: "PUT", body: JSON.stringify(e2ee.publishRequest(state.vault.keys)) });
  saveVault();
}

// --- sealing and opening -----------------------------------------------------------------------

async function learnDevices(userIds) {
  const vault = state.vault;
  for (const user of userIds.filter((u) => !vault.devices[u])) {
    try {
      const found = await api(`keys/${encodeURIComponent("+" + user)}`);
      // A device the account key did not endorse, or its signed list leaves out, is refused before any session with it.
      await pinAccount(user, found.devices, found.deviceList);
      dropOutdatedSessions(user, found.devices);
      vault.devices[user] = found.devices.map((b) => b.deviceId);
      for (const bundle of found.devices) await startSession(bundle);
    } catch (e) {
      if (e.code !== "keys_not_published") throw e;
      vault.devices[user] = [];
    }
  }
  for (const [user, devices] of Object.entries(vault.devices))
    for (const device of devices)
      if (!vault.sessions[`${user}/${device}`] && !(user === state.me && device === state.device))
        await startSession(await checkedDevice(user, await api(`keys/${encodeURIComponent("+" + user)}/${device}`)));
}

/**
 * Which devices belong to an account (docs/e2ee.md §7.1, §7.2): the primary's identity key is the account key, pinned the
 * first time; every other device must carry its signature, and be in the account's signed device list once it has one. A
 * list older than one seen under the same key, or none after one, is refused. A contact's new account key is taken and shown.
 */
async function pinAccount(user, devices, deviceList) {
  const known = state.vault.accounts[user];
  const key = await e2ee.checkAccount(user, devices, known?.key || null);
  if (!key || devices.length === 0) return;
  const primary = devices.find((d) => d.primary);
  if (user === state.me && primary.deviceId === state.device && !bytes.equal(key, state.vault.keys.identity.pub))
    throw new Error("the directory names another identity key for this very browser");
  const list = await e2ee.checkDeviceList(user, key, devices, deviceList);
  if (known && bytes.equal(known.key, key)) {
    if (known.list && (!list || list.version < known.list.version))
      throw new Error(list ? `the directory serves version ${list.version} of the device list of +${user} after version ${known.list.version}`
        : `the directory left out the signed device list of +${user} it served before`);
    if (known.list && list.version === known.list.version
        && (list.keys.length !== known.list.keys.length || !list.keys.every((k) => e2ee.listNames(known.list, k))))
      throw new Error(`the directory serves two different device lists of version ${list.version} for +${user}`);
    if (list && list.version > (known.list?.version || 0)) {
      known.list = list;
      forgetUnlisted(user, list);
    }
    return;
  }
  if (known && user === state.me) throw new Error("the directory names another account key for this browser's own account");
  state.vault.accounts[user] = { device: primary.deviceId, key, list };
  if (list) forgetUnlisted(user, list);
  if (known) $("error").textContent = `The safety number with +${user} changed: the account has a new primary key.`;
}

/** A newer list pinned: devices whose session is with a key it does not name (removed since) are no longer sealed for. */
function forgetUnlisted(user, list) {
  if (!state.vault.devices[user]) return;
  state.vault.devices[user] = state.vault.devices[user].filter((id) => {
    const ik = state.vault.sessions[`${user}/${id}`]?.[0]?.ik;
    if (!ik || e2ee.listNames(list, ik)) return true;
    delete state.vault.sessions[`${user}/${id}`];
    return false;
  });
}

/** Before sealing: a session kept for another key than the one listed (a vault older than endorsements) is not sealed through. */
function dropOutdatedSessions(user, devices) {
  for (const d of devices) {
    const address = `${user}/${d.deviceId}`;
    const kept = (state.vault.sessions[address] || []).filter((s) => bytes.equal(s.ik, bytes.fromBase64(d.identityKey)));
    if (kept.length > 0) state.vault.sessions[address] = kept;
    else delete state.vault.sessions[address];
  }
}

/** A user's keyed devices as the directory lists them (no prekey handed out), with the account's signed device list. */
const listing = (user) => api(`keys/${encodeURIComponent("+" + user)}/devices`);

/** Endorsed by the pinned account key, and named by the newest device list seen under it, if any. */
const trusted = async (known, user, device) =>
  Boolean(known) && (await e2ee.endorsedBy(known.key, user, device)) && (!known.list || e2ee.listNames(known.list, bytes.fromBase64(device.identityKey)));

/**
 * One device (a bundle or identity) against its account's pinned key and list; if it does not check, against the whole
 * listing (`listed` when the caller has it; a new account key is shown, a newer list pinned).
 */
async function checkedDevice(user, device, listed = null) {
  if (await trusted(state.vault.accounts[user], user, device)) return device;
  const view = listed || await listing(user);
  await pinAccount(user, view.devices, view.deviceList);
  if (!(await trusted(state.vault.accounts[user], user, device)))
    throw new Error(`device ${device.deviceId} of +${user} is not endorsed by the account's key, or not in its signed device list`);
  return device;
}

/** A devices_changed frame: the user's listing read and checked now (a newer list pinned), the devices sealed for following it. */
async function onDevicesChanged(user) {
  const listed = await listing(user);
  await pinAccount(user, listed.devices, listed.deviceList);
  dropOutdatedSessions(user, listed.devices);
  if (state.vault.devices[user]) {
    const ids = listed.devices.map((d) => d.deviceId);
    for (const gone of state.vault.devices[user].filter((id) => !ids.includes(id))) delete state.vault.sessions[`${user}/${gone}`];
    state.vault.devices[user] = ids;
  }
  saveVault();
  if (user === state.me && isPrimary()) await publishDeviceList(null);
}

async function startSession(bundle) {
  const address = `${bundle.userId}/${bundle.deviceId}`;
  if (state.vault.sessions[address] || (bundle.userId === state.me && bundle.deviceId === state.device)) return;
  state.vault.sessions[address] = [await e2ee.initiate(state.vault.keys, bundle)];
}

/** Seals the text for every keyed device of the chat's members (this account's other devices too) and sends it. */
async function sealAndSend(chatId, clientMsgId, text, alsoUsers = []) {
  // alsoUsers: members the server named that this page's chat list did not have yet (someone just joined).
  const members = [...new Set([...(state.chats.get(chatId)?.members || []), ...alsoUsers])];
  await learnDevices([...new Set([...members, state.me])]);
  const { body, contentKey } = e2ee.encryptBody(chatId, utf8(text));
  const envelopes = [];
  for (const [user, devices] of Object.entries(state.vault.devices)) {
    if (!members.includes(user) && user !== state.me) continue;
    for (const device of devices) {
      if (user === state.me && device === state.device) continue;
      const session = state.vault.sessions[`${user}/${device}`][0];
      // The identity it is sealed for: the server refuses it if that device has reinstalled since (stale_devices, changed).
      envelopes.push({ userId: user, deviceId: device, data: bytes.toBase64(await e2ee.sealKey(session, contentKey, body)), identity: await e2ee.identityTag(session) });
    }
  }
  saveVault();
  const pending = state.outgoing.get(clientMsgId) || { chatId, text, attempts: 0 };
  state.outgoing.set(clientMsgId, { ...pending, contentKey, body: bytes.toBase64(body), attempts: pending.attempts + 1 });
  send({ type: "send", chatId, clientMsgId, body: bytes.toBase64(body), envelopes });
}

/** stale_devices: take the server's difference (devices reinstalled since get new sessions), then seal again (up to three attempts). */
function onStaleDevices(error) {
  const pending = state.outgoing.get(error.ref);
  if (!pending || pending.attempts >= 3) return false;
  enqueue(async () => {
    // In the queue, not here: a send being sealed meanwhile must not lose the sessions it is using.
    // Named missing: checked with their account's listing before anything is sealed for them.
    for (const user of new Set((error.missing || []).map((d) => d.userId))) {
      const listed = await listing(user);
      await pinAccount(user, listed.devices, listed.deviceList);
      for (const d of error.missing.filter((x) => x.userId === user && !listed.devices.some((l) => l.deviceId === x.deviceId)))
        throw new Error(`device ${d.deviceId} of +${user} is not endorsed by the account's key`);
      dropOutdatedSessions(user, listed.devices);
    }
    for (const d of error.missing || []) (state.vault.devices[d.userId] ||= []).push(d.deviceId);
    for (const d of error.extra || []) {
      state.vault.devices[d.userId] = (state.vault.devices[d.userId] || []).filter((x) => x !== d.deviceId);
      delete state.vault.sessions[`${d.userId}/${d.deviceId}`];
    }
    for (const d of error.changed || []) delete state.vault.sessions[`${d.userId}/${d.deviceId}`];
    await refreshChats();
    await sealAndSend(pending.chatId, error.ref, pending.text, (error.missing || []).map((d) => d.userId));
  });
  return true;
}

async function senderIdentity(userId, deviceId) {
  const listed = await listing(userId);
  const device = listed.devices.find((d) => d.deviceId === deviceId);
  return device ? e2ee.verifiedIdentity(await checkedDevice(userId, device, listed)) : null;
}

/**
 * A sender whose account's pinned device list does not name it (removed since) is not believed, whatever session this
 * browser kept with it: checked against the listing first, whose newer list may name a device linked since.
 */
async function checkListed(user, deviceId, ik) {
  const named = () => !state.vault.accounts[user]?.list || (Boolean(ik) && e2ee.listNames(state.vault.accounts[user].list, ik));
  if (named()) return;
  const listed = await listing(user);
  await pinAccount(user, listed.devices, listed.deviceList);
  if (named()) return;
  saveVault();
  throw new Error(`device ${deviceId} of +${user} is not in its account's signed device list`);
}

/** What a message says, for this device. */
async function readable(m) {
  if (m.change) return `(${m.change.kind} ${m.change.users.map((u) => `+${u}`).join(", ")})`;
  const body = bytes.fromBase64(m.body);
  if (!m.sealed) return fromUtf8(body) + " (not encrypted)";
  const id = `${m.chatId}:${m.seq}`;
  let contentKey = state.vault.contentKeys[id];
  if (!contentKey && m.sender === state.me && m.senderDevice === state.device) contentKey = state.outgoing.get(m.clientMsgId)?.contentKey;
  if (!contentKey && m.envelope) {
    const address = `${m.sender}/${m.senderDevice}`;
    const sessions = state.vault.sessions[address] || [];
    const envelope = bytes.fromBase64(m.envelope);
    const sender = envelope[0] === 1 ? await senderIdentity(m.sender, m.senderDevice) : null;
    const opened = await e2ee.openKey(state.vault.keys, sessions, envelope, sender, body);
    await checkListed(m.sender, m.senderDevice, opened.sessions[0].ik);
    state.vault.sessions[address] = opened.sessions;
    contentKey = opened.contentKey;
  }
  if (!contentKey) return "🔒 not encrypted for this device";
  state.vault.contentKeys[id] = contentKey;
  saveVault();
  return fromUtf8(e2ee.decryptBody(m.chatId, body, contentKey));
}

// --- backup and restore (docs/e2ee.md §10, protocol.md §14.7) ---------------------------------

/** Seals every content key this device holds under the passphrase and makes it the account's backup. */
async function backUp(passphrase) {
  const keys = Object.entries(state.vault.contentKeys).map(([id, key]) => {
    const at = id.lastIndexOf(":");
    return { chatId: id.slice(0, at), seq: Number(id.slice(at + 1)), key: bytes.toBase64(key) };
  });
  const archive = await e2ee.sealBackup(utf8(JSON.stringify({ version: 1, keys })), passphrase, state.me);
  const response = await fetch("/api/media", {
    method: "POST",
    body: archive,
    headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/octet-stream", "X-Content-SHA256": await e2ee.sha256Hex(archive) },
  });
  const stored = await response.json().catch(() => null);
  if (!response.ok) throw new Error(stored?.error?.message || `HTTP ${response.status}`);
  await api("backup", { method: "PUT", body: JSON.stringify({ mediaId: stored.id }) });
  return keys.length;
}

/** Opens the account's backup with the passphrase and keeps its content keys; what showed as unreadable is read again. */
async function restore(passphrase) {
  const backup = await api("backup");
  const response = await fetch(`/api/media/${encodeURIComponent(backup.mediaId)}`, { headers: { "Authorization": `Bearer ${state.token}` } });
  if (!response.ok) throw new Error(`the backup's file: HTTP ${response.status}`);
  const contents = JSON.parse(fromUtf8(await e2ee.openBackup(new Uint8Array(await response.arrayBuffer()), passphrase, state.me)));
  if (contents?.version !== 1 || !Array.isArray(contents.keys)
      || contents.keys.some((k) => typeof k?.chatId !== "string" || !Number.isInteger(k.seq) || bytes.fromBase64(k.key ?? "").length !== 32))
    throw new Error("not a version 1 backup's contents");
  for (const { chatId, seq, key } of contents.keys) state.vault.contentKeys[`${chatId}:${seq}`] ??= bytes.fromBase64(key);
  saveVault();
  for (const chat of state.messages.values()) {
    for (const m of chat.values()) {
      state.texts.delete(`${m.chatId}:${m.seq}`);
      onMessage(m, false);
    }
  }
  return contents.keys.length;
}

// --- the connection and the page ---------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws?access_token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  let heartbeat = null;
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onopen = () => setStatus("connecting");
  socket.onclose = (event) => {
    clearInterval(heartbeat);
    // A socket this page already replaced (a reconnect) says nothing about the page.
    if (socket !== state.socket) return;
    setStatus("offline");
    // 4001: the token expired; 4009: another tab or window of this device took over (two pages must not
    // both use its sessions); 4010: this device was removed. Anything else: reconnect and sync from the cursors.
    // The token is dead: this browser forgets it and asks again.
    if (event.code === 4001 || event.code === 4010) {
      if (localStorage.getItem(SESSION_KEY) === state.token) localStorage.removeItem(SESSION_KEY);
      $("error").textContent = event.code === 4010 ? "This device was removed from the account." : "The access token expired: sign in or link again.";
      // Another token may sign in here next, of another device: this page lets go of this one's vault and state.
      state.token = null;
      letGoOfVault();
      enqueue(() => Object.assign(state, { vault: null, me: null, device: null, chats: new Map(), current: null, messages: new Map(),
        cursors: {}, texts: new Map(), outgoing: new Map(), linked: null }));
      $("signin").hidden = false;
      $("signin").querySelector("button").disabled = false;
    }
    if (event.code === 4009) {
      // The page that took over owns the vault now: this one stops writing it and stops sending, then lets go of the
      // vault's lock, which the other page waits for before it reads the vault.
      state.replaced = true;
      letGoOfVault();
      $("composer").hidden = true;
      $("error").textContent = "This device is open in another tab or window.";
    }
    if (![4001, 4009, 4010].includes(event.code) && state.token) setTimeout(connect, 1000);
  };
  socket.addEventListener("message", function welcome(event) {
    const frame = JSON.parse(event.data);
    if (frame.type !== "welcome") return;
    state.me = frame.userId;
    state.device = frame.deviceId;
    heartbeat = setInterval(() => send({ type: "ping", t: Date.now() }), frame.heartbeatSeconds * 1000);
    socket.removeEventListener("message", welcome);
    // Keys first: the sync's messages wait in the queue until they can be opened.
    enqueue(async () => {
      if (!state.vault) {
        await holdVault();
        await openVault();
      }
      // Kept beside the vault (which is as secret), once the vault is saved: a reload or a notification's click opens
      // this device again. A token from the address is for this visit only (a link must not sign a browser in for good).
      if (state.keepSession && !state.replaced) localStorage.setItem(SESSION_KEY, state.token);
      await refreshChats();
      send({ type: "sync", cursors: state.cursors });
      setStatus("online");
      // A notification's click opens the page at its chat (#chat=…, sw.js).
      if (state.chats.has(state.pendingChat)) openChat(state.pendingChat);
      state.pendingChat = null;
    });
    // After the vault is open (the queue): whether this device asked for notifications is kept there.
    enqueue(() => renewSubscription().catch((e) => { $("notify-status").textContent = `no notifications: ${e.message}`; }));
  });
}

function onFrame(frame) {
  switch (frame.type) {
    case "message": onMessage(frame); break;
    case "synced": enqueue(refreshChats); break;
    case "ack": {
      // The content key of this device's own message, for when it is read again.
      const sent = state.outgoing.get(frame.clientMsgId);
      if (sent?.contentKey) { state.vault.contentKeys[`${frame.chatId}:${frame.seq}`] = sent.contentKey; saveVault(); }
      // The server pushes no copy of this connection's own send (protocol §6.3): it is shown from its ack, without
      // moving the cursor, which counts only what the server pushed (others' messages of lower seq may still come).
      if (sent) {
        onMessage({ type: "message", chatId: frame.chatId, seq: frame.seq, sender: state.me, senderDevice: state.device,
          clientMsgId: frame.clientMsgId, body: sent.body, ts: frame.ts, sealed: true }, false);
        state.outgoing.delete(frame.clientMsgId);
      }
      break;
    }
    case "identity_changed":
      // The contact's device has new keys (a reinstall): sessions with its old ones would seal what it can no
      // longer open. Dropped, the next send starts a new session from its new bundle (docs/e2ee.md §7).
      enqueue(() => {
        delete state.vault.sessions[`${frame.userId}/${frame.deviceId}`];
        saveVault();
      });
      break;
    case "devices_changed":
      // Read now, a newer signed device list is pinned: a device removed since is not believed again (docs/e2ee.md §7.2).
      enqueue(() => onDevicesChanged(frame.userId));
      break;
    case "error":
      if (frame.code === "stale_devices" && onStaleDevices(frame)) break;
      $("error").textContent = `${frame.code}: ${frame.message}`;
      break;
  }
}

function onMessage(m, live = true) {
  if (!state.messages.has(m.chatId)) state.messages.set(m.chatId, new Map());
  state.messages.get(m.chatId).set(m.seq, m);
  if (live) {
    state.cursors[m.chatId] = Math.max(state.cursors[m.chatId] || 0, m.seq);
    send({ type: "delivered", chatId: m.chatId, seq: m.seq });
  }
  enqueue(async () => {
    const id = `${m.chatId}:${m.seq}`;
    if (!state.texts.has(id)) {
      try { state.texts.set(id, await readable(m)); }
      catch (e) { state.texts.set(id, `🔒 unreadable (${e.message})`); }
    }
    if (!state.chats.has(m.chatId)) await refreshChats();
    if (m.chatId === state.current) render();
  });
}

async function refreshChats() {
  const chats = await api("chats");
  state.chats = new Map(chats.map((c) => [c.chatId, c]));
  const list = $("chats");
  list.replaceChildren(...chats.map((c) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.dataset.chat = c.chatId;
    button.textContent = c.name || c.members.filter((m) => m !== state.me).map((m) => `+${m}`).join(", ") || c.chatId;
    button.setAttribute("aria-current", String(c.chatId === state.current));
    button.onclick = () => openChat(c.chatId);
    item.append(button);
    return item;
  }));
}

function openChat(chatId) {
  state.current = chatId;
  $("chat-title").textContent = $("chats").querySelector(`[data-chat="${CSS.escape(chatId)}"]`)?.textContent || chatId;
  $("composer").hidden = false;
  for (const b of $("chats").querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset.chat === chatId));
  render();
  // The latest page of history: messages from before this page load open with the content keys kept in the vault.
  enqueue(async () => {
    const page = await api(`messages?chatId=${encodeURIComponent(chatId)}&limit=50`);
    for (const m of page.messages) if (!state.messages.get(chatId)?.has(m.seq)) onMessage(m, false);
  });
}

function render() {
  const messages = [...(state.messages.get(state.current)?.values() || [])]
    .filter((m) => state.texts.has(`${m.chatId}:${m.seq}`))
    .sort((a, b) => a.seq - b.seq);
  $("messages").replaceChildren(...messages.map((m) => {
    const item = document.createElement("li");
    item.className = m.sender === state.me ? "mine" : "theirs";
    item.dataset.seq = m.seq;
    item.dataset.sealed = String(Boolean(m.sealed));
    item.textContent = state.texts.get(`${m.chatId}:${m.seq}`);
    return item;
  }));
  const last = messages.at(-1);
  if (last && last.sender !== state.me) send({ type: "read", chatId: state.current, seq: last.seq });
}

const SESSION_KEY = "natter-session";

/**
 * One page at a time reads and writes a device's vault: a page that takes the device over (the server closes the
 * other's socket with 4009) waits here until the other has stopped writing and let go.
 */
function holdVault() {
  // Web Locks exist in secure contexts only (https, localhost); elsewhere the takeover is the only guard.
  if (!navigator.locks || state.releaseVault) return Promise.resolve();
  state.vaultWait = new AbortController();
  const waiting = setTimeout(() => { $("error").textContent = "Waiting for another tab of this device to let go…"; }, 3000);
  return new Promise((held, refused) => {
    navigator.locks.request(vaultName(), { signal: state.vaultWait.signal }, () => {
      clearTimeout(waiting);
      if ($("error").textContent.startsWith("Waiting for another tab")) $("error").textContent = "";
      // Taken over while it waited: this page does not hold the vault.
      if (state.replaced) return refused(new Error("This device is open in another tab or window."));
      return new Promise((release) => {
        state.releaseVault = release;
        held();
      });
    }).catch((e) => { clearTimeout(waiting); refused(e); });
  });
}

/** This page stops using the vault: a wait for it ends, and the lock goes once what the page queued has run. */
function letGoOfVault() {
  state.vaultWait?.abort();
  enqueue(() => { state.releaseVault?.(); state.releaseVault = null; });
}

/**
 * Signs in with a device token, checked first, so a dead one (a removed device, an expired token) asks again instead of
 * retrying. `keep`: remembered for the next visit (a token typed or from linking, not one from the address).
 */
async function start(token, keep) {
  if (state.token) return;
  state.token = token;
  state.keepSession = keep;
  $("signin").querySelector("button").disabled = true;
  try {
    await api("keys");
  } catch (e) {
    if (e.status === 401) {
      if (localStorage.getItem(SESSION_KEY) === token) localStorage.removeItem(SESSION_KEY);
      state.token = null;
      $("signin").querySelector("button").disabled = false;
      $("signin-status").textContent = `Signed out: ${e.message}.`;
      return;
    }
    // Anything else (the server unreachable, 503): connecting retries.
  }
  $("signin").hidden = true;
  $("link").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  connect();
}

/**
 * Forgets this browser's token and its push registration (the device stays on the account, its keys in this browser
 * for when it signs in again; remove the device from the phone to end it).
 */
$("signout").onclick = async () => {
  if (state.vault?.push && !state.replaced) await disableNotifications().catch((e) => { $("error").textContent = e.message; });
  // The browser's own subscription too, which needs no token: no more pushes reach this browser for this device.
  const registration = await navigator.serviceWorker?.getRegistration();
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
  localStorage.removeItem(SESSION_KEY);
  state.token = null;
  state.socket?.close();
  history.replaceState(null, "", location.pathname);
  location.reload();
};

$("signin").onsubmit = (event) => {
  event.preventDefault();
  start($("token").value.trim(), state.tokenFromAddress !== $("token").value.trim()).catch((e) => { $("signin-status").textContent = e.message; });
};

// --- linking this browser to an account (docs/protocol.md §2.5, docs/e2ee.md §7) -----------------

async function unauthenticated(path, body) {
  const response = await fetch(`/api/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * Asks to join the account of `phone` with keys made here: the page shows the link code (the primary scans it and
 * endorses the identity key in it), waits for the approval, checks the endorsement, and signs in with its keys.
 */
async function linkBrowser(phone) {
  const keys = await e2ee.generateDeviceKeys(20);
  const secret = crypto.getRandomValues(new Uint8Array(16));
  const asked = await unauthenticated("accounts/link", { phone, deviceName: "browser" });
  if (asked.status !== 202) throw new Error(asked.body?.error?.message || `HTTP ${asked.status}`);
  const link = asked.body;
  $("link-code").textContent = e2ee.linkCode(link, keys, secret);
  $("link-status").textContent = "Scan or paste this code in Natter on your phone (link a device).";
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const done = await unauthenticated(`accounts/link/${encodeURIComponent(link.linkId)}/complete`, { deviceSecret: link.deviceSecret });
    if (done.status === 409) continue;
    if (done.status !== 200) throw new Error(done.body?.error?.message || `HTTP ${done.status}`);
    const accountKey = await e2ee.checkEndorsement(done.body.endorsement, done.body.userId, keys, secret);
    state.linked = { keys, accountKey };
    $("link-code").textContent = "";
    await start(done.body.accessToken, true);
    return;
  }
}

$("link").onsubmit = (event) => {
  event.preventDefault();
  $("link-status").textContent = "asking…";
  linkBrowser($("link-phone").value.trim()).catch((e) => { $("link-status").textContent = e.message; });
};

$("composer").onsubmit = (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text || !state.current) return;
  const chatId = state.current;
  enqueue(() => sealAndSend(chatId, crypto.randomUUID(), text));
  $("text").value = "";
};

// Enter in the passphrase does nothing: a backup replaces the account's, so only its own button makes one.
$("backup").onsubmit = (event) => event.preventDefault();
for (const button of $("backup").querySelectorAll("button")) {
  button.onclick = () => {
    const passphrase = $("passphrase").value;
    const restoring = button.value === "restore";
    $("backup-status").textContent = restoring ? "restoring…" : "backing up…";
    enqueue(async () => {
      try {
        const count = restoring ? await restore(passphrase) : await backUp(passphrase);
        $("backup-status").textContent = restoring ? `restored ${count} keys` : `backed up ${count} keys`;
      } catch (e) {
        $("backup-status").textContent = e.message;
      }
    });
  };
}

// --- push notifications while the page is closed (Web Push, sw.js) ------------------------------

/**
 * Subscribes this browser to Web Push with the server's VAPID key and registers the subscription, with its
 * keys, as this device's push registration: pushes then carry the notification encrypted to this browser.
 * Asks for permission first (a browser asks only after a click).
 */
async function enableNotifications() {
  if (!isSecureContext) throw new Error("Web Push needs https (or localhost)");
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
  if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are not allowed for this site");
  await navigator.serviceWorker.register("sw.js");
  // Subscribing needs an active worker; register() resolves while it still installs.
  await subscribe(await navigator.serviceWorker.ready);
}

async function subscribe(registration) {
  const { publicKey } = await api("devices/push/webpush-key");
  const serverKey = e2ee.fromUrl64(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made with another VAPID key (the operator replaced it) is refused by its push service: make anew.
  if (subscription && !bytes.equal(new Uint8Array(subscription.options.applicationServerKey || []), serverKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
  const { endpoint, keys } = subscription.toJSON();
  await api("devices/push", { method: "PUT", body: JSON.stringify({ platform: "webpush", token: endpoint, p256dh: keys.p256dh, auth: keys.auth }) });
  // Remembered per device: another account signed in on this browser does not get this one's notifications.
  state.vault.push = true;
  saveVault();
}

/** At each connection of a device that asked for notifications, its subscription is registered again (or made anew). */
async function renewSubscription() {
  if (!state.vault?.push || !isSecureContext || !("serviceWorker" in navigator) || Notification.permission !== "granted") return;
  const registration = await navigator.serviceWorker.getRegistration();
  if (registration) await subscribe(registration.active ? registration : await navigator.serviceWorker.ready);
}

/** This device gets no more pushes: the server forgets its registration (the browser's subscription may serve another account). */
async function disableNotifications() {
  await api("devices/push", { method: "DELETE" });
  state.vault.push = false;
  saveVault();
}

// --- approving a device that asks to join this account (the primary only; docs/e2ee.md §7.1, §7.2) ----

const isPrimary = () => bytes.equal(state.vault.accounts[state.me]?.key || new Uint8Array(0), state.vault.keys.identity.pub);

/**
 * The account's next device list: the keys of the last one this browser signed (or, for the first, of the devices it
 * endorsed) that the account still has, its own, and `adding`. Taken from the server alone, a device removed earlier
 * could slip back in; the server can only make it shorter.
 */
async function nextDeviceList(adding) {
  const own = await listing(state.me);
  await pinAccount(state.me, own.devices, own.deviceList);
  const pinned = state.vault.accounts[state.me].list;
  const keys = [state.vault.keys.identity.pub];
  const add = (k) => { if (!keys.some((x) => bytes.equal(x, k))) keys.push(k); };
  for (const d of await api("devices"))
    if (!d.primary && d.identityKey && (!pinned || e2ee.listNames(pinned, bytes.fromBase64(d.identityKey)))) add(bytes.fromBase64(d.identityKey));
  if (adding) add(adding);
  // A version never signed before, recorded before the list leaves: two lists of one version would let a server show either.
  state.vault.listSigned = Math.max(pinned?.version || 0, state.vault.listSigned || 0) + 1;
  saveVault();
  return e2ee.signDeviceList(state.vault.keys, state.me, state.vault.listSigned, keys);
}

/** Signs and publishes the device list (with `code`'s device approved, if given), again on top of a newer one; pins what the server took. */
async function publishDeviceList(code) {
  for (let attempt = 1; ; attempt++) {
    const list = await nextDeviceList(code?.ik);
    const pinned = state.vault.accounts[state.me].list;
    if (!code && pinned && pinned.keys.length === list.keys.length && list.keys.every((k) => e2ee.listNames(pinned, bytes.fromBase64(k)))) return null;
    try {
      const answer = code
        ? await api(`devices/links/${encodeURIComponent(code.linkId)}/approve`,
          { method: "POST", body: JSON.stringify({ ...(await e2ee.endorse(state.vault.keys, state.me, code)), deviceList: list }) })
        : await api("devices/list", { method: "PUT", body: JSON.stringify(list) });
      state.vault.accounts[state.me].list = { version: list.version, keys: list.keys.map((k) => bytes.fromBase64(k)) };
      saveVault();
      return answer;
    } catch (e) {
      if (e.code !== "stale_device_list" || attempt >= 3) throw e;
    }
  }
}

$("approve").onsubmit = (event) => {
  event.preventDefault();
  const text = $("approve-code").value;
  $("approve-status").textContent = "approving…";
  enqueue(async () => {
    try {
      const devices = await publishDeviceList(e2ee.parseLinkCode(text));
      $("approve-code").value = "";
      $("approve-status").textContent = `approved: the account has ${devices.length} devices`;
    } catch (e) {
      $("approve-status").textContent = e.message;
    }
  });
};

$("notify").onclick = () => {
  $("notify-status").textContent = "subscribing…";
  enableNotifications().then(
    () => { $("notify-status").textContent = "notifications on"; },
    (e) => { $("notify-status").textContent = `no notifications: ${e.message}`; });
};

$("notify-off").onclick = () => {
  disableNotifications().then(
    () => { $("notify-status").textContent = "notifications off"; },
    (e) => { $("notify-status").textContent = e.message; });
};

function setStatus(s) {
  $("status").textContent = s;
  $("status").dataset.state = s;
}

// A notification clicked while this page is open (sw.js): its chat, now or once the chats are loaded.
navigator.serviceWorker?.addEventListener("message", (event) => {
  const chatId = event.data?.chatId;
  if (!chatId) return;
  if (state.chats.has(chatId)) openChat(chatId);
  // A chat this page has not loaded yet (its first message brought the push): now if online, else once it is.
  else if (state.vault) enqueue(async () => { await refreshChats(); if (state.chats.has(chatId)) openChat(chatId); });
  else state.pendingChat = chatId;
});

// A token in the address (#token=...) signs in at once, for this visit only; it stays out of server logs, unlike a
// query string, and out of the address bar once read. Without one, the token this browser kept signs in. #chat=...
// opens that chat once online.
const fromHash = new URLSearchParams(location.hash.slice(1));
state.pendingChat = fromHash.get("chat");
state.tokenFromAddress = fromHash.get("token");
if (location.hash) history.replaceState(null, "", location.pathname);
const kept = state.tokenFromAddress || localStorage.getItem(SESSION_KEY);
if (kept) {
  $("token").value = kept;
  $("signin").requestSubmit();
}
