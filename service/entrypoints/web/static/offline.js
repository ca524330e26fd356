/* Offline: the service worker, the banner, and the queue of steps filled without a network.
 *
 * A step form (#fire-form) submitted while the phone is offline is kept in localStorage
 * (per user) with the client_id the server rendered into it, and sent when the phone is
 * back online: first a GET of the form (a fresh CSRF token, and whether the session still
 * holds), then the POST. The server does a client_id's step once, so a queue that sends
 * again after a lost reply changes nothing. A step the server refuses (someone changed the
 * visit meanwhile: 409, or a field it rejects: 422) stays in the queue, shown with a link
 * that opens the form filled with what was saved: nothing typed offline is lost.
 */
(function () {
  "use strict";
  const root = document.getElementById("offline-queue");
  if (!root) return;
  const T = JSON.parse(root.dataset.texts);
  const who = document.getElementById("who");
  const user = who ? who.dataset.username : null;
  const KEY = "visitflow-queue:" + user;
  const KEPT_AT = "visitflow-kept-at:" + user;
  const KEEP_EVERY_MS = 5 * 60 * 1000;
  const TOKEN = /name="csrf_token" value="([^"]+)"/;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); render(items); }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text) node.textContent = text;
    return node;
  }

  function render(items) {
    root.replaceChildren();
    root.hidden = items.length === 0 && !root.dataset.sent;
    if (root.dataset.sent) {
      root.append(el("p", { class: "queue-sent", id: "queue-sent", role: "status" }, root.dataset.sent));
    }
    const queued = document.getElementById("queued");
    const form = document.getElementById("fire-form");
    const own = form && form.querySelector('[name="client_id"]');
    const mine = own && items.find((i) => i.id === own.value);
    if (queued && mine) queued.textContent = mine.status === "waiting" ? T.queued : T[mine.status];
    if (!items.length) return;
    root.append(el("p", { class: "queue-title" }, T.title.replace("%(count)s", items.length)));
    const list = el("ul", { class: "queue-items" });
    for (const item of items) {
      const li = el("li", { class: "queue-item queue-" + item.status, "data-id": item.id });
      li.append(el("span", { class: "queue-what" }, item.title + " · " + item.saved));
      li.append(el("span", { class: "queue-status" }, " " + (T[item.status] || T.waiting)));
      if (item.note) li.append(el("span", { class: "queue-note" }, " " + item.note));
      if (item.status !== "waiting" && item.status !== "signin") {
        const open = el("a", { href: item.url + "#restore=" + item.id, class: "queue-open" }, T.open);
        li.append(" ", open);
      }
      const drop = el("button", { type: "button", class: "link queue-drop" }, T.discard);
      drop.addEventListener("click", () => {
        if (window.confirm(T.confirm_discard)) save(load().filter((i) => i.id !== item.id));
      });
      li.append(" ", drop);
      list.append(li);
    }
    root.append(list);
  }

  function showBanner() {
    const banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = navigator.onLine;
  }

  function queueForm(form) {
    const data = new FormData(form);
    const id = data.get("client_id");
    const fields = [];
    for (const [name, value] of data.entries()) {
      if (typeof value === "string") fields.push([name, value]);
    }
    const heading = document.querySelector("main h1");
    const item = {
      id: id, url: location.pathname, fields: fields, status: "waiting", note: "",
      title: (heading ? heading.textContent.trim() : "") + " " + (form.dataset.instance || ""),
      saved: new Date().toLocaleString(document.documentElement.lang),
    };
    save(load().filter((i) => i.id !== id).concat([item]));
    const saved = el("p", { class: "notice info", id: "queued", role: "status" }, T.queued);
    form.before(saved);
    form.querySelectorAll("input, select, textarea, button").forEach((n) => { n.disabled = true; });
  }

  async function send(item) {
    const page = await fetch(item.url, { credentials: "same-origin" });
    if (page.redirected && new URL(page.url).pathname === "/login") return "signin";
    const match = TOKEN.exec(await page.text());
    if (!match) return "signin";
    const body = new FormData();
    for (const [name, value] of item.fields) {
      if (name !== "csrf_token") body.append(name, value);
    }
    body.append("csrf_token", match[1]);
    const answer = await fetch(item.url, { method: "POST", body: body, credentials: "same-origin" });
    if (answer.redirected && new URL(answer.url).pathname === "/login") return "signin";
    if (answer.redirected || answer.ok && !new URL(answer.url).pathname.includes("/fire/")) return "sent";
    if (answer.status === 409) return "conflict";
    return "refused";
  }

  let flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    let sent = 0;
    try {
      for (const item of load().filter((i) => i.status === "waiting" || i.status === "signin")) {
        let outcome;
        try { outcome = await send(item); } catch (e) { break; }  // offline again
        const items = load();
        if (outcome === "sent") {
          sent += 1;
          save(items.filter((i) => i.id !== item.id));
        } else {
          save(items.map((i) => (i.id === item.id ? { ...i, status: outcome } : i)));
        }
      }
    } finally {
      flushing = false;
    }
    if (sent) {
      root.dataset.sent = T.sent.replace("%(count)s", sent);
      render(load());
      keepPages(true);
    }
  }

  function restore() {
    const match = /#restore=([A-Za-z0-9_.:-]+)/.exec(location.hash);
    const form = document.getElementById("fire-form");
    if (!match || !form) return;
    const item = load().find((i) => i.id === match[1]);
    if (!item) return;
    const values = {};
    for (const [name, value] of item.fields) (values[name] = values[name] || []).push(value);
    for (const [name, list] of Object.entries(values)) {
      if (name === "csrf_token" || name === "version") continue;  // this page's own
      form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach((input) => {
        if (input.type === "checkbox" || input.type === "radio") input.checked = list.includes(input.value);
        else if (input.type !== "file") input.value = list[0];
      });
    }
    form.before(el("p", { class: "notice info", id: "restored", role: "status" }, T.restored));
    form.addEventListener("submit", () => save(load().filter((i) => i.id !== item.id)));
  }

  // The pages kept offline follow the inbox: asked again whenever the inbox is open online,
  // after the queue sent something, and at most every few minutes on other pages.
  function keepPages(force) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller || !navigator.onLine) return;
    const last = Number(localStorage.getItem(KEPT_AT) || 0);
    if (force !== true && location.pathname !== "/" && Date.now() - last < KEEP_EVERY_MS) return;
    localStorage.setItem(KEPT_AT, String(Date.now()));
    navigator.serviceWorker.controller.postMessage({ type: "keep" });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    navigator.serviceWorker.addEventListener("controllerchange", () => keepPages(true));
  }
  const form = document.getElementById("fire-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      if (navigator.onLine) return;
      event.preventDefault();
      queueForm(form);
    });
  }
  const logout = document.getElementById("logout-form");
  if (logout) {
    logout.addEventListener("submit", () => {
      localStorage.removeItem(KEPT_AT);
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "forget" });
      }
    });
  }
  window.addEventListener("online", () => { showBanner(); flush(); keepPages(true); });
  window.addEventListener("offline", showBanner);
  showBanner();
  render(load());
  restore();
  flush();
  keepPages();
})();
