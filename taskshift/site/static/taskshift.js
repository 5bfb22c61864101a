/* taskshift pages: charts drawn with d3 from the JSON the plugin serves, and small page helpers.
 *
 * A chart is <figure class="ts-chart" data-chart="KIND" data-src="URL or #script-id" data-field="KEY">.
 * Every mark (dot, bar, segment) carries the class "mark"; the figure gets data-drawn (marks drawn)
 * and data-expected (rows of the data that should be drawn). Every chart has a text or table
 * alternative in the page next to it.
 */
(function () {
  "use strict";
  const OUTLOOK = {elimination: "#c0392b", compression: "#e08a1e", expansion: "#2e9d57", limited: "#7b8794", unknown: "#c5ccd3"};
  const EVIDENCE = {predicted: "#2b6cb0", observed: "#8b3fb0", other: "#52606d"};
  const EVIDENCE_TEXT = {predicted: "Predict what AI could do", observed: "Observe what people use AI for", other: "Measures"};
  const cache = new Map();

  function getJSON(src) {
    if (src.startsWith("#")) {
      const el = document.getElementById(src.slice(1));
      return Promise.resolve(JSON.parse(el.textContent));
    }
    if (!cache.has(src)) {
      cache.set(src, fetch(src, {headers: {accept: "application/json"}}).then((r) => {
        if (!r.ok) throw new Error(`${src}: HTTP ${r.status}`);
        return r.json();
      }));
    }
    return cache.get(src);
  }

  const fmtShare = (x) => `${Math.round(100 * x)}%`;
  const fmtPct = (x) => `${Math.round(x)}`;
  const fmtInt = d3.format(",");
  const fmtCorr = d3.format(".2f");
  const fmtSigned = (x) => `${x > 0 ? "+" : x < 0 ? "\u2212" : "\u00b1"}${Math.abs(x).toFixed(1)}%`;
  const fmtMoney = (x) => `$${fmtInt(Math.round(x))}`;
  const formats = {share: fmtShare, corr: fmtCorr, pct: fmtPct, signed: fmtSigned, int: fmtInt, money: fmtMoney};
  function ordinal(x) {
    const n = Math.round(x), m = n % 100;
    const s = (m >= 11 && m <= 13) ? "th" : ({1: "st", 2: "nd", 3: "rd"}[n % 10] || "th");
    return `${n}${s}`;
  }
  function fill(template, row) {
    return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(row[k]));
  }
  function svgIn(body, width, height, label) {
    d3.select(body).selectAll("svg").remove();
    return d3.select(body).append("svg").attr("viewBox", `0 0 ${width} ${height}`).attr("width", "100%")
      .attr("role", "img").attr("aria-label", label || "");
  }
  function narrow(width) { return width < 560; }

  // --- every occupation: percentile against employment ------------------------------------------------
  function scatter(fig, body, rows) {
    const data = rows.filter((r) => r.percentile !== null && r.employment > 0);
    const width = Math.max(body.clientWidth, 300), height = Math.round(Math.min(520, Math.max(320, width * 0.6)));
    const m = {top: 12, right: 14, bottom: 40, left: 56};
    const svg = svgIn(body, width, height);
    const x = d3.scaleLinear().domain([0, 100]).range([m.left, width - m.right]);
    const y = d3.scaleLog().domain(d3.extent(data, (d) => d.employment)).nice().range([height - m.bottom, m.top]);
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - m.bottom})`).call(d3.axisBottom(x).ticks(5));
    svg.append("g").attr("class", "axis").attr("transform", `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(5, "~s"));
    svg.append("text").attr("class", "axis-label").attr("x", width - m.right).attr("y", height - 6).attr("text-anchor", "end")
      .text("more exposed than this % of occupations →");
    svg.append("text").attr("class", "axis-label").attr("x", m.left + 6).attr("y", m.top + 10).text("↑ workers (log scale)");
    const dots = svg.append("g").selectAll("a").data(data).join("a").attr("href", (d) => `/role/${d.code}`);
    dots.append("circle").attr("class", "mark").attr("cx", (d) => x(d.percentile)).attr("cy", (d) => y(d.employment))
      .attr("r", width < 500 ? 2.6 : 3.4)
      .attr("fill", (d) => d.shared ? "none" : OUTLOOK[d.outlook] || "#999")
      .attr("stroke", (d) => OUTLOOK[d.outlook] || "#999").attr("stroke-width", 1.2).attr("fill-opacity", 0.75)
      .append("title").text((d) => `${d.title} (${d.code}): ${ordinal(d.percentile)} percentile, ${fmtInt(d.employment)} workers` +
        `${d.shared ? ` (shared by ${d.roles_sharing} roles)` : ""}${d.label ? `; ${d.label}` : ""}; outlook ${d.outlook}`);
    legend(fig, Object.keys(OUTLOOK).map((k) => [k, OUTLOOK[k]]));
    return data.length;
  }

  function legend(fig, items) {
    let el = fig.querySelector(".ts-legend");
    if (!el) { el = document.createElement("p"); el.className = "ts-legend"; fig.appendChild(el); }
    el.innerHTML = "";
    for (const [label, colour] of items) {
      const s = document.createElement("span");
      s.innerHTML = `<i style="background:${colour}"></i>${label}`;
      el.appendChild(s);
    }
  }

  // --- a percentile per measure, predicted and observed apart -------------------------------------------
  function dots(fig, body, rows, json) {
    const xKey = fig.dataset.x || "percentile";
    const data = rows.filter((r) => r[xKey] !== null && r[xKey] !== undefined);
    const kindOf = (r) => r.evidence || "other";
    const groups = ["predicted", "observed", "other"].filter((g) => data.some((r) => kindOf(r) === g));
    const width = Math.max(body.clientWidth, 280), small = narrow(width);
    const labelW = small ? 0 : Math.min(300, Math.round(width * 0.42));
    const rowH = small ? 40 : 22, groupH = 26;
    const m = {top: 6, right: 16, bottom: 34, left: 10 + labelW};
    const height = m.top + m.bottom + groups.length * groupH + data.length * rowH;
    const svg = svgIn(body, width, height);
    const x = d3.scaleLinear().domain([0, 100]).range([m.left, width - m.right]);
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - m.bottom})`).call(d3.axisBottom(x).ticks(5));
    svg.append("text").attr("class", "axis-label").attr("x", width - m.right).attr("y", height - 4).attr("text-anchor", "end")
      .text("percentile among occupations →");
    svg.append("line").attr("class", "midline").attr("x1", x(50)).attr("x2", x(50)).attr("y1", m.top).attr("y2", height - m.bottom);
    if (fig.dataset.band && json && json.low !== null && json.low !== undefined) {
      svg.append("rect").attr("class", "band").attr("x", x(json.low)).attr("width", Math.max(1, x(json.high) - x(json.low)))
        .attr("y", m.top).attr("height", height - m.bottom - m.top)
        .append("title").text(`middle half of the votes: ${Math.round(json.low)} to ${Math.round(json.high)}`);
      svg.append("line").attr("class", "centre").attr("x1", x(json.centre)).attr("x2", x(json.centre)).attr("y1", m.top).attr("y2", height - m.bottom)
        .append("title").text(`consensus: ${ordinal(json.centre)} percentile`);
    }
    let yPos = m.top, drawn = 0;
    for (const g of groups) {
      svg.append("text").attr("class", "group-label").attr("x", 10).attr("y", yPos + 17).attr("fill", EVIDENCE[g]).text(EVIDENCE_TEXT[g]);
      yPos += groupH;
      for (const r of data.filter((d) => kindOf(d) === g)) {
        const cy = yPos + (small ? 27 : 11);
        const label = `${r.name || r.title || r.measure_id}`;
        svg.append("line").attr("class", "track").attr("x1", x(0)).attr("x2", x(100)).attr("y1", cy).attr("y2", cy);
        const a = svg.append("a").attr("href", `/measure/${r.measure_id}`);
        if (small) {
          fit(a.append("text").attr("class", "row-label").attr("x", 10).attr("y", yPos + 13).text(label), width - 20);
        } else {
          fit(a.append("text").attr("class", "row-label").attr("x", m.left - 8).attr("y", cy + 4).attr("text-anchor", "end")
            .text(label), labelW - 4);
        }
        a.append("circle").attr("class", "mark").attr("cx", x(r[xKey])).attr("cy", cy).attr("r", 5.5)
          .attr("fill", r.counted === false ? "#fff" : EVIDENCE[g]).attr("stroke", EVIDENCE[g]).attr("stroke-width", 1.5)
          .append("title").text(`${label} (${r.measure_id}): ${ordinal(r[xKey])} percentile${r.counted === false ? " (context, not counted)" : ""}`);
        drawn += 1;
        yPos += rowH;
      }
    }
    return drawn;
  }


  // Shorten an SVG text element until it fits maxWidth (the full text stays in its tooltip).
  function fit(sel, maxWidth) {
    const node = sel.node(), full = node.textContent;
    if (!node.getComputedTextLength || node.getComputedTextLength() <= maxWidth) return sel;
    sel.append("title").text(full);
    let lo = 1, hi = full.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      node.firstChild.nodeValue = full.slice(0, mid) + "…";
      if (node.getComputedTextLength() <= maxWidth) lo = mid; else hi = mid - 1;
    }
    node.firstChild.nodeValue = full.slice(0, lo) + "…";
    return sel;
  }

  // --- horizontal bars ---------------------------------------------------------------------------------
  function bars(fig, body, rows) {
    const xKey = fig.dataset.x, labelKey = fig.dataset.label || "name";
    const fmt = formats[fig.dataset.format] || fmtPct;
    const data = rows.filter((r) => r[xKey] !== null && r[xKey] !== undefined);
    const width = Math.max(body.clientWidth, 280), small = narrow(width);
    const labelW = small ? 0 : Math.min(300, Math.round(width * 0.42));
    const rowH = small ? 34 : 20;
    const m = {top: 6, right: 46, bottom: 28, left: 10 + labelW};
    const height = m.top + m.bottom + data.length * rowH;
    const svg = svgIn(body, width, height);
    const lo = Math.min(0, d3.min(data, (d) => d[xKey])), hi = Math.max(d3.max(data, (d) => d[xKey]), fig.dataset.format === "corr" ? 1 : 0);
    const x = d3.scaleLinear().domain([lo, hi]).nice().range([m.left, width - m.right]);
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - m.bottom})`)
      .call(d3.axisBottom(x).ticks(small ? 3 : 5).tickFormat(fmt));
    data.forEach((r, i) => {
      const y0 = m.top + i * rowH, barY = small ? y0 + 15 : y0 + 3, barH = small ? 14 : rowH - 6;
      const a = svg.append("a").attr("href", fig.dataset.href ? fill(fig.dataset.href, r) : null);
      if (small) {
        fit(a.append("text").attr("class", "row-label").attr("x", 10).attr("y", y0 + 12).text(String(r[labelKey])), width - 20);
      } else {
        fit(a.append("text").attr("class", "row-label").attr("x", m.left - 8).attr("y", barY + barH / 2 + 4).attr("text-anchor", "end")
          .text(String(r[labelKey])), labelW - 4);
      }
      const v = r[xKey];
      a.append("rect").attr("class", "mark").attr("x", x(Math.min(0, v))).attr("y", barY)
        .attr("width", Math.max(1, Math.abs(x(v) - x(0)))).attr("height", barH)
        .attr("fill", r.evidence ? EVIDENCE[r.evidence] : "#2b6cb0")
        .append("title").text(`${r[labelKey]}: ${fmt(v)}`);
      svg.append("text").attr("class", "value").attr("x", x(Math.max(0, v)) + 4).attr("y", barY + barH / 2 + 4).text(fmt(v));
    });
    if (rows.some((r) => r.evidence)) legend(fig, [["predicted", EVIDENCE.predicted], ["observed", EVIDENCE.observed]]);
    return data.length;
  }

  // --- histogram ------------------------------------------------------------------------------------------
  function hist(fig, body, bins) {
    const width = Math.max(body.clientWidth, 280), height = 220;
    const m = {top: 10, right: 14, bottom: 34, left: 44};
    const svg = svgIn(body, width, height);
    const x = d3.scaleLinear().domain([bins[0].lo, bins[bins.length - 1].hi]).range([m.left, width - m.right]);
    const y = d3.scaleLinear().domain([0, d3.max(bins, (b) => b.roles)]).nice().range([height - m.bottom, m.top]);
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - m.bottom})`).call(d3.axisBottom(x).ticks(narrow(width) ? 4 : 8));
    svg.append("g").attr("class", "axis").attr("transform", `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(4));
    svg.append("text").attr("class", "axis-label").attr("x", 4).attr("y", m.top - 1).text("occupations");
    svg.append("g").selectAll("rect").data(bins).join("rect").attr("class", "mark")
      .attr("x", (b) => x(b.lo) + 0.5).attr("width", (b) => Math.max(0.5, x(b.hi) - x(b.lo) - 1))
      .attr("y", (b) => y(b.roles)).attr("height", (b) => y(0) - y(b.roles)).attr("fill", "#2b6cb0")
      .append("title").text((b) => `${d3.format(".3~g")(b.lo)} to ${d3.format(".3~g")(b.hi)}: ${b.roles} occupations`);
    return bins.length;
  }

  // --- one stacked bar --------------------------------------------------------------------------------------
  const LABEL_COLOURS = {E1: "#c0392b", E2: "#e08a1e", E0: "#9aa5b1", unlabelled: "#e2e6ea"};
  function stack(fig, body, parts) {
    const width = Math.max(body.clientWidth, 280), height = 46;
    const svg = svgIn(body, width, height);
    const x = d3.scaleLinear().domain([0, d3.sum(parts, (p) => p.share) || 1]).range([0, width]);
    let at = 0;
    for (const p of parts) {
      const w = x(p.share);
      svg.append("rect").attr("class", "mark").attr("x", at).attr("y", 4).attr("width", Math.max(0, w - 1)).attr("height", 30)
        .attr("fill", LABEL_COLOURS[p.label] || "#ccc").append("title").text(`${p.label} (${p.words}): ${fmtShare(p.share)}`);
      if (w > 70) svg.append("text").attr("class", "inbar").attr("x", at + 6).attr("y", 24).text(`${p.label} ${fmtShare(p.share)}`);
      at += w;
    }
    return parts.length;
  }

  // --- the US map: states coloured by a value, each linking to its page ----------------------------------
  // `atlas`: the us-atlas TopoJSON (states-albers-10m.json, already projected to 975 x 610); rows carry fips.
  function map(fig, body, rows, json, atlas) {
    const byFips = new Map(rows.filter((r) => r.value !== null).map((r) => [r.fips, r]));
    const shapes = topojson.feature(atlas, atlas.objects.states).features.filter((f) => byFips.has(f.id));
    const width = 975, height = 610;
    const svg = svgIn(body, width, height, fig.querySelector(".ts-chart-body").getAttribute("aria-label"));
    const values = Array.from(byFips.values(), (r) => r.value);
    const colour = d3.scaleSequential(d3.interpolateBlues).domain([d3.min(values) - 2, d3.max(values)]);
    const path = d3.geoPath();
    const links = svg.append("g").selectAll("a").data(shapes).join("a")
      .attr("href", (f) => `/state/${byFips.get(f.id).code}`);
    links.append("path").attr("class", "mark").attr("d", path).attr("data-state", (f) => byFips.get(f.id).code)
      .attr("fill", (f) => colour(byFips.get(f.id).value)).attr("stroke", "#fff").attr("stroke-width", 0.8)
      .append("title").text((f) => {
        const r = byFips.get(f.id);
        return `${r.name}: ${ordinal(r.value)} percentile (${Math.round(r.low)}–${Math.round(r.high)}), rank ${r.rank}; ` +
          `${fmtShare(r.exposed_share)} of workers in exposed roles`;
      });
    const lo = d3.min(values), hi = d3.max(values);
    legend(fig, [[`least exposed (${ordinal(lo)})`, colour(lo)], [`most exposed (${ordinal(hi)})`, colour(hi)]]);
    return byFips.size;
  }

  // --- a yearly series (OEWS May of each year): a line through one dot per published year --------------------
  function series(fig, body, rows) {
    const yKey = fig.dataset.y, fmt = formats[fig.dataset.format] || fmtInt;
    const data = rows.filter((r) => r[yKey] !== null && r[yKey] !== undefined);
    const width = Math.max(body.clientWidth, 280), height = 200;
    const m = {top: 14, right: 18, bottom: 30, left: narrow(width) ? 62 : 78};
    const svg = svgIn(body, width, height);
    const years = rows.map((r) => r.year);
    const x = d3.scaleLinear().domain(d3.extent(years)).range([m.left, width - m.right]);
    const y = d3.scaleLinear().domain(d3.extent(data, (d) => d[yKey])).nice().range([height - m.bottom, m.top]);
    svg.append("g").attr("class", "axis").attr("transform", `translate(0,${height - m.bottom})`)
      .call(d3.axisBottom(x).ticks(years.length).tickFormat(d3.format("d")));
    svg.append("g").attr("class", "axis").attr("transform", `translate(${m.left},0)`).call(d3.axisLeft(y).ticks(4).tickFormat(fmt));
    svg.append("text").attr("class", "axis-label").attr("x", m.left).attr("y", m.top - 3)
      .text(yKey === "employment" ? "jobs (May of each year)" : "mean annual wage, nominal");
    svg.append("path").datum(data).attr("fill", "none").attr("stroke", "#2b6cb0").attr("stroke-width", 2)
      .attr("d", d3.line().x((d) => x(d.year)).y((d) => y(d[yKey])));
    svg.append("g").selectAll("circle").data(data).join("circle").attr("class", "mark")
      .attr("cx", (d) => x(d.year)).attr("cy", (d) => y(d[yKey])).attr("r", 4).attr("fill", "#2b6cb0")
      .append("title").text((d) => `May ${d.year}: ${fmt(d[yKey])}`);
    return data.length;
  }

  const CHARTS = {scatter, dots, bars, hist, stack, map, series};

  function draw(fig) {
    const body = fig.querySelector(".ts-chart-body");
    const kind = fig.dataset.chart;
    const atlas = fig.dataset.atlas ? getJSON(fig.dataset.atlas) : Promise.resolve(null);
    return Promise.all([getJSON(fig.dataset.src), atlas]).then(([json, shapes]) => {
      const rows = fig.dataset.field ? json[fig.dataset.field] : json;
      const render = () => {
        const n = CHARTS[kind](fig, body, rows, json, shapes);
        fig.dataset.drawn = String(body.querySelectorAll(".mark").length);
        fig.dataset.expected = String(n);
      };
      render();
      let timer = null, lastWidth = body.clientWidth;
      window.addEventListener("resize", () => {
        clearTimeout(timer);
        timer = setTimeout(() => { if (body.clientWidth !== lastWidth) { lastWidth = body.clientWidth; render(); } }, 150);
      });
    }).catch((err) => {
      fig.dataset.error = String(err);
      body.textContent = "The chart could not be drawn; the table next to it has the same data.";
    });
  }

  // --- page helpers ------------------------------------------------------------------------------------------
  function suggest(input) {
    const list = input.form.querySelector(".ts-suggest");
    let timer = null, last = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const q = input.value.trim();
        if (q.length < 3 || q === last) { if (q.length < 3) list.hidden = true; return; }
        last = q;
        fetch(`${input.dataset.suggest}?title=${encodeURIComponent(q)}&limit=6`).then((r) => r.ok ? r.json() : {matches: []}).then((j) => {
          list.innerHTML = "";
          for (const m of j.matches || []) {
            const li = document.createElement("li");
            const a = document.createElement("a");
            a.href = `/role/${m.role_code}`;
            a.textContent = `${m.role_title} `;
            const code = document.createElement("code"); code.textContent = m.role_code; a.appendChild(code);
            const why = document.createElement("span"); why.className = "ts-small"; why.textContent = ` “${m.matched_title}”`;
            li.appendChild(a); li.appendChild(why); list.appendChild(li);
          }
          list.hidden = !list.children.length;
        }).catch(() => { list.hidden = true; });
      }, 200);
    });
  }

  function lazy(section) {
    return fetch(section.dataset.lazySrc).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.text();
    }).then((html) => {
      section.innerHTML = html;
      section.dataset.loaded = "1";
      section.querySelectorAll("figure.ts-chart").forEach(draw);
    }).catch((err) => {
      section.dataset.error = String(err);
      section.querySelector(".ts-loading").textContent = "This section could not be loaded.";
    });
  }

  function taskFilter(box) {
    const table = document.getElementById(box.dataset.filterTable);
    const text = box.querySelector("[data-filter-text]"), label = box.querySelector("[data-filter-label]");
    const observed = box.querySelector("[data-filter-observed]"), count = box.querySelector("[data-filter-count]");
    const rows = Array.from(table.tBodies[0].rows);
    const apply = () => {
      const words = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const row of rows) {
        const ok = (!label.value || row.dataset.label === label.value) && (!observed.checked || row.dataset.observed === "1") &&
          words.every((w) => row.cells[0].textContent.toLowerCase().includes(w));
        row.hidden = !ok;
        shown += ok;
      }
      count.textContent = `${shown} of ${rows.length} tasks`;
    };
    [text, label, observed].forEach((el) => el.addEventListener("input", apply));
    apply();
  }

  function runner(box) {
    const out = box.querySelector(".ts-run-out"), status = box.querySelector(".ts-run-status");
    box.querySelector("[data-run]").addEventListener("click", () => {
      const body = box.querySelector(".ts-run-body");
      const init = {method: box.dataset.method, headers: {accept: "application/json"}};
      if (body) { init.body = body.value; init.headers["content-type"] = "application/json"; }
      status.textContent = "running…";
      const started = performance.now();
      fetch(box.dataset.url, init).then((r) => r.text().then((t) => {
        let text = t;
        try { text = JSON.stringify(JSON.parse(t), null, 1); } catch (e) { /* not JSON: show as is */ }
        out.textContent = text.length > 6000 ? text.slice(0, 6000) + "\n… (truncated)" : text;
        out.hidden = false;
        status.textContent = `HTTP ${r.status} in ${Math.round(performance.now() - started)} ms`;
        box.dataset.status = String(r.status);
      })).catch((err) => { status.textContent = String(err); });
    });
  }

  function workforceForm(form) {
    const area = form.querySelector("textarea");
    const file = form.querySelector("[data-load-into]");
    if (file) file.addEventListener("change", () => {
      const f = file.files[0];
      if (!f) return;
      if (f.size > 256 * 1024) { alert("The file is larger than 256 KB."); return; }
      f.text().then((t) => { area.value = t; });
    });
    const ex = form.querySelector("[data-example]");
    if (ex) ex.addEventListener("click", () => { area.value = form.querySelector("#ts-example").innerHTML.replace(/&amp;/g, "&"); });
  }

  function init() {
    document.querySelectorAll("figure.ts-chart").forEach(draw);
    document.querySelectorAll("[data-lazy-src]").forEach(lazy);
    document.querySelectorAll("input[data-suggest]").forEach(suggest);
    document.querySelectorAll("[data-filter-table]").forEach(taskFilter);
    document.querySelectorAll(".ts-run").forEach(runner);
    document.querySelectorAll("form.ts-workforce").forEach(workforceForm);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
