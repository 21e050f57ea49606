// The browser client's service worker: shows a notification for a push while the page is closed (docs/e2ee.md §9).
// The browser has already decrypted the push (RFC 8291) with this subscription's keys: what arrives is the JSON the
// server encrypted to them, {title, body, chatId, seq, notificationId}, which says who wrote only when the user's
// previews are on and never what. A push without a payload says "New message".
self.addEventListener("push", (event) => {
  let data = null;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  event.waitUntil((async () => self.registration.showNotification(data?.title || "Natter", {
    body: data?.body || "New message",
    // One notification per chat, a newer one replacing it with a new alert. The tag is a hash: a direct chat's id
    // names both phone numbers, and the system keeps notification tags.
    tag: await tagOf(data?.chatId),
    renotify: true,
    data: { chatId: data?.chatId || null },
  }))());
});

async function tagOf(chatId) {
  if (!chatId) return "natter";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(chatId)));
  return "chat-" + Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

// A click brings an open Natter page forward at the notification's chat, or opens one there (signed in with the
// token the page kept).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const chatId = event.notification.data?.chatId;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    if (pages.length === 0) return self.clients.openWindow(chatId ? `./#chat=${encodeURIComponent(chatId)}` : "./");
    // The page the user looks at, else any: each opens the chat once its chats are loaded.
    const page = pages.find((p) => p.focused) || pages.find((p) => p.visibilityState === "visible") || pages[0];
    if (chatId) page.postMessage({ chatId });
    return page.focus();
  })());
});
