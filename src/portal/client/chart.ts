/**
 * The "At a glance" chart: payments per hour or day, succeeded and failed stacked, drawn
 * as SVG by this script (no library, no third-party origin). Each bar's group carries its
 * figures in data- attributes and a <title> (a tooltip); the chart as a whole is one image
 * with a label, and the screen offers the same figures as a table for screen readers.
 */
import { s } from './dom.js'
import type { StatsBucket } from './types.js'

export interface ChartOptions {
  /** The chart's accessible name. */
  label: string
  /** A bucket's x-axis label, or '' for none (every few buckets get one). */
  tick: (bucket: StatsBucket, index: number) => string
  /** A bar's tooltip. */
  title: (bucket: StatsBucket) => string
  count: (n: number) => string
  /** The width it is drawn at, in CSS pixels (the box it goes in), so that its text stays legible on a phone. */
  width: number
}

const M = { top: 10, right: 8, bottom: 26, left: 40 }

/** A round maximum for the y axis (1, 2, 5 × 10^k), at least 4 so that four ticks are whole numbers. */
export function niceMax(max: number): number {
  if (max <= 4) return 4
  const raw = max / 4
  const pow = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * pow).find((st) => st >= raw)!
  return step * 4
}

export function stackedBars(buckets: StatsBucket[], opts: ChartOptions): SVGSVGElement {
  const WIDTH = Math.max(300, Math.round(opts.width))
  const HEIGHT = WIDTH < 600 ? 200 : 240
  const plotW = WIDTH - M.left - M.right
  const plotH = HEIGHT - M.top - M.bottom
  const top = niceMax(Math.max(0, ...buckets.map((b) => b.succeeded + b.failed)))
  const y = (n: number) => M.top + plotH - (n / top) * plotH
  const band = plotW / Math.max(1, buckets.length)
  const barW = Math.max(1, band * 0.72)

  const grid = [0, 1, 2, 3, 4].map((i) => {
    const v = (top / 4) * i
    return s(
      'g',
      { class: 'grid' },
      s('line', { x1: M.left, x2: WIDTH - M.right, y1: y(v), y2: y(v) }),
      s('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, opts.count(v)),
    )
  })
  const bars = buckets.map((b, i) => {
    const x = M.left + i * band + (band - barW) / 2
    const okH = (b.succeeded / top) * plotH
    const failH = (b.failed / top) * plotH
    const label = opts.tick(b, i)
    return s(
      'g',
      { class: 'bar', 'data-start': b.start, 'data-succeeded': b.succeeded, 'data-failed': b.failed },
      s('title', {}, opts.title(b)),
      b.succeeded ? s('rect', { class: 'succeeded', x, y: y(b.succeeded), width: barW, height: okH }) : null,
      b.failed ? s('rect', { class: 'failed', x, y: y(b.succeeded) - failH, width: barW, height: failH }) : null,
      label ? s('text', { class: 'tick', x: x + barW / 2, y: HEIGHT - 8, 'text-anchor': 'middle' }, label) : null,
    )
  })
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': opts.label, preserveAspectRatio: 'xMidYMid meet' },
    ...grid,
    s('line', { class: 'axis', x1: M.left, x2: WIDTH - M.right, y1: y(0), y2: y(0) }),
    ...bars,
  )
}
