import {isUtf8} from 'node:buffer'
import {once} from 'node:events'
import {
  closeSync, createReadStream, fdatasync, close as fsClose, open as fsOpen, promises as fsPromises, fstat, write as fsWrite,
  ftruncate, type Stats,
} from 'node:fs'
import {createInterface} from 'node:readline'

/**
 * The delivery journal: NDJSON, one line per accepted delivery, written by `listen --journal` and read by `replay`.
 *
 * Line shape:
 * `{"id":"<uuid>","time":"<ISO>","method":"POST","path":"/…","headers":{…},"source":"pipedrive-v2","body":"<raw body>"}`
 * - `headers` are the request's headers (lower-cased names) with authorization, proxy-authorization, x-api-token, cookie,
 *   set-cookie and the headers named with `--redact-header` redacted (`"Basic ****"`, `"****"`): a journal never holds
 *   a credential.
 * - `path` is the request target with the values of secret-looking query parameters (token, key, secret, password,
 *   signature, auth…) replaced by `****`.
 * - `body` is the raw body decoded as UTF-8 when it is valid UTF-8 (so it round-trips byte for byte), otherwise
 *   `bodyBase64` holds the bytes.
 */
import type {DeliverySource} from './recognition.js'

import {PdhooksError, usageError} from '../core/errors.js'
import {DELIVERY_SOURCES} from './recognition.js'

export interface JournalEntry {
  id: string
  time: string
  method: string
  path: string
  headers: Record<string, string | string[]>
  source: DeliverySource
  body?: string
  bodyBase64?: string
}

export interface JournalDelivery {
  id: string
  time: string
  method: string
  /** Request target as received (path and query; secret query parameters are masked). */
  path: string
  headers: Record<string, string | string[] | undefined>
  source: DeliverySource
  body: Buffer
  /** The body already decoded as UTF-8, when the caller has it (saves decoding it twice). */
  text?: string
  /** More header names (lower case) to redact, besides REDACTED_HEADERS (`listen --redact-header`). */
  redact?: ReadonlySet<string>
}

export interface JournalProblem {
  /** 1-based line number in the journal file. */
  line: number
  message: string
}

export type JournalLine = {entry: JournalEntry; line: number} | {error: string; line: number}

/** Header names whose values are credentials and are never written in clear. */
export const REDACTED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'set-cookie', 'x-api-token'])

/**
 * The headers as journaled: names lower-cased, credentials and the `redact` names redacted (`"Basic ****"`). Node's own
 * request headers with nothing to redact are returned as they are (no copy: this runs once per delivery).
 */
function journalHeaders(
  h: Record<string, string | string[] | undefined>,
  redact?: ReadonlySet<string>,
): Record<string, string | string[]> {
  let plain = true
  for (const key in h) {
    if (h[key] === undefined || REDACTED_HEADERS.has(key) || key.toLowerCase() !== key || redact?.has(key)) {
      plain = false
      break
    }
  }

  if (plain) return h as Record<string, string | string[]>
  const out: Record<string, string | string[]> = {}
  for (const key of Object.keys(h)) {
    const v = h[key]
    if (v === undefined) continue
    const name = key.toLowerCase()
    out[name] = REDACTED_HEADERS.has(name) || redact?.has(name) ? redactValue(name, v) : v
  }

  return out
}

/** Authorization `Basic abc…` → `Basic ****` (the scheme stays); any other credential → `****`. */
function redactValue(name: string, v: string | string[]): string | string[] {
  if (Array.isArray(v)) return v.map(() => '****')
  if (!name.endsWith('authorization')) return '****'
  const scheme = /^([A-Za-z][\w-]*) +\S/.exec(v)
  return scheme ? `${scheme[1]} ****` : '****'
}

/** Is this journaled header value a redaction (`****`, `Basic ****`)? Replay does not send those. */
export function isRedactedValue(v: string | string[] | undefined): boolean {
  if (Array.isArray(v)) return v.length > 0 && v.every(x => isRedactedValue(x))
  return v === '****' || (typeof v === 'string' && /^[A-Za-z][\w-]* \*{4}$/.test(v))
}

/** Query parameter names whose values are secrets in a journal (token, api_key, secret, password, sig, auth…). */
const SECRET_PARAM = /pass|secret|token|signature|^sig$|key|auth|credential|session/i

/**
 * A request target with the values of secret-looking query parameters replaced by `****`; the rest is kept as
 * received, byte for byte.
 */
export function redactQuery(target: string): string {
  const q = target.indexOf('?')
  if (q === -1) return target
  const hash = target.indexOf('#', q)
  const end = hash === -1 ? target.length : hash
  let changed = false
  const params = target.slice(q + 1, end).split('&').map(param => {
    const eq = param.indexOf('=')
    const raw = eq === -1 ? param : param.slice(0, eq)
    let name = raw
    try {
      name = decodeURIComponent(raw.replaceAll('+', ' '))
    } catch {
      // a malformed escape: judge the raw name
    }

    if (!SECRET_PARAM.test(name)) return param
    changed = true
    return `${raw}=****`
  })
  return changed ? `${target.slice(0, q + 1)}${params.join('&')}${target.slice(end)}` : target
}

const journalPath = (path: string): string => (path.includes('?') ? redactQuery(path) : path)

/** Builds the journal entry of one delivery: headers redacted, body stored losslessly. */
export function toJournalEntry(d: JournalDelivery): JournalEntry {
  const entry: JournalEntry = {
    id: d.id,
    time: d.time,
    method: d.method,
    path: journalPath(d.path),
    headers: {...journalHeaders(d.headers, d.redact)},
    source: d.source,
  }
  if (isUtf8(d.body)) entry.body = d.text ?? d.body.toString('utf8')
  else entry.bodyBase64 = d.body.toString('base64')
  return entry
}

/**
 * The journal line of one delivery (with its newline): the same JSON as `JSON.stringify(toJournalEntry(d))`, built
 * without the intermediate object (this runs once per delivery).
 */
export function journalLine(d: JournalDelivery): string {
  const body = isUtf8(d.body)
    ? `"body":${JSON.stringify(d.text ?? d.body.toString('utf8'))}`
    : `"bodyBase64":"${d.body.toString('base64')}"`
  return `{"id":${JSON.stringify(d.id)},"time":${JSON.stringify(d.time)},"method":${JSON.stringify(d.method)},"path":${JSON.stringify(journalPath(d.path))},"headers":${JSON.stringify(journalHeaders(d.headers, d.redact))},"source":${JSON.stringify(d.source)},${body}}\n`
}

/** The exact body bytes of a journal entry. */
export function entryBody(entry: JournalEntry): Buffer {
  if (typeof entry.bodyBase64 === 'string') return Buffer.from(entry.bodyBase64, 'base64')
  return Buffer.from(entry.body ?? '', 'utf8')
}

/** Checks one parsed line; returns the problem, or null when it is a usable entry. */
function entryProblem(v: unknown): null | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object'
  const e = v as Record<string, unknown>
  if (typeof e.id !== 'string' || e.id === '') return 'missing "id"'
  if (typeof e.body !== 'string' && typeof e.bodyBase64 !== 'string') return 'missing "body"'
  if (e.headers !== undefined && (typeof e.headers !== 'object' || e.headers === null || Array.isArray(e.headers))) {
    return '"headers" is not an object'
  }

  return null
}

function normalize(v: Record<string, unknown>): JournalEntry {
  const source = DELIVERY_SOURCES.includes(v.source as DeliverySource) ? (v.source as DeliverySource) : 'unknown'
  const entry: JournalEntry = {
    id: v.id as string,
    time: typeof v.time === 'string' ? v.time : '',
    method: typeof v.method === 'string' && v.method ? v.method : 'POST',
    path: typeof v.path === 'string' ? v.path : '/',
    headers: (v.headers ?? {}) as Record<string, string | string[]>,
    source,
  }
  if (typeof v.bodyBase64 === 'string') entry.bodyBase64 = v.bodyBase64
  else entry.body = v.body as string
  return entry
}

function openError(file: string, error: NodeJS.ErrnoException, verb: string): PdhooksError {
  const why = error.code === 'ENOENT' ? 'no such file or directory' : (error.code === 'EACCES' ? 'permission denied' : error.message)
  return usageError(`Cannot ${verb} journal ${file}: ${why}.`, verb === 'read' ? 'Check the --journal path.' : undefined, 'journal')
}

/**
 * Reads a journal line by line (streaming: large journals are fine). Each line comes back as an entry or, when it is
 * not valid JSON or not a journal entry, as an error with its 1-based line number. Blank lines are skipped.
 * A missing or unreadable file is a usage error (exit 2) naming the path.
 * @yields one `{entry, line}` or `{error, line}` per non-blank line
 */
export async function * iterateJournal(file: string): AsyncGenerator<JournalLine> {
  const input = createReadStream(file, {encoding: 'utf8'})
  try {
    await once(input, 'open')
  } catch (error) {
    throw openError(file, error as NodeJS.ErrnoException, 'read')
  }

  const lines = createInterface({crlfDelay: Number.POSITIVE_INFINITY, input})
  let n = 0
  try {
    for await (const text of lines) {
      n++
      if (text.trim() === '') continue
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        yield {error: 'not valid JSON', line: n}
        continue
      }

      const problem = entryProblem(parsed)
      yield (problem ? {error: problem, line: n} : {entry: normalize(parsed as Record<string, unknown>), line: n});
    }
  } finally {
    lines.close()
    input.destroy()
  }
}

/** Reads a whole journal: the usable entries, and the malformed lines (skipped) with their line numbers. */
export async function readJournal(file: string): Promise<{entries: JournalEntry[]; malformed: JournalProblem[]}> {
  const entries: JournalEntry[] = []
  const malformed: JournalProblem[] = []
  for await (const item of iterateJournal(file)) {
    if ('entry' in item) entries.push(item.entry)
    else malformed.push({line: item.line, message: item.error})
  }

  return {entries, malformed}
}

/** A written batch whose lines are not yet acknowledged. */
interface Batch {
  /** File size once this batch is in. */
  end: number
  error: Error | null
  state: 'failed' | 'kept' | 'syncing'
  waiters: Array<(error: Error | null) => void>
}

/** fdatasync calls in flight at once (libuv has 4 threads; one stays free for the writes). */
const MAX_SYNCS = 3

/**
 * Appends journal lines with group commit: lines that arrive while the previous batch is being written are gathered
 * and written together by the next `write`, so a busy listener makes one write (and one fdatasync) per batch, however
 * many deliveries the batch holds, and a quiet one writes each line at once. Writes go one at a time, in order;
 * up to MAX_SYNCS fdatasyncs overlap (the file system commits them together: on this project's machine under load,
 * write + fdatasync one at a time took 3.6 ms each; three at a time, one completed every 0.4 ms).
 *
 * `append(line, done)` calls `done(null)` once the line is written: the OS has it, so it survives a crash or kill of
 * the process (and a write error, such as a full disk, is seen). With `sync`, also once the fdatasync of its batch
 * and of every earlier batch has returned: on a regular file the line then survives a crash of the machine or a
 * power cut too.
 * `done(error)` means it was not kept: the failed batch and every later unacknowledged one are cut off the file (no
 * partial line stays in front of later ones) and the caller must not acknowledge them. The journal keeps trying
 * with the next batch: when the disk has room again, writing resumes. `onError` is called once per failing period,
 * `onRecover` when it ends. Not a regular file (a pipe, /dev/stdout): written, never synced nor cut.
 */
export class JournalWriter {
  /** The error of the last failed batch, or null once a batch is kept again. */
  error: Error | null = null
  readonly file: string
  /** The file is a regular file: writes are synced (when `sync`) and failed batches cut off. */
  readonly regular: boolean
  private batch = ''
  private closed = false
  /** A failure is being handled: no new write until the batches in flight are settled and the file cut back. */
  private failing = false
  private readonly fd: number
  private idleWaiters: Array<() => void> = []
  private readonly maxPendingBytes: number
  private readonly opts: JournalWriterOptions
  /** Written batches, oldest first, until acknowledged. */
  private readonly outstanding: Batch[] = []
  /** Bytes of the file that hold acknowledged lines (where failed batches are cut back to). */
  private size: number
  private readonly sync: boolean
  private syncs = 0
  private waiters: Array<(error: Error | null) => void> = []
  private writing = false
  /** File size after the last write. */
  private written: number

  private constructor(file: string, fd: number, stat: Stats, lastByte: null | number, opts: JournalWriterOptions) {
    this.file = file
    this.fd = fd
    this.opts = opts
    this.regular = stat.isFile()
    this.size = this.regular ? stat.size : 0
    this.written = this.size
    this.sync = (opts.sync ?? false) && this.regular
    this.maxPendingBytes = opts.maxPendingBytes ?? 8 * 1024 * 1024
    // a line left half-written by a crash stays a line of its own (reported as malformed by replay)
    if (lastByte !== null && lastByte !== 0x0A) this.batch = '\n'
  }

  /** Opens (creating with mode 0600 or appending to) a journal file. Fails with a usage error naming the path. */
  static async open(file: string, opts: JournalWriterOptions = {}): Promise<JournalWriter> {
    let fd: number
    try {
      fd = await new Promise<number>((resolve, reject) => {
        fsOpen(file, 'a', 0o600, (error, n) => (error ? reject(error) : resolve(n)))
      })
    } catch (error) {
      throw openError(file, error as NodeJS.ErrnoException, 'open')
    }

    try {
      const stat = await new Promise<Stats>((resolve, reject) => {
        fstat(fd, (error, st) => (error ? reject(error) : resolve(st)))
      })
      let lastByte: null | number = null
      if (stat.isFile() && stat.size > 0) {
        const handle = await fsPromises.open(file, 'r')
        try {
          const {buffer, bytesRead} = await handle.read(Buffer.alloc(1), 0, 1, stat.size - 1)
          if (bytesRead === 1) [lastByte] = buffer
        } finally {
          await handle.close()
        }
      }

      return new JournalWriter(file, fd, stat, lastByte, opts)
    } catch (error) {
      closeSync(fd)
      throw openError(file, error as NodeJS.ErrnoException, 'open')
    }
  }

  /** Bytes waiting for the next write. */
  get pending(): number {
    return this.batch.length
  }

  /**
   * Queues one line (it must end with a newline) and calls `done` once it is kept, or with the error that kept it
   * from being written. Returns false, without queueing and without calling `done`, when more than `maxPendingBytes`
   * are already waiting (the disk is behind: answer 503) or the journal is closed.
   */
  append(line: string, done: (error: Error | null) => void): boolean {
    if (this.closed || this.batch.length > this.maxPendingBytes) return false
    this.batch += line
    this.waiters.push(done)
    this.kick()
    return true
  }

  /** `append` as a promise (rejects when the line was not kept, or not queued). */
  appendLine(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const queued = this.append(line, error => (error ? reject(error) : resolve()))
      if (!queued) reject(new Error(this.closed ? 'the journal is closed' : 'the journal is behind'))
    })
  }

  /** Writes and acknowledges what is waiting, then closes the file. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (!this.idle()) {
      await new Promise<void>(resolve => {
        this.idleWaiters.push(resolve)
      })
    }

    await new Promise<void>(resolve => {
      fsClose(this.fd, () => resolve())
    })
  }

  /** A journal entry as one line (see `append`). */
  write(entry: JournalEntry): Promise<void> {
    return this.appendLine(JSON.stringify(entry) + '\n')
  }

  /** Fails every outstanding batch and cuts the file back to its acknowledged lines, once nothing is in flight. */
  private cutBack(): void {
    const failed = this.outstanding.splice(0)
    const error = failed.find(b => b.error)?.error ?? new Error('journal write failed')
    const done = (): void => {
      if (!this.error) this.opts.onError?.(error)
      this.error = error
      this.failing = false
      for (const b of failed) for (const w of b.waiters) w(error)
      this.kick()
    }

    if (!this.regular) {
      done()
      return
    }

    fstat(this.fd, (statError, stat) => {
      if (statError || stat.size !== this.written) {
        // another process appends to the same journal: cutting back would cut its lines
        if (!statError) {
          this.written = stat.size
          this.size = stat.size
        }

        this.startOnOwnLine()
        done()
        return
      }

      ftruncate(this.fd, this.size, truncateError => {
        if (truncateError) this.startOnOwnLine()
        else this.written = this.size
        done()
      })
    })
  }

  /** After a failed write that could not be cut off: the next batch starts on a line of its own. */
  private startOnOwnLine(): void {
    if (!this.batch.startsWith('\n')) this.batch = '\n' + this.batch
  }

  private idle(): boolean {
    return !this.writing && !this.failing && this.outstanding.length === 0 && (this.batch.length === 0 || this.waiters.length === 0)
  }

  private kick(): void {
    if (!this.writing && !this.failing && this.syncs < MAX_SYNCS && this.waiters.length > 0) this.writeBatch()
    else if (this.idleWaiters.length > 0 && this.idle()) {
      const idle = this.idleWaiters
      this.idleWaiters = []
      for (const w of idle) w()
    }
  }

  /** Acknowledges kept batches in order; on a failed one, stops writing until everything in flight has settled. */
  private settle(): void {
    while (this.outstanding.length > 0 && this.outstanding[0].state === 'kept') {
      const b = this.outstanding.shift() as Batch
      this.size = b.end
      if (this.error) {
        this.error = null
        this.opts.onRecover?.()
      }

      for (const w of b.waiters) w(null)
    }

    if (this.outstanding.some(b => b.state === 'failed')) this.failing = true
    if (this.failing && !this.writing && this.syncs === 0) this.cutBack()
    else this.kick()
  }

  private writeBatch(): void {
    this.writing = true
    const data = Buffer.from(this.batch, 'utf8')
    const batch: Batch = {
      end: 0, error: null, state: 'syncing', waiters: this.waiters,
    }
    this.batch = ''
    this.waiters = []
    const written = (error: Error | null, partial = 0): void => {
      this.writing = false
      this.outstanding.push(batch)
      if (error) {
        // what a failed write left in the file is cut off by cutBack()
        this.written += partial
        batch.state = 'failed'
        batch.error = error
      } else {
        this.written += data.length
        batch.end = this.written
        if (this.sync) {
          this.syncs++
          fdatasync(this.fd, syncError => {
            this.syncs--
            batch.state = syncError ? 'failed' : 'kept'
            batch.error = syncError
            this.settle()
          })
        } else batch.state = 'kept'
      }

      this.settle()
    }

    const write = (offset: number): void => {
      fsWrite(this.fd, data, offset, data.length - offset, null, (error, n) => {
        if (error) written(error, offset)
        else if (offset + n < data.length) write(offset + n)
        else written(null)
      })
    }

    write(0)
  }
}

export interface JournalWriterOptions {
  /** Waiting bytes above which `append` refuses more lines. Default 8 MiB. */
  maxPendingBytes?: number
  /** fdatasync each batch before its lines count as kept (default false: kept once the OS has them). */
  sync?: boolean
  /** Called with the first error of a failing period. */
  onError?: (error: Error) => void
  /** Called when a write succeeds again after a failing period. */
  onRecover?: () => void
}
