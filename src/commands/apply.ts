import {type Interfaces} from '@oclif/core'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../lib/cli/base-command.js'
import {style, table} from '../lib/cli/output.js'
import {planLine} from '../lib/cli/plan.js'
import {prompts} from '../lib/cli/prompts.js'
import {SETTING_KEYS, SETTINGS} from '../lib/core/config.js'
import {ExitCode, PdhooksError, usageError} from '../lib/core/errors.js'
import {type InterruptReport} from '../lib/core/interrupt.js'
import {type ExecuteProgress, type ItemResult} from '../lib/workflows/apply/execute.js'
import {type ApplyProfileResult, loadDesired, planProfile} from '../lib/workflows/apply/index.js'

export interface ApplyResult {
  applied: boolean
  changes: number
  file: string
  profiles: ApplyProfileResult[]
}

type ApplyFlags = Interfaces.InferredFlags<typeof applyFlags>

const applyFlags = {
  'detailed-exitcode': Flags.boolean({dependsOn: ['dry-run'], description: 'With --dry-run: exit 7 when changes are pending, 0 when converged.'}),
  'dry-run': Flags.boolean({description: 'Print the plan and change nothing.'}),
  file: Flags.string({char: 'f', default: 'pdhooks.yaml', description: 'The file that declares the desired state.'}),
  profile: Flags.string({description: 'Profile to apply to (repeatable: the same file to several accounts).', helpGroup: 'GLOBAL', multiple: true}),
  prune: Flags.boolean({description: "Delete the objects of the file's stack that the file no longer declares (needs stack: in the file)."}),
  timeout: timeoutFlag,
  yes: Flags.boolean({char: 'y', description: 'Apply without asking.'}),
}

export default class Apply extends BaseCommand<typeof Apply, ApplyResult> {
  static description = `Converge instances and webhooks to what a file declares (for CI).

Prints a plan (create / keep / update / replace / delete), then applies it after confirmation on a terminal, or with --yes elsewhere (without it, off a terminal, it stops after the plan with exit 2). A second run makes no change. Identity: an instance by name; a Pipedrive webhook by URL + action + object + version (a changed user or auth is a replace: Pipedrive has no update call); a Pipeliner webhook by URL + event set. Every object the file creates carries its stack (stack: NAME) on the server: in the Pipedrive webhook's name (pdhooks:NAME …), the instance's tag pdhooks-stack:NAME, the Pipeliner webhook's options.skip_keys. --prune deletes only objects of the file's stack that it no longer declares, from any machine; objects made by hand, by webhook add, by setup or by another stack are never pruned. Ctrl-C stops after the object in flight and says what was applied (exit 130). Several --profile flags apply the same file to several accounts.`
  static examples = [
    '<%= config.bin %> <%= command.id %> -f pdhooks.yaml --dry-run',
    '<%= config.bin %> <%= command.id %> -f pdhooks.yaml --dry-run --detailed-exitcode   # exit 7 when changes are pending',
    '<%= config.bin %> <%= command.id %> -f pdhooks.yaml --yes --prune',
    '<%= config.bin %> <%= command.id %> -f pdhooks.yaml --profile staging --profile prod --yes --json',
  ]
  static flags = applyFlags

  get profiles(): string[] {
    const f = this.opts.profile ?? []
    return f.length > 0 ? [...new Set(f)] : [process.env.PDHOOKS_PROFILE || 'default']
  }

  private get opts(): ApplyFlags {
    return this.flags as unknown as ApplyFlags
  }

  async run(): Promise<ApplyResult> {
    const flags = this.opts
    const desired = await loadDesired(flags.file)
    if (flags.prune && !desired.stack) {
      throw usageError(
        `--prune needs a stack name in ${flags.file}: it deletes only what this file created, and the stack is how pdhooks knows.`,
        'Add a line "stack: NAME" (e.g. stack: prod-hooks) and apply once without --prune: objects made before it carry no stack and are never pruned.',
        'no_stack',
      )
    }

    if (this.profiles.length > 1 && SETTING_KEYS.some(k => SETTINGS[k].secret && SETTINGS[k].env in process.env)) {
      this.warn('PDHOOKS_* credential variables are set: they override every profile\'s stored credentials.')
    }

    const ctx = {configDir: this.config.configDir, timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    // plan every profile concurrently (each has its own clients and rate-limit pacing)
    const plans = await Promise.all(this.profiles.map(profile => planProfile(desired, {...ctx, profile, prune: flags.prune})))
    const planned = plans.map(p => p.result)
    this.printPlan(planned, desired.stack)
    const changes = planned.reduce((n, p) => n + p.plan.filter(i => i.verb !== 'keep').length, 0)
    const planFailed = planned.filter(p => p.error)
    const result = (profiles: ApplyProfileResult[], applied: boolean): ApplyResult => ({
      applied, changes, file: flags.file, profiles,
    })

    if (planFailed.length === planned.length) throw this.aggregateError(planned)
    if (changes === 0 || flags['dry-run']) {
      if (changes === 0) this.log(planFailed.length > 0 ? 'Nothing to do for the profiles that could be read.' : 'Nothing to do: everything matches the file.')
      else this.log(`${changes} change(s) pending (dry run).`)
      if (planFailed.length > 0) {
        throw this.partialFailure(result(planned, false), planFailed.map(p => p.error!), {
          hint: 'Run the same command again once the cause is fixed.',
          message: `${planFailed.length} of ${planned.length} profile(s) could not be planned: ${planFailed.map(p => p.profile).join(', ')}.`,
        })
      }

      return result(planned, false)
    }

    if (!flags.yes) {
      if (!prompts.interactive(this.jsonEnabled())) {
        throw this.failWith(result(planned, false), usageError('Not applied: pass --yes to apply off a terminal.', undefined, 'confirmation_required'))
      }

      if (!(await prompts.confirm(`Apply ${changes} change(s)${this.profiles.length > 1 ? ` to ${this.profiles.length} profiles` : ''}?`, false))) throw usageError('Cancelled.', undefined, 'cancelled')
    }

    const progress = new Map(planned.map(p => [p.profile, {done: [], inFlight: new Set()} as ExecuteProgress]))
    const stop = this.whenInterrupted(() => interruptReport(planned, progress))
    const applied = await Promise.all(plans.map(({execute, result: p}) => execute({
      log: line => this.progress(`${this.profiles.length > 1 ? `${p.profile}: ` : ''}${line}`),
      progress: progress.get(p.profile),
      signal: stop.signal,
    })))
    stop.throwIfInterrupted()
    this.printResults(applied)
    const failed = applied.flatMap(p => [...(p.error ? [p.error] : []), ...(p.results ?? []).filter(r => r.status === 'failed' || (r.status === 'skipped' && r.error)).map(r => r.error ?? {})])
    if (failed.length > 0) {
      throw this.partialFailure(result(applied, true), failed, {
        hint: 'Run the same command again to converge once the cause is fixed.',
        message: `${failed.length} object(s) not applied.`,
      })
    }

    return result(applied, true)
  }

  /** --dry-run --detailed-exitcode: exit 7 when changes are pending (0 once converged). */
  protected exitCode(r: ApplyResult): number {
    return this.opts['detailed-exitcode'] && !r.applied && r.changes > 0 ? ExitCode.changes : ExitCode.ok
  }

  private aggregateError(profiles: ApplyProfileResult[]): PdhooksError {
    const worst = Math.max(...profiles.map(p => p.error?.exit ?? 1))
    return new PdhooksError(profiles.map(p => `${p.profile}: ${p.error?.message}`).join(' '), {code: profiles[0].error?.code, exit: worst})
  }

  private printPlan(profiles: ApplyProfileResult[], stack: string | undefined): void {
    for (const p of profiles) {
      this.log(style.bold(`Plan for profile "${p.profile}"${stack ? `, stack "${stack}"` : ''}${p.error ? '' : ` (${p.plan.filter(i => i.verb !== 'keep').length} change(s))`}:`))
      if (p.error) {
        this.log(`  ${style.red('error')} ${p.error.message}`)
        continue
      }

      for (const i of p.plan) {
        this.log(planLine(i, [i.reason, stack && (i.verb === 'keep' || i.verb === 'update') ? ownership(i.owner, stack) : undefined]))
      }

      for (const n of p.notes ?? []) this.logToStderr(`Note: ${n}`)
    }
  }

  private printResults(profiles: ApplyProfileResult[]): void {
    const rows = profiles.flatMap(p => (p.error
      ? [{
        detail: p.error.message, kind: '-', object: '-', profile: p.profile, result: 'failed', verb: '-',
      }]
      : (p.results ?? []).filter(r => r.item.verb !== 'keep').map(r => ({
        detail: r.error?.message ?? (r.id === undefined ? '' : `id ${r.id}`), kind: r.item.kind, object: r.item.label, profile: p.profile, result: r.status, verb: r.item.verb,
      }))))
    this.log('')
    this.log(table(rows, [
      {get: r => r.profile, header: 'PROFILE'},
      {get: r => r.verb, header: 'ACTION'},
      {get: r => r.kind, header: 'KIND'},
      {get: r => r.object, header: 'OBJECT'},
      {color: text => (text === 'done' ? style.green(text) : (text === 'failed' ? style.red(text) : text)), get: r => r.result, header: 'RESULT'},
      {get: r => r.detail, header: 'DETAIL'},
    ]))
  }
}

/** How an existing object's ownership reads in the plan: never pruned by this stack unless it carries its name. */
function ownership(owner: null | string | undefined, stack: string): string | undefined {
  if (owner === undefined || owner === stack) return undefined
  return owner === null ? `not made by stack ${stack}: never pruned` : `stack ${owner}: never pruned by ${stack}`
}

const itemLine = (r: Pick<ItemResult, 'error' | 'id' | 'status'> & {item: {kind: string; label: string; verb: string}}) =>
  `${r.item.verb} ${r.item.kind} ${r.item.label}${r.id === undefined || r.item.verb !== 'create' ? '' : ` (id ${r.id})`}${r.error ? `: ${r.error.message}` : ''}`

const brief = (i: {kind: string; label: string; verb: string}) => ({kind: i.kind, label: i.label, verb: i.verb})

/** What an interrupted apply did, per profile: each object applied or failed, in flight, or not started. */
function interruptReport(planned: ApplyProfileResult[], progress: Map<string, ExecuteProgress>): InterruptReport {
  const lines: string[] = []
  const profiles: Array<Record<string, unknown>> = []
  let done = 0
  let total = 0
  for (const p of planned) {
    if (p.error) continue
    const prog = progress.get(p.profile)!
    total += p.plan.filter(i => i.verb !== 'keep').length
    const applied = prog.done.filter(r => r.status === 'done')
    done += applied.length
    const inFlight = [...prog.inFlight]
    const started = new Set([...inFlight, ...prog.done.map(r => r.item)])
    const notStarted = (prog.changes ?? []).filter(i => !started.has(i))
    const prefix = planned.length > 1 ? `${p.profile}: ` : ''
    for (const r of prog.done) lines.push(`${prefix}${r.status}: ${itemLine(r)}`)
    for (const i of inFlight) lines.push(`${prefix}in flight when stopped (may or may not be applied): ${i.verb} ${i.kind} ${i.label}`)
    for (const i of notStarted) lines.push(`${prefix}not started: ${i.verb} ${i.kind} ${i.label}`)
    profiles.push({
      inFlight: inFlight.map(i => brief(i)),
      notStarted: notStarted.map(i => brief(i)),
      profile: p.profile,
      results: prog.done.map(r => ({
        ...brief(r.item), status: r.status, ...(r.id === undefined ? {} : {id: r.id}), ...(r.error ? {error: r.error} : {}),
      })),
    })
  }

  lines.push('Run the same command again to converge: what was applied is kept, the rest is planned again.')
  return {details: {applied: done, changes: total, profiles}, lines, message: `applied ${done} of ${total} change(s)`}
}
