/**
 * Injected faults (`POST /sandbox/faults`): canned or delayed answers for the next matching API requests.
 */
import {isRecord, type Reply} from './http.js'

/** A fault as registered. */
export interface Fault {
  id: number
  /** HTTP method to match (any when absent). */
  method?: string
  /** Exact path, or a prefix ending in `*`. */
  path: string
  /** Status of the canned answer (absent: the real handler answers, after `delay`). */
  status?: number
  /** Body: a string is sent as-is (`text/html` unless headers say otherwise), anything else as JSON. */
  body?: unknown
  headers: Record<string, string>
  /** Matching requests left; Infinity when registered with `times` ≤ 0. */
  remaining: number
  /** Milliseconds to wait (real time, not scaled). */
  delay: number
  /** Run the real handler first (its state changes happen), then wait and answer (replaced by status/body if given). */
  passThrough: boolean
  /**
   * "Apply, then fail": run the real handler (its state changes happen), wait, then answer with this fault's own
   * status (default 503), headers and body (default none): the real answer is discarded. A create that the service
   * applied but answered 503 or 429.
   */
  apply: boolean
}

/** Parses a fault definition; returns an error message when invalid. */
function parseFault(input: unknown, id: number): {error: string} | {fault: Fault} {
  if (!isRecord(input)) return {error: 'a fault must be a JSON object'}
  const {path} = input
  if (typeof path !== 'string' || !path.startsWith('/')) return {error: 'path is required and must start with "/"'}
  if (input.method !== undefined && input.method !== null && typeof input.method !== 'string') return {error: 'method must be a string'}
  const {status} = input
  if (status !== undefined && status !== null && (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)) {
    return {error: 'status must be an HTTP status code (100-599)'}
  }

  const headers: Record<string, string> = {}
  if (input.headers !== undefined && input.headers !== null) {
    if (!isRecord(input.headers)) return {error: 'headers must be an object'}
    for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = String(v)
  }

  const times = input.times ?? 1
  if (typeof times !== 'number' || !Number.isFinite(times)) return {error: 'times must be a number'}
  const delay = input.delay ?? 0
  if (typeof delay !== 'number' || delay < 0 || !Number.isFinite(delay)) return {error: 'delay must be a number of milliseconds >= 0'}
  if (input.apply !== undefined && typeof input.apply !== 'boolean') return {error: 'apply must be true or false'}
  if (input.apply === true && input.passThrough === true) return {error: 'give apply or passThrough, not both'}
  return {
    fault: {
      id,
      method: typeof input.method === 'string' && input.method !== '' ? input.method.toUpperCase() : undefined,
      path,
      status: typeof status === 'number' ? status : undefined,
      body: input.body,
      headers,
      remaining: times <= 0 ? Number.POSITIVE_INFINITY : Math.floor(times),
      delay,
      passThrough: input.passThrough === true,
      apply: input.apply === true,
    },
  }
}

/** Does the fault's path pattern cover `path`? */
function faultPathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path
}

/** The canned reply of a fault (status defaults to 500). */
export function faultReply(fault: Fault, base?: Reply): Reply {
  const headers = {...base?.headers, ...fault.headers}
  if (fault.body === undefined) {
    if (base && fault.status === undefined) return {...base, headers}
    if (base) return {...base, status: fault.status ?? base.status, headers}
    return {status: fault.status ?? 500, headers, text: ''}
  }

  const status = fault.status ?? base?.status ?? 500
  if (typeof fault.body === 'string') {
    const h = {...headers}
    if (!Object.keys(fault.headers).includes('content-type')) h['content-type'] = 'text/html; charset=utf-8'
    return {status, headers: h, text: fault.body}
  }

  const h = {...headers}
  if (!Object.keys(fault.headers).includes('content-type')) h['content-type'] = 'application/json'
  return {status, headers: h, text: JSON.stringify(fault.body)}
}

export class Faults {
  private list: Fault[] = []
  private nextId = 1

  add(input: unknown): {error: string} | {fault: Fault} {
    const r = parseFault(input, this.nextId)
    if ('fault' in r) {
      this.nextId++
      this.list.push(r.fault)
    }

    return r
  }

  all(): Fault[] {
    return this.list.map(f => ({...f}))
  }

  clear(): void {
    this.list = []
  }

  /** The first fault matching the request, consumed once (removed when used up). */
  take(method: string, path: string): Fault | undefined {
    const f = this.list.find(x => (!x.method || x.method === method.toUpperCase()) && faultPathMatches(x.path, path))
    if (!f) return undefined
    f.remaining--
    if (f.remaining <= 0) this.list = this.list.filter(x => x !== f)
    return f
  }
}
