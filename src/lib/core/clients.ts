import type {Settings} from './config.js'

import {ElementsClient} from '../elements/client.js'
import {PipedriveClient} from '../pipedrive/client.js'
import {PipelinerClient} from '../pipeliner/client.js'
import {ExitCode, PdhooksError} from './errors.js'
import {normalizeElementsUrl, normalizePipedriveUrl, normalizePipelinerUrl} from './urls.js'

export interface ClientOptions {
  /** Cloud Elements only: another platform base than the settings' (e.g. the one an instance was created on). */
  baseUrl?: string
  timeoutMs?: number
  userAgent: string
}

/** A Pipedrive client from the resolved settings; missing credentials are exit 3 naming the flag and the variable. */
export async function pipedriveClient(settings: Settings, opts: ClientOptions): Promise<PipedriveClient> {
  const [url, t, a] = await Promise.all([
    settings.value('pipedriveUrl'),
    settings.get('pipedriveToken'),
    settings.get('pipedriveAccessToken'),
  ])
  // the token from the stronger source wins (flag > env > profile); on a tie, the API token
  const rank = {
    default: 0, env: 2, flag: 3, profile: 1,
  }
  const useAccess = a.value !== undefined && (t.value === undefined || rank[a.source] > rank[t.source])
  const token = useAccess ? undefined : t.value
  const accessToken = useAccess ? a.value : undefined
  if (!token && !accessToken) {
    throw settings.missingProfile() ?? new PdhooksError('No Pipedrive credentials.', {
      code: 'no_credentials',
      exit: ExitCode.auth,
      hint: 'Run "pdhooks auth login --pipedrive-token …", pass --pipedrive-token, or set PDHOOKS_PIPEDRIVE_TOKEN.',
    })
  }

  return new PipedriveClient({
    auth: {accessToken, token},
    baseUrl: normalizePipedriveUrl(url),
    timeoutMs: opts.timeoutMs,
    userAgent: opts.userAgent,
  })
}

/** The platform base URL (flag > env > profile > default), normalized. */
export async function elementsBase(settings: Settings): Promise<string> {
  return normalizeElementsUrl(await settings.value('elementsUrl'))
}

/** A Cloud Elements client; missing secrets are exit 3 naming PDHOOKS_USER_SECRET / PDHOOKS_ORG_SECRET. */
export async function elementsClient(settings: Settings, opts: ClientOptions): Promise<ElementsClient> {
  const [userSecret, orgSecret] = await Promise.all([settings.value('userSecret'), settings.value('orgSecret')])
  const missing = [!userSecret && '--user-secret / PDHOOKS_USER_SECRET', !orgSecret && '--org-secret / PDHOOKS_ORG_SECRET'].filter(Boolean)
  if (missing.length > 0) {
    throw settings.missingProfile() ?? new PdhooksError(`No Cloud Elements credentials: missing ${missing.join(' and ')}.`, {
      code: 'no_credentials',
      exit: ExitCode.auth,
      hint: 'Run "pdhooks auth login --user-secret … --org-secret …" or set PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET.',
    })
  }

  return new ElementsClient({
    baseUrl: opts.baseUrl ?? await elementsBase(settings),
    orgSecret: orgSecret!,
    timeoutMs: opts.timeoutMs,
    userAgent: opts.userAgent,
    userSecret: userSecret!,
  })
}

/** A Pipeliner client; missing values are exit 3 naming the flags and variables. */
export async function pipelinerClient(settings: Settings, opts: ClientOptions): Promise<PipelinerClient> {
  const [url, username, password] = await Promise.all([
    settings.value('pipelinerUrl'),
    settings.value('pipelinerUsername'),
    settings.value('pipelinerPassword'),
  ])
  const missing = [
    !url && '--pipeliner-url / PDHOOKS_PIPELINER_URL',
    !username && '--pipeliner-username / PDHOOKS_PIPELINER_USERNAME',
    !password && '--pipeliner-password / PDHOOKS_PIPELINER_PASSWORD',
  ].filter(Boolean)
  if (missing.length > 0) {
    throw settings.missingProfile() ?? new PdhooksError(`No Pipeliner credentials: missing ${missing.join(', ')}.`, {
      code: 'no_credentials',
      exit: ExitCode.auth,
      hint: 'Run "pdhooks auth login --pipeliner-url … --pipeliner-username … --pipeliner-password …" or set the PDHOOKS_PIPELINER_* variables.',
    })
  }

  return new PipelinerClient({
    baseUrl: normalizePipelinerUrl(url!),
    password: password!,
    timeoutMs: opts.timeoutMs,
    userAgent: opts.userAgent,
    username: username!,
  })
}
