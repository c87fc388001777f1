// One HTTP exchange on Node's own http/https modules: the transport under core/http.ts (which owns retries, pacing,
// errors and masking). It does what the service clients need and nothing more: send a method, headers and a text body
// to a URL; collect the answer's status, headers and text (gzip, deflate or br decoded, as got did); never follow a
// redirect; one deadline for the whole exchange. Its failures carry the system's error code (ECONNREFUSED,
// ECONNRESET, ENOTFOUND…) or ETIMEDOUT, which is what core/http.ts classifies as safe or ambiguous to resend.
// It replaced got on this path: the services' clients used none of got's features (retries, hooks, redirects and
// errors are core/http.ts's own), and loading and setting up got was a tenth of `pdhooks webhook list`'s start.
import type {IncomingHttpHeaders, IncomingMessage} from 'node:http'

export interface Exchange {
  body?: string
  headers: Record<string, string>
  method: string
  timeoutMs: number
}

export interface Answer {
  body: string
  headers: IncomingHttpHeaders
  statusCode: number
}

/** A failed exchange: `code` is the system's (ECONNREFUSED…), ETIMEDOUT for the deadline, or ERR_BAD_ENCODING. */
export class TransportError extends Error {
  readonly code: string

  constructor(message: string, code: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = code === 'ETIMEDOUT' ? 'TimeoutError' : 'TransportError'
    this.code = code
  }
}

const builtin = async <T>(id: string): Promise<T> =>
  // eslint-disable-next-line n/no-unsupported-features/node-builtins -- feature-tested: import() before Node 20.16
  ((process as {getBuiltinModule?: (id: string) => unknown}).getBuiltinModule?.(id) as T | undefined) ?? (await import(id) as T)

/** The body as sent, decoded from its content-encoding (gzip, deflate with or without its zlib header, br). */
async function decode(raw: Buffer, encoding: string): Promise<Buffer> {
  if (raw.length === 0 || encoding === '' || encoding === 'identity') return raw
  const zlib = await builtin<typeof import('node:zlib')>('node:zlib')
  const finish = {finishFlush: zlib.constants.Z_SYNC_FLUSH} // a body cut short decodes as far as it goes, as got did
  switch (encoding) {
  case 'br': {
    return zlib.brotliDecompressSync(raw)
  }

  case 'deflate': {
    // RFC 9110 deflate is zlib-wrapped; some servers send it raw: the first byte tells

    return (raw[0] & 0x0F) === 0x08 ? zlib.inflateSync(raw, finish) : zlib.inflateRawSync(raw, finish)
  }

  case 'gzip':
  case 'x-gzip': {
    return zlib.gunzipSync(raw, finish)
  }

  default: {
    return raw // an encoding this does not know: the bytes as they came
  }
  }
}

/** Sends one request and reads its whole answer. Rejects with a TransportError when there is no complete answer. */
export async function exchange(url: URL, o: Exchange): Promise<Answer> {
  const {request} = url.protocol === 'https:'
    ? await builtin<typeof import('node:https')>('node:https')
    : await builtin<typeof import('node:http')>('node:http')
  const headers: Record<string, string> = {'accept-encoding': 'gzip, deflate, br', ...o.headers}
  if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body))
  return new Promise<Answer>((resolve, reject) => {
    let settled = false
    const fail = (error: unknown, fallbackCode = 'ECONNRESET') => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const code = (error as {code?: unknown})?.code
      reject(error instanceof TransportError ? error : new TransportError(String((error as Error)?.message ?? error), typeof code === 'string' ? code : fallbackCode, {cause: error}))
      req.destroy()
    }

    const timer = setTimeout(() => fail(new TransportError(`Timeout awaiting the answer for ${o.timeoutMs} ms`, 'ETIMEDOUT')), o.timeoutMs)
    const req = request(url, {headers, method: o.method}, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', error => fail(error))
      // the connection closed before the answer's end: what arrived is not the answer
      res.on('close', () => {
        if (!res.complete) fail(new TransportError('The connection closed before the answer was complete', 'ECONNRESET'))
      })
      res.on('end', async () => {
        if (settled) return
        const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase()
        try {
          const body = (await decode(Buffer.concat(chunks), encoding)).toString('utf8')
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve({body, headers: res.headers, statusCode: res.statusCode ?? 0})
        } catch (error) {
          fail(new TransportError(`The answer's ${encoding} body could not be decoded: ${(error as Error).message}`, 'ERR_BAD_ENCODING', {cause: error}))
        }
      })
    })
    req.on('error', error => fail(error))
    req.end(o.body)
  })
}
