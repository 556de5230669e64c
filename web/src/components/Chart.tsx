import type { Order, Withdrawal } from '../api';
import { money, when } from '../format';

export interface Step {
  at: number;
  /** Balance after this event, in hundredths (integers: no float drift over many events). */
  balance: number;
  change: number;
  label: string;
}

/**
 * Balance over time, rebuilt from the member's own history: every PROCESSED order's accrual at
 * its upload time, minus every withdrawal at its time. Oldest first.
 */
export function balanceSteps(orders: readonly Order[], withdrawals: readonly Withdrawal[]): Step[] {
  const events = [
    ...orders
      .filter((o) => o.status === 'PROCESSED' && o.accrual !== undefined && o.accrual > 0)
      .map((o) => ({ at: Date.parse(o.uploaded_at), change: Math.round((o.accrual ?? 0) * 100), label: `order ${o.number}` })),
    ...withdrawals.map((w) => ({ at: Date.parse(w.processed_at), change: -Math.round(w.sum * 100), label: `withdrawal for ${w.order}` })),
  ].sort((a, b) => a.at - b.at || b.change - a.change);
  let balance = 0;
  return events.map((e) => {
    balance += e.change;
    return { ...e, balance };
  });
}

const W = 640;
const H = 220;
const PAD = { left: 64, right: 16, top: 16, bottom: 34 };

/** A hand-drawn step chart in inline SVG: no chart library, no canvas, readable by screen readers. */
export function BalanceChart(props: { steps: Step[]; now?: number }) {
  const { steps } = props;
  if (steps.length === 0) return <p class="muted">No points yet: the chart appears with your first credited order.</p>;
  const first = steps[0] as Step;
  const start = first.at;
  const end = Math.max(props.now ?? Date.now(), (steps[steps.length - 1] as Step).at);
  const span = Math.max(end - start, 1);
  const top = Math.max(...steps.map((s) => s.balance), 1);
  const x = (t: number): number => PAD.left + ((t - start) / span) * (W - PAD.left - PAD.right);
  const y = (v: number): number => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);

  let d = `M${x(start).toFixed(1)},${y(0).toFixed(1)}`;
  for (const s of steps) d += ` H${x(s.at).toFixed(1)} V${y(s.balance).toFixed(1)}`;
  d += ` H${x(end).toFixed(1)}`;
  const area = `${d} V${y(0).toFixed(1)} Z`;
  const ticks = [0, top / 2, top];
  const last = steps[steps.length - 1] as Step;

  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title chart-desc" data-testid="balance-chart">
        <title id="chart-title">Balance over time</title>
        <desc id="chart-desc">{`${steps.length} changes from ${when(new Date(start).toISOString())}; now ${money(last.balance / 100)} points.`}</desc>
        {ticks.map((t) => (
          <g key={t}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text class="axis" x={PAD.left - 8} y={y(t) + 4} text-anchor="end">
              {money(t / 100)}
            </text>
          </g>
        ))}
        <path class="area" d={area} />
        <path class="line" d={d} />
        {steps.map((s) => (
          <circle key={`${s.at}-${s.label}`} class={s.change < 0 ? 'dot dot-out' : 'dot'} cx={x(s.at)} cy={y(s.balance)} r="4">
            <title>{`${when(new Date(s.at).toISOString())}: ${money(s.change / 100, true)} (${s.label}) → ${money(s.balance / 100)}`}</title>
          </circle>
        ))}
        <text class="axis" x={PAD.left} y={H - 10}>
          {when(new Date(start).toISOString())}
        </text>
        <text class="axis" x={W - PAD.right} y={H - 10} text-anchor="end">
          {when(new Date(end).toISOString())}
        </text>
      </svg>
      <figcaption class="muted">Credits at each order's upload time, withdrawals at theirs. Hover a point for details.</figcaption>
    </figure>
  );
}
