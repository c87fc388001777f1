import * as Flags from '@oclif/core/flags'

import {
  describeService, isConfigured, SERVICE_LABEL, type ServiceName, SERVICES, type SettingView, type VerifyResult, verifyService,
} from '../../lib/auth.js'
import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {wideFlag} from '../../lib/cli/flags.js'
import {ExitCode, PdhooksError} from '../../lib/errors.js'
import {style} from '../../lib/output.js'
import {normalizeElementsUrl, normalizePipedriveUrl} from '../../lib/urls.js'

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

export default class AuthStatus extends BaseCommand<typeof AuthStatus> {
  static description = `Show, per service, which values are set and where each comes from (flag, env, profile), masked.

With --verify, each configured service is checked with one cheap read; a failed check is exit 3.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --verify --json', '<%= config.bin %> <%= command.id %> --profile staging']
  static flags = {
    timeout: timeoutFlag,
    verify: Flags.boolean({description: 'Check each configured service with a live request.'}),
    wide: wideFlag,
  }

  async run(): Promise<AuthStatusResult> {
    const settings = this.settings()
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
      const err = new PdhooksError(`Check failed for ${failed.map(f => SERVICE_LABEL[f.service]).join(', ')}.`, {code: 'auth', exit: ExitCode.auth})
      if (this.jsonEnabled()) {
        process.exitCode = failed.find(f => f.verified?.error?.exit)?.verified?.error?.exit ?? ExitCode.auth
        return result
      }

      throw err
    }

    return result
  }
}
