import {isUtf8} from 'node:buffer'
import {once} from 'node:events'
import {createReadStream, createWriteStream, type WriteStream} from 'node:fs'
import {createInterface} from 'node:readline'

/**
 * The delivery journal: NDJSON, one line per accepted delivery, written by `listen --journal` and read by `replay`.
 *
 * Line shape:
 * `{"id":"<uuid>","time":"<ISO>","method":"POST","path":"/…","headers":{…},"source":"pipedrive-v2","body":"<raw body>"}`
 * - `headers` are the request's headers (lower-cased names) with authorization, proxy-authorization, x-api-token, cookie
 *   and set-cookie redacted (`"Basic ****"`): a journal never holds a credential.
 * - `body` is the raw body decoded as UTF-8 when it is valid UTF-8 (so it round-trips byte for byte), otherwise
 *   `bodyBase64` holds the bytes.
 */
import type {DeliverySource} from './listener-detect.js'

import {PdhooksError, usageError} from './errors.js'
import {DELIVERY_SOURCES} from './listener-detect.js'
import {redactUrl} from './mask.js'

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
 * The headers as journaled: names lower-cased, credentials redacted (`"Basic ****"`). Node's own request headers with
 * no credential in them are returned as they are (no copy: this runs once per delivery).
 */
export function journalHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  let plain = true
  for (const key in h) {
    if (h[key] === undefined || REDACTED_HEADERS.has(key) || key.toLowerCase() !== key) {
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
    out[name] = REDACTED_HEADERS.has(name) ? redactValue(name, v) : v
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

const journalPath = (path: string): string => (path.includes('?') ? redactUrl(path) : path)

/** Builds the journal entry of one delivery: headers redacted, body stored losslessly. */
export function toJournalEntry(d: JournalDelivery): JournalEntry {
  const entry: JournalEntry = {
    id: d.id,
    time: d.time,
    method: d.method,
    path: journalPath(d.path),
    headers: {...journalHeaders(d.headers)},
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
  return `{"id":${JSON.stringify(d.id)},"time":${JSON.stringify(d.time)},"method":${JSON.stringify(d.method)},"path":${JSON.stringify(journalPath(d.path))},"headers":${JSON.stringify(journalHeaders(d.headers))},"source":${JSON.stringify(d.source)},${body}}\n`
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

/**
 * Appends journal lines through one write stream. Lines are gathered and written together (every few
 * milliseconds, or as soon as 64 KiB are waiting), so a busy listener makes few write calls.
 * `write` returns false once more than `highWaterMark` bytes are waiting: callers should `await drain()` before
 * accepting more work, which keeps memory flat when the disk is slower than the senders.
 * `close()` writes what is waiting; a crash can lose at most the last few milliseconds of lines.
 */
export class JournalWriter {
  /** The first write error, after which the journal accepts nothing more. */
  error: Error | null = null
  readonly file: string
  private batch = ''
  private draining: null | Promise<void> = null
  private readonly flushDelayMs: number
  private readonly highWaterMark: number
  private readonly stream: WriteStream
  private timer: NodeJS.Timeout | null = null

  private constructor(file: string, stream: WriteStream, opts: JournalWriterOptions) {
    this.file = file
    this.stream = stream
    this.highWaterMark = opts.highWaterMark ?? 1024 * 1024
    this.flushDelayMs = opts.flushDelayMs ?? 5
    stream.on('error', error => {
      if (this.error) return
      this.error = error
      opts.onError?.(error)
    })
  }

  /** Opens (creating with mode 0600 or appending to) a journal file. Fails with a usage error naming the path. */
  static async open(file: string, opts: JournalWriterOptions = {}): Promise<JournalWriter> {
    const stream = createWriteStream(file, {flags: 'a', highWaterMark: opts.highWaterMark ?? 1024 * 1024, mode: 0o600})
    try {
      await once(stream, 'open')
    } catch (error) {
      stream.destroy()
      throw openError(file, error as NodeJS.ErrnoException, 'open')
    }

    return new JournalWriter(file, stream, opts)
  }

  /** Bytes (roughly) waiting to be written. */
  get pending(): number {
    return this.stream.writableLength + this.batch.length
  }

  /** Flushes what is waiting and closes the file. */
  async close(): Promise<void> {
    if (this.stream.closed || this.stream.destroyed) return
    this.flush()
    const closed = once(this.stream, 'close')
    this.stream.end()
    try {
      await closed
    } catch (error) {
      this.error ??= error as Error
    }

    if (this.error) throw this.error
  }

  /** Resolves once the journal has room again (at once when it has). Rejects if the stream fails. */
  drain(): Promise<void> {
    if (this.error) return Promise.reject(this.error)
    this.flush()
    if (!this.stream.writableNeedDrain) return Promise.resolve()
    this.draining ??= once(this.stream, 'drain').then(
      () => {
        this.draining = null
      },
      (error: Error) => {
        this.draining = null
        throw error
      },
    )
    return this.draining
  }

  /** Hands what is waiting to the stream now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }

    if (this.batch.length === 0 || this.error) return
    const chunk = this.batch
    this.batch = ''
    this.stream.write(chunk)
  }

  /** Queues one entry as one line. Returns false when the caller should wait for `drain()`. */
  write(entry: JournalEntry): boolean {
    return this.writeLine(JSON.stringify(entry) + '\n')
  }

  /** Queues one ready-made line (see `journalLine`, which must end with a newline). Returns false like `write`. */
  writeLine(line: string): boolean {
    if (this.error) throw this.error
    this.batch += line
    if (this.batch.length >= FLUSH_AT) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.flushDelayMs)
    return this.pending < this.highWaterMark
  }
}

export interface JournalWriterOptions {
  /** Waiting bytes above which `write` returns false. Default 1 MiB. */
  highWaterMark?: number
  /** Longest time a line waits before being written, in ms. Default 5. */
  flushDelayMs?: number
  /** Called once with the first write error. */
  onError?: (error: Error) => void
}

const FLUSH_AT = 64 * 1024
