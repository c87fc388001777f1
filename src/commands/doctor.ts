import {type Interfaces} from '@oclif/core'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../lib/cli/base-command.js'
import {style} from '../lib/cli/output.js'
import {planLine} from '../lib/cli/plan.js'
import {configDir, ConfigStore, Settings} from '../lib/core/config.js'
import {ExitCode, PdhooksError} from '../lib/core/errors.js'
import {printable} from '../lib/core/text.js'
import {
  analyze, applyFix, type Finding, type FixItem, type FixResult, gather, isFixed, type ProfileReport, SERVICE_LABEL,
  type ServiceName, type Severity,
} from '../lib/workflows/doctor.js'

export interface DoctorResult {
  /** With --fix: whether the plan was carried out. */
  fixed?: boolean
  findings: Finding[]
  /** No finding of error severity (after --fix: none left). */
  healthy: boolean
  /** What --fix deletes (every profile). */
  plan: FixItem[]
  profiles: Array<Omit<ProfileReport, 'findings' | 'plan'>>
  /** With --fix: each deletion's result. */
  results?: FixResult[]
  summary: Record<Severity, number>
}

const doctorFlags = {
  fix: Flags.boolean({description: 'Delete what the fixable findings name (duplicates, orphans, listen leftovers), after confirmation.'}),
  profile: Flags.string({description: 'Profile to check (repeatable; default the current one).', helpGroup: 'GLOBAL', multiple: true}),
  timeout: timeoutFlag,
  yes: Flags.boolean({char: 'y', description: 'With --fix: do not ask for confirmation.'}),
}

type DoctorFlags = Interfaces.InferredFlags<typeof doctorFlags>

const SEVERITY_STYLE: Record<Severity, (s: string) => string> = {error: style.red, info: style.dim, warning: style.yellow}
const SERVICES: ServiceName[] = ['pipedrive', 'cloud-elements', 'pipeliner']

export default class Doctor extends BaseCommand<typeof Doctor, DoctorResult> {
  static description = `Check Pipedrive webhooks, Cloud Elements instances and Pipeliner webhooks together, and name every problem with its fix.

Each finding has a severity (error, warning, info), its service, the objects concerned (ids, masked URLs) and the command that fixes it: Pipedrive webhooks failing, at risk of deletion (failing for over 48 h: Pipedrive deletes after 3 days) or inactive (with Pipedrive's remove_reason); duplicates (same URL, event and version); webhooks aimed at a Cloud Elements / Open Connectors callback URL whose instance does not exist (orphans) or has events off; instances in webhook mode that no webhook feeds; v1 webhooks that could move to v2 (never those aimed at a Cloud Elements callback: the connector expects v1); the 40-webhook quota per user; leftovers of "listen --register"; Pipeliner webhooks with insecure_ssl, unsigned, or duplicated; and the Pipedrive API budget from the rate-limit headers. A service without credentials is reported as skipped.

--fix shows a plan, like apply's, of what it deletes: duplicates (all but the healthiest, oldest one), orphans and listen leftovers; nothing else is touched. It asks on a terminal; elsewhere --yes is required (exit 2 without it).

Exit codes: 0 no finding of error severity (warnings and info do not fail); 8 at least one finding of error severity (after --fix: one still there); a failed deletion exits like "webhook delete" (e.g. 6); interrupted 130 / 143.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --profile staging --profile prod --json',
    '<%= config.bin %> <%= command.id %> --fix',
    '<%= config.bin %> <%= command.id %> --fix --yes   # in CI',
  ]
  static flags = doctorFlags

  get profiles(): string[] {
    const f = this.opts.profile ?? []
    return f.length > 0 ? [...new Set(f)] : [process.env.PDHOOKS_PROFILE || 'default']
  }

  private get opts(): DoctorFlags {
    return this.flags as unknown as DoctorFlags
  }

  async run(): Promise<DoctorResult> {
    const flags = this.opts
    const store = new ConfigStore(configDir(this.config.configDir))
    const opts = {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    const settingsOf = new Map(this.profiles.map(p => [p, new Settings({profile: p, store})]))
    const reports = await Promise.all(this.profiles.map(async p => analyze(await gather(settingsOf.get(p)!, opts))))
    const findings = reports.flatMap(r => r.findings)
    const plan = reports.flatMap(r => r.plan)
    const summary = count(findings)
    const result: DoctorResult = {
      findings,
      healthy: summary.error === 0,
      plan,
      profiles: reports.map(({findings: _f, plan: _p, ...rest}) => rest),
      summary,
    }
    this.printReport(reports)
    this.log(`${summary.error} error(s), ${summary.warning} warning(s), ${summary.info} info.`)
    if (!flags.fix) {
      if (plan.length > 0) this.log(`"pdhooks doctor --fix" would delete ${plan.length} object(s): duplicates, orphans and listen leftovers (it shows them first).`)
      return result
    }

    if (plan.length === 0) {
      this.log('Nothing for --fix to do.')
      return {...result, fixed: false, results: []}
    }

    this.printPlan(reports)
    await this.confirmOrRefuse(`Delete these ${plan.length} object(s)?`, flags.yes, `delete ${plan.length} object(s)`)
    const results: FixResult[] = []
    const inFlight = new Set<FixItem>()
    const stop = this.whenInterrupted(() => {
      const deleted = results.filter(r => r.status === 'deleted' || r.status === 'gone').length
      const left = plan.filter(i => !inFlight.has(i) && !results.some(r => r.profile === i.profile && r.kind === i.kind && String(r.id) === String(i.id)))
      return {
        details: {inFlight: [...inFlight].map(i => ({id: i.id, kind: i.kind, profile: i.profile})), notStarted: left.map(i => ({id: i.id, kind: i.kind, profile: i.profile})), results},
        lines: [
          ...(inFlight.size > 0 ? [`In flight when stopped (may or may not be deleted): ${[...inFlight].map(i => `${i.kind} ${i.id}`).join(', ')}.`] : []),
          ...(left.length > 0 ? [`Not deleted: ${left.map(i => `${i.kind} ${i.id}`).join(', ')}.`, `To finish: pdhooks doctor --fix --yes${this.profiles.map(p => ` --profile ${p}`).join('')}`] : []),
        ],
        message: `deleted ${deleted} of ${plan.length} object(s)`,
      }
    })
    for (const profile of this.profiles) {
      const items = plan.filter(i => i.profile === profile)
      if (items.length === 0 || stop.signal.aborted) continue
      try {
        await applyFix(settingsOf.get(profile)!, items, opts, {
          onResult: r => {
            const item = items.find(i => i.kind === r.kind && String(i.id) === String(r.id))
            if (item) inFlight.delete(item)
            results.push(r)
            const label = item ? ` (${item.label})` : ''
            if (r.status === 'deleted') this.log(`${style.green('Deleted')} ${r.kind} ${r.id}${label}`)
            else if (r.status === 'gone') this.log(`${r.kind} ${r.id}${label} was already gone`)
            else this.logToStderr(`${style.red('Failed')} ${r.kind} ${r.id}${label}: ${r.error}`)
          },
          onStart: i => inFlight.add(i),
          signal: stop.signal,
        })
      } catch (error) {
        // the client could not be made (credentials changed meanwhile): every item of the profile failed
        const e = PdhooksError.from(error)
        for (const i of items.filter(x => !results.some(r => r.profile === profile && r.kind === x.kind && String(r.id) === String(x.id)))) {
          results.push({
            error: e.line, exit: e.exit, id: i.id, kind: i.kind, profile, status: 'failed',
          })
          this.logToStderr(`${style.red('Failed')} ${i.kind} ${i.id}: ${e.line}`)
        }
      }
    }

    stop.throwIfInterrupted()
    const remaining = findings.filter(f => !isFixed(f, plan, results))
    const left = count(remaining)
    const done: DoctorResult = {
      ...result, fixed: true, healthy: left.error === 0, results,
    }
    const failures = results.filter(r => r.exit)
    if (failures.length > 0) {
      throw this.partialFailure(done, failures, {
        message: `${failures.length} of ${plan.length} object(s) not deleted: ${failures.map(f => `${f.kind} ${f.id} (${f.error})`).join(', ')}.`,
      })
    }

    this.log(`Fixed: ${findings.length - remaining.length} finding(s); ${left.error} error(s), ${left.warning} warning(s), ${left.info} info left.`)
    return done
  }

  /** Exit 8 when a finding of error severity is there (after --fix: still there). */
  protected exitCode(r: DoctorResult): number {
    return r.healthy ? ExitCode.ok : ExitCode.findings
  }

  private printPlan(reports: ProfileReport[]): void {
    for (const r of reports) {
      if (r.plan.length === 0) continue
      this.log(style.bold(`Plan for profile "${r.profile}" (${r.plan.length} change(s)):`))
      for (const i of r.plan) this.log(planLine({...i, label: `${i.id}  ${printable(i.label)}`}, [printable(i.reason)]))
    }
  }

  private printReport(reports: ProfileReport[]): void {
    for (const r of reports) {
      const services = SERVICES.map(s => {
        const st = r.services[s]
        if (st.status === 'skipped') return `${SERVICE_LABEL[s]} skipped (${st.reason})`
        if (st.status === 'failed') return `${SERVICE_LABEL[s]} ${style.red('failed')}`
        return `${SERVICE_LABEL[s]} ${st.count} ${s === 'cloud-elements' ? 'instance(s)' : 'webhook(s)'}`
      })
      this.log(style.bold(`Profile "${r.profile}": `) + services.join(' · '))
      if (r.findings.length === 0) {
        this.log(`  ${style.green('No problem found.')}`)
        continue
      }

      for (const f of r.findings) {
        this.log(`  ${SEVERITY_STYLE[f.severity](f.severity.toUpperCase().padEnd(7))} ${SERVICE_LABEL[f.service]}: ${printable(f.message)}`)
        for (const o of f.objects) this.log(`          ${o.kind === 'instance' ? 'instance' : 'webhook'} ${o.id}  ${printable(o.label)}${o.name ? `  "${printable(o.name)}"` : ''}`)
        if (f.fix) this.log(`          ${style.cyan('fix:')} ${printable(f.fix)}${f.fixable ? style.dim(' (or doctor --fix)') : ''}`)
      }
    }
  }
}

function count(findings: Finding[]): Record<Severity, number> {
  return {
    error: findings.filter(f => f.severity === 'error').length,
    info: findings.filter(f => f.severity === 'info').length,
    warning: findings.filter(f => f.severity === 'warning').length,
  }
}
