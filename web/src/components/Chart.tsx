import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Order, Withdrawal } from '../api';
import { timeTicks, valueLabel, valueTicks } from '../chart-scale';
import { money, when } from '../format';

export interface Step {
  at: number;
  /** Balance after this event, in hundredths (integers: no float drift over many events). */
  balance: number;
  change: number;
  /** What happened, in the member's words. */
  label: string;
}

/**
 * Balance over time, rebuilt from the member's own history: every PROCESSED order's points at
 * its upload time (the API keeps no separate credit time), minus every payment at its time.
 */
export function balanceSteps(orders: readonly Order[], withdrawals: readonly Withdrawal[]): Step[] {
  const events = [
    ...orders
      .filter((o) => o.status === 'PROCESSED' && o.accrual !== undefined && o.accrual > 0)
      .map((o) => ({ at: Date.parse(o.uploaded_at), change: Math.round((o.accrual ?? 0) * 100), label: `Points for order ${o.number}` })),
    ...withdrawals.map((w) => ({ at: Date.parse(w.processed_at), change: -Math.round(w.sum * 100), label: `Paid towards order ${w.order}` })),
  ].sort((a, b) => a.at - b.at || b.change - a.change);
  let balance = 0;
  return events.map((e) => {
    balance += e.change;
    return { ...e, balance };
  });
}

/** The chart is drawn at its real pixel size, so text stays 12 px on a phone instead of shrinking with a viewBox. */
function useWidth(): [(el: HTMLDivElement | null) => void, number] {
  const [el, setEl] = useState<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    if (!el) return;
    setWidth(el.clientWidth || 640);
    const observer = new ResizeObserver(() => setWidth(el.clientWidth || 640));
    observer.observe(el);
    return () => observer.disconnect();
  }, [el]);
  return [setEl, width];
}

const CHAR_PX = 7.2;
/** A member's first minutes still get a readable time axis. */
const MIN_SPAN_MS = 10 * 60_000;

function describe(s: Step): string {
  return `${when(new Date(s.at).toISOString())}: ${s.label}, ${money(s.change / 100, true)} points. Balance after: ${money(s.balance / 100)} points.`;
}

export function BalanceChart(props: { steps: Step[]; now?: number }) {
  const { steps } = props;
  const [measure, width] = useWidth();
  const [picked, setPicked] = useState<number | null>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const selected = picked === null ? steps.length - 1 : Math.min(picked, steps.length - 1);
  useEffect(() => setPicked(null), [steps.length]);

  if (steps.length === 0) return <p class="muted">No points yet: the chart appears with your first credited order.</p>;

  const W = Math.max(width, 260);
  const H = W < 480 ? 200 : 240;
  const end = Math.max(props.now ?? Date.now(), (steps[steps.length - 1] as Step).at);
  const start = Math.min((steps[0] as Step).at, end - MIN_SPAN_MS);
  const yTicks = valueTicks(Math.max(...steps.map((s) => s.balance)), H < 240 ? 5 : 6);
  const top = yTicks[yTicks.length - 1] ?? 100;
  const yLabels = yTicks.map((t) => valueLabel(t, yTicks));
  const pad = { left: Math.ceil(Math.max(...yLabels.map((l) => l.length)) * CHAR_PX) + 14, right: 20, top: 14, bottom: 30 };
  const plotW = W - pad.left - pad.right;
  const x = (t: number): number => pad.left + ((t - start) / (end - start)) * plotW;
  const y = (v: number): number => pad.top + (1 - v / top) * (H - pad.top - pad.bottom);
  const xTicks = timeTicks(start, end, Math.max(2, Math.floor(plotW / 90)));

  let line = `M${x(start).toFixed(1)},${y(0).toFixed(1)}`;
  for (const s of steps) line += ` H${x(s.at).toFixed(1)} V${y(s.balance).toFixed(1)}`;
  line += ` H${x(end).toFixed(1)}`;
  const area = `${line} V${y(0).toFixed(1)} Z`;
  const current = steps[selected] as Step;

  function pickNearest(clientX: number): void {
    const box = plotRef.current?.querySelector('svg')?.getBoundingClientRect();
    if (!box) return;
    const px = ((clientX - box.left) / box.width) * W;
    let best = 0;
    steps.forEach((s, i) => {
      if (Math.abs(x(s.at) - px) < Math.abs(x((steps[best] as Step).at) - px)) best = i;
    });
    setPicked(best);
  }

  function onKey(e: KeyboardEvent): void {
    const moves: Record<string, number> = {
      ArrowLeft: selected - 1,
      ArrowDown: selected - 1,
      ArrowRight: selected + 1,
      ArrowUp: selected + 1,
      Home: 0,
      End: steps.length - 1,
    };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    setPicked(Math.max(0, Math.min(steps.length - 1, to)));
  }

  return (
    <figure class="chart">
      <div
        ref={(el) => {
          measure(el);
          plotRef.current = el;
        }}
        class="chart-plot"
        tabIndex={0}
        role="slider"
        aria-label="Balance over time: arrow keys step through the changes"
        aria-valuemin={1}
        aria-valuemax={steps.length}
        aria-valuenow={selected + 1}
        aria-valuetext={describe(current)}
        onKeyDown={onKey}
        onClick={(e) => pickNearest(e.clientX)}
        data-testid="balance-chart"
      >
        <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} aria-hidden="true">
          {yTicks.map((t, i) => (
            <g key={t}>
              <line class="grid" x1={pad.left} x2={W - pad.right} y1={y(t)} y2={y(t)} />
              <text class="axis" x={pad.left - 8} y={y(t) + 4} text-anchor="end">
                {yLabels[i]}
              </text>
            </g>
          ))}
          {xTicks.map((t) => {
            const at = x(t.at);
            const half = (t.label.length * CHAR_PX) / 2;
            const anchor = at - half < 0 ? 'start' : at + half > W ? 'end' : 'middle';
            return (
              <g key={t.at}>
                <line class="tick" x1={at} x2={at} y1={H - pad.bottom} y2={H - pad.bottom + 5} />
                <text class="axis" x={anchor === 'start' ? 0 : anchor === 'end' ? W : at} y={H - 8} text-anchor={anchor}>
                  {t.label}
                </text>
              </g>
            );
          })}
          <path class="area" d={area} />
          <path class="line" d={line} />
          {steps.map((s, i) => (
            <circle
              key={`${s.at}-${s.label}`}
              class={`${s.change < 0 ? 'dot dot-out' : 'dot'}${i === selected ? ' dot-on' : ''}`}
              cx={x(s.at)}
              cy={y(s.balance)}
              r={i === selected ? 7 : 5}
              data-point={i}
            />
          ))}
        </svg>
      </div>
      <figcaption>
        <p class="chart-detail" data-testid="chart-detail">
          <strong>{money(current.change / 100, true)} points</strong> · {current.label} · {when(new Date(current.at).toISOString())} · balance{' '}
          {money(current.balance / 100)}
        </p>
        <p class="legend muted">
          <span class="key key-in" aria-hidden="true" /> points earned <span class="key key-out" aria-hidden="true" /> points spent · tap a point, or use the
          arrow keys, to see what changed
        </p>
      </figcaption>
    </figure>
  );
}
