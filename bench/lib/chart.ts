/** A small SVG of a bench run: throughput against the limits, latency percentiles, deliveries over time. */

export interface ChartInput {
  title: string;
  throughput: Array<{ label: string; perSecond: number }>;
  latency: Array<{ label: string; values: Array<{ label: string; ms: number }> }>;
  series: Array<{ label: string; points: Array<{ t: number; perSecond: number }> }>;
}

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];
const W = 1080;
const H = 380;
const PANEL = { top: 60, bottom: 320 };

export function chart(input: ChartInput): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2, 22, input.title, { size: 15, anchor: 'middle', weight: 'bold' }),
    ...throughputPanel(input.throughput, 20, 330),
    ...latencyPanel(input.latency, 380, 320),
    ...seriesPanel(input.series, 740, 320),
    '</svg>',
  ];
  return parts.join('\n');
}

function throughputPanel(bars: ChartInput['throughput'], x: number, width: number): string[] {
  const out = [text(x, 45, 'Throughput (per second)', { weight: 'bold' })];
  const max = Math.max(...bars.map((b) => b.perSecond), 1);
  const labelWidth = 130;
  const rowHeight = (PANEL.bottom - PANEL.top) / Math.max(bars.length, 1);
  bars.forEach((bar, i) => {
    const y = PANEL.top + i * rowHeight;
    const length = ((width - labelWidth - 60) * bar.perSecond) / max;
    out.push(text(x, y + rowHeight / 2 + 4, bar.label));
    out.push(`<rect x="${x + labelWidth}" y="${y + rowHeight * 0.2}" width="${length.toFixed(1)}" height="${(rowHeight * 0.6).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(text(x + labelWidth + length + 4, y + rowHeight / 2 + 4, Math.round(bar.perSecond).toLocaleString('en-US')));
  });
  return out;
}

function latencyPanel(groups: ChartInput['latency'], x: number, width: number): string[] {
  const out = [text(x, 45, 'Latency (ms, log scale)', { weight: 'bold' })];
  const values = groups.flatMap((g) => g.values.map((v) => v.ms)).filter((v) => Number.isFinite(v));
  const top = Math.max(10, ...values);
  const decades = Math.ceil(Math.log10(top));
  const yOf = (ms: number) => PANEL.bottom - ((Math.log10(Math.max(ms, 1)) / decades) * (PANEL.bottom - PANEL.top));
  for (let d = 0; d <= decades; d += 1) {
    const y = yOf(10 ** d);
    out.push(`<line x1="${x + 30}" x2="${x + width}" y1="${y}" y2="${y}" stroke="#ddd"/>`, text(x + 26, y + 4, String(10 ** d), { anchor: 'end' }));
  }
  const groupWidth = (width - 40) / Math.max(groups.length, 1);
  groups.forEach((group, g) => {
    const gx = x + 36 + g * groupWidth;
    const barWidth = (groupWidth - 14) / Math.max(group.values.length, 1);
    group.values.forEach((v, i) => {
      if (!Number.isFinite(v.ms)) return;
      const y = yOf(v.ms);
      out.push(`<rect x="${(gx + i * barWidth).toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(PANEL.bottom - y).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>`);
      out.push(text(gx + i * barWidth + barWidth / 2 - 1, y - 3, `${Math.round(v.ms)}`, { anchor: 'middle', size: 9 }));
      out.push(text(gx + i * barWidth + barWidth / 2 - 1, PANEL.bottom + 12, v.label, { anchor: 'middle', size: 9 }));
    });
    out.push(text(gx + (groupWidth - 14) / 2, PANEL.bottom + 26, group.label, { anchor: 'middle' }));
  });
  return out;
}

function seriesPanel(series: ChartInput['series'], x: number, width: number): string[] {
  const out = [text(x, 45, 'Deliveries received per second, over time', { weight: 'bold' })];
  const all = series.flatMap((s) => s.points);
  const maxT = Math.max(1, ...all.map((p) => p.t));
  const maxY = Math.max(1, ...all.map((p) => p.perSecond));
  const px = (t: number) => x + 36 + (t / maxT) * (width - 46);
  const py = (v: number) => PANEL.bottom - (v / maxY) * (PANEL.bottom - PANEL.top);
  out.push(`<line x1="${x + 36}" x2="${x + width - 10}" y1="${PANEL.bottom}" y2="${PANEL.bottom}" stroke="#999"/>`);
  out.push(text(x + 32, py(maxY) + 4, Math.round(maxY).toLocaleString('en-US'), { anchor: 'end' }), text(x + 32, PANEL.bottom + 4, '0', { anchor: 'end' }));
  out.push(text(x + width - 10, PANEL.bottom + 14, `${maxT.toFixed(0)} s`, { anchor: 'end' }));
  series.forEach((s, i) => {
    const path = s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p.t).toFixed(1)},${py(p.perSecond).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`);
    out.push(`<rect x="${x + 40}" y="${PANEL.bottom + 22 + i * 14 - 8}" width="10" height="8" fill="${COLORS[i % COLORS.length]}"/>`, text(x + 54, PANEL.bottom + 22 + i * 14, s.label));
  });
  return out;
}

function text(x: number, y: number, value: string, style: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string } = {}): string {
  const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${style.size ? ` font-size="${style.size}"` : ''}${style.anchor ? ` text-anchor="${style.anchor}"` : ''}${style.weight ? ` font-weight="${style.weight}"` : ''}>${escaped}</text>`;
}
