import {usageError} from './errors.js'

export type Service = 'elements' | 'pipedrive' | 'pipeliner'

const DEFAULT_ELEMENTS_URL = 'https://api.cloud-elements.com/elements/api-v2'
const DEFAULT_PIPEDRIVE_URL = 'https://api.pipedrive.com/v1'
export const ELEMENTS_PATH = '/elements/api-v2'

/** Known Cloud Elements / SAP Open Connectors hosts by alias. */
const ELEMENTS_ALIASES: Record<string, string> = {
  eu: 'https://api.cloud-elements.co.uk',
  'sap-eu10': 'https://api.openconnectors.eu10.ext.hana.ondemand.com',
  'sap-us10': 'https://api.openconnectors.us10.ext.hana.ondemand.com',
  'sap-us2': 'https://api.openconnectors.us2.ext.hana.ondemand.com',
  staging: 'https://staging.cloud-elements.com',
  us: 'https://api.cloud-elements.com',
}

const SERVICE_NAMES: Record<Service, string> = {
  elements: 'Cloud Elements URL',
  pipedrive: 'Pipedrive URL',
  pipeliner: 'Pipeliner URL',
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replaceAll(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost')
}

function parse(input: string, service: Service): URL {
  const raw = input.trim()
  const withScheme = /^[a-z][a-z\d+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw usageError(`Invalid ${SERVICE_NAMES[service]} "${input}".`, 'Give a full URL such as https://host/path, or a host name.')
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(`Invalid ${SERVICE_NAMES[service]} "${input}": only https:// URLs are allowed.`)
  }

  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw usageError(
      `Refusing plain http:// for ${url.host} (${SERVICE_NAMES[service]}).`,
      'Use https://; plain http is allowed only for loopback hosts such as the sandbox.',
    )
  }

  url.hash = ''
  return url
}

function strip(url: URL): string {
  return url.toString().replace(/\/+$/, '')
}

/** Cloud Elements / Open Connectors platform base: a full URL, a host, or an alias (us, eu, staging, sap-us2, sap-eu10, sap-us10). */
export function normalizeElementsUrl(input?: string): string {
  if (!input) return DEFAULT_ELEMENTS_URL
  const alias = ELEMENTS_ALIASES[input.trim().toLowerCase()]
  const url = parse(alias ?? input, 'elements')
  if (url.pathname === '/' || url.pathname === '') url.pathname = ELEMENTS_PATH
  return strip(url)
}

/** Pipedrive API base: a full URL, a company domain (`acme`, `acme.pipedrive.com`) or a host. */
export function normalizePipedriveUrl(input?: string): string {
  if (!input) return DEFAULT_PIPEDRIVE_URL
  const raw = input.trim()
  if (/^[a-z\d][a-z\d-]*$/i.test(raw) && raw.toLowerCase() !== 'localhost') return `https://${raw.toLowerCase()}.pipedrive.com/api/v1`
  const url = parse(raw, 'pipedrive')
  if (url.pathname === '/' || url.pathname === '') {
    const host = url.hostname.toLowerCase()
    url.pathname = host === 'api.pipedrive.com' || !host.endsWith('.pipedrive.com') ? '/v1' : '/api/v1'
  }

  return strip(url)
}

/** Pipeliner service URL including the space (`…/api/v100/rest/spaces/<space_id>`). */
export function normalizePipelinerUrl(input: string): string {
  const url = parse(input, 'pipeliner')
  if (!/\/spaces\/[^/]+\/?$/.test(url.pathname)) {
    throw usageError(
      `The Pipeliner URL "${input}" does not name a space.`,
      'Use the service URL from Pipeliner\'s "Show API Access" screen: https://<region>.api.pipelinersales.com/api/v100/rest/spaces/<space_id>.',
    )
  }

  return strip(url)
}

/** True for SAP Open Connectors hosts (`*.hana.ondemand.com`, `*.hanatrial.ondemand.com`). */
export function isSapHost(baseUrl: string): boolean {
  try {
    return /(^|\.)(hana|hanatrial)\.ondemand\.com$/i.test(new URL(baseUrl).hostname)
  } catch {
    return false
  }
}

/** Validates a subscription / target URL given by the user (absolute http(s)). */
export function checkTargetUrl(input: string, flag = '--url'): string {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw usageError(`Invalid ${flag} "${input}": not an absolute URL.`, 'Give a full URL such as https://app.example.com/hooks.')
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(`Invalid ${flag} "${input}": only http(s) URLs can receive webhooks.`)
  }

  return url.toString()
}

/** Two URLs that mean the same address (normalized by the URL parser; compared as text when not URLs). */
export function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).toString() === new URL(b).toString()
  } catch {
    return a === b
  }
}
