// The managers' live dashboard. Figures come from the platform's SignalR hub with the manager's
// token; the page only formats them. Suppressed figures arrive without numbers and say so.
"use strict";

(() => {
  const TOKEN_KEY = "matoutcomes.dashboard.token";
  const CLINIC_KEY = "matoutcomes.dashboard.clinic";
  const colors = {
    clinic: "#0f766e", clinicSoft: "rgba(15, 118, 110, 0.14)", network: "#8a94a0",
    early: "#2f7fd8", chronic: "#c2791b", grid: "#eef1f4", today: "#0f766e", day: "#9cc9c4",
  };

  const $ = (selector) => document.querySelector(selector);
  const figure = (name) => document.querySelector(`[data-figure="${name}"]`);
  const state = { token: null, connection: null, clinic: null, figures: null, receivedAt: null, charts: {} };

  // ---- token ---------------------------------------------------------------------------------
  // A ?token= link is accepted once, kept in this browser only, and taken out of the address bar
  // so it does not linger in history or get shared with a screenshot of the URL.
  function takeToken() {
    const url = new URL(window.location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl) {
      localStorage.setItem(TOKEN_KEY, fromUrl.trim());
      url.searchParams.delete("token");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    return localStorage.getItem(TOKEN_KEY);
  }

  function claims(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
    } catch {
      return null;
    }
  }

  function signOut(message) {
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.connection) state.connection.stop();
    state.connection = null;
    showLogin(message);
  }

  function showLogin(message) {
    $("#dashboard").hidden = true;
    $("#controls").hidden = true;
    $("#login").hidden = false;
    banner(message);
    $("#token-input").focus();
  }

  function banner(message) {
    const element = $("#banner");
    element.textContent = message || "";
    element.hidden = !message;
  }

  // ---- connection ----------------------------------------------------------------------------
  function setConnection(stateName, text) {
    const pill = $("#connection-state");
    pill.dataset.state = stateName;
    pill.textContent = text;
  }

  function buildConnection(token) {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/dashboard", { accessTokenFactory: () => token })
      // Keep trying for as long as the page is open: a restarting server comes back.
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: (context) => [0, 1000, 2000, 5000][Math.min(context.previousRetryCount, 3)] })
      .configureLogging(signalR.LogLevel.Warning)
      .build();

    connection.on("Figures", (figures) => {
      if (figures.clinic === state.clinic) show(figures);
    });
    connection.onreconnecting(() => setConnection("reconnecting", "Reconnecting…"));
    connection.onreconnected(async () => {
      setConnection("live", "Live");
      // A new connection has no groups: watch again, which also brings the current figures.
      if (state.clinic) await watch(state.clinic, null);
    });
    connection.onclose(() => {
      if (state.connection !== connection) return;
      setConnection("offline", "Offline · retrying");
      setTimeout(() => start(connection), 3000);
    });
    return connection;
  }

  async function start(connection) {
    if (state.connection !== connection) return;
    try {
      setConnection("connecting", "Connecting…");
      await connection.start();
      setConnection("live", "Live");
      banner("");
      await chooseClinics(connection);
    } catch (error) {
      if (error && error.statusCode === 401) return signOut("The server did not accept this token (expired or not signed by this platform). Paste a current one.");
      if (error && error.statusCode === 403) return signOut("This token may not open dashboards: it needs the manager role.");
      setConnection("offline", "Offline · retrying");
      setTimeout(() => start(connection), 3000);
    }
  }

  async function chooseClinics(connection) {
    const clinics = await connection.invoke("Clinics");
    const select = $("#clinic-select");
    const input = $("#clinic-input");
    const asked = new URL(window.location.href).searchParams.get("clinic");
    const remembered = localStorage.getItem(CLINIC_KEY);
    select.replaceChildren(...clinics.map((id) => new Option(id, id)));
    // An admin token names no clinic and may watch any: type it.
    select.hidden = clinics.length === 0;
    input.hidden = clinics.length > 0;
    // The server decides what a token may watch; a clinic asked for in the URL is tried as asked.
    const clinic = asked || (clinics.includes(remembered) ? remembered : clinics[0]) || remembered;
    if (clinic && !clinics.includes(clinic) && clinics.length > 0) select.prepend(new Option(clinic, clinic));
    if (clinic) select.value = clinic;
    input.value = clinic || "";
    if (clinic) await watch(clinic, state.clinic);
  }

  async function watch(clinic, previous) {
    const connection = state.connection;
    if (!connection) return;
    try {
      if (previous && previous !== clinic) await connection.invoke("Unwatch", previous);
      state.clinic = clinic;
      const figures = await connection.invoke("Watch", clinic);
      localStorage.setItem(CLINIC_KEY, clinic);
      banner("");
      show(figures, true);
    } catch (error) {
      state.clinic = null;
      state.figures = null;
      $("#dashboard").hidden = true;
      const others = [...$("#clinic-select").options].some((o) => o.value !== clinic);
      banner(serverMessage(error) + (others ? " Choose one of your clinics above." : ""));
    }
  }

  function serverMessage(error) {
    const text = (error && error.message) || String(error);
    const at = text.indexOf("HubException: ");
    return at >= 0 ? text.slice(at + "HubException: ".length) : text;
  }

  // ---- rendering -----------------------------------------------------------------------------
  const one = (x) => x.toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const signed = (x) => { const r = Math.round(x * 10) / 10; return (r > 0 ? "+" : r < 0 ? "−" : "±") + one(Math.abs(r)); };
  const percent = (x) => `${Math.round(x * 100)}%`;
  const whole = (x) => x.toLocaleString();
  const dateOf = (iso) => { const [y, m, d] = iso.split("-").map(Number); return new Date(y, m - 1, d); };

  // Changed figures flash briefly so a manager glancing over sees what just moved.
  function setText(element, text, withheld, unit) {
    if (!element) return;
    const changed = element.dataset.shown !== undefined && element.dataset.shown !== text;
    element.dataset.shown = text;
    element.textContent = text;
    if (unit) {
      const span = document.createElement("span");
      span.className = "unit";
      span.textContent = unit;
      element.append(span);
    }
    element.classList.toggle("withheld", !!withheld);
    if (changed) {
      element.classList.remove("flash");
      void element.offsetWidth;
      element.classList.add("flash");
    }
  }

  function withheldTitle(k) {
    return `Withheld: fewer than ${k} patients stand behind this figure, or it would reveal one that does.`;
  }

  function setValue(name, f, format, unit, k) {
    const element = figure(name);
    if (!f || f.suppressed || f.value === null) {
      setText(element, "withheld", true);
      element.title = withheldTitle(k);
      return;
    }
    element.title = "";
    setText(element, format(f.value), false, unit);
  }

  function setCi(name, f, format, fallback, k) {
    const element = document.querySelector(`[data-ci="${name}"]`);
    if (!f || f.suppressed || f.lower === null) { element.textContent = f && f.suppressed ? `fewer than ${k} patients` : fallback; return; }
    element.textContent = `95% CI ${format(f.lower)} to ${format(f.upper)} · n = ${whole(f.n)}`;
  }

  function show(figures, initial) {
    if (state.figures && !initial && figures.computedAt < state.figures.computedAt) return;
    if (!state.figures || state.figures.clinic !== figures.clinic) {
      // Another clinic's figures are not a change: nothing flashes.
      document.querySelectorAll("[data-shown]").forEach((element) => delete element.dataset.shown);
    }
    const k = figures.k;

    $("#login").hidden = true;
    $("#controls").hidden = false;
    $("#dashboard").hidden = false;
    $("#clinic-title").textContent = figures.clinic;
    document.title = `${figures.clinic} · Clinic dashboard · MatOutcomes`;

    const a = figures.activity;
    setText(figure("sessions-today"), whole(a.sessionsToday));
    figure("sessions-week").textContent = whole(a.sessionsThisWeek);
    setText(figure("active-episodes"), whole(a.activeEpisodes));
    showMix(figures.mix, k);

    const o = figures.outcomes;
    setValue("relief", o.immediateRelief, one, "pts", k);
    setCi("relief", o.immediateRelief, one, "NPRS points per session", k);
    setValue("durable", o.durableChange, one, "pts", k);
    setCi("durable", o.durableChange, one, "NPRS points since intake", k);
    setValue("responders", o.responders, percent, "", k);
    setCi("responders", o.responders, percent, "≥ 2 points and ≥ 30% less pain", k);
    showBenchmark(figures.benchmark, k);

    showPain(figures.painThroughCare, k);
    showCohorts(figures.earlyVersusChronic, k);
    showSessions(a.lastDays, a.today);

    figure("k").textContent = k;
    figure("network-clinics").textContent = `${figures.benchmark.networkClinics} clinic${figures.benchmark.networkClinics === 1 ? "" : "s"}`;
    const lag = figures.lag.lagEvents;
    figure("lag").textContent = lag === 0 ? "up to date" : `${whole(lag)} event${lag === 1 ? "" : "s"} behind`;
    $("#as-of").textContent = `Figures include every event up to #${whole(figures.sequence)} · today is ${dateOf(a.today).toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" })}`;

    state.figures = figures;
    state.receivedAt = new Date();
    tick();
  }

  function showMix(mix, k) {
    const text = document.querySelector(".mix-text");
    const early = document.querySelector(".mix-early");
    const chronic = document.querySelector(".mix-chronic");
    if (mix.suppressed) {
      early.style.width = "0"; chronic.style.width = "0";
      text.textContent = `early/chronic mix withheld (a group under ${k})`;
      text.title = withheldTitle(k);
      return;
    }
    const total = mix.early + mix.chronic;
    early.style.width = total ? `${(100 * mix.early) / total}%` : "0";
    chronic.style.width = total ? `${(100 * mix.chronic) / total}%` : "0";
    text.title = "";
    text.innerHTML = `<span class="early">${whole(mix.early)} early</span> · <span class="chronic">${whole(mix.chronic)} chronic</span>`;
  }

  function showBenchmark(b, k) {
    const element = figure("benchmark");
    const note = document.querySelector('[data-ci="benchmark"]');
    const f = b.observedMinusExpected;
    element.classList.remove("good", "bad");
    if (f.suppressed) {
      setText(element, "withheld", true);
      element.title = withheldTitle(k);
      note.textContent = b.networkClinics < 2
        ? "needs two clinics with enough patients"
        : `needs ${k} patients with a pain score here`;
      return;
    }
    element.title = "";
    setText(element, signed(f.value), false, "pts");
    const verdict = f.lower > 0 ? "better than expected" : f.upper < 0 ? "below expected" : "in line with the network";
    if (f.lower > 0) element.classList.add("good");
    if (f.upper < 0) element.classList.add("bad");
    note.textContent = `${verdict} · 95% CI ${signed(f.lower)} to ${signed(f.upper)}`;
  }

  // ---- charts --------------------------------------------------------------------------------
  function chart(id, config) {
    if (!state.charts[id]) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.color = "#5d6b78";
      state.charts[id] = new Chart(document.getElementById(id), config);
    }
    return state.charts[id];
  }

  const value = (f) => (f && !f.suppressed ? f.value : null);

  function showPain(points, k) {
    const c = chart("pain-chart", {
      type: "line",
      data: {
        labels: [],
        datasets: [
          { label: "ci-low", data: [], borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false },
          { label: "ci-high", data: [], borderWidth: 0, pointRadius: 0, backgroundColor: colors.clinicSoft, fill: "-1", spanGaps: false },
          { label: "This clinic", data: [], borderColor: colors.clinic, backgroundColor: colors.clinic, borderWidth: 3, pointRadius: 4, tension: 0.25 },
          { label: "Network", data: [], borderColor: colors.network, backgroundColor: colors.network, borderWidth: 2, borderDash: [6, 4], pointRadius: 3, tension: 0.25 },
        ],
      },
      options: {
        maintainAspectRatio: false, animation: { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { min: 0, max: 10, title: { display: true, text: "NPRS (0–10)" }, grid: { color: colors.grid } },
          x: { grid: { display: false }, title: { display: true, text: "Before session" } },
        },
        plugins: {
          legend: { labels: { filter: (item) => !item.text.startsWith("ci-"), usePointStyle: true } },
          tooltip: { filter: (item) => !item.dataset.label.startsWith("ci-"), callbacks: { label: (item) => `${item.dataset.label}: ${one(item.parsed.y)}` } },
        },
      },
    });
    c.data.labels = points.map((p) => (p.point === 0 ? "Intake" : `${p.point}`));
    c.data.datasets[0].data = points.map((p) => (p.clinic.suppressed ? null : p.clinic.lower));
    c.data.datasets[1].data = points.map((p) => (p.clinic.suppressed ? null : p.clinic.upper));
    c.data.datasets[2].data = points.map((p) => value(p.clinic));
    c.data.datasets[3].data = points.map((p) => value(p.network));
    c.update();
    const shown = points.filter((p) => !p.clinic.suppressed).length;
    document.querySelector('[data-note="pain"]').textContent = shown === points.length
      ? ""
      : shown === 0
        ? `The clinic's curve appears once ${k} patients reach a point.`
        : `Points with fewer than ${k} of the clinic's patients are left out.`;
  }

  function showCohorts(groups, k) {
    const label = (g) => (g.cohort === "early" ? "Early (< 12 wk)" : "Chronic (≥ 12 wk)");
    const c = chart("cohort-chart", {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { label: "This clinic", data: [], backgroundColor: colors.clinic, borderRadius: 6, maxBarThickness: 56 },
          { label: "Network", data: [], backgroundColor: colors.network, borderRadius: 6, maxBarThickness: 56 },
        ],
      },
      options: {
        maintainAspectRatio: false, animation: { duration: 300 },
        scales: {
          y: { beginAtZero: true, title: { display: true, text: "Durable change (NPRS points)" }, grid: { color: colors.grid } },
          x: { grid: { display: false } },
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: (item) => (item.raw === null ? `${item.dataset.label}: withheld` : `${item.dataset.label}: ${one(item.raw)} points`) } },
        },
      },
    });
    c.data.labels = groups.map(label);
    c.data.datasets[0].data = groups.map((g) => value(g.clinic.durableChange));
    c.data.datasets[1].data = groups.map((g) => value(g.network.durableChange));
    c.update();

    const cell = (f) => {
      const td = document.createElement("td");
      if (f.suppressed) {
        td.textContent = "withheld";
        td.className = "withheld";
        td.title = withheldTitle(k);
      } else {
        td.textContent = percent(f.value);
        const ci = document.createElement("span");
        ci.className = "ci";
        ci.textContent = `${percent(f.lower)}–${percent(f.upper)}`;
        td.append(ci);
      }
      return td;
    };
    figure("cohorts").replaceChildren(...groups.map((g) => {
      const tr = document.createElement("tr");
      const th = document.createElement("td");
      th.textContent = label(g);
      tr.append(th, cell(g.clinic.responders), cell(g.network.responders));
      return tr;
    }));
  }

  function showSessions(days, today) {
    const c = chart("sessions-chart", {
      type: "bar",
      data: { labels: [], datasets: [{ label: "Sessions", data: [], backgroundColor: [], borderRadius: 4 }] },
      options: {
        maintainAspectRatio: false, animation: { duration: 300 },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: colors.grid } },
          // Every other day, counted back from today, so "Today" is always labelled.
          x: {
            grid: { display: false },
            ticks: {
              maxRotation: 0, autoSkip: false,
              callback(value, index, ticks) { return (ticks.length - 1 - index) % 2 === 0 ? this.getLabelForValue(value) : ""; },
            },
          },
        },
        plugins: { legend: { display: false } },
      },
    });
    c.data.labels = days.map((d) => (d.date === today ? "Today" : dateOf(d.date).toLocaleDateString(undefined, { weekday: "short", day: "numeric" })));
    c.data.datasets[0].data = days.map((d) => d.sessions);
    c.data.datasets[0].backgroundColor = days.map((d) => (d.date === today ? colors.today : colors.day));
    c.update();
  }

  // ---- clock ---------------------------------------------------------------------------------
  function tick() {
    if (!state.receivedAt) return;
    const seconds = Math.max(0, Math.round((Date.now() - state.receivedAt.getTime()) / 1000));
    const ago = seconds < 5 ? "just now" : seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
    $("#last-update").textContent = `Last update ${state.receivedAt.toLocaleTimeString()} · ${ago}`;
    $("#last-update").dataset.at = state.receivedAt.toISOString();
  }

  // ---- start ---------------------------------------------------------------------------------
  function open(token) {
    const payload = claims(token);
    if (!payload) return showLogin("That does not look like a token: paste the whole JWT.");
    if (payload.exp && payload.exp * 1000 < Date.now()) return signOut("This token has expired. Paste a current one.");
    state.token = token;
    $("#login").hidden = true;
    $("#controls").hidden = false;
    state.connection = buildConnection(token);
    start(state.connection);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("#token-input").value.trim();
      if (!token) return;
      localStorage.setItem(TOKEN_KEY, token);
      $("#token-input").value = "";
      open(token);
    });
    $("#sign-out").addEventListener("click", () => signOut(""));
    $("#clinic-select").addEventListener("change", (event) => watch(event.target.value, state.clinic));
    $("#clinic-input").addEventListener("change", (event) => {
      const clinic = event.target.value.trim();
      if (clinic) watch(clinic, state.clinic);
    });
    setInterval(tick, 1000);

    const token = takeToken();
    if (token) open(token);
    else showLogin("");
  });
})();
