// How WeCom draws what the app sends: text, markdown, files, template cards, textcards (the simulator page).
// Every text is untrusted (the bot repeats what people typed): nodes are built with textContent, never HTML.
"use strict";
window.WeComDraw = (L) => {
  const GAP_S = 300;              // a time line between messages further apart than this
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
  function templateCard(ctx, card, disabled, taskId) {
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
          btn.addEventListener("click", () => ctx.press(box, btn, taskId, b.key, choice));
        }
        actions.append(btn);
      }
    } else if (card.submit_button) {
      submit = el("button", "btn style-1 submit", card.submit_button.text || L.submit);
      submit.type = "button";
      submit.dataset.key = str(card.submit_button.key);
      submit.addEventListener("click", () => ctx.press(box, submit, taskId, card.submit_button.key, choice));
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

  // --- one message --------------------------------------------------------------------------------
  function content(ctx, entry) {
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
      case "template_card": return templateCard(ctx, entry.card || c, entry.disabled, entry.task_id || c.task_id);
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

  const initial = (name) => Array.from(str(name).trim()).slice(-2).join("") || "?";

  function when(seconds) {
    const d = new Date(seconds * 1000), now = new Date();
    const hm = String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
    if (d.toDateString() === now.toDateString()) return hm;
    return L.month_day.replace("{m}", d.getMonth() + 1).replace("{d}", d.getDate()) + " " + hm;
  }

  return {el, str, isUrl, openUrl, content, templateCard, when, initial, GAP_S};
};
