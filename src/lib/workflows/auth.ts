import {elementsClient, pipedriveClient, pipelinerClient} from '../core/clients.js'
import {
  type ConfigStore, type Profile, SETTING_KEYS, type SettingKey, SETTINGS, type Settings, type Source,
} from '../core/config.js'
import {PdhooksError} from '../core/errors.js'
import {mask} from '../core/mask.js'
import {normalizeElementsUrl, normalizePipedriveUrl, normalizePipelinerUrl} from '../core/urls.js'

export type ServiceName = 'elements' | 'pipedrive' | 'pipeliner'
export const SERVICES: ServiceName[] = ['pipedrive', 'elements', 'pipeliner']
export const SERVICE_LABEL: Record<ServiceName, string> = {elements: 'Cloud Elements', pipedrive: 'Pipedrive', pipeliner: 'Pipeliner'}

/** The settings a service needs to be usable, as alternatives (Pipedrive: a token or an access token). */
const REQUIRED: Record<ServiceName, SettingKey[][]> = {
  elements: [['userSecret', 'orgSecret']],
  pipedrive: [['pipedriveToken'], ['pipedriveAccessToken']],
  pipeliner: [['pipelinerUrl', 'pipelinerUsername', 'pipelinerPassword']],
}

export interface VerifyResult {
  error?: {code: string; exit: number; message: string; status: null | number}
  ok: boolean
  service: ServiceName
}

/** One cheap read per service: GET /webhooks, GET /instances, GET /entities/Webhooks?first=1. */
export async function verifyService(service: ServiceName, settings: Settings, opts: {timeoutMs?: number; userAgent: string}): Promise<VerifyResult> {
  try {
    if (service === 'pipedrive') await (await pipedriveClient(settings, opts)).listWebhooks()
    else if (service === 'elements') await (await elementsClient(settings, opts)).listInstances()
    else await (await pipelinerClient(settings, opts)).listPage(1)
    return {ok: true, service}
  } catch (error) {
    if (error instanceof PdhooksError) return {
      error: {
        code: error.code, exit: error.exit, message: error.line, status: error.status,
      }, ok: false, service,
    }
    throw error
  }
}

export interface SettingView {
  key: SettingKey
  label: string
  source: Source
  value: null | string
  variable: string
}

/** Every setting of a service with its masked value and where it comes from. */
export async function describeService(service: ServiceName, settings: Settings): Promise<SettingView[]> {
  const keys = SETTING_KEYS.filter(k => SETTINGS[k].service === service)
  return Promise.all(keys.map(async key => {
    const r = await settings.get(key)
    const spec = SETTINGS[key]
    return {
      key, label: spec.label, source: r.source, value: r.value === undefined ? null : (spec.secret ? mask(r.value) : r.value), variable: spec.env,
    }
  }))
}

/** Is the service usable with the resolved settings? */
export async function isConfigured(service: ServiceName, settings: Settings): Promise<boolean> {
  for (const alt of REQUIRED[service]) {
    const values = await Promise.all(alt.map(k => settings.value(k)))
    if (values.every(Boolean)) return true
  }

  return false
}

export interface ProfileSummary {
  /** The profile this command would use (--profile, PDHOOKS_PROFILE, or "default"). */
  current: boolean
  instance: null | {id: number | string; name: null | string}
  name: string
  /** Per service: whether the profile holds what it needs, and its base URL. */
  services: Record<ServiceName, {configured: boolean; url: null | string}>
}

function storedUrl(normalize: (u?: string) => string, value?: string): null | string {
  try {
    return normalize(value)
  } catch {
    return value ?? null
  }
}

/** What each stored profile holds (its own values only: no flag or variable), current one marked. */
export function summarizeProfiles(store: ConfigStore, current: string): ProfileSummary[] {
  const profiles = store.read().profiles ?? {}
  return Object.entries(profiles).map(([name, p]: [string, Profile]) => {
    const has = (alt: SettingKey[][]) => alt.some(keys => keys.every(k => Boolean(p?.[k])))
    return {
      current: name === current,
      instance: p?.instance ? {id: p.instance.id, name: p.instance.name ?? null} : null,
      name,
      services: {
        elements: {configured: has(REQUIRED.elements), url: storedUrl(normalizeElementsUrl, p?.elementsUrl)},
        pipedrive: {configured: has(REQUIRED.pipedrive), url: storedUrl(normalizePipedriveUrl, p?.pipedriveUrl)},
        pipeliner: {configured: has(REQUIRED.pipeliner), url: p?.pipelinerUrl ? storedUrl(u => normalizePipelinerUrl(u ?? ''), p.pipelinerUrl) : null},
      },
    }
  })
}
