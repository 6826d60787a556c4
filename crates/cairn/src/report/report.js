// cairn's HTML report. Everything it shows comes from the JSON in #cairn-data; every piece
// of it reaches the page through textContent or attributes, never as markup. The package
// rows are built once; searching toggles `hidden`, sorting reorders the same rows.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("cairn-data").textContent || "{}");
  const sbom = data.sbom || {};
  const source = sbom.source || {};
  const packages = Array.isArray(sbom.packages) ? sbom.packages : [];
  const removed = Array.isArray(sbom.removed) ? sbom.removed : Array.isArray(data.removed) ? data.removed : [];
  const layers = Array.isArray(data.layers) ? data.layers : [];
  const relationships = Array.isArray(sbom.relationships) ? sbom.relationships : [];

  // --- small helpers ---------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = String(v);
      else if (k === "className") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
    }
    return e;
  }
  function bytes(n) {
    if (typeof n !== "number" || !isFinite(n)) return "–";
    const u = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + " " + u[i];
  }
  function shortDigest(d) {
    return typeof d === "string" && d.length > 19 ? d.slice(0, 19) + "…" : (d || "");
  }
  function lines(l) {
    return Array.isArray(l) && l.length === 2 ? (l[0] === l[1] ? " line " + l[0] : " lines " + l[0] + "-" + l[1]) : "";
  }
  function where(loc) {
    if (!loc) return "";
    const layer = typeof loc.layer === "number" ? " (layer " + loc.layer + ")" : "";
    return (loc.path || "?") + layer + lines(loc.lines);
  }
  function licenseOf(p) {
    const l = p.licenses || {};
    if (l.declared) return l.declared;
    const seen = [];
    for (const e of l.evidence || []) if (e && e.spdx && !seen.includes(e.spdx)) seen.push(e.spdx);
    return seen.length ? seen.join(" AND ") : "NOASSERTION";
  }
  function introduced(p) {
    const ev = p.evidence || {};
    return typeof ev.introduced_in === "number" ? ev.introduced_in : null;
  }
  function layerCommand(l) {
    if (!l) return "";
    if (l.instruction && l.instruction.text) return l.instruction.text;
    const c = l.created_by || "";
    // Docker history: "/bin/sh -c #(nop)  CMD [...]" and "|3 A=b /bin/sh -c ..." → the command.
    return c.replace(/^\|\d+( \S+=\S*)* /, "").replace(/^\/bin\/sh -c #\(nop\)\s+/, "").replace(/^\/bin\/sh -c /, "RUN ");
  }
  const layerByIndex = new Map();
  for (const l of layers) if (l && typeof l.index === "number") layerByIndex.set(l.index, l);
  const byId = new Map();
  for (const p of packages) if (p && p.id) byId.set(p.id, p);
  for (const p of removed) if (p && p.id && !byId.has(p.id)) byId.set(p.id, p);
  function pkgLabel(id) {
    const p = byId.get(id);
    return p ? p.name + " " + p.version : id;
  }

  // --- summary ---------------------------------------------------------------------------
  function summary() {
    const name = source.name || (source.tags && source.tags[0]) || source.path || "image";
    document.title = name + " — cairn report";
    document.getElementById("image-name").textContent = name;
    const complete = document.getElementById("complete");
    complete.textContent = sbom.complete === false ? "incomplete" : "complete";
    complete.className = "badge " + (sbom.complete === false ? "bad" : "ok");
    const d = sbom.distro;
    const distro = d ? (d.pretty_name || [d.id, d.version_id].filter(Boolean).join(" ")) : "unknown";
    const totals = data.totals || {};
    const facts = [
      ["Digest", source.manifest_digest || source.image_id || "–", true],
      ["Platform", source.platform || "–"],
      ["Distro", distro],
      ["Packages", String(typeof totals.packages === "number" ? totals.packages : packages.length)],
      ["Layers", String(layers.length || (source.layers || []).length)],
      ["Added", bytes(totals.bytes_added)],
      ["Wasted", bytes(totals.bytes_wasted)],
      ["Source", source.kind ? source.kind + (source.path ? ": " + source.path : "") : "–"],
    ];
    const dl = document.getElementById("facts");
    for (const [k, v, mono] of facts) {
      dl.append(el("div", null, el("dt", { text: k }), el("dd", { text: v, className: mono ? "mono" : null, title: v })));
    }
    const warnings = Array.isArray(sbom.warnings) ? sbom.warnings : [];
    if (warnings.length) {
      const box = document.getElementById("warnings");
      box.hidden = false;
      box.querySelector("summary").textContent = warnings.length + (warnings.length === 1 ? " warning" : " warnings") +
        (sbom.complete === false ? " — the SBOM may be missing packages" : "");
      const ul = box.querySelector("ul");
      for (const w of warnings) {
        const at = w.path ? " — " + w.path + (typeof w.layer === "number" ? " (layer " + w.layer + ")" : "") + lines(w.lines) : "";
        ul.append(el("li", null, el("b", { text: w.kind || "warning" }), ": " + (w.message || "") + at +
          (w.package ? " [" + pkgLabel(w.package) + "]" : "") + (w.incomplete ? " (incomplete)" : "")));
      }
    }
  }

  // --- layers ----------------------------------------------------------------------------
  function pkgLink(id, text) {
    const a = el("a", { className: "pkg", href: "#", "data-open": id, text: text || pkgLabel(id) });
    return a;
  }
  function layerBody(l, body) {
    const add = l.packages_added || [], up = l.packages_upgraded || [], rm = l.packages_removed || [];
    if (l.digest) body.append(el("div", { className: "mono muted", text: l.digest }));
    if (l.created) body.append(el("div", { className: "muted", text: "created " + l.created }));
    if (l.instruction && typeof l.instruction.line === "number")
      body.append(el("div", { className: "muted", text: "Dockerfile line " + l.instruction.line }));
    if (add.length) body.append(el("h4", { text: "Added (" + add.length + ")" }),
      el("ul", null, ...add.map((id) => el("li", null, pkgLink(id)))));
    if (up.length) body.append(el("h4", { text: "Upgraded (" + up.length + ")" }),
      el("ul", null, ...up.map((u) => el("li", null, pkgLink(u.id, (byId.get(u.id) || {}).name || u.id), " " + u.from + " → " + u.to))));
    if (rm.length) body.append(el("h4", { text: "Removed (" + rm.length + ")" }),
      el("ul", null, ...rm.map((r) => el("li", { text: (r.name || r.id) + " " + (r.version || "") }))));
    const un = l.unowned;
    if (un && un.count) {
      const paths = un.paths || [];
      body.append(el("h4", { text: "Files no package owns (" + un.count + ", " + bytes(un.bytes) + ")" }),
        el("ul", null, ...paths.map((p) => el("li", { className: "mono", text: p }))));
      if (un.count > paths.length) body.append(el("div", { className: "muted", text: "… and " + (un.count - paths.length) + " more" }));
    }
    if (!add.length && !up.length && !rm.length && !(un && un.count)) body.append(el("div", { className: "muted", text: "No package changes." }));
  }
  function renderLayers() {
    const ol = document.getElementById("layers");
    const frag = document.createDocumentFragment();
    for (const l of layers) {
      const add = (l.packages_added || []).length, up = (l.packages_upgraded || []).length, rm = (l.packages_removed || []).length;
      const cmd = layerCommand(l) || "(no history)";
      const stats = el("div", { className: "stats" },
        el("span", { text: bytes(l.bytes_added) + " added", title: (l.files_added || 0) + " files" }),
        l.bytes_wasted ? el("span", { className: "waste", text: bytes(l.bytes_wasted) + " wasted", title: "written here, then overwritten or deleted by a later layer" }) : null,
        el("span", { className: "add", text: "+" + add, title: "packages added" }),
        el("span", { className: "up", text: "↑" + up, title: "packages upgraded" }),
        el("span", { className: "rm", text: "−" + rm, title: "packages removed" }),
        l.unowned && l.unowned.count ? el("span", { text: l.unowned.count + " unowned", title: "files no package owns" }) : null);
      const sum = el("summary", null, el("span", { className: "idx", text: "#" + l.index }),
        el("span", { className: "line" }, el("span", { className: "cmd", title: cmd, text: cmd }),
          l.base ? el("span", { className: "badge base", text: "base image" }) : null), stats);
      const details = el("details", { className: "layer", "data-index": l.index }, sum);
      const body = el("div", { className: "body" });
      details.append(body);
      // The lists are built the first time the card opens.
      details.addEventListener("toggle", () => { if (details.open && !body.firstChild) layerBody(l, body); });
      frag.append(el("li", { className: l.base ? "base" : null, id: "layer-" + l.index }, details));
    }
    ol.append(frag);
  }

  // --- packages --------------------------------------------------------------------------
  const rows = [];     // { tr, p, key: {name,version,type,license,layer}, hay }
  let sortKey = "name", sortDir = 1;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  function renderPackages() {
    const tbody = document.querySelector("#packages tbody");
    const frag = document.createDocumentFragment();
    for (const p of packages) {
      const key = {
        name: String(p.name || ""), version: String(p.version || ""), type: String(p.type || ""),
        license: licenseOf(p), layer: introduced(p),
      };
      const tr = el("tr", { "data-id": p.id, tabindex: "0" },
        el("td", { text: key.name, title: key.name }),
        el("td", { text: key.version, title: key.version }),
        el("td", { text: key.type }),
        el("td", { text: key.license, title: key.license }),
        el("td", { className: "num", text: key.layer === null ? "–" : key.layer }));
      rows.push({ tr, p, key, hay: [key.name, key.version, p.purl || "", key.license].join("\n").toLowerCase() });
    }
    sortRows();
    for (const r of rows) frag.append(r.tr);
    tbody.append(frag);
    const rtbody = document.querySelector("#removed tbody");
    if (removed.length) {
      document.getElementById("removed-section").hidden = false;
      for (const p of removed) {
        const ev = p.evidence || {};
        rtbody.append(el("tr", { "data-removed-id": p.id },
          el("td", { text: p.name }), el("td", { text: p.version }), el("td", { text: p.type }),
          el("td", { className: "num", text: typeof ev.introduced_in === "number" ? ev.introduced_in : "–" }),
          el("td", { className: "num", text: typeof ev.removed_in === "number" ? ev.removed_in : "–" })));
      }
    }
  }
  function sortRows() {
    rows.sort((a, b) => {
      const x = a.key[sortKey], y = b.key[sortKey];
      let c;
      if (sortKey === "layer") c = (x === null ? -1 : x) - (y === null ? -1 : y);
      else c = collator.compare(x, y);
      return (c || collator.compare(a.key.name, b.key.name) || collator.compare(a.key.version, b.key.version)) * sortDir;
    });
  }
  function onSort(th) {
    const key = th.dataset.key;
    if (key === sortKey) sortDir = -sortDir; else { sortKey = key; sortDir = 1; }
    for (const h of document.querySelectorAll("#packages th")) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    sortRows();
    const tbody = document.querySelector("#packages tbody");
    const frag = document.createDocumentFragment();
    for (const r of rows) frag.append(r.tr);
    tbody.append(frag);
  }
  function filter(q) {
    const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const r of rows) {
      const ok = terms.every((t) => r.hay.includes(t));
      if (r.tr.hidden === ok) r.tr.hidden = !ok;
      if (ok) shown++;
    }
    const count = document.getElementById("count");
    count.textContent = terms.length ? shown + " of " + rows.length : String(rows.length);
    document.getElementById("empty").hidden = shown > 0;
    for (const b of document.querySelectorAll("#licenses button"))
      b.setAttribute("aria-pressed", String(q === b.dataset.license));
  }
  function renderLicenses() {
    let totals = (data.totals && data.totals.licenses) || null;
    if (!totals) {
      totals = {};
      for (const r of rows) totals[r.key.license] = (totals[r.key.license] || 0) + 1;
    }
    const box = document.getElementById("licenses");
    const entries = Object.entries(totals).sort((a, b) => b[1] - a[1] || collator.compare(a[0], b[0]));
    const SHOWN = 12;
    entries.forEach(([lic, n], i) => {
      const b = el("button", { type: "button", "data-license": lic, "aria-pressed": "false", title: "Show the packages under " + lic }, lic, el("b", { text: n }));
      if (i >= SHOWN) b.hidden = true;
      box.append(b);
    });
    if (entries.length > SHOWN) {
      const more = el("button", { type: "button", className: "more", text: "+" + (entries.length - SHOWN) + " more" });
      more.addEventListener("click", () => {
        for (const b of box.querySelectorAll("button[data-license]")) b.hidden = false;
        more.remove();
      });
      box.append(more);
    }
  }

  // --- detail ----------------------------------------------------------------------------
  let depsOf = null, requiredBy = null;
  function relIndex() {
    if (depsOf) return;
    depsOf = new Map(); requiredBy = new Map();
    // `data.deps` holds the depends-on edges as [from, to] indexes into sbom.packages (the
    // compact form cairn report writes); full relationships are read too.
    const compact = Array.isArray(data.deps) ? data.deps
      .filter((d) => Array.isArray(d) && packages[d[0]] && packages[d[1]])
      .map((d) => ({ from: packages[d[0]].id, kind: "depends-on", to: packages[d[1]].id })) : [];
    for (const r of relationships.concat(compact)) {
      if (!r || r.kind !== "depends-on") continue;
      if (!depsOf.has(r.from)) depsOf.set(r.from, []);
      depsOf.get(r.from).push(r.to);
      if (!requiredBy.has(r.to)) requiredBy.set(r.to, []);
      requiredBy.get(r.to).push(r.from);
    }
  }
  function section(panel, title, ...content) {
    panel.append(el("h3", { text: title }), ...content.filter((c) => c !== null && c !== undefined));
  }
  function list(items) {
    return el("ul", null, ...items.map((i) => (typeof i === "string" ? el("li", { text: i }) : el("li", null, i))));
  }
  const FILES_SHOWN = 50;
  function openDetail(id) {
    const p = byId.get(id);
    if (!p) return;
    relIndex();
    const panel = document.getElementById("detail");
    panel.replaceChildren();
    const close = el("button", { type: "button", className: "close", "aria-label": "Close", text: "Close ✕" });
    close.addEventListener("click", closeDetail);
    panel.append(close, el("h2", { text: p.name }),
      el("div", { className: "sub" }, el("span", { className: "mono", text: p.version }), " · " + (p.type || "") +
        (p.arch ? " · " + p.arch : "") + " · found by " + (p.cataloger || "?") + (p.origin ? " · " + p.origin : "") + (p.dev ? " · dev" : "")));
    if (p.purl) section(panel, "Package URL", el("div", { className: "purl", text: p.purl }));
    const lic = p.licenses || {};
    const licItems = (lic.evidence || []).map((e) => {
      const same = e.value === e.spdx;
      return el("span", null, el("b", { text: e.spdx || e.value }), same ? "" : " (written “" + e.value + "”)", " in ",
        el("span", { className: "ev-path", text: where(e.location) }));
    });
    section(panel, "Licenses", el("div", { text: "Declared: " + (lic.declared || "NOASSERTION") }),
      licItems.length ? list(licItems) : el("div", { className: "muted", text: "No license statement found." }));
    const ev = p.evidence || {};
    const locs = (ev.locations || []).map((l) => el("span", { className: "ev-path", text: where(l) }));
    section(panel, "Evidence", locs.length ? list(locs) : el("div", { className: "muted", text: "No location recorded." }));
    const intro = typeof ev.introduced_in === "number" ? ev.introduced_in : null;
    if (intro !== null) {
      const l = layerByIndex.get(intro);
      const cmd = layerCommand(l);
      section(panel, "Introduced", el("div", null, "In layer " + intro, l && l.base ? " (base image)" : "",
        l && l.instruction && typeof l.instruction.line === "number" ? ", Dockerfile line " + l.instruction.line : ""),
        cmd ? el("div", { className: "cmd", text: cmd }) : null);
    }
    if (typeof ev.removed_in === "number") section(panel, "Removed", el("div", { text: "In layer " + ev.removed_in + ": " + (layerCommand(layerByIndex.get(ev.removed_in)) || "") }));
    const changes = ev.changes || [];
    if (changes.length) section(panel, "Changed by later layers", list(changes.map((c) => {
      const what = c.kind === "version-changed" ? (c.from_version || "?") + " → " + (c.to_version || "?") : c.kind;
      const paths = c.paths || [];
      return "Layer " + c.layer + ": " + what + (paths.length ? " — " + paths.slice(0, 5).join(", ") + (paths.length > 5 ? " … (" + paths.length + " files)" : "") : "");
    })));
    // The report data lists the first files of each package and counts them all.
    const files = p.files || [];
    const count = typeof p.files_count === "number" ? p.files_count : files.length;
    const fileItems = files.slice(0, FILES_SHOWN).map((f) => f.path + (typeof f.layer === "number" ? " (layer " + f.layer + ")" : " (gone)"));
    section(panel, "Files (" + count + (p.files_truncated ? "+, truncated" : "") + ")",
      files.length ? list(fileItems) : el("div", { className: "muted", text: "The package database lists no files." }),
      count > FILES_SHOWN ? el("div", { className: "muted", text: "… and " + (count - FILES_SHOWN) + " more (cairn explain lists them all)" }) : null);
    const deps = depsOf.get(id) || [], req = requiredBy.get(id) || [];
    section(panel, "Depends on (" + deps.length + ")", deps.length ? list(deps.map((d) => pkgLink(d))) : el("div", { className: "muted", text: "Nothing recorded." }));
    section(panel, "Required by (" + req.length + ")", req.length ? list(req.map((d) => pkgLink(d))) : el("div", { className: "muted", text: "Nothing recorded." }));
    const merged = ev.merged || [];
    if (merged.length) section(panel, "Also found as", list(merged.map((m) =>
      m.name + " " + m.version + " (" + m.cataloger + ") at " + (m.locations || []).map(where).join(", ") + " — " + m.reason)));
    for (const r of rows) {
      const sel = r.p.id === id;
      if ((r.tr.getAttribute("aria-selected") === "true") !== sel) r.tr.setAttribute("aria-selected", String(sel));
    }
    panel.hidden = false;
    panel.scrollTop = 0;
    panel.focus({ preventScroll: true });
    if (location.hash !== "#pkg=" + encodeURIComponent(id)) history.replaceState(null, "", "#pkg=" + encodeURIComponent(id));
  }
  function closeDetail() {
    document.getElementById("detail").hidden = true;
    for (const r of rows) if (r.tr.getAttribute("aria-selected") === "true") r.tr.setAttribute("aria-selected", "false");
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }

  // --- wiring ----------------------------------------------------------------------------
  function wire() {
    const search = document.getElementById("search");
    search.addEventListener("input", () => filter(search.value));
    document.querySelector("#packages thead").addEventListener("click", (e) => {
      const th = e.target.closest("th[data-key]");
      if (th) onSort(th);
    });
    const tbody = document.querySelector("#packages tbody");
    tbody.addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (tr) openDetail(tr.dataset.id);
    });
    tbody.addEventListener("keydown", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openDetail(tr.dataset.id); }
    });
    document.getElementById("licenses").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-license]");
      if (!b) return;
      search.value = search.value === b.dataset.license ? "" : b.dataset.license;
      filter(search.value);
    });
    document.addEventListener("click", (e) => {
      const a = e.target.closest("a[data-open]");
      if (a) { e.preventDefault(); openDetail(a.dataset.open); }
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !document.getElementById("detail").hidden) closeDetail();
      if (e.key === "/" && document.activeElement !== search) { e.preventDefault(); search.focus(); }
    });
    const m = /^#pkg=(.+)$/.exec(location.hash);
    if (m) openDetail(decodeURIComponent(m[1]));
  }

  summary();
  renderLayers();
  renderPackages();
  renderLicenses();
  filter("");
  wire();
  window.cairnReady = performance.now();
  document.documentElement.dataset.ready = "true";
})();
