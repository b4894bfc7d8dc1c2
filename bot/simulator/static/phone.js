// The simulator page: the WeCom client in a browser, one phone per member.
// Everything shown comes from the stand-in (/_sim/directory, /_sim/inbox); everything done goes back to it
// (/_sim/say, /_sim/card, /_sim/send-file, /_sim/event), which posts the encrypted callback to the bot.
// Every text is untrusted (the bot repeats what people typed): nodes are built with textContent, never HTML.
"use strict";
(() => {
  const L = JSON.parse(document.getElementById("labels").textContent);
  const POLL_WAIT = 20;           // seconds a long poll may wait on the stand-in
  const BUSY_MS = 4000;           // a pressed card stays busy this long unless the bot updates it sooner
  const GAP_S = 300;              // a time line between messages further apart than this
  const SEEN_KEY = "wecom-sim-seen";
  const params = new URLSearchParams(location.search);
  const single = params.get("u");  // one member's phone filling the window (new tabs, phone-sized screens)
  const panes = new Map();         // userid -> pane
  let directory = {app: "", note: "", connected: true, menu: [], members: [], seq: 0};
  let seen = {};
  try { seen = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}") || {}; } catch (e) { seen = {}; }

  // --- small DOM helpers ------------------------------------------------------------------------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const str = (v) => (v === undefined || v === null ? "" : String(v));
  const isUrl = (u) => /^https?:\/\/[^\s]+$/i.test(str(u));
  const openUrl = (userid, url) => "/_sim/open?userid=" + encodeURIComponent(userid) + "&url=" + encodeURIComponent(url);
  const mediaUrl = (id, inline) => "/_sim/media/" + encodeURIComponent(id) + (inline ? "?inline=1" : "");

  function link(ctx, url, label) {
    if (!isUrl(url)) return document.createTextNode(str(label));
    const a = el("a", "link", label);
    a.href = openUrl(ctx.userid, url);   // opened "inside the client": the stand-in knows whose phone it is
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.title = url;
    return a;
  }

  function linkify(ctx, text, into) {
    const re = /https?:\/\/[^\s<>"'）)，。；、]+/gi;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) into.append(document.createTextNode(text.slice(last, m.index)));
      into.append(link(ctx, m[0], m[0]));
      last = m.index + m[0].length;
    }
    if (last < text.length) into.append(document.createTextNode(text.slice(last)));
  }

  // WeCom's markdown subset, inline: **bold**, [text](url), `code`, <font color="info|comment|warning">.
  function inline(ctx, text, into) {
    let i = 0, buf = "";
    const flush = () => { if (buf) { linkify(ctx, buf, into); buf = ""; } };
    while (i < text.length) {
      const rest = text.slice(i);
      let m = /^<font\s+color\s*=\s*["']?(info|comment|warning)["']?\s*>/i.exec(rest);
      if (m) {
        const end = rest.toLowerCase().indexOf("</font>", m[0].length);
        if (end >= 0) {
          flush();
          const span = el("span", "font-" + m[1].toLowerCase());
          inline(ctx, rest.slice(m[0].length, end), span);
          into.append(span);
          i += end + "</font>".length;
          continue;
        }
      }
      if (rest.startsWith("**")) {
        const end = rest.indexOf("**", 2);
        if (end > 2) {
          flush();
          const b = el("strong");
          inline(ctx, rest.slice(2, end), b);
          into.append(b);
          i += end + 2;
          continue;
        }
      }
      m = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(rest);
      if (m) { flush(); into.append(link(ctx, m[2], m[1])); i += m[0].length; continue; }
      if (rest[0] === "`") {
        const end = rest.indexOf("`", 1);
        if (end > 1 && rest.slice(1, end).indexOf("\n") < 0) {
          flush(); into.append(el("code", null, rest.slice(1, end))); i += end + 1; continue;
        }
      }
      buf += rest[0];
      i += 1;
    }
    flush();
  }

  function markdown(ctx, text) {
    const box = el("div", "md");
    let quote = null;
    for (const line of str(text).split("\n")) {
      const q = /^>\s?(.*)$/.exec(line);
      if (q) {
        if (!quote) { quote = el("blockquote"); box.append(quote); }
        const row = el("div");
        inline(ctx, q[1], row);
        quote.append(row);
        continue;
      }
      quote = null;
      const h = /^(#{1,6})\s+(.*)$/.exec(line);
      const row = el("div", h ? "h h" + h[1].length : (line.trim() ? "line" : "line blank"));
      inline(ctx, h ? h[2] : line, row);
      box.append(row);
    }
    return box;
  }

  // A text message: plain text with WeCom's <a href="…">…</a> links; bare addresses become links too.
  function plainText(ctx, text) {
    const box = el("div", "text");
    const re = /<a\s+href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>/gi;
    let last = 0, m;
    text = str(text);
    while ((m = re.exec(text))) {
      linkify(ctx, text.slice(last, m.index), box);
      box.append(link(ctx, m[1], m[2]));
      last = m.index + m[0].length;
    }
    linkify(ctx, text.slice(last), box);
    return box;
  }

  // A textcard's description: WeCom's <div class="gray|normal|highlight"> lines. Read as text with a small
  // tokenizer (never parsed as HTML): other tags are dropped, the common entities decoded.
  function cardLines(html) {
    const box = el("div", "tc-desc");
    const decode = (t) => t.replace(/<br\s*\/?>/gi, "\n").replace(/<[^>]*>/g, "")
      .replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
    const re = /<div\b([^>]*)>([\s\S]*?)<\/div>/gi;
    let last = 0, m;
    const text = str(html);
    const loose = (t) => { const plain = decode(t); if (plain.trim()) box.append(el("div", "tc-normal", plain)); };
    while ((m = re.exec(text))) {
      loose(text.slice(last, m.index));
      const cls = /class\s*=\s*["']?\s*(gray|normal|highlight)/i.exec(m[1]);
      box.append(el("div", "tc-" + (cls ? cls[1].toLowerCase() : "normal"), decode(m[2])));
      last = m.index + m[0].length;
    }
    loose(text.slice(last));
    return box;
  }

  function fileBubble(media, fallbackName) {
    const name = str(media.filename || fallbackName || "file");
    const a = el("a", "file-bubble");
    if (media.media_id) { a.href = mediaUrl(media.media_id); a.download = name; }
    a.title = L.download + " " + name;
    const ext = (name.includes(".") ? name.split(".").pop() : "").toLowerCase().slice(0, 4);
    const info = el("div", "file-info");
    info.append(el("div", "file-name", name), el("div", "file-size", media.size ? size(media.size) : ""));
    const icon = el("div", "file-icon ext-" + (ext.replace(/[^a-z0-9]/g, "") || "none"), (ext || "?").toUpperCase());
    a.append(info, icon);
    return a;
  }

  function size(n) {
    if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MB";
    if (n >= 1024) return Math.max(1, Math.round(n / 1024)) + " KB";
    return n + " B";
  }

  // --- template cards ------------------------------------------------------------------------------
  function templateCard(ctx, card, disabled, taskId, pane) {
    const box = el("div", "card tc-" + str(card.card_type));
    box.dataset.task = str(taskId || card.task_id);
    box.dataset.type = str(card.card_type);
    if (disabled) box.classList.add("done");
    const src = card.source || {};
    if (src.desc) box.append(el("div", "source color-" + (Number(src.desc_color) || 0), src.desc));
    const main = card.main_title || {};
    if (main.title) box.append(el("div", "main-title", main.title));
    if (main.desc) box.append(el("div", "main-desc", main.desc));
    const emph = card.emphasis_content || {};
    if (emph.title || emph.desc) {
      const e = el("div", "emphasis");
      e.append(el("div", "emph-title", emph.title), el("div", "emph-desc", emph.desc));
      box.append(e);
    }
    const quote = card.quote_area || {};
    if (quote.title || quote.quote_text) {
      const q = el("div", "quote");
      if (quote.title) q.append(el("div", "quote-title", quote.title));
      if (quote.quote_text) q.append(el("div", "quote-text", quote.quote_text));
      if (Number(quote.type) === 1 && isUrl(quote.url)) q.append(link(ctx, quote.url, "↗"));
      box.append(q);
    }
    if (card.sub_title_text) box.append(el("div", "sub-title", card.sub_title_text));
    const rows = card.horizontal_content_list || [];
    if (rows.length) {
      const list = el("div", "hlist");
      for (const item of rows) {
        const row = el("div", "hrow");
        row.append(el("span", "hkey", item.keyname));
        const value = el("span", "hval");
        const type = Number(item.type) || 0;
        if (type === 1 && isUrl(item.url)) value.append(link(ctx, item.url, item.value));
        else if (type === 2 && item.media_id) {
          const a = el("a", "link", item.value);
          a.href = mediaUrl(item.media_id);
          a.download = str(item.value);
          value.append(a);
        } else value.textContent = str(item.value);
        row.append(value);
        list.append(row);
      }
      box.append(list);
    }
    for (const jump of card.jump_list || []) {
      const row = el("div", "jump");
      row.append(Number(jump.type) === 1 && isUrl(jump.url) ? link(ctx, jump.url, jump.title) : el("span", null, jump.title));
      box.append(row);
    }
    const action = card.card_action || {};
    if (Number(action.type) === 1 && isUrl(action.url)) {
      box.classList.add("clickable");
      box.addEventListener("click", (ev) => {
        if (ev.target.closest("button, a, select, label, .option")) return;
        window.open(openUrl(ctx.userid, action.url), "_blank", "noopener");
      });
    }
    const choice = {};   // question_key -> [option ids] as the member sets them
    const controls = el("div", "controls");
    const sel = card.button_selection;
    if (sel) controls.append(selector(sel, choice, disabled));
    for (const q of card.select_list || []) controls.append(selector(q, choice, disabled));
    const boxq = card.checkbox;
    if (boxq) controls.append(checkboxes(boxq, choice, disabled || boxq.disable, () => refresh()));
    if (controls.childNodes.length) box.append(controls);
    const actions = el("div", "actions");
    let submit = null;
    if (disabled) {
      actions.append(el("button", "btn grey", disabled));
      actions.firstChild.disabled = true;
    } else if (card.card_type === "button_interaction") {
      for (const b of card.button_list || []) {
        const btn = el("button", "btn style-" + (Number(b.style) || 1), b.text);
        btn.type = "button";
        btn.dataset.key = str(b.key);
        if (Number(b.type) === 1) {
          btn.addEventListener("click", () => isUrl(b.url) && window.open(openUrl(ctx.userid, b.url), "_blank", "noopener"));
        } else {
          btn.addEventListener("click", () => press(pane, box, btn, taskId, b.key, choice));
        }
        actions.append(btn);
      }
    } else if (card.submit_button) {
      submit = el("button", "btn style-1 submit", card.submit_button.text || L.submit);
      submit.type = "button";
      submit.dataset.key = str(card.submit_button.key);
      submit.addEventListener("click", () => press(pane, box, submit, taskId, card.submit_button.key, choice));
      actions.append(submit);
    }
    if (actions.childNodes.length) box.append(actions);
    const refresh = () => {
      if (submit && boxq) submit.disabled = !(choice[boxq.question_key] || []).length;
    };
    refresh();
    return box;
  }

  function selector(q, choice, disabled) {
    const row = el("label", "selector");
    row.append(el("span", "sel-title", q.title || L.choose));
    const select = el("select");
    const options = q.option_list || [];
    for (const o of options) {
      const opt = el("option", null, o.text);
      opt.value = str(o.id);
      select.append(opt);
    }
    const initial = options.some((o) => o.id === q.selected_id) ? q.selected_id : (options[0] || {}).id;
    select.value = str(initial);
    choice[q.question_key] = [str(initial)];
    select.disabled = !!(disabled || q.disable);
    select.addEventListener("change", () => { choice[q.question_key] = [select.value]; });
    row.append(select);
    return row;
  }

  function checkboxes(q, choice, disabled, changed) {
    const list = el("div", "checkbox mode-" + (Number(q.mode) === 1 ? "multi" : "single"));
    const multi = Number(q.mode) === 1;
    const picked = new Set((q.option_list || []).filter((o) => o.is_checked).map((o) => str(o.id)));
    const sync = () => {
      choice[q.question_key] = [...picked];
      for (const row of list.children) row.classList.toggle("checked", picked.has(row.dataset.option));
      changed();
    };
    for (const o of q.option_list || []) {
      const row = el("div", "option");
      row.dataset.option = str(o.id);
      row.setAttribute("role", multi ? "checkbox" : "radio");
      row.tabIndex = disabled ? -1 : 0;
      row.append(el("span", "tick"), el("span", "opt-text", o.text));
      if (!disabled) {
        const toggle = () => {
          const id = str(o.id);
          if (multi) { if (picked.has(id)) picked.delete(id); else picked.add(id); }
          else { picked.clear(); picked.add(id); }
          sync();
        };
        row.addEventListener("click", toggle);
        row.addEventListener("keydown", (ev) => { if (ev.key === " " || ev.key === "Enter") { ev.preventDefault(); toggle(); } });
      }
      list.append(row);
    }
    if (disabled) list.classList.add("disabled");
    choice[q.question_key] = [...picked];
    for (const row of list.children) row.classList.toggle("checked", picked.has(row.dataset.option));
    return list;
  }

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

  // --- one message --------------------------------------------------------------------------------
  function content(ctx, entry, pane) {
    const body = entry.body || {};
    const type = entry.msgtype || body.msgtype;
    const c = body[type] || {};
    if (entry.kind === "sent") {
      if (type === "text") return plainText(ctx, entry.content);
      if (type === "image" && entry.media) return image(entry.media);
      return fileBubble(entry.media || {});
    }
    switch (type) {
      case "text": return plainText(ctx, c.content);
      case "markdown": return markdown(ctx, c.content);
      case "template_card": return templateCard(ctx, entry.card || c, entry.disabled, entry.task_id || c.task_id, pane);
      case "textcard": {
        const box = el("div", "card textcard");
        box.append(el("div", "main-title", c.title), cardLines(c.description));
        const more = el("div", "tc-more");
        more.append(link(ctx, c.url, (c.btntxt || L.details) + " ›"));
        box.append(more);
        return box;
      }
      case "news": case "mpnews": {
        const box = el("div", "card news");
        for (const a of c.articles || []) {
          const row = el("div", "article");
          row.append(isUrl(a.url) ? link(ctx, a.url, a.title) : el("b", null, a.title));
          if (a.description || a.digest) row.append(el("div", "main-desc", a.description || a.digest));
          box.append(row);
        }
        return box;
      }
      case "image": return entry.media ? image(entry.media) : el("div", "text", L.kinds.image);
      case "file": case "voice": case "video": return fileBubble(entry.media || {}, c.media_id);
      default: return el("div", "text muted", "[" + str(type) + "]");
    }
  }

  function image(media) {
    const a = el("a", "image-bubble");
    a.href = mediaUrl(media.media_id);
    a.download = str(media.filename || "image");
    const img = el("img");
    img.alt = str(media.filename);
    img.src = mediaUrl(media.media_id, true);
    a.append(img);
    return a;
  }

  function addEntry(pane, entry) {
    if (entry.kind === "failed") {
      const mine = pane.log.querySelector('[data-seq="' + Number(entry.ref) + '"]');
      if (mine) { mine.classList.add("failed"); mine.title = L.errors[entry.reason] || L.not_delivered; }
      return;
    }
    if (entry.kind === "card_update") {
      const old = pane.log.querySelector('.card[data-task="' + CSS.escape(str(entry.task_id)) + '"]');
      if (old && entry.card) old.replaceWith(templateCard(pane.ctx, entry.card, entry.disabled, entry.task_id, pane));
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
    bubble.append(content(pane.ctx, entry, pane));
    row.append(avatar, bubble);
    if (mine) row.append(el("span", "mark", "!"));
    pane.log.append(row);
  }

  const initial = (name) => Array.from(str(name).trim()).slice(-2).join("") || "?";

  function when(seconds) {
    const d = new Date(seconds * 1000), now = new Date();
    const hm = String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
    if (d.toDateString() === now.toDateString()) return hm;
    return L.month_day.replace("{m}", d.getMonth() + 1).replace("{d}", d.getDate()) + " " + hm;
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
      pane = {userid: userid, node: node, log: node.querySelector(".log"), after: 0, lastTime: 0, ctx: {userid: userid}, alive: true};
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
