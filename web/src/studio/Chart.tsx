// Sales over time as an inline SVG bar chart (no chart library: a few bars and labels): the gross
// of each day (or month) in light, the studio's share in front of it in the accent colour.
import { useEffect, useRef, useState } from 'preact/hooks';
import { money } from '../api';
import type { Bucket } from './model';

export function SalesChart({ data }: { data: Bucket[] }) {
  // Drawn at the figure's own width (one SVG unit = one CSS pixel), so labels keep their size
  // on a phone instead of shrinking with a scaled picture.
  const box = useRef<HTMLElement>(null);
  const [W, setW] = useState(720);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([e]) => e && setW(Math.max(260, Math.round(e.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const H = W < 480 ? 180 : 220;
  const pad = { l: 64, r: 8, t: 12, b: 28 };
  const max = Math.max(1, ...data.map((b) => b.gross));
  const n = Math.max(1, data.length);
  const slot = (W - pad.l - pad.r) / n;
  const bar = Math.max(1, Math.min(28, slot * 0.7));
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const labels = new Set([0, Math.floor((n - 1) / 2), n - 1]);
  const total = data.reduce((a, b) => a + b.sales, 0);
  return (
    <figure class="chart" data-testid="sales-chart" ref={box}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Sales over time: ${total} sale${total === 1 ? '' : 's'} from ${data[0]?.label ?? ''} to ${data[n - 1]?.label ?? ''}`}
      >
        <line x1={pad.l} x2={W - pad.r} y1={y(0)} y2={y(0)} class="axis" />
        <line x1={pad.l} x2={W - pad.r} y1={y(max)} y2={y(max)} class="grid-line" />
        <text x={pad.l - 6} y={y(max) + 4} text-anchor="end" class="tick">
          {money(max)}
        </text>
        <text x={pad.l - 6} y={y(0) + 4} text-anchor="end" class="tick">
          {money(0)}
        </text>
        {data.map((b, i) => {
          const x = pad.l + slot * i + (slot - bar) / 2;
          return (
            <g key={b.start}>
              <title>{`${b.label}: ${b.sales} sale${b.sales === 1 ? '' : 's'}, ${money(b.gross)} gross, ${money(b.studio)} to the studio`}</title>
              {b.gross > 0 && <rect x={x} y={y(b.gross)} width={bar} height={y(0) - y(b.gross)} class="bar-gross" />}
              {b.studio > 0 && <rect x={x} y={y(b.studio)} width={bar} height={y(0) - y(b.studio)} class="bar-studio" />}
              {labels.has(i) && (
                <text x={x + bar / 2} y={H - 8} text-anchor={i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'} class="tick">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend small">
        <span class="key key-gross" aria-hidden="true" /> Gross sales <span class="key key-studio" aria-hidden="true" /> Studio’s share
      </figcaption>
    </figure>
  );
}
