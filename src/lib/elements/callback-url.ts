import {ELEMENTS_PATH} from '../core/urls.js'

/** A Cloud Elements / Open Connectors instance id as typed: a positive integer, in digits. */
export const isInstanceId = (value: string): boolean => /^\d+$/.test(value) && /[1-9]/.test(value)

/**
 * The Pipedrive webhook target that makes Cloud Elements / Open Connectors receive vendor events for an instance:
 * `<elements base>/events/<element>/<base64(instance id)>` (standard base64, padded).
 */
export function callbackUrl(elementsBase: string, instanceId: number | string, element = 'pipedrive'): string {
  const base = elementsBase.replace(/\/+$/, '')
  const encoded = Buffer.from(String(instanceId), 'utf8').toString('base64')
  return `${base}/events/${encodeURIComponent(element)}/${encoded}`
}

export interface ParsedCallbackUrl {
  /** Platform base (`https://host/elements/api-v2`). */
  base: string
  element: string
  host: string
  instanceId: string
}

const EVENTS_PATH = /^(.*?\/elements\/api-v2)\/events\/([^/]+)\/([A-Za-z\d+/_-]+(?:=|%3D){0,2})\/?$/i

/** Decodes a Cloud Elements / Open Connectors events URL (any host); null when `url` is not one. */
export function parseCallbackUrl(url: null | string | undefined): null | ParsedCallbackUrl {
  if (!url) return null
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return null
  }

  const m = EVENTS_PATH.exec(u.pathname)
  if (!m) return null
  const encoded = decodeURIComponent(m[3]).replaceAll('-', '+').replaceAll('_', '/')
  if (!/^[A-Za-z\d+/]+={0,2}$/.test(encoded)) return null
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  if (!/^\d+$/.test(decoded)) return null
  return {
    base: `${u.origin}${m[1]}`, element: decodeURIComponent(m[2]), host: u.host, instanceId: decoded,
  }
}

/** True when `url` is a platform events URL (the connector's documented format predates Pipedrive's v2 webhooks). */
export function isElementsEventsUrl(url: null | string | undefined): boolean {
  if (!url) return false
  if (parseCallbackUrl(url)) return true
  try {
    return new URL(url).pathname.includes(`${ELEMENTS_PATH}/events/`)
  } catch {
    return false
  }
}
