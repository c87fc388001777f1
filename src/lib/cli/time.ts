/**
 * Points in time given on the command line: an ISO 8601 date or time (`2026-12-01`, `2026-12-01T10:00:00Z`,
 * `2026-12-01 10:00` read as UTC), or a duration back from now (`90s`, `45m`, `2h`, `3d`, `1w`, combinable: `1d12h`).
 */
import {usageError} from '../core/errors.js'

const UNITS: Record<string, number> = {
  d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, w: 604_800_000,
}

/** Parses a duration (`2h`, `3d`, `1d12h`) into milliseconds; undefined when it is not one. */
export function parseDuration(value: string): number | undefined {
  const v = value.trim().toLowerCase()
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(v)) return undefined
  let ms = 0
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) ms += Number(m[1]) * UNITS[m[2]]
  return ms
}

/**
 * Epoch ms of a `--since`/`--until` value, `now` giving the base of durations. A value that is neither is a usage
 * error (exit 2) naming the flag with examples of both forms.
 */
export function parseWhen(value: string, flag: string, now = Date.now()): number {
  const v = value.trim()
  const d = parseDuration(v)
  if (d !== undefined) return now - d
  let iso = v
  // `2026-12-01 10:00[:00]` (a space, no zone): UTC, like Pipedrive's own times
  if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) iso = v.replace(' ', 'T') + 'Z'
  else if (/^\d{4}-\d\d-\d\d$/.test(v)) iso = `${v}T00:00:00Z`
  const t = /^\d{4}-\d\d-\d\d/.test(iso) ? Date.parse(iso) : Number.NaN
  if (Number.isNaN(t)) {
    throw usageError(`Invalid ${flag} "${value}": not a time or a duration.`, 'Give an ISO time (2026-12-01T10:00:00Z, 2026-12-01) or a duration back from now (30m, 2h, 3d).', 'bad_time')
  }

  return t
}
