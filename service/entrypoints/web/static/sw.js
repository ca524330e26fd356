/* VisitFlow's service worker: the shell and the user's pages, kept for a phone offline.
 *
 * - Static files (content-hashed URLs, `?v=`) and the offline page: cache first.
 * - Pages: the network first; a page that answers is kept if it is one of the user's
 *   (listed by /offline/pages); offline, the kept copy, else the offline page.
 * - A page posts {type: "keep"} after loading online: the worker fetches /offline/pages and
 *   keeps each listed page (the inbox, its items, their step forms), dropping the others.
 * - {type: "forget"} (signing out) drops every kept page: the next user of the phone sees
 *   nothing of the last one's.
 * Form submissions are never cached or replayed here: offline.js queues them.
 */
"use strict";

const SHELL = "visitflow-shell-v1";
const PAGES = "visitflow-pages-v1";
const OFFLINE_URL = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.add(new Request(OFFLINE_URL, { cache: "reload" })))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n !== SHELL && n !== PAGES).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

function isStatic(url) {
  return url.pathname.startsWith("/web-static/") || url.pathname === "/favicon.ico" ||
    url.pathname === "/manifest.webmanifest";
}

async function staticFirst(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

async function pageNetworkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && await cache.match(request)) {
      cache.put(request, response.clone());  // a kept page: keep it fresh
    }
    return response;
  } catch (err) {
    const kept = await cache.match(request);
    if (kept) return kept;
    const offline = await caches.match(OFFLINE_URL);
    return offline || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (isStatic(url)) {
    event.respondWith(staticFirst(request));
  } else if (request.mode === "navigate" || request.headers.get("accept")?.includes("text/html")) {
    event.respondWith(pageNetworkFirst(request));
  }
});

async function keepPages() {
  const answer = await fetch("/offline/pages", { credentials: "same-origin" });
  if (!answer.ok || answer.redirected) return { kept: 0 };
  const { pages } = await answer.json();
  const cache = await caches.open(PAGES);
  const wanted = new Set(pages.map((p) => new URL(p, self.location.origin).href));
  for (const request of await cache.keys()) {
    if (!wanted.has(request.url)) await cache.delete(request);
  }
  let kept = 0;
  for (const page of wanted) {
    try {
      const response = await fetch(page, { credentials: "same-origin" });
      if (response.ok && !response.redirected) {
        await cache.put(page, response);
        kept += 1;
      }
    } catch (err) {
      return { kept };  // offline again: keep what was kept
    }
  }
  return { kept };
}

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  const reply = (value) => event.source && event.source.postMessage({ type: type + "-done", ...value });
  if (type === "keep") {
    event.waitUntil(keepPages().then(reply, () => reply({ kept: 0 })));
  } else if (type === "forget") {
    event.waitUntil(caches.delete(PAGES).then(() => reply({})));
  }
});
