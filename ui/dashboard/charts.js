/* The two charts, drawn by Chart.js (vendored in ui/vendor/chartjs/, loaded as window.Chart).
   Created once and updated in place, without animation: a pushed frame must not make the
   page jump. Without the library (blocked, failed to load) the table below them still says it all. */

import { dayLabel } from "./format.js";

const INK = "#1b2433";
const ACCENT = "#1f5fbf";
const WARN = "#8a5a00";
const GRID = "#d5dce6";

function base(yTitle) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { labels: { color: INK } } },
    scales: {
      x: { ticks: { color: INK }, grid: { color: GRID } },
      y: { beginAtZero: true, title: { display: true, text: yTitle, color: INK }, ticks: { color: INK, precision: 0 }, grid: { color: GRID } },
    },
  };
}

export function createCharts(requestsCanvas, waitCanvas) {
  const Chart = window.Chart;
  if (!Chart) return { update() {} };
  const requests = new Chart(requestsCanvas, {
    type: "bar",
    data: { labels: [], datasets: [{ label: "Requests", data: [], backgroundColor: ACCENT }, { label: "Abandoned", data: [], backgroundColor: WARN }] },
    options: base("requests"),
  });
  const waits = new Chart(waitCanvas, {
    type: "line",
    data: {
      labels: [],
      datasets: [
        { label: "Median wait (s)", data: [], borderColor: ACCENT, backgroundColor: ACCENT, spanGaps: true },
        { label: "90% waited at most (s)", data: [], borderColor: WARN, backgroundColor: WARN, borderDash: [6, 4], spanGaps: true },
      ],
    },
    options: base("seconds"),
  });
  return {
    update(byDay) {
      const labels = byDay.map((d) => dayLabel(d.day));
      requests.data.labels = labels;
      requests.data.datasets[0].data = byDay.map((d) => d.requests);
      requests.data.datasets[1].data = byDay.map((d) => d.abandoned);
      waits.data.labels = labels;
      waits.data.datasets[0].data = byDay.map((d) => d.median_wait_seconds);
      waits.data.datasets[1].data = byDay.map((d) => d.p90_wait_seconds);
      requests.update("none");
      waits.update("none");
    },
  };
}
