// The soak's samples as a small SVG: one panel per measure over time, with its bound.
const W = 640;
const H = 110;
const PAD = 36;

function panel(samples, key, title, unit, scale, bound, y0) {
  const xs = samples.map((s) => s.t);
  const ys = samples.map((s) => s[key] / scale);
  const tMax = Math.max(...xs, 1);
  const yMax = Math.max(...ys, bound ?? 0, 1e-9) * 1.1;
  const x = (t) => PAD + ((W - 2 * PAD) * t) / tMax;
  const y = (v) => y0 + H - 16 - ((H - 30) * v) / yMax;
  const points = samples.map((s, i) => `${x(s.t).toFixed(1)},${y(ys[i]).toFixed(1)}`).join(" ");
  const limit = bound === undefined ? "" : `<line x1="${PAD}" x2="${W - PAD}" y1="${y(bound).toFixed(1)}" y2="${y(bound).toFixed(1)}" stroke="#c33" stroke-dasharray="4 3"/>`
    + `<text x="${W - PAD}" y="${(y(bound) - 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#c33">bound ${bound.toFixed(0)} ${unit}</text>`;
  return `<text x="${PAD}" y="${y0 + 12}" font-size="12">${title} (${unit}), max ${Math.max(...ys).toFixed(1)}</text>${limit}`
    + `<polyline fill="none" stroke="#25b" stroke-width="1.5" points="${points}"/>`
    + `<line x1="${PAD}" x2="${W - PAD}" y1="${y0 + H - 16}" y2="${y0 + H - 16}" stroke="#999"/>`
    + `<text x="${W - PAD}" y="${y0 + H - 4}" font-size="10" text-anchor="end">${(tMax / 60_000).toFixed(1)} min</text>`;
}

/** The SVG for samples ({ t: ms since start, rssBytes, moduleMemoryBytes, fds, loopDelayP99Ms }) and the bounds. */
export function renderSvg(samples, bounds) {
  const panels = [
    panel(samples, "rssBytes", "server RSS", "MiB", 1 << 20, bounds.rssBytes / (1 << 20), 0),
    panel(samples, "moduleMemoryBytes", "module memory, reserved", "MiB", 1 << 20, bounds.moduleMemoryBytes / (1 << 20), H),
    panel(samples, "fds", "open fds", "fds", 1, bounds.fds, 2 * H),
    panel(samples, "loopDelayP99Ms", "event-loop delay p99", "ms", 1, bounds.loopDelayP99Ms, 3 * H),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${4 * H}" font-family="sans-serif">`
    + `<rect width="100%" height="100%" fill="white"/>${panels.join("")}</svg>\n`;
}
