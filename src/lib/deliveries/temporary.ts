/**
 * The marker of the temporary webhooks `pdhooks listen --register` makes: `pdhooks-listen <host> <pid> <started ISO>`.
 * On Pipedrive it is the webhook's `name`; on Pipeliner (whose webhooks have no name) it is one entry of the webhook's
 * `options.skip_keys` (kept by the server, harmless: only an API request sending that exact `Webhook-Skip-Key` header
 * would be skipped). Both `listen` (its sweep at start) and `doctor` read it back with {@link readTemporaryMarker}; each
 * applies its own rule to what it reads ({@link classifyMarker} for listen's sweep).
 *
 * No network, no oclif: cheap to import.
 */
import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'

/** Every temporary webhook's marker starts with this word. */
export const TEMPORARY_PREFIX = 'pdhooks-listen'
/**
 * The marker of a run with `--keep`: its webhooks are meant to stay, so no sweep ever deletes them (they are listed by
 * `doctor`, and deleted by hand).
 */
export const KEPT_PREFIX = 'pdhooks-listen-kept'

export interface TemporaryMarker {
  /** Made with --keep: never swept. */
  kept?: boolean
  /** The machine that ran `listen` (os.hostname()). */
  host: string
  /** Its process id there. */
  pid: number
  /** When that run started (ISO 8601, as written). */
  started: string
}

/** `pdhooks-listen <host> <pid> <started>`: no spaces inside the parts. */
export function temporaryMarker(m: TemporaryMarker): string {
  const host = m.host.replaceAll(/\s+/g, '-') || 'unknown'
  return `${m.kept ? KEPT_PREFIX : TEMPORARY_PREFIX} ${host} ${m.pid} ${m.started}`
}

const MARKER = /^pdhooks-listen(-kept)? (\S+) ([1-9]\d{0,9}) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)$/

/**
 * The parts of a marker; null when `text` starts like one (`pdhooks-listen ` or `pdhooks-listen-kept `) but is not
 * exactly one (its host, process or start time cannot be read); undefined when it is no marker at all.
 */
export function readTemporaryMarker(text: unknown): null | TemporaryMarker | undefined {
  if (typeof text !== 'string') return undefined
  const trimmed = text.trim()
  const m = MARKER.exec(trimmed)
  if (m && !Number.isNaN(Date.parse(m[4]))) {
    return {
      host: m[2], ...(m[1] ? {kept: true} : {}), pid: Number(m[3]), started: m[4],
    }
  }

  return trimmed.startsWith(`${TEMPORARY_PREFIX} `) || trimmed.startsWith(`${KEPT_PREFIX} `) ? null : undefined
}

/** The parts of a marker, or undefined when `text` is not exactly one (a name made by hand is never mistaken). */
export function parseTemporaryMarker(text: unknown): TemporaryMarker | undefined {
  return readTemporaryMarker(text) ?? undefined
}

/** The marker of a Pipedrive webhook (its name): as {@link readTemporaryMarker} reads it. */
export function pipedriveMarker(w: {name?: unknown}): null | TemporaryMarker | undefined {
  return readTemporaryMarker(w.name)
}

/**
 * The marker of a Pipeliner webhook (an entry of options.skip_keys): the first that reads, else null when an entry
 * starts like one, else undefined.
 */
export function pipelinerMarker(w: {options?: unknown}): null | TemporaryMarker | undefined {
  const o = w.options
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined
  const keys = (o as Record<string, unknown>).skip_keys
  if (!Array.isArray(keys)) return undefined
  let seen: null | undefined
  for (const k of keys) {
    const m = readTemporaryMarker(k)
    if (m) return m
    if (m === null) seen = null
  }

  return seen
}

/** This machine's name as markers write it. */
export function thisHost(): string {
  return (hostname() || 'unknown').replaceAll(/\s+/g, '-')
}

/** The marker of this process, started at `started`. */
export function ownMarker(opts: {kept?: boolean; started?: Date} = {}): TemporaryMarker {
  return {
    host: thisHost(), ...(opts.kept ? {kept: true} : {}), pid: process.pid, started: (opts.started ?? new Date()).toISOString(),
  }
}

export const sameMarker = (a: TemporaryMarker, b: TemporaryMarker): boolean =>
  a.host === b.host && a.pid === b.pid && a.started === b.started && Boolean(a.kept) === Boolean(b.kept)

/** Does a process `pid` exist on this machine (EPERM: it does, under another user)? */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** When process `pid` started (ms since the epoch), from /proc on Linux; undefined elsewhere or when unreadable. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (2nd field) may hold spaces and parentheses: fields are counted after its last ")"
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
    if (!btime || !Number.isFinite(ticks)) return undefined
    // USER_HZ is 100 on every Linux platform Node runs on
    return (Number(btime[1]) * 1000) + (ticks * 10)
  } catch {
    return undefined
  }
}

/**
 * Is the run that wrote `m` (on this host) still alive? Its pid must exist and, where the process start time can be
 * read, have started before the marker's time (a pid reused by a later process is not that run). Unknown is "alive":
 * a running listener's webhooks are never deleted by mistake.
 */
export function runIsAlive(m: Pick<TemporaryMarker, 'pid' | 'started'>): boolean {
  if (m.pid === process.pid) return true
  if (!pidExists(m.pid)) return false
  const start = processStart(m.pid)
  const started = Date.parse(m.started)
  // a few seconds of slack: boot-time rounding
  return start === undefined || Number.isNaN(started) || start <= started + 5000
}

export type LeftoverKind = 'alive' | 'foreign' | 'gone' | 'kept' | 'own'

/**
 * What a marked webhook is to this run: its own, kept on purpose (--keep), an earlier run's on this host whose process
 * is gone (to sweep), a live run's, or another host's (never deleted from here: its run may be alive there).
 */
export function classifyMarker(m: TemporaryMarker, own: TemporaryMarker): LeftoverKind {
  if (sameMarker(m, own)) return 'own'
  if (m.kept) return 'kept'
  if (m.host !== own.host) return 'foreign'
  return runIsAlive(m) ? 'alive' : 'gone'
}
