// A time-series chart (uPlot) with a legend that always shows each series' latest value.
// Invariant: one uPlot instance per mounted chart and series layout; new data is set, not re-created,
// so a chart updated every second does not leak canvases.

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { compact } from "../format.ts";

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
}

export interface ChartProps {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** sample times, ms since the epoch */
  readonly at: readonly number[];
  /** one column per series, as long as `at` */
  readonly values: readonly (readonly number[])[];
  /** the legend's value */
  readonly format: (v: number) => string;
  /** the y axis' ticks; a compact number by default */
  readonly axis?: (v: number) => string;
  readonly height?: number;
  /** a name for tests and links (data-chart) */
  readonly id: string;
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [
    props.at.map((ms) => ms / 1000),
    // a gap is null to uPlot: NaN would make its scales NaN and draw nothing at all
    ...props.series.map((_, i) => (props.values[i] ?? []).map((v) => (Number.isNaN(v) ? null : v))),
  ];
  const layout = props.series.map((s) => s.label).join("|");

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const u = new uPlot(options(props, el.clientWidth), data(), el);
    plot.current = u;
    const resize = new ResizeObserver(() =>
      u.setSize({ width: el.clientWidth, height: props.height ?? 180 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // the instance is rebuilt only when the series change; data updates go through setData below
  }, [layout, props.height]);

  useEffect(() => {
    plot.current?.setData(data());
  });

  return (
    <figure class="chart" data-chart={props.id}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        {props.series.map((s, i) => {
          const column = props.values[i] ?? [];
          const last = column[column.length - 1];
          const max = column.reduce(
            (m, v) => (Number.isNaN(v) ? m : Math.max(m, v)),
            Number.NEGATIVE_INFINITY,
          );
          return (
            <span class="legend" key={s.label} data-series={s.label} data-value={last ?? ""} data-max={max}>
              <i style={{ background: s.color }} />
              {s.label} <b>{last === undefined || Number.isNaN(last) ? "–" : props.format(last)}</b>
            </span>
          );
        })}
      </figcaption>
      <div ref={box} class="chart-plot" />
      {props.at.length < 2 && <p class="chart-empty">waiting for samples…</p>}
    </figure>
  );
}

const MIN_WINDOW_S = 60;

function options(props: ChartProps, width: number): uPlot.Options {
  const fmt = props.axis ?? compact;
  return {
    width: Math.max(width, 200),
    height: props.height ?? 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    // at least a minute wide, so a chart opened a second ago does not label milliseconds
    scales: {
      x: { time: true, range: (_u, min, max) => [Math.min(min, max - MIN_WINDOW_S), max] },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: "#667", grid: { stroke: "#eef" } },
      { stroke: "#667", grid: { stroke: "#eef" }, size: 64, values: (_u, ticks) => ticks.map(fmt) },
    ],
    series: [
      {},
      ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } })),
    ],
  };
}
