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
  // One notification per chat: a newer push of the same chat replaces the older one.
  event.waitUntil(self.registration.showNotification(data?.title || "Natter", {
    body: data?.body || "New message",
    tag: data?.chatId || "natter",
    data: { chatId: data?.chatId || null, seq: data?.seq ?? null },
  }));
});

// A click brings an open Natter page forward, or opens one (which asks for the device token again).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    return pages.length > 0 ? pages[0].focus() : self.clients.openWindow("./");
  })());
});
