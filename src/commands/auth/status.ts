import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {wideFlag} from '../../lib/cli/flags.js'
import {style} from '../../lib/cli/output.js'
import {SETTING_KEYS, SETTINGS} from '../../lib/core/config.js'
import {ExitCode} from '../../lib/core/errors.js'
import {normalizeElementsUrl, normalizePipedriveUrl} from '../../lib/core/urls.js'
import {
  describeService, isConfigured, type ProfileSummary, SERVICE_LABEL, type ServiceName, SERVICES, type SettingView, summarizeProfiles,
  type VerifyResult, verifyService,
} from '../../lib/workflows/auth.js'

export interface ServiceStatus {
  configured: boolean
  service: ServiceName
  settings: SettingView[]
  verified?: VerifyResult
}

export interface AuthStatusResult {
  configPath: string
  currentInstance: null | {id: number | string; name?: string}
  profile: string
  services: ServiceStatus[]
}

/** `auth status --all`: every stored profile. */
export interface AuthStatusAllResult {
  configPath: string
  /** The profile commands use now (--profile, PDHOOKS_PROFILE, or "default"). */
  current: string
  profiles: ProfileSummary[]
}

/** `https://acme.pipedrive.com/api/v1` → `acme.pipedrive.com`; Pipeliner keeps its space. */
function where(url: null | string, space = false): string {
  if (!url) return 'yes'
  try {
    const u = new URL(url)
    const m = space ? /\/spaces\/([^/]+)/.exec(u.pathname) : null
    return m ? `${u.host} (${m[1]})` : u.host
  } catch {
    return url
  }
}

export default class AuthStatus extends BaseCommand<typeof AuthStatus, AuthStatusAllResult | AuthStatusResult> {
  static description = `Show, per service, which values are set and where each comes from (flag, env, profile), masked.

With --verify, each configured service is checked with one cheap read; a failed check is exit 3 (6 when a service did not answer; with several, the highest). With --all, one line per stored profile: which services it holds (their hosts) and its current instance; * marks the profile in use.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --verify --json',
    '<%= config.bin %> <%= command.id %> --profile staging',
    '<%= config.bin %> <%= command.id %> --all',
  ]
  static flags = {
    all: Flags.boolean({description: 'Every stored profile, one line each.', exclusive: ['verify']}),
    timeout: timeoutFlag,
    verify: Flags.boolean({description: 'Check each configured service with a live request.'}),
    wide: wideFlag,
  }

  async run(): Promise<AuthStatusAllResult | AuthStatusResult> {
    if (this.flags.all) return this.all()
    const settings = this.settings()
    const missing = settings.missingProfile()
    if (missing) this.warn(`${missing.message} Showing the values flags and variables give.`)
    const services: ServiceStatus[] = []
    for (const service of SERVICES) {
      const view = await describeService(service, settings)
      for (const v of view) {
        if (v.source !== 'default' || v.value !== null) continue
        if (v.key === 'elementsUrl') Object.assign(v, {source: 'default', value: normalizeElementsUrl()})
        if (v.key === 'pipedriveUrl') Object.assign(v, {source: 'default', value: normalizePipedriveUrl()})
      }

      const configured = await isConfigured(service, settings)
      const status: ServiceStatus = {configured, service, settings: view}
      if (this.flags.verify && configured) {
        status.verified = await verifyService(service, settings, {timeoutMs: this.flags.timeout * 1000, userAgent: this.userAgent})
      }

      services.push(status)
    }

    const current = await settings.currentInstance()
    this.log(`Profile "${this.profile}" (${this.store.path})`)
    for (const s of services) {
      const state = s.verified ? (s.verified.ok ? style.green('verified') : style.red(`check failed: ${s.verified.error?.message}`)) : (s.configured ? 'configured' : style.dim('not configured'))
      this.log(`\n${style.bold(SERVICE_LABEL[s.service])}: ${state}`)
      this.printTable(s.settings, [
        {get: v => v.label, header: 'SETTING'},
        {get: v => v.value, header: 'VALUE', truncate: 'middle'},
        {get: v => (v.value === null ? '-' : v.source), header: 'SOURCE'},
        {drop: 1, get: v => v.variable, header: 'VARIABLE'},
      ], {indent: 2, wide: this.flags.wide})
    }

    if (current) this.log(`\nCurrent instance: ${current.id}${current.name ? ` (${current.name})` : ''}`)
    this.noteIfCut()
    const result: AuthStatusResult = {
      configPath: this.store.path,
      currentInstance: current ? {id: current.id, name: current.name} : null,
      profile: this.profile,
      services,
    }
    const failed = services.filter(s => s.verified && !s.verified.ok)
    if (failed.length > 0) {
      throw this.partialFailure(result, failed.map(f => ({exit: f.verified?.error?.exit ?? ExitCode.auth})), {
        code: 'check_failed',
        message: `Check failed for ${failed.map(f => SERVICE_LABEL[f.service]).join(', ')}.`,
      })
    }

    return result
  }

  private all(): AuthStatusAllResult {
    const profiles = summarizeProfiles(this.store, this.profile)
    if (profiles.length === 0) {
      this.log(`No profile is stored in ${this.store.path}. Store one with "pdhooks auth login".`)
    } else {
      this.printTable(profiles, [
        {get: p => `${p.current ? '*' : ''}${p.name}`, header: 'PROFILE', truncate: 'end'},
        {get: p => (p.services.pipedrive.configured ? where(p.services.pipedrive.url) : '-'), header: 'PIPEDRIVE', truncate: 'end'},
        {get: p => (p.services.elements.configured ? where(p.services.elements.url) : '-'), header: 'CLOUD ELEMENTS', truncate: 'end'},
        {
          drop: 1, get: p => (p.services.pipeliner.configured ? where(p.services.pipeliner.url, true) : '-'), header: 'PIPELINER', truncate: 'end',
        },
        {
          drop: 2, get: p => (p.instance ? `${p.instance.id}${p.instance.name ? ` (${p.instance.name})` : ''}` : '-'), header: 'INSTANCE', truncate: 'end',
        },
      ], {wide: this.flags.wide})
      this.noteIfCut()
      const overriding = SETTING_KEYS.filter(k => SETTINGS[k].secret && process.env[SETTINGS[k].env]).map(k => SETTINGS[k].env)
      if (overriding.length > 0) this.warn(`${overriding.join(', ')} ${overriding.length === 1 ? 'is' : 'are'} set in this environment: ${overriding.length === 1 ? 'it overrides' : 'they override'} what these profiles hold.`)
    }

    return {configPath: this.store.path, current: this.profile, profiles}
  }
}
