// A minimal browser client of Natter's protocol v1: one WebSocket, JSON frames, bodies as base64 UTF-8 text.
// It keeps per-chat messages by seq (the protocol's dedupe key), acknowledges delivery, and resyncs on reconnect.
"use strict";

const state = { token: null, me: null, socket: null, chats: new Map(), current: null, messages: new Map(), cursors: {} };
const $ = (id) => document.getElementById(id);

const encode = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const decode = (base64) => {
  try { return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))); }
  catch { return "(unreadable)"; }
};

async function api(path, options = {}) {
  const response = await fetch(`/api/${path}`, {
    ...options,
    headers: { "Authorization": `Bearer ${state.token}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body;
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws?access_token=${encodeURIComponent(state.token)}`);
  state.socket = socket;
  let heartbeat = null;
  socket.onmessage = (event) => onFrame(JSON.parse(event.data));
  socket.onopen = () => {
    setStatus("online");
    send({ type: "sync", cursors: state.cursors });
  };
  socket.onclose = (event) => {
    clearInterval(heartbeat);
    setStatus("offline");
    // 4001: the token expired; anything else: reconnect and sync from the cursors.
    if (event.code !== 4001 && state.token) setTimeout(connect, 1000);
  };
  socket.addEventListener("message", function welcome(event) {
    const frame = JSON.parse(event.data);
    if (frame.type !== "welcome") return;
    state.me = frame.userId;
    heartbeat = setInterval(() => send({ type: "ping", t: Date.now() }), frame.heartbeatSeconds * 1000);
    socket.removeEventListener("message", welcome);
  });
}

function onFrame(frame) {
  switch (frame.type) {
    case "message": onMessage(frame); break;
    case "synced": refreshChats(); break;
    case "error": $("error").textContent = `${frame.code}: ${frame.message}`; break;
  }
}

function onMessage(m) {
  if (!state.messages.has(m.chatId)) state.messages.set(m.chatId, new Map());
  state.messages.get(m.chatId).set(m.seq, m);
  state.cursors[m.chatId] = Math.max(state.cursors[m.chatId] || 0, m.seq);
  send({ type: "delivered", chatId: m.chatId, seq: m.seq });
  if (!state.chats.has(m.chatId)) refreshChats();
  if (m.chatId === state.current) render();
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
}

function render() {
  const messages = [...(state.messages.get(state.current)?.values() || [])].sort((a, b) => a.seq - b.seq);
  $("messages").replaceChildren(...messages.map((m) => {
    const item = document.createElement("li");
    item.className = m.sender === state.me ? "mine" : "theirs";
    item.dataset.seq = m.seq;
    item.textContent = m.change ? `(${m.change.kind} ${m.change.users.map((u) => `+${u}`).join(", ")})` : decode(m.body);
    return item;
  }));
  const last = messages.at(-1);
  if (last && last.sender !== state.me) send({ type: "read", chatId: state.current, seq: last.seq });
}

$("signin").onsubmit = (event) => {
  event.preventDefault();
  state.token = $("token").value.trim();
  $("signin").hidden = true;
  $("app").hidden = false;
  connect();
};

$("composer").onsubmit = (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text || !state.current) return;
  send({ type: "send", chatId: state.current, clientMsgId: crypto.randomUUID(), body: encode(text) });
  $("text").value = "";
};

function setStatus(s) {
  $("status").textContent = s;
  $("status").dataset.state = s;
}

// A token in the address (#token=...) signs in at once; it stays out of server logs, unlike a query string.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) {
  $("token").value = fromHash;
  $("signin").requestSubmit();
}
