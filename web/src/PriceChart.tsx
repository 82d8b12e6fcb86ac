// An edition's resale prices over time, as an inline SVG line with a dot per sale and the
// edition's price new as a dashed reference line; the table next to it (PriceHistory on the film
// page) carries the same figures for screen readers and keyboard users. No chart library: the
// studio's bar chart (studio/Chart.tsx) shows per-period totals, not prices over time, and lives
// in the studio's own chunk.
import { useEffect, useRef, useState } from 'preact/hooks';
import { money } from './api';
import { layout, niceTop, timedPoints, type PricePoint } from './market';

const dateFmt = new Intl.DateTimeFormat('en-IE', { day: 'numeric', month: 'short', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat('en-IE', { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat('en-IE', { dateStyle: 'medium', timeStyle: 'short' });

/** A sale's time as the chart and the table show it ("2 Dec 2026, 12:46"). */
export function saleTime(at: string | null): string {
  const t = at === null ? NaN : Date.parse(at);
  return Number.isNaN(t) ? 'being recorded' : dateTimeFmt.format(t);
}

export function PriceChart({ history, newPrice, label }: { history: PricePoint[]; newPrice: number | null; label: string }) {
  // Drawn at the figure's width (one SVG unit = one CSS pixel), so the text keeps its size.
  const box = useRef<HTMLElement>(null);
  const [W, setW] = useState(560);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([e]) => e && setW(Math.max(240, Math.round(e.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const points = timedPoints(history);
  if (points.length === 0) return null;
  const H = W < 480 ? 150 : 170;
  const pad = { l: 56, r: 16, t: 14, b: 26 };
  const w = W - pad.l - pad.r;
  const h = H - pad.t - pad.b;
  const top = niceTop(Math.max(...points.map(([, c]) => c), newPrice ?? 0));
  const xy = layout(points, w, h, top).map(([x, y]) => [x + pad.l, y + pad.t] as const);
  const yOf = (c: number) => pad.t + h - (c / top) * h;
  const ts = points.map(([t]) => t);
  const [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  // Dates at both ends; the time of day when they all fall within two days.
  const fmt = (t: number) => (t1 - t0 < 2 * 86_400_000 ? `${dateFmt.format(t)} ${timeFmt.format(t)}` : dateFmt.format(t));
  const prices = points.map(([, c]) => c);
  const summary = `${label}: ${points.length} resale${points.length === 1 ? '' : 's'} from ${fmt(t0)} to ${fmt(t1)}, between ${money(Math.min(...prices))} and ${money(Math.max(...prices))}${newPrice === null ? '' : `; ${money(newPrice)} new`}`;
  return (
    <figure class="chart price-chart" data-testid="price-chart" ref={box}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <line x1={pad.l} x2={W - pad.r} y1={yOf(0)} y2={yOf(0)} class="axis" />
        <line x1={pad.l} x2={W - pad.r} y1={yOf(top)} y2={yOf(top)} class="grid-line" />
        <text x={pad.l - 6} y={yOf(top) + 4} text-anchor="end" class="tick">
          {money(top)}
        </text>
        <text x={pad.l - 6} y={yOf(0) + 4} text-anchor="end" class="tick">
          {money(0)}
        </text>
        {newPrice !== null && (
          <g>
            <line x1={pad.l} x2={W - pad.r} y1={yOf(newPrice)} y2={yOf(newPrice)} class="ref-line" />
            <text x={W - pad.r} y={yOf(newPrice) - 5} text-anchor="end" class="tick">
              New {money(newPrice)}
            </text>
          </g>
        )}
        {xy.length > 1 && <polyline points={xy.map(([x, y]) => `${x},${y}`).join(' ')} class="price-line" />}
        {xy.map(([x, y], i) => (
          <circle key={i} cx={x} cy={y} r={4} class="price-dot">
            <title>{`${fmt(points[i]?.[0] ?? 0)}: ${money(points[i]?.[1] ?? 0)}`}</title>
          </circle>
        ))}
        {/* One time (or all the same): its dot is in the middle, and so is its label. */}
        <text x={t1 > t0 ? pad.l : pad.l + w / 2} y={H - 8} text-anchor={t1 > t0 ? 'start' : 'middle'} class="tick">
          {fmt(t0)}
        </text>
        {t1 > t0 && (
          <text x={W - pad.r} y={H - 8} text-anchor="end" class="tick">
            {fmt(t1)}
          </text>
        )}
      </svg>
      <figcaption class="legend small">
        <span class="legend-item">
          <span class="key key-price" aria-hidden="true" /> Resale price
        </span>
        {newPrice !== null && (
          <span class="legend-item">
            <span class="key key-ref" aria-hidden="true" /> Price new from the studio
          </span>
        )}
      </figcaption>
    </figure>
  );
}
