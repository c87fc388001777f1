import * as Flags from '@oclif/core/flags'
import {join} from 'node:path'

import {BaseCommand, type FlagReasons, timeoutFlag} from '../lib/cli/base-command.js'
import {basicAuthFlag, pipedriveFlags} from '../lib/cli/flags.js'
import {parseWhen} from '../lib/cli/time.js'
import {pipedriveClient} from '../lib/core/clients.js'
import {configDir} from '../lib/core/config.js'
import {ExitCode, PdhooksError, usageError} from '../lib/core/errors.js'
import {registerSecret} from '../lib/core/mask.js'
import {type DeliveryContext} from '../lib/deliveries/build.js'
import {displayUrl, parseTargetUrl} from '../lib/deliveries/send.js'
import {parseBasicAuth} from '../lib/deliveries/trigger.js'
import {
  BACKFILL_OBJECTS, MAX_LIMIT, rfc3339, timeOf, TOKEN_COST, UNRECOVERABLE_OBJECTS,
} from '../lib/pipedrive/changed.js'
import {type Webhook} from '../lib/pipedrive/client.js'
import {
  type ActionFilter, type BackfillCounts, type BackfillState, type BackfillStop, emptyCounts, journalIndex, type JournalIndex, kindsOf, RETRY_SPAN_MS, runBackfill, StateFile, stateKey,
} from '../lib/workflows/backfill.js'

export interface BackfillResult {
  complete: boolean
  counts: BackfillCounts
  dryRun: boolean
  objects: string[]
  ok: boolean
  /** The command that continues an unfinished run. */
  resume?: string
  since: string
  stopped?: {message: string; reason: string}
  to: string
  until: string
  webhook?: number
}

/** A value as a shell user would type it. */
const q = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", String.raw`'\''`)}'`)

export default class Backfill extends BaseCommand<typeof Backfill, BackfillResult> {
  static description = `Recover what a ban or an outage lost: send the objects changed in a time window to a receiver, as webhooks v2 deliveries.

Pipedrive never re-sends an event lost while a webhook was banned (10 failed first attempts: 30 minutes of lost events) or while a receiver was down past the retries. backfill reads the objects changed in the window from Pipedrive's API v2 lists (deals, persons, organizations and activities filtered by update time; products, pipelines and stages read newest first) and sends each as the documented v2 delivery: its latest state as "data", "previous": null (earlier values are not known), "meta.action" create when it was added in the window else change, "meta.change_source": "backfill" and the header X-Pdhooks-Backfill: 1. Deletions are not recovered: the lists hold no deleted objects. Leads, notes and users cannot be listed by time.

--webhook ID takes the window and objects from a webhook: its event (*.deal: deals), from its last delivery attempt (less 3 minutes, the span of Pipedrive's retries) unless --since says otherwise, to its URL with its Basic auth unless --to and --basic-auth say otherwise. --from-journal FILE skips the objects a "pdhooks listen --journal" file already holds at that version or later.

Calls are paced by Pipedrive's rate-limit headers; each list page (up to --limit objects) costs about ${TOKEN_COST.v2List} tokens of the daily budget. The run stops with the command that resumes it when the budget is spent (x-daily-requests-left 0, a 429 that asks to wait more than a minute, or --max-tokens), when the receiver still fails after 4 attempts (1, 2 and 4 s apart), or at Ctrl-C: --resume continues after the last object sent. --dry-run reads the lists and only counts.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --since 2h --to https://app.example.com/hooks',
    '<%= config.bin %> <%= command.id %> --since 2026-12-01T10:00:00Z --until 2026-12-01T12:00:00Z --object deal,person --to http://127.0.0.1:4000/',
    '<%= config.bin %> <%= command.id %> --webhook 42   # its window, its objects, its URL',
    '<%= config.bin %> <%= command.id %> --webhook 42 --from-journal deliveries.ndjson --dry-run',
    '<%= config.bin %> <%= command.id %> --since 3d --to https://app.example.com/hooks --resume',
  ]
  static flagReasons: FlagReasons = {
    'dry-run restart': {hint: 'Drop --dry-run, or --restart.', message: '--dry-run only counts: it neither resumes nor restarts a run.'},
    'dry-run resume': {hint: 'Drop --dry-run, or --resume.', message: '--dry-run only counts: it neither resumes nor restarts a run.'},
    'resume restart': {message: '--resume continues a run, --restart discards it: give one.'},
  }
  static flags = {
    'basic-auth': basicAuthFlag('Send Basic auth user:password (default with --webhook: the webhook\'s, when the API shows it).'),
    'dry-run': Flags.boolean({exclusive: ['resume', 'restart'], description: 'Read the lists and count what would be sent; send nothing.'}),
    'from-journal': Flags.string({description: 'Skip the objects this listen journal already holds (same or later version).'}),
    limit: Flags.integer({
      default: MAX_LIMIT, description: 'Objects per list page (each page is one API call).', max: MAX_LIMIT, min: 1,
    }),
    'max-tokens': Flags.integer({description: 'Stop (resumably) before the run\'s estimated API token spend would pass this.', min: 1}),
    object: Flags.string({description: `Objects to read, comma-separated (default: all of ${BACKFILL_OBJECTS.map(k => k.object).join(', ')}; with --webhook: its object).`}),
    ...pipedriveFlags,
    restart: Flags.boolean({exclusive: ['resume'], description: 'Discard an interrupted run with the same parameters and start over.'}),
    resume: Flags.boolean({description: 'Continue the interrupted run with the same parameters after the last object it sent.'}),
    since: Flags.string({description: 'Start of the window: an ISO time (2026-12-01T10:00:00Z) or a duration back from now (30m, 2h, 3d).'}),
    timeout: timeoutFlag,
    to: Flags.string({description: 'Receiver URL (default with --webhook: the webhook\'s URL).'}),
    until: Flags.string({description: 'End of the window (excluded), same forms as --since (default: now).'}),
    webhook: Flags.integer({description: 'Take the window, objects and target from this Pipedrive webhook.', min: 1}),
  }

  async run(): Promise<BackfillResult> {
    const {flags} = this
    const now = Date.now()
    if (flags.since === undefined && flags.webhook === undefined) {
      throw usageError('Missing --since (or --webhook ID).', 'Example: pdhooks backfill --since 2h --to https://app.example.com/hooks', 'missing_value')
    }

    let since = flags.since === undefined ? undefined : parseWhen(flags.since, '--since', now)
    let until = flags.until === undefined ? now : Math.min(now, parseWhen(flags.until, '--until', now))
    if (since !== undefined && since >= until) {
      throw usageError(`The window is empty: --since ${flags.since} is not before ${flags.until === undefined ? 'now' : `--until ${flags.until}`}.`, 'Give a --since earlier than --until.')
    }

    const named = flags.object === undefined ? undefined : this.objectsOf(flags.object)
    let basicAuth = parseBasicAuth(flags['basic-auth'])
    let to = flags.to === undefined ? undefined : parseTargetUrl(flags.to, '--to')
    if (!to && flags.webhook === undefined) {
      throw usageError('Missing --to URL.', 'Example: --to https://app.example.com/hooks (or --webhook ID to use its URL).', 'missing_value')
    }

    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    // the run's progress file, checked before any call: the parameters as given define the run
    const key = stateKey({
      api: client.http.baseUrl, journal: flags['from-journal'] ?? null, objects: flags.object ?? null, since: flags.since ?? null, to: to ? displayUrl(to) : null, until: flags.until ?? null, webhook: flags.webhook ?? null,
    })
    const files = new StateFile(join(configDir(this.config.configDir), 'backfill'), key)
    const saved = flags['dry-run'] ? undefined : this.lockRun(files)
    try {
      const counts = emptyCounts()
      let objects = named ?? BACKFILL_OBJECTS.map(k => k.object)
      let actions: ActionFilter = '*'
      let hook: undefined | Webhook
      if (flags.webhook !== undefined) {
        const hooks = await client.listWebhooks()
        counts.calls++
        counts.tokens += TOKEN_COST.webhooks
        hook = hooks.find(w => Number(w.id) === flags.webhook)
        if (!hook) {
          throw new PdhooksError(`No webhook ${flags.webhook}.`, {code: 'not_found', exit: ExitCode.notFound, hint: 'Run "pdhooks webhook list" to see the ids. If Pipedrive deleted it (3 days without a successful delivery), give the window yourself: --since 3d --to URL.'})
        }

        ({actions, objects} = this.fromWebhook(hook, named))
        if (since === undefined) since = this.webhookSince(hook, until)
        if (!to) to = parseTargetUrl(hook.subscription_url, 'the webhook\'s URL')
        if (!basicAuth && hook.http_auth_user && hook.http_auth_password && !/^\*+$|…/.test(hook.http_auth_password)) {
          basicAuth = {password: hook.http_auth_password, user: hook.http_auth_user}
          registerSecret(basicAuth.password)
        }
      }

      const me = await client.http.get<{data?: {company_domain?: string; company_id?: number; id?: number}}>('/users/me')
      counts.calls++
      counts.tokens += TOKEN_COST.me
      const user = me.body?.data ?? {}
      const ctx: DeliveryContext = {
        companyId: hook?.company_id === undefined ? user.company_id : Number(hook.company_id),
        host: user.company_domain ? `${user.company_domain}.pipedrive.com` : undefined,
        userId: hook?.user_id ?? user.id,
        webhookId: hook?.id ?? 0,
        webhookOwnerId: hook?.owner_id,
      }

      let journal: JournalIndex | undefined
      if (flags['from-journal'] !== undefined) {
        const j = await journalIndex(flags['from-journal'])
        journal = j.index
        if (j.unreadable > 0) this.warn(`${j.unreadable} of ${j.lines} line(s) of ${flags['from-journal']} could not be read: they skip nothing.`)
      }

      const target = to!
      const fresh = (): BackfillState => ({
        command: this.resumeCommand(false), counts, key, objects, position: {cursor: null, index: 0}, sentOnPage: [], since: since!, startedAt: new Date().toISOString(), until, updatedAt: '', version: 1,
      })
      let state: BackfillState
      if (saved) {
        state = saved
        state.counts.calls += counts.calls
        state.counts.tokens += counts.tokens
        since = state.since
        until = state.until
        objects = state.objects
        this.logToStderr(`Resuming: ${saved.counts.sent} sent before; continuing with ${objects[state.position.index] ?? 'the end'}.`)
      } else {
        state = fresh()
        // saved at once: a run stopped before its first delivery is resumable too
        if (!flags['dry-run']) files.write(state)
      }

      const kinds = kindsOf(objects)
      const result = (stop?: BackfillStop): BackfillResult => ({
        complete: !stop,
        counts: state.counts,
        dryRun: Boolean(flags['dry-run']),
        objects,
        ok: !stop,
        ...(stop && !flags['dry-run'] ? {resume: this.resumeCommand(true)} : {}),
        since: rfc3339(state.since),
        ...(stop ? {stopped: {message: stop.message, reason: stop.reason}} : {}),
        to: displayUrl(target),
        until: rfc3339(state.until),
        ...(hook ? {webhook: hook.id} : {}),
      })
      const interruption = this.whenInterrupted(() => ({
        details: {result: result({message: 'interrupted', reason: 'interrupted'})},
        lines: flags['dry-run'] ? [] : [`To continue: ${this.resumeCommand(true)}`],
        message: `${flags['dry-run'] ? 'counted' : 'sent'} ${state.counts.sent} object(s) (${state.counts.found} found so far)`,
      }))
      this.progress(`Backfill ${rfc3339(state.since)} → ${rfc3339(state.until)}: ${objects.join(', ')} → ${displayUrl(target)}${flags['dry-run'] ? ' (dry run)' : ''}`)
      const stop: BackfillStop | undefined = await runBackfill({
        actions,
        api: client.v2,
        basicAuth,
        ctx,
        dryRun: Boolean(flags['dry-run']),
        journal,
        kinds,
        limit: flags.limit,
        maxTokens: flags['max-tokens'],
        onDelivery: d => {
          if (!d.ok) this.progress(`  ${d.action}.${d.object} ${d.id} → ${d.status ?? 'no answer'} (attempt ${d.attempt})`)
        },
        onPage: p => this.progress(`  ${p.object}: ${p.counts.found} found, ${p.counts.sent} ${flags['dry-run'] ? 'to send' : 'sent'}, ${p.counts.skipped} in the journal`),
        save: s => files.write(s),
        signal: interruption.signal,
        state,
        timeoutMs: flags.timeout * 1000,
        to: target,
      })
      if (!flags['dry-run']) {
        if (stop) files.write(state)
        else files.remove()
      }

      // a signal during the last delivery of the window: the run is complete, and says so
      if (stop?.reason === 'interrupted') interruption.throwIfInterrupted()

      const out = result(stop)
      this.log(this.summary(out))
      if (stop) throw this.stopped(out, stop)
      return out
    } finally {
      files.release()
    }
  }

  /**
   * Takes the run's lock and reads its progress: a saved run needs --resume (or --restart), --resume needs a saved run.
   * Returns the state to resume, if any.
   */
  private lockRun(files: StateFile): BackfillState | undefined {
    const {flags} = this
    files.acquire()
    try {
      const saved = files.read()
      if (saved && !flags.resume && !flags.restart) {
        throw usageError(
          `An interrupted backfill with these parameters exists (${saved.counts.sent} sent, last saved ${saved.updatedAt}).`,
          'Add --resume to continue after the last object it sent, or --restart to start over (its objects would be sent again).',
          'resumable',
        )
      }

      if (!saved && flags.resume) {
        throw usageError('Nothing to resume: no interrupted backfill with these parameters.', 'Run it without --resume (the parameters must be the same as the interrupted run\'s).', 'nothing_to_resume')
      }

      return flags.resume ? saved : undefined
    } catch (error) {
      files.release()
      throw error
    }
  }

  /** The objects of --object, each checked: unknown or unrecoverable ones are exit 2 saying why. */
  private objectsOf(value: string): string[] {
    const names = value.split(',').map(s => s.trim()).filter(Boolean)
    if (names.length === 0) throw usageError('--object is empty.', `Objects: ${BACKFILL_OBJECTS.map(k => k.object).join(', ')}.`)
    for (const n of names) {
      if (UNRECOVERABLE_OBJECTS[n]) throw usageError(`A ${n} cannot be backfilled: ${UNRECOVERABLE_OBJECTS[n]}.`, `Objects: ${BACKFILL_OBJECTS.map(k => k.object).join(', ')}.`, 'bad_object')
      if (kindsOf([n]).length === 0) throw usageError(`Unknown object "${n}".`, `Objects: ${BACKFILL_OBJECTS.map(k => k.object).join(', ')}.`, 'bad_object')
    }

    return kindsOf(names).map(k => k.object)
  }

  /** A webhook's objects and actions: v2 only; a delete-only webhook has nothing recoverable. */
  private fromWebhook(hook: Webhook, named: string[] | undefined): {actions: ActionFilter; objects: string[]} {
    if ((hook.version ?? '1.0') !== '2.0') {
      throw usageError(`Webhook ${hook.id} is a webhooks v1 webhook: backfill sends v2 deliveries, which its receiver does not expect.`, 'Use --since and --to with a receiver that takes v2 deliveries.', 'bad_webhook')
    }

    const action = hook.event_action
    if (action === 'delete') throw usageError(`Webhook ${hook.id} hears deletions only: deletions cannot be recovered from the API.`, undefined, 'bad_webhook')
    const object = hook.event_object
    let objects: string[]
    if (object === '*') {
      objects = BACKFILL_OBJECTS.map(k => k.object)
      this.warn(`Webhook ${hook.id} hears every object; these cannot be backfilled: ${Object.keys(UNRECOVERABLE_OBJECTS).join(', ')}.`)
    } else if (UNRECOVERABLE_OBJECTS[object]) {
      throw usageError(`Webhook ${hook.id} hears ${action}.${object}: a ${object} cannot be backfilled (${UNRECOVERABLE_OBJECTS[object]}).`, undefined, 'bad_object')
    } else objects = [object]
    if (named) {
      const outside = named.filter(n => !objects.includes(n))
      if (outside.length > 0) throw usageError(`Webhook ${hook.id} does not hear ${outside.join(', ')} (its event is ${action}.${object}).`, undefined, 'bad_object')
      objects = named
    }

    return {actions: action === 'create' || action === 'change' ? action : '*', objects}
  }

  /** The start of a webhook's window: its last delivery attempt less Pipedrive's retry span, else its creation. */
  private webhookSince(hook: Webhook, until: number): number {
    const last = timeOf(hook.last_delivery_time)
    const added = timeOf(hook.add_time)
    const status = Number(hook.last_http_status)
    if (!Number.isNaN(last)) {
      if (status >= 200 && status < 300 && hook.is_active !== 0) {
        this.warn(`Webhook ${hook.id}'s last delivery succeeded (${hook.last_delivery_time}): backfilling from it anyway.`)
      }

      return Math.min(until - 1000, last - RETRY_SPAN_MS)
    }

    if (!Number.isNaN(added)) return Math.min(until - 1000, added)
    throw usageError(`Webhook ${hook.id} has neither a last delivery time nor a creation time: give --since.`, undefined, 'missing_value')
  }

  /** The command line that continues this run (secrets as "$VARIABLE"). */
  private resumeCommand(resume: boolean): string {
    const f = this.flags
    const parts = ['pdhooks backfill']
    if (f.webhook !== undefined) parts.push(`--webhook ${f.webhook}`)
    for (const name of ['since', 'until', 'object', 'to', 'from-journal'] as const) if (f[name] !== undefined) parts.push(`--${name} ${q(String(f[name]))}`)
    if (f['basic-auth'] !== undefined) parts.push('--basic-auth "$PDHOOKS_BASIC_AUTH"')
    if (f.limit !== MAX_LIMIT) parts.push(`--limit ${f.limit}`)
    if (f['max-tokens'] !== undefined) parts.push(`--max-tokens ${f['max-tokens']}`)
    if (f.profile !== undefined) parts.push(`--profile ${q(f.profile)}`)
    if (resume) parts.push('--resume')
    return parts.join(' ')
  }

  /** A run stopped on the way: the error to throw, with what was done (under --json: the result with `error`). */
  private stopped(out: BackfillResult, stop: BackfillStop): PdhooksError {
    const exit = stop.reason === 'receiver' && stop.status !== null && stop.status !== undefined && stop.status < 500 && stop.status !== 429 && stop.status !== 408
      ? ExitCode.unexpected
      : ExitCode.unavailable
    const hint = [
      stop.reason === 'receiver' && (stop.status === 401 || stop.status === 403) ? 'Check --basic-auth.' : undefined,
      stop.reason === 'budget' || stop.reason === 'rate_limited' ? 'Pipedrive\'s daily budget resets at midnight (UTC);' : undefined,
      out.resume ? `To continue after the last object sent: ${out.resume}` : undefined,
    ].filter(Boolean).join(' ')
    return this.failWith(out, new PdhooksError(`Backfill stopped: ${stop.message}.`, {code: stop.reason, exit, hint}))
  }

  private summary(r: BackfillResult): string {
    const c = r.counts
    const parts = [
      `${c.found} object(s) changed ${r.since} → ${r.until}`,
      `${c.sent} ${r.dryRun ? 'to send' : 'sent'}`,
      ...(c.skipped ? [`${c.skipped} already in the journal`] : []),
      ...(c.filtered ? [`${c.filtered} not heard by the webhook's action`] : []),
      `${c.calls} API call(s), ~${c.tokens} tokens`,
    ]
    return `Backfill${r.dryRun ? ' (dry run)' : ''}${r.complete ? '' : ' (stopped)'}: ${parts.join(', ')}.`
  }
}
