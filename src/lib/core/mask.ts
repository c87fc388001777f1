/**
 * The one masking helper. Every output path (tables, JSON, errors, debug logs) goes through it.
 * A secret is shown as its first 4 characters and "…", or "****" when shorter than 12 characters.
 */
export function mask(secret?: null | string): null | string {
  if (secret === null || secret === undefined) return secret ?? null
  const s = String(secret)
  if (s.length === 0) return ''
  if (s === '********') return '****'
  return s.length < 12 ? '****' : `${s.slice(0, 4)}…`
}

const known = new Set<string>()

/** Remembers a secret so that `scrub` removes it from any text about to be printed. */
export function registerSecret(secret: null | string | undefined): void {
  if (secret && secret.length >= 4) known.add(secret)
}

/** `--config key=value` keys whose values are secrets (password, secret, token, key): masked everywhere. */
export const SECRET_CONFIG_KEY = /password|secret|token|key/i

/** Registers the value of a `--config key=value` entry whose key names a secret. */
export function registerConfigSecret(entry: string | undefined): void {
  const eq = entry?.indexOf('=') ?? -1
  if (eq > 0 && SECRET_CONFIG_KEY.test(entry!.slice(0, eq))) registerSecret(entry!.slice(eq + 1))
}

export function forgetSecrets(): void {
  known.clear()
}

// scheme://user:password@ (the password runs to the last @ before the path)
const URL_CREDENTIALS = /\b([a-z][\d+.a-z-]*:\/\/)([^\s"#/:<>?@\\`]*):([^\s"#/<>?\\`]+)@/gi

/** `https://user:pass@host/…` → `https://user:****@host/…`, wherever it appears in `text`. */
export function maskUrlCredentials(text: string): string {
  return text.replaceAll(URL_CREDENTIALS, '$1$2:****@')
}

/** Replaces every registered secret in `text` by its masked form, and the password of any URL with credentials. */
export function scrub(text: string): string {
  if (!text) return text
  let out = text.includes('@') ? maskUrlCredentials(text) : text
  if (known.size === 0) return out
  for (const s of [...known].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(mask(s) ?? '****')
  }

  return out
}

const SECRET_KEY = /pass(word)?|secret|token|signature|api[_-]?key|authorization|^auth$|cookie|x-api-token/i

/** Is this object key the name of a secret? (password, token, secret, signature…) */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** Deep copy with every value under a secret-looking key masked. */
export function maskDeep<T>(value: T, extraKeys: string[] = []): T {
  const extra = new Set(extraKeys)
  const walk = (v: unknown, key?: string): unknown => {
    if (key !== undefined && (isSecretKey(key) || extra.has(key)) && (typeof v === 'string')) return mask(v)
    if (Array.isArray(v)) return v.map(x => walk(x))
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k)
      return out
    }

    return v
  }

  return walk(value) as T
}

/** Headers with auth values redacted, for debug logs and journals. */
export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (/^(authorization|proxy-authorization|x-api-token|cookie|set-cookie)$/i.test(k) && typeof v === 'string') {
      const sp = v.indexOf(' ')
      out[k] = sp > 0 && /^(basic|bearer|user)\b/i.test(v) ? `${v.slice(0, sp)} ****` : mask(v)
    } else out[k] = v
  }

  return out
}

/** A URL with secret query parameters (api_token…) masked. */
export function redactUrl(url: string): string {
  return url.replaceAll(/([?&](?:api_token|token|access_token|password)=)[^&#]*/gi, '$1****')
}
