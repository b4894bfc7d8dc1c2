// The simulator page: the WeCom client in a browser, one phone per member.
// Everything shown comes from the stand-in (/_sim/directory, /_sim/inbox); everything done goes back to it
// (/_sim/say, /_sim/card, /_sim/send-file, /_sim/event), which posts the encrypted callback to the bot.
// What a message looks like is drawn by draw.js (loaded first).
"use strict";
(() => {
  const L = JSON.parse(document.getElementById("labels").textContent);
  const POLL_WAIT = 20;           // seconds a long poll may wait on the stand-in
  const BUSY_MS = 4000;           // a pressed card stays busy this long unless the bot updates it sooner
  const SEEN_KEY = "wecom-sim-seen";
  const params = new URLSearchParams(location.search);
  const single = params.get("u");  // one member's phone filling the window (new tabs, phone-sized screens)
  const panes = new Map();         // userid -> pane
  let directory = {app: "", note: "", connected: true, menu: [], members: [], seq: 0};
  let seen = {};
  try { seen = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}") || {}; } catch (e) { seen = {}; }

  const {el, str, openUrl, content, templateCard, when, initial, GAP_S} = window.WeComDraw(L);

  async function press(pane, box, btn, taskId, key, choice) {
    if (box.classList.contains("busy")) return;
    box.classList.add("busy");
    btn.classList.add("pressed");
    const done = () => { box.classList.remove("busy"); btn.classList.remove("pressed"); };
    const ok = await act(pane, "/_sim/card", {userid: pane.userid, task_id: taskId, key: key, selected: {...choice}});
    if (ok) setTimeout(done, BUSY_MS); else done();
  }

  // Something the member did, sent to the stand-in; a refusal shows as a toast. `data-acked` counts the
  // answers (the browser tests wait on it instead of sleeping).
  async function act(pane, path, body) {
    try {
      return await api(path, body);
    } catch (err) {
      toast(pane, err.code);
      return null;
    } finally {
      pane.node.dataset.acked = String(Number(pane.node.dataset.acked || 0) + 1);
    }
  }

  function addEntry(pane, entry) {
    if (entry.kind === "failed") {
      const mine = pane.log.querySelector('[data-seq="' + Number(entry.ref) + '"]');
      if (mine) { mine.classList.add("failed"); mine.title = L.errors[entry.reason] || L.not_delivered; }
      return;
    }
    if (entry.kind === "card_update") {
      const old = pane.log.querySelector('.card[data-task="' + CSS.escape(str(entry.task_id)) + '"]');
      if (old && entry.card) old.replaceWith(templateCard(pane.ctx, entry.card, entry.disabled, entry.task_id));
      return;
    }
    if (entry.time && (!pane.lastTime || entry.time - pane.lastTime >= GAP_S)) {
      pane.log.append(el("div", "time", when(entry.time)));
    }
    pane.lastTime = entry.time || pane.lastTime;
    const mine = entry.kind === "sent";
    const row = el("div", "msg " + (mine ? "me" : "app"));
    row.dataset.seq = str(entry.seq);
    if (entry.msgid) row.dataset.msgid = str(entry.msgid);
    const avatar = el("div", "avatar", mine ? initial(pane.member.name || pane.userid) : Array.from(directory.app || L.app)[0]);
    const bubble = el("div", "bubble");
    const type = entry.msgtype || (entry.body || {}).msgtype;
    bubble.classList.add("type-" + str(type));
    bubble.append(content(pane.ctx, entry));
    row.append(avatar, bubble);
    if (mine) row.append(el("span", "mark", "!"));
    pane.log.append(row);
  }

  // --- the stand-in ------------------------------------------------------------------------------
  async function api(path, body) {
    let resp;
    try {
      resp = await fetch(path, body instanceof FormData ? {method: "POST", body: body}
        : body ? {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}
        : {cache: "no-store"});
    } catch (e) {
      const err = new Error("offline"); err.code = "offline"; throw err;
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error("refused"); err.code = (data && data.error) || "default"; throw err;
    }
    return data;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function toast(pane, code) {
    const t = pane.node.querySelector(".toast");
    t.textContent = L.errors[code] || L.errors.default;
    t.hidden = false;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => { t.hidden = true; }, 3000);
  }

  function markSeen(userid, seq) {
    if ((seen[userid] || 0) >= seq) return;
    seen[userid] = seq;
    try { localStorage.setItem(SEEN_KEY, JSON.stringify(seen)); } catch (e) { /* private mode */ }
  }

  // --- the list of members -------------------------------------------------------------------------
  function renderDirectory() {
    const nav = document.getElementById("members");
    nav.replaceChildren();
    document.getElementById("offline").hidden = true;
    document.getElementById("unplugged").hidden = directory.connected;
    const note = document.getElementById("note");
    note.textContent = str(directory.note);
    note.hidden = !directory.note;
    if (!directory.members.length) nav.append(el("p", "empty", L.no_members));
    let group = null, list = null;
    for (const m of directory.members) {
      if (!list || m.department !== group) {
        group = m.department;
        if (group) nav.append(el("h2", "group", group));
        list = el("ul", "list");
        nav.append(list);
      }
      const item = el("li", "member-row");
      const row = el("button", "member");
      row.type = "button";
      row.dataset.user = m.userid;
      if (panes.has(m.userid)) row.classList.add("open");
      const last = m.last;
      const text = el("div", "member-text");
      const top = el("div", "member-top");
      top.append(el("span", "member-name", m.name || m.userid), el("span", "member-time", last && last.time ? when(last.time) : ""));
      const preview = last ? (L.kinds[last.kind === "sent" ? "sent" : last.kind === "failed" ? "failed" : last.msgtype] || "") + str(last.text) : "";
      text.append(top, el("div", "member-pos", m.position || m.userid), el("div", "member-last", preview));
      row.append(el("span", "avatar", initial(m.name || m.userid)), text);
      if (last && last.kind !== "sent" && last.seq > (seen[m.userid] || 0) && !panes.has(m.userid)) {
        row.append(el("span", "dot"));
      }
      row.addEventListener("click", () => openPane(m.userid));
      const tab = el("a", "new-tab", "↗");
      tab.href = "/?u=" + encodeURIComponent(m.userid);
      tab.target = "_blank";
      tab.title = L.new_tab;
      item.append(row, tab);
      list.append(item);
    }
    for (const pane of panes.values()) decorate(pane);
  }

  async function watchDirectory(loaded) {
    let after = null;
    for (;;) {
      try {
        directory = await api("/_sim/directory" + (after === null ? "" : "?after=" + after + "&wait=" + POLL_WAIT));
        after = directory.seq;
        renderDirectory();
        loaded();
      } catch (e) {
        document.getElementById("offline").hidden = false;
        await sleep(3000);
      }
    }
  }

  // --- a phone -----------------------------------------------------------------------------------------
  function member(userid) {
    return directory.members.find((m) => m.userid === userid) || {userid: userid, name: userid, position: ""};
  }

  function decorate(pane) {
    pane.member = member(pane.userid);
    const n = pane.node;
    n.querySelector(".app-name").textContent = directory.app || L.app;
    n.querySelector(".who").textContent = [pane.member.name, pane.member.position].filter(Boolean).join(" · ");
    const wb = n.querySelector(".workbench");
    wb.hidden = !pane.member.workbench;
    wb.href = "/_sim/open?to=workbench&userid=" + encodeURIComponent(pane.userid);
    const menu = directory.menu || [];
    n.querySelector(".menu-toggle").hidden = !menu.length;
    const nav = n.querySelector(".menu");
    if (nav.dataset.built !== JSON.stringify(menu)) {
      nav.dataset.built = JSON.stringify(menu);
      nav.replaceChildren();
      for (const item of menu) nav.append(menuItem(pane, item));
      nav.hidden = !menu.length;   // as in WeCom, an app with a menu shows it under the chat
    }
    for (const el2 of n.querySelectorAll(".input, .send, .attach input")) el2.disabled = !directory.connected;
    note(pane, directory.connected ? "" : L.unplugged);
  }

  function note(pane, text) {
    const p = pane.node.querySelector(".pane-note");
    p.textContent = text;
    p.hidden = !text;
  }

  function menuItem(pane, item) {
    const wrap = el("div", "menu-item");
    const btn = el("button", null, item.name);
    btn.type = "button";
    wrap.append(btn);
    const subs = item.sub_button || [];
    if (subs.length) {
      const pop = el("div", "menu-pop");
      pop.hidden = true;
      for (const sub of subs) pop.append(menuItem(pane, sub));
      wrap.append(pop);
      btn.addEventListener("click", () => { pop.hidden = !pop.hidden; });
    } else {
      btn.dataset.key = str(item.key);
      btn.addEventListener("click", async () => {
        for (const p of pane.node.querySelectorAll(".menu-pop")) p.hidden = true;
        if (item.type === "view") { window.open(openUrl(pane.userid, item.url), "_blank", "noopener"); return; }
        await act(pane, "/_sim/event", {userid: pane.userid, event: "click", key: item.key});
      });
    }
    return wrap;
  }

  function openPane(userid) {
    let pane = panes.get(userid);
    if (!pane) {
      const node = document.getElementById("t-phone").content.firstElementChild.cloneNode(true);
      node.dataset.user = userid;
      pane = {userid: userid, node: node, log: node.querySelector(".log"), after: 0, lastTime: 0, alive: true};
      pane.ctx = {userid: userid, press: (box, btn, taskId, key, choice) => press(pane, box, btn, taskId, key, choice)};
      panes.set(userid, pane);
      document.getElementById("phones").append(node);
      wire(pane);
      decorate(pane);
      poll(pane);
      act(pane, "/_sim/event", {userid: userid, event: "enter_agent"});
    }
    document.body.classList.add("chatting");
    for (const p of panes.values()) p.node.classList.toggle("active", p === pane);
    pane.node.scrollIntoView({block: "nearest", inline: "nearest"});
    pane.node.querySelector(".input").focus({preventScroll: true});
    remember();
    renderDirectory();
    return pane;
  }

  function closePane(pane) {
    pane.alive = false;
    pane.node.remove();
    panes.delete(pane.userid);
    if (!panes.size) document.body.classList.remove("chatting");
    remember();
    renderDirectory();
  }

  function remember() {
    if (single) return;
    const hash = [...panes.keys()].map(encodeURIComponent).join(",");
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function wire(pane) {
    const n = pane.node;
    const input = n.querySelector(".input");
    const send = async () => {
      const text = input.value;
      if (!text.trim()) return;
      if (await act(pane, "/_sim/say", {userid: pane.userid, text: text})) {
        input.value = "";
        grow(input);
      }
    };
    n.querySelector(".send").addEventListener("click", send);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); }
    });
    input.addEventListener("input", () => grow(input));
    const file = n.querySelector(".file");
    file.addEventListener("change", async () => {
      if (!file.files.length) return;
      const form = new FormData();
      form.append("userid", pane.userid);
      form.append("file", file.files[0]);
      file.value = "";
      await act(pane, "/_sim/send-file", form);
    });
    n.querySelector(".menu-toggle").addEventListener("click", () => {
      const nav = n.querySelector(".menu");
      nav.hidden = !nav.hidden;
    });
    n.querySelector(".close").addEventListener("click", () => closePane(pane));
    n.querySelector(".back").addEventListener("click", () => {
      if (single) { location.href = "/"; return; }
      document.body.classList.remove("chatting");
    });
    n.addEventListener("focusin", () => { for (const p of panes.values()) p.node.classList.toggle("active", p === pane); });
  }

  function grow(input) {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  async function poll(pane) {
    let wait = 0;   // the first answer at once (the history), then long polls
    while (pane.alive) {
      try {
        const entries = await api("/_sim/inbox/" + encodeURIComponent(pane.userid) + "?after=" + pane.after + "&wait=" + wait);
        wait = POLL_WAIT;
        if (!pane.alive) return;
        const log = pane.log;
        const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
        for (const entry of entries) {
          pane.after = Math.max(pane.after, entry.seq);
          addEntry(pane, entry);
        }
        note(pane, directory.connected ? "" : L.unplugged);
        if (entries.length) {
          markSeen(pane.userid, pane.after);
          if (atBottom || entries.some((e) => e.kind === "sent")) log.scrollTop = log.scrollHeight;
          pane.node.dataset.seq = String(pane.after);
        }
      } catch (e) {
        note(pane, L.offline);
        await sleep(2000);
      }
    }
  }

  // --- start ---------------------------------------------------------------------------------------------
  if (single) {
    document.body.classList.add("single");
    document.title = document.title + " · " + single;
  }
  new Promise((loaded) => watchDirectory(loaded)).then(() => {
    const wanted = single ? [single] : location.hash.slice(1).split(",").filter(Boolean).map(decodeURIComponent);
    for (const userid of wanted) openPane(userid);
  });
})();
