import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {settingFlag} from '../../lib/cli/flags.js'
import {prompts} from '../../lib/cli/prompts.js'
import {
  type Profile, type SettingKey, SETTINGS, Settings,
} from '../../lib/core/config.js'
import {ExitCode, PdhooksError, usageError} from '../../lib/core/errors.js'
import {registerSecret} from '../../lib/core/mask.js'
import {normalizeElementsUrl, normalizePipedriveUrl, normalizePipelinerUrl} from '../../lib/core/urls.js'
import {
  SERVICE_LABEL, type ServiceName, SERVICES, type VerifyResult, verifyService,
} from '../../lib/workflows/auth.js'

export interface AuthLoginResult {
  configPath: string
  profile: string
  services: ServiceName[]
  stored: SettingKey[]
  verified: VerifyResult[]
}

const SERVICE_KEYS: Record<ServiceName, SettingKey[]> = {
  elements: ['elementsUrl', 'userSecret', 'orgSecret'],
  pipedrive: ['pipedriveUrl', 'pipedriveToken', 'pipedriveAccessToken'],
  pipeliner: ['pipelinerUrl', 'pipelinerUsername', 'pipelinerPassword'],
}

export default class AuthLogin extends BaseCommand<typeof AuthLogin, AuthLoginResult> {
  static description = `Store credentials in a profile, after checking each service with one cheap read.

Stores what is given (on a terminal, asks for what is missing; secrets hidden). Each service given is verified first (GET /webhooks, GET /instances, GET /entities/Webhooks?first=1); if a check fails, nothing is stored.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --pipedrive-token $TOKEN',
    '<%= config.bin %> <%= command.id %> --pipedrive-url acme --pipedrive-token $TOKEN --user-secret $US --org-secret $OS --elements-url sap-us2',
    '<%= config.bin %> <%= command.id %> --profile sandbox --pipeliner-url https://us-east.api.pipelinersales.com/api/v100/rest/spaces/abc --pipeliner-username $PU --pipeliner-password $PP',
  ]
  static flags = {
    'elements-url': settingFlag('elementsUrl', {description: 'Cloud Elements / Open Connectors base: URL, host or alias (us, eu, staging, sap-us2, sap-eu10, sap-us10).'}),
    'org-secret': settingFlag('orgSecret'),
    'pipedrive-access-token': settingFlag('pipedriveAccessToken', {description: 'Pipedrive OAuth access token (sent as Bearer; not with --pipedrive-token).'}),
    'pipedrive-token': settingFlag('pipedriveToken', {description: 'Pipedrive API token (sent as x-api-token).'}),
    'pipedrive-url': settingFlag('pipedriveUrl', {description: 'Pipedrive API base, or company domain (acme → https://acme.pipedrive.com/api/v1).'}),
    'pipeliner-password': settingFlag('pipelinerPassword'),
    'pipeliner-url': settingFlag('pipelinerUrl', {description: 'Pipeliner service URL including the space.'}),
    'pipeliner-username': settingFlag('pipelinerUsername', {description: 'Pipeliner API key username.'}),
    timeout: timeoutFlag,
    'user-secret': settingFlag('userSecret'),
    verify: Flags.boolean({allowNo: true, default: true, description: 'Check each service before storing (--no-verify skips).'}),
  }

  async run(): Promise<AuthLoginResult> {
    const {flags} = this
    const given: Partial<Record<SettingKey, string>> = {}
    for (const [key, spec] of Object.entries(SETTINGS) as Array<[SettingKey, (typeof SETTINGS)[SettingKey]]>) {
      const v = (flags as Record<string, unknown>)[spec.flag]
      if (typeof v === 'string' && v !== '') given[key] = v
    }

    // not oclif's `exclusive`: PDHOOKS_PIPEDRIVE_TOKEN in the environment must not forbid --pipedrive-access-token
    if (given.pipedriveToken && given.pipedriveAccessToken) throw usageError('Give --pipedrive-token or --pipedrive-access-token, not both.')
    const interactive = prompts.interactive(this.jsonEnabled())
    if (Object.keys(given).length === 0) {
      if (!interactive) {
        throw usageError('Nothing to store.', 'Give --pipedrive-token, --user-secret and --org-secret, or --pipeliner-url/--pipeliner-username/--pipeliner-password.', 'missing_value')
      }

      await this.askEverything(given)
    }

    // companions of a service that was given
    const services = SERVICES.filter(s => SERVICE_KEYS[s].some(k => given[k] !== undefined))
    if (services.length === 0) throw usageError('Nothing to store.', undefined, 'missing_value')
    await this.completeService(services, given, interactive)
    for (const k of Object.keys(given) as SettingKey[]) if (SETTINGS[k].secret) registerSecret(given[k])

    // normalize URLs before storing (bad URLs are usage errors)
    if (given.elementsUrl) given.elementsUrl = normalizeElementsUrl(given.elementsUrl)
    if (given.pipedriveUrl) given.pipedriveUrl = normalizePipedriveUrl(given.pipedriveUrl)
    if (given.pipelinerUrl) given.pipelinerUrl = normalizePipelinerUrl(given.pipelinerUrl)

    const verified: VerifyResult[] = []
    if (flags.verify) {
      const settings = new Settings({flags: given, profile: this.profile, store: this.store})
      for (const s of services) {
        this.progress(`Checking ${SERVICE_LABEL[s]}…`)
        verified.push(await verifyService(s, settings, {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}))
      }

      const failed = verified.filter(v => !v.ok)
      if (failed.length > 0) {
        const worst = failed.find(f => f.error?.exit === ExitCode.auth) ?? failed[0]
        throw new PdhooksError(
          `${failed.map(f => f.error?.message.replace(/ (Run|Check) .*$/, '')).join(' ')} Nothing was stored.`,
          {
            code: worst.error?.code ?? 'auth', exit: worst.error?.exit ?? ExitCode.auth, status: worst.error?.status ?? null, hint: 'Check the values, or pass --no-verify to store them unchecked.',
          },
        )
      }
    }

    await this.store.updateProfile(this.profile, (p: Profile) => {
      const out = {...p}
      if (given.pipedriveToken) delete out.pipedriveAccessToken
      if (given.pipedriveAccessToken) delete out.pipedriveToken
      return {...out, ...given}
    })
    const stored = Object.keys(given) as SettingKey[]
    this.log(`Stored ${services.map(s => SERVICE_LABEL[s]).join(', ')} credentials in profile "${this.profile}" (${this.store.path})${flags.verify ? ', verified' : ', not verified'}.`)
    return {
      configPath: this.store.path, profile: this.profile, services, stored, verified,
    }
  }

  private async askEverything(given: Partial<Record<SettingKey, string>>): Promise<void> {
    const token = await prompts.password('Pipedrive API token (empty to skip):')
    if (token) {
      given.pipedriveToken = token
      const url = await prompts.input('Pipedrive company domain or API URL:', {default: 'https://api.pipedrive.com/v1'})
      if (url && url !== 'https://api.pipedrive.com/v1') given.pipedriveUrl = url
    }

    const userSecret = await prompts.password('Cloud Elements / Open Connectors user secret (empty to skip):')
    if (userSecret) {
      given.userSecret = userSecret
      const url = await prompts.input('Platform (us, eu, staging, sap-us2, sap-eu10, sap-us10 or a URL):', {default: 'us'})
      if (url && url !== 'us') given.elementsUrl = url
    }

    const plUrl = await prompts.input('Pipeliner service URL (empty to skip):')
    if (plUrl) given.pipelinerUrl = plUrl
  }

  private async completeService(services: ServiceName[], given: Partial<Record<SettingKey, string>>, interactive: boolean): Promise<void> {
    const need: Record<ServiceName, SettingKey[]> = {
      elements: ['userSecret', 'orgSecret'],
      pipedrive: given.pipedriveAccessToken ? ['pipedriveAccessToken'] : ['pipedriveToken'],
      pipeliner: ['pipelinerUrl', 'pipelinerUsername', 'pipelinerPassword'],
    }
    for (const s of services) {
      for (const key of need[s]) {
        if (given[key]) continue
        const spec = SETTINGS[key]
        // flag > environment variable: a companion value set in the environment is used (and stored)
        const fromEnv = process.env[spec.env]
        if (fromEnv) {
          given[key] = fromEnv
          continue
        }

        if (!interactive) {
          throw usageError(`Missing --${spec.flag} for ${SERVICE_LABEL[s]}.`, `Pass --${spec.flag} or set ${spec.env}.`, 'missing_value')
        }

        const label = `${SERVICE_LABEL[s]} ${spec.label}:`
        const v = spec.secret ? await prompts.password(label) : await prompts.input(label)
        if (!v) throw usageError(`Missing ${SERVICE_LABEL[s]} ${spec.label}.`, `Pass --${spec.flag}.`, 'missing_value')
        given[key] = v
      }
    }
  }
}
