/**
 * `trigger --from FILE`: your own payloads, sent as the service would send them. FILE (or `-`, standard input) holds one
 * JSON payload, or NDJSON lines that are each a payload or a line of a `listen` journal. Each body is sent byte for byte
 * as it is in the file (a journal line's body exactly as it was received); its format is recognised (or `--format`),
 * and it is authenticated or signed with the given keys.
 */
import {readFileSync} from 'node:fs'

import type {SampleDelivery, TriggerFormat} from './trigger.js'

import {usageError} from '../core/errors.js'
import {REDACTED_HEADERS} from './journal.js'
import {type DeliverySource, detectDelivery} from './recognition.js'
import {endToEndHeaders} from './send.js'

/** One body found in the file. */
export interface FileBody {
  body: Buffer
  /** The journal line's headers, when the body came from a journal. */
  headers?: Record<string, unknown>
  /** `FILE`, or `FILE:LINE` for NDJSON. */
  origin: string
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Is this parsed line a `listen` journal entry (not a payload)? */
function isJournalEntry(v: unknown): v is Record<string, unknown> {
  return isObj(v) && typeof v.id === 'string' && (typeof v.body === 'string' || typeof v.bodyBase64 === 'string') && (typeof v.source === 'string' || isObj(v.headers))
}

function fromParsed(v: unknown, raw: string, origin: string): FileBody {
  if (isJournalEntry(v)) {
    const body = typeof v.bodyBase64 === 'string' ? Buffer.from(v.bodyBase64, 'base64') : Buffer.from(v.body as string, 'utf8')
    return {body, headers: isObj(v.headers) ? v.headers : {}, origin}
  }

  return {body: Buffer.from(raw, 'utf8'), origin}
}

/** FILE's text; `-` is standard input (read as a stream: a pipe may not have its data yet). */
async function readText(file: string): Promise<string> {
  if (file !== '-') return readFileSync(file, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads the bodies of FILE: a JSON document, or NDJSON lines (payloads or journal lines). Usage errors name the line. */
export async function readFileBodies(file: string, read: (f: string) => Promise<string> | string = readText): Promise<FileBody[]> {
  let text: string
  try {
    text = await read(file)
  } catch (error) {
    const {code} = (error as NodeJS.ErrnoException)
    throw usageError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code === 'EACCES' ? 'permission denied' : (error as Error).message)}.`, 'Give --from a JSON file, a listen journal, or - for standard input.', 'bad_file')
  }

  const name = file === '-' ? 'stdin' : file
  if (text.trim() === '') throw usageError(`${name} is empty.`, 'Give --from a JSON payload, or lines of a listen journal.', 'bad_file')
  try {
    const whole = JSON.parse(text)
    return [fromParsed(whole, text.trim(), name)]
  } catch {
    // not one JSON document: NDJSON
  }

  const out: FileBody[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch {
      throw usageError(`${name}:${i + 1} is not JSON.`, 'Give --from one JSON payload, or one JSON payload or journal line per line.', 'bad_file')
    }

    out.push(fromParsed(v, line.trim(), `${name}:${i + 1}`))
  }

  return out
}

const FORMAT_OF: Record<DeliverySource, TriggerFormat | undefined> = {
  elements: 'elements', 'pipedrive-v1': 'pipedrive', 'pipedrive-v2': 'pipedrive', pipeliner: 'pipeliner', unknown: undefined,
}

/**
 * The deliveries of a file: each body with its recognised format (or `format`), the headers it was journaled with (minus
 * credentials and hop-by-hop ones) and fresh authentication from `authenticate`.
 */
export function fileDeliveries(
  bodies: FileBody[],
  opts: {authenticate(format: TriggerFormat, body: Buffer, headers: Record<string, string>): Record<string, string>; format?: TriggerFormat},
): SampleDelivery[] {
  return bodies.map(b => {
    let parsed: unknown
    try {
      parsed = JSON.parse(b.body.toString('utf8'))
    } catch {
      parsed = undefined
    }

    const journaled = Object.fromEntries(Object.entries(b.headers ? endToEndHeaders(b.headers) : {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]))
    for (const name of REDACTED_HEADERS) delete journaled[name]
    const detected = detectDelivery(parsed, journaled)
    const format = opts.format ?? FORMAT_OF[detected.source]
    if (!format) {
      throw usageError(
        `${b.origin} is not a Pipedrive, Cloud Elements or Pipeliner delivery.`,
        'Pass --format pipedrive|elements|pipeliner to send it anyway.',
        'bad_file',
      )
    }

    const headers: Record<string, string> = {'content-type': 'application/json', ...journaled, 'user-agent': 'pdhooks-trigger'}
    // a fresh signature replaces the journaled one
    if (format === 'elements') {
      const {eventId} = detected.events[0] ?? {}
      if (!headers['elements-webhook-id'] && eventId) headers['elements-webhook-id'] = eventId
    }

    const e = detected.events[0]
    const what = e && e.action !== 'unknown' ? ` ${e.action}.${e.object}${e.objectId ? ` ${e.objectId}` : ''}` : ''
    return {body: b.body, description: `${b.origin}: ${detected.source === 'unknown' ? format : detected.source}${what}`, headers: opts.authenticate(format, b.body, headers)}
  })
}
