/**
 * Database and media sizes over time as an inline SVG line chart (no chart library: the GUI ships
 * as one small bundle under a strict CSP). Screen readers get a one-sentence summary as the
 * image's description, and the numbers themselves in a table behind "Show the numbers".
 */
import { useId } from 'react';
import { formatBytes, formatDateTime } from '../../components/format.ts';
import { DataTable } from '../../components/page.tsx';
import type { StorageSample } from './storage-api.ts';

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };
const SERIES = [
  { key: 'databaseBytes', label: 'Database', className: 'series-db' },
  { key: 'mediaBytes', label: 'Media', className: 'series-media' },
] as const;

/** A round top for the y axis and its step: 1, 2 or 5 times a power of ten of KB, MB or GB. */
function niceScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1024, step: 256 };
  let unit = 1;
  while (max / unit >= 1024) unit *= 1024;
  const rough = max / unit / 4;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough)! * unit;
  return { top: Math.ceil(max / step) * step, step };
}

function axisTime(ts: number, spanMs: number): string {
  const d = new Date(ts);
  return spanMs < 2 * 86_400_000
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export function SizeChart({ samples, days }: { samples: StorageSample[]; days: number }) {
  const id = useId();
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const span = Math.max(last.ts - first.ts, 1);
  const { top, step } = niceScale(Math.max(...samples.map((s) => Math.max(s.databaseBytes, s.mediaBytes))));
  const x = (ts: number): number => PAD.left + ((ts - first.ts) / span) * (W - PAD.left - PAD.right);
  const y = (v: number): number => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  // Measurements minutes apart (a new server) get one time label, not three equal ones.
  const xTicks = span < 3_600_000 ? [last.ts] : [first.ts, first.ts + span / 2, last.ts];
  const summary = `Over the last ${days} days the database went from ${formatBytes(first.databaseBytes)} to ${formatBytes(last.databaseBytes)}, and media from ${formatBytes(first.mediaBytes)} to ${formatBytes(last.mediaBytes)}.`;

  return (
    <figure className="size-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`} aria-describedby={`${id}-d`}>
        <title id={`${id}-t`}>Database and media sizes</title>
        <desc id={`${id}-d`}>{summary}</desc>
        {ticks.map((t) => (
          <g key={t} className="chart-grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 8} y={y(t) + 4} textAnchor="end">
              {formatBytes(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text key={i} className="chart-axis" x={x(t)} y={H - 8} textAnchor={i === xTicks.length - 1 ? 'end' : i === 0 ? 'start' : 'middle'}>
            {axisTime(t, span)}
          </text>
        ))}
        {SERIES.map((s) => {
          const pts = samples.map((p) => `${x(p.ts).toFixed(1)},${y(p[s.key]).toFixed(1)}`);
          const area = `M${x(first.ts).toFixed(1)},${y(0)} L${pts.join(' L')} L${x(last.ts).toFixed(1)},${y(0)} Z`;
          return (
            <g key={s.key} className={s.className}>
              <path className="chart-area" d={area} />
              <polyline className="chart-line" points={pts.join(' ')} />
              <circle className="chart-dot" cx={x(last.ts)} cy={y(last[s.key])} r={3.5} />
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {SERIES.map((s) => (
          <span key={s.key} className={`legend-item ${s.className}`}>
            <span className="legend-swatch" aria-hidden="true" />
            {s.label} <strong>{formatBytes(last[s.key])}</strong>
          </span>
        ))}
      </figcaption>
      <details className="chart-table">
        <summary>Show the numbers</summary>
        <DataTable columns={['Measured', 'Database', 'Media', 'Everything']}>
          {[...samples].reverse().map((s) => (
            <tr key={s.ts}>
              <td>{formatDateTime(s.ts)}</td>
              <td>{formatBytes(s.databaseBytes)}</td>
              <td>{formatBytes(s.mediaBytes)}</td>
              <td>{formatBytes(s.totalBytes)}</td>
            </tr>
          ))}
        </DataTable>
      </details>
    </figure>
  );
}
