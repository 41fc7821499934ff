// Charts of delivery attempts over time (Webhook.series, Tenant.series) with uPlot:
// volume (accepted and failed attempts), success rate and latency p50/p95. Live: the
// series is read again a few seconds after deliveries finish, and every ten seconds.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { gql } from './api.ts';
import { graphql, type ResultOf } from './graphql.ts';
import { subscribe } from './live.ts';
import { percent } from './format.ts';
import { useLoad } from './hooks.ts';
import { ErrorBanner } from './ui.tsx';

const POINT = graphql(`fragment Point on SeriesPoint { at succeeded failed completed retrying givenUp successRate latencyP50Ms latencyP95Ms }`);
export type Point = ResultOf<typeof POINT>;
const WEBHOOK_SERIES = graphql(`query($id: ID!, $bucket: SeriesBucket!, $since: DateTime) { webhook(id: $id) { series(bucket: $bucket, since: $since) { ...Point } } }`, [POINT]);
const TENANT_SERIES = graphql(`query($bucket: SeriesBucket!, $since: DateTime) { viewer { tenant { series(bucket: $bucket, since: $since) { ...Point } } } }`, [POINT]);
const FINISHED = graphql(`subscription($w: ID) { instanceUpdated(webhookId: $w, statuses: [COMPLETED, RETRYING, FAILED]) { id } }`);

const RANGES = [
  { key: 'hour', label: 'Last hour', bucket: 'MINUTE', spanMs: 3_600_000, stepMs: 60_000 },
  { key: 'day', label: 'Last 24 hours', bucket: 'HOUR', spanMs: 86_400_000, stepMs: 3_600_000 },
  { key: 'month', label: 'Last 30 days', bucket: 'DAY', spanMs: 30 * 86_400_000, stepMs: 86_400_000 },
] as const;
type Range = (typeof RANGES)[number];

/** The points of a range with the empty buckets filled in (the API leaves them out), oldest first. */
export function filled(points: Point[], range: Range, now = Date.now()): Point[] {
  const byAt = new Map(points.map((p) => [Math.floor(new Date(p.at).getTime() / range.stepMs) * range.stepMs, p]));
  const last = Math.floor(now / range.stepMs) * range.stepMs;
  const out: Point[] = [];
  for (let at = last - range.spanMs + range.stepMs; at <= last; at += range.stepMs) {
    out.push(byAt.get(at) ?? { at: new Date(at).toISOString(), succeeded: 0, failed: 0, completed: 0, retrying: 0, givenUp: 0, successRate: null, latencyP50Ms: null, latencyP95Ms: null });
  }
  return out;
}

/** Charts of one webhook's deliveries, or of the whole tenant's (no webhookId). */
export function DeliveryCharts({ webhookId, title = 'Deliveries over time' }: { webhookId?: string; title?: string }) {
  const [range, setRange] = useState<Range>(RANGES[0]);
  const series = useLoad<Point[]>(async () => {
    const since = new Date(Math.floor((Date.now() - range.spanMs) / range.stepMs + 1) * range.stepMs).toISOString();
    if (webhookId) return (await gql(WEBHOOK_SERIES, { id: webhookId, bucket: range.bucket, since })).webhook.series;
    return (await gql(TENANT_SERIES, { bucket: range.bucket, since })).viewer.tenant?.series ?? [];
  }, [webhookId, range]);

  // Live: finished deliveries bring the series up to date (a few seconds after, when the roll-up has counted them).
  const { reload } = series;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      if (!timer) timer = setTimeout(() => ((timer = undefined), reload()), 3000);
    };
    const off = subscribe(FINISHED, { w: webhookId ?? null }, soon, { onGap: soon });
    // And now and then: what finished just before the page opened is folded in after it.
    const every = setInterval(reload, 10_000);
    return () => {
      clearTimeout(timer);
      clearInterval(every);
      off();
    };
  }, [webhookId, reload]);

  const points = series.data ? filled(series.data, range) : undefined;
  const attempts = points?.reduce((n, p) => n + p.succeeded + p.failed, 0) ?? 0;
  const succeeded = points?.reduce((n, p) => n + p.succeeded, 0) ?? 0;
  const failed = points?.reduce((n, p) => n + p.givenUp, 0) ?? 0;
  return (
    <section className="charts" aria-labelledby={`charts-${webhookId ?? 'tenant'}`}>
      <div className="toolbar">
        <h2 id={`charts-${webhookId ?? 'tenant'}`}>{title}</h2>
        <div role="group" aria-label="Range" className="segmented">
          {RANGES.map((r) => (
            <button key={r.key} type="button" aria-pressed={r.key === range.key} onClick={() => setRange(r)}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      <ErrorBanner error={series.error} />
      {points && (
        <>
          <p className="chart-summary" data-testid="chart-summary">
            {attempts} {attempts === 1 ? 'attempt' : 'attempts'}, {percent(attempts ? succeeded / attempts : null)} accepted, {failed} {failed === 1 ? 'delivery' : 'deliveries'} failed
          </p>
          <div className="chart-row">
            <Chart
              label="Attempts"
              points={points}
              series={[
                { label: 'Accepted', stroke: '#2f7d32', fill: 'rgba(47,125,50,0.15)', value: (p) => p.succeeded },
                { label: 'Failed', stroke: '#c62828', fill: 'rgba(198,40,40,0.15)', value: (p) => p.failed },
              ]}
            />
            <Chart
              label="Success rate (%)"
              points={points}
              series={[{ label: 'Accepted', stroke: '#1565c0', value: (p) => (p.successRate === null ? null : Math.round(p.successRate * 1000) / 10) }]}
            />
            <Chart
              label="Latency (ms)"
              points={points}
              series={[
                { label: 'p50', stroke: '#6a1b9a', value: (p) => p.latencyP50Ms },
                { label: 'p95', stroke: '#ef6c00', value: (p) => p.latencyP95Ms },
              ]}
            />
          </div>
        </>
      )}
    </section>
  );
}

interface Line {
  label: string;
  stroke: string;
  fill?: string;
  value: (p: Point) => number | null;
}

/** One uPlot chart, made once and given new data as it comes. */
function Chart({ label, points, series }: { label: string; points: Point[]; series: Line[] }) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(undefined);
  const data: uPlot.AlignedData = [points.map((p) => new Date(p.at).getTime() / 1000), ...series.map((s) => points.map(s.value))];
  useEffect(() => {
    if (!holder.current) return;
    const width = Math.max(240, holder.current.clientWidth || 320);
    plot.current = new uPlot(
      {
        width,
        height: 160,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 2, spanGaps: false }))],
        axes: [{}, { size: 48 }],
        scales: { x: { time: true } },
        legend: { live: false },
      },
      data,
      holder.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
    // Made once per mount; the data below follows.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  });
  return (
    <figure className="chart" data-chart={label}>
      <figcaption>{label}</figcaption>
      <div ref={holder} role="img" aria-label={`${label} over the range, ${series.map((s) => s.label).join(' and ')}; the totals are in the summary above`} />
    </figure>
  );
}
