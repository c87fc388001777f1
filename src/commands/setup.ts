import * as Flags from '@oclif/core/flags'

import {BaseCommand, type FlagReasons, timeoutFlag} from '../lib/cli/base-command.js'
import {
  elementsFlags, instanceCreateFlags, instanceIdFlag, pipedriveFlags, secret, secretFlagEnv,
} from '../lib/cli/flags.js'
import {prompts} from '../lib/cli/prompts.js'
import {elementsBase, elementsClient, pipedriveClient} from '../lib/core/clients.js'
import {type SettingKey, SETTINGS} from '../lib/core/config.js'
import {PdhooksError, usageError} from '../lib/core/errors.js'
import {type InterruptReport} from '../lib/core/interrupt.js'
import {registerConfigSecret, registerSecret} from '../lib/core/mask.js'
import {shellQuote} from '../lib/core/shell.js'
import {normalizePipedriveUrl} from '../lib/core/urls.js'
import {collectInstanceSpec, type EventsMode, type InstanceSpec} from '../lib/elements/instances.js'
import {parseEvent, splitEvent, STAGE_WARNING} from '../lib/pipedrive/events.js'
import {generateAuth} from '../lib/pipedrive/webhooks.js'
import {
  hasSomethingToRollBack, newSetupState, type Resume, resumeCommand, rollback, type RollbackResult, runSetup, SetupError, type SetupState,
} from '../lib/workflows/setup.js'

export interface SetupResult {
  callbackUrl: string
  generatedAuth?: {password: string; user: string}
  instance: {created: boolean; events: EventsMode; id: number; name: null | string; updated?: boolean}
  /** What to run next (check the deliveries, or the instance). */
  next: string
  skipped?: string
  webhooks: SetupState['webhooks']
}

/** One run's answers and progress: what the resume command and the interruption report are made from. */
interface Run {
  auth?: {password: string; user: string}
  events: string[]
  /** An instance picked in the wizard (not given with --instance). */
  pickedInstance?: string
  spec?: InstanceSpec
  state: SetupState
  typed: Record<string, string>
}

/** The platforms the wizard offers (aliases of --elements-url). */
const PLATFORMS = [
  {name: 'Cloud Elements US (api.cloud-elements.com)', value: 'us'},
  {name: 'Cloud Elements EU (api.cloud-elements.co.uk)', value: 'eu'},
  {name: 'SAP Open Connectors US2 (api.openconnectors.us2.ext.hana.ondemand.com)', value: 'sap-us2'},
  {name: 'SAP Open Connectors US10 (api.openconnectors.us10.ext.hana.ondemand.com)', value: 'sap-us10'},
  {name: 'SAP Open Connectors EU10 (api.openconnectors.eu10.ext.hana.ondemand.com)', value: 'sap-eu10'},
  {name: 'Cloud Elements staging (staging.cloud-elements.com)', value: 'staging'},
]

const COMMON_EVENTS = ['*.*', '*.deal', '*.person', '*.organization', '*.activity', '*.note', '*.product', '*.pipeline', '*.stage', '*.user']

export default class Setup extends BaseCommand<typeof Setup, SetupResult> {
  static description = `The whole documented workflow in one command: credentials → Cloud Elements instance → callback URL → Pipedrive webhooks → live check.

On a terminal it is a wizard: it asks for what the flags, variables and profile do not give (the platform and the Pipedrive company domain too), then for a final confirmation; with --yes it asks only for what is required and missing. Elsewhere every answer comes from flags and variables. An instance named --name is reused only when its callback URL, events mode and polling match; otherwise exit 5 names the differences (--update changes it, --instance ID uses it as it is). Webhooks are idempotent; one of the same URL and event with another user or basic auth is exit 5 (--replace). Polling instances skip the webhook step (the platform polls). The instance becomes the profile's current one as soon as it exists. When a step fails (or on Ctrl-C, exit 130), what already exists is printed with the exact command that resumes (secrets as "$PDHOOKS_…" variables); --rollback deletes what this run created instead, looking up on the server any create whose outcome was unknown.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --name crm-events --callback-url https://app.example.com/ce --pipedrive-email ops@example.com --pipedrive-password "$PW" --event "*.deal" --event "*.person" --yes',
    '<%= config.bin %> <%= command.id %> --instance 20931 --event "*.*" --json',
    '<%= config.bin %> <%= command.id %> --name crm-poll --events polling --poll contacts --callback-url https://app.example.com/ce --rollback',
  ]
  static flagReasons: FlagReasons = {
    'instance update': {message: '--update goes with --name: an instance given with --instance is used as it is.'},
  }
  static flags = {
    ...instanceCreateFlags,
    event: Flags.string({description: "Pipedrive webhook event ACTION.OBJECT (repeatable; default '*.*').", multiple: true}),
    'generate-auth': Flags.boolean({description: 'Generate basic-auth credentials for the webhooks, printed once.', exclusive: ['http-auth-user', 'http-auth-password']}),
    'http-auth-password': secret('http-auth-password', {description: 'Basic-auth password Pipedrive sends with each delivery.'}),
    'http-auth-user': Flags.string({description: 'Basic-auth user Pipedrive sends with each delivery.'}),
    instance: instanceIdFlag({description: 'Reuse this instance instead of creating one.', exclusive: ['name']}),
    replace: Flags.boolean({description: 'Replace webhooks of the same URL, event and version whose user or basic auth differ (the new webhook first, then the old one).'}),
    rollback: Flags.boolean({description: 'If a step fails, delete what this run created (looking up on the server any create whose outcome was unknown).'}),
    update: Flags.boolean({relationships: [{flags: ['instance'], type: 'none'}], description: 'When an instance named --name exists with other settings (callback URL, events mode, polling), change it to these settings (PATCH) instead of stopping with exit 5.'}),
    'user-id': Flags.integer({description: 'Pipedrive user whose permissions gate the events (use an admin for everything).'}),
    version: Flags.string({description: 'Webhook version (default: 1.0, the format Cloud Elements expects).', options: ['1.0', '2.0']}),
    yes: Flags.boolean({char: 'y', description: 'Skip the final confirmation.'}),
    ...elementsFlags,
    ...pipedriveFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<SetupResult> {
    const {flags} = this
    for (const c of flags.config ?? []) registerConfigSecret(c)
    this.checkHttpAuth()
    const interactive = prompts.interactive(this.jsonEnabled())
    // with --yes, nothing that has a default is asked (platform, domain, events mode, events, which instance)
    const ask = interactive && !flags.yes
    /** What the wizard asked, by flag name: the resume command repeats it (secrets as variables). */
    const typed: Record<string, string> = {}
    const extra = interactive ? await this.askCredentials(ask, typed) : {}
    const settings = this.settings(extra)
    const opts = {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    const base = await elementsBase(settings)
    const ce = await elementsClient(settings, opts)
    const pd = await pipedriveClient(settings, opts)

    let instanceId = flags.instance
    let spec: InstanceSpec | undefined
    if (!instanceId && ask && !flags.name) instanceId = await this.pickInstance(ce)
    if (!instanceId) {
      if (ask && !this.argv.some(a => a === '--events' || a.startsWith('--events='))) {
        flags.events = await prompts.select('Events mode:', [
          {name: 'webhook (Pipedrive pushes changes to the platform)', value: 'webhook'},
          {name: 'polling (the platform polls Pipedrive)', value: 'polling'},
          {name: 'none', value: 'none'},
        ], 'webhook')
      }

      spec = await collectInstanceSpec(flags, interactive ? prompts : undefined)
      registerSecret(spec.password)
    }

    let events = flags.event?.length ? flags.event : ['*.*']
    if (ask && !flags.event?.length && (spec?.events ?? 'webhook') === 'webhook') {
      events = await prompts.checkbox('Pipedrive events to send to the platform:', COMMON_EVENTS.map(e => ({checked: e === '*.*', value: e})))
      if (events.length === 0) events = ['*.*']
    }

    // validate every event before anything is created (the webhooks deliver to the instance: version 1.0 by default)
    for (const e of events) parseEvent(e, {target: 'elements', version: flags.version})
    // what webhook add warns about, once, when this run makes webhooks (before: not said at all)
    if ((spec?.events ?? 'webhook') === 'webhook' && events.some(e => splitEvent(e).object === 'stage')) this.warn(STAGE_WARNING)
    const auth = flags['generate-auth'] ? generateAuth() : undefined

    if (ask) {
      const what = instanceId ? `use instance ${instanceId}` : `create instance "${spec!.name}" (events: ${spec!.events})`
      const hooks = (spec?.events ?? 'webhook') === 'webhook' ? ` and register ${events.length} Pipedrive webhook(s) (${events.join(', ')})` : ''
      if (!(await prompts.confirm(`Set up: ${what}${hooks}?`, true))) throw usageError('Cancelled.', undefined, 'cancelled')
    }

    const state = newSetupState()
    const run: Run = {
      auth, events, pickedInstance: flags.instance ? undefined : instanceId, spec, state, typed,
    }
    const stop = this.whenInterrupted(() => this.interruptReport(run))
    try {
      await runSetup({
        base,
        ce,
        checkpoint: () => stop.throwIfInterrupted(),
        events,
        instanceId,
        log: line => this.progress(line),
        onInstance: s => this.rememberInstance(s, base),
        pd,
        replace: flags.replace,
        spec,
        state,
        update: flags.update,
        webhook: {
          httpAuthPassword: auth?.password ?? flags['http-auth-password'],
          httpAuthUser: auth?.user ?? flags['http-auth-user'],
          userId: flags['user-id'],
          version: flags.version,
        },
      })
    } catch (error) {
      if (!(error instanceof SetupError)) throw error
      throw await this.failed(error, {ce, pd}, run)
    }

    const inst = state.instance!
    if (interactive && Object.keys(extra).length > 0 && await prompts.confirm(`Save what you typed (${Object.keys(extra).map(k => SETTINGS[k as SettingKey].label).join(', ')}) in profile "${this.profile}"?`, true)) {
      await this.store.updateProfile(this.profile, p => ({...p, ...extra}))
    }

    this.log(`Instance ${inst.id}${inst.name ? ` "${inst.name}"` : ''} (${inst.created ? 'created' : (inst.updated ? 'updated' : 'existing')}, events: ${state.events})`)
    this.log(`Callback URL: ${state.callbackUrl}`)
    for (const w of state.webhooks) this.log(`Webhook ${w.id}: ${w.event} (v${w.version}) ${w.created ? 'created' : 'kept'}, ${w.active ? 'active' : 'INACTIVE'}${w.replaced ? ` (replaced ${w.replaced.join(', ')})` : ''}`)
    if (state.skipped) this.log(state.skipped)
    if (auth) this.log(`Basic auth sent by Pipedrive (shown once): user ${auth.user}, password ${auth.password}`)
    const next = state.events === 'webhook'
      ? `pdhooks webhook list --url ${shellQuote(state.callbackUrl!)}`
      : `pdhooks instance get ${inst.id}`
    this.log(state.events === 'webhook'
      ? `Next: change a record in Pipedrive, then check the webhooks' LAST STATUS and HEALTH with: ${next}`
      : `Next: the platform ${state.events === 'polling' ? 'polls Pipedrive and posts what changed' : 'sends no events until they are turned on'}; check the instance with: ${next}`)
    return {
      callbackUrl: state.callbackUrl!,
      ...(auth ? {generatedAuth: auth} : {}),
      instance: {
        created: inst.created, events: state.events, id: inst.id, name: inst.name, ...(inst.updated ? {updated: true} : {}),
      },
      next,
      ...(state.skipped ? {skipped: state.skipped} : {}),
      webhooks: state.webhooks,
    }
  }

  /**
   * On a terminal: what neither flags, variables nor the profile give. The platform and the Pipedrive company domain
   * only when `ask` (not with --yes: they have defaults); the secrets always (they are required).
   */
  private async askCredentials(ask: boolean, typed: Record<string, string>): Promise<Partial<Record<SettingKey, string>>> {
    const settings = this.settings()
    const extra: Partial<Record<SettingKey, string>> = {}
    if (ask && !(await settings.value('elementsUrl'))) {
      extra.elementsUrl = await prompts.select('Platform:', PLATFORMS, 'us')
    }

    const platform = (extra.elementsUrl ?? await settings.value('elementsUrl') ?? '').startsWith('sap') ? 'SAP Open Connectors' : 'Cloud Elements / Open Connectors'
    if (!(await settings.value('userSecret'))) extra.userSecret = await prompts.password(`${platform} user secret:`)
    if (!(await settings.value('orgSecret'))) extra.orgSecret = await prompts.password(`${platform} organization secret:`)
    if (!(await settings.value('pipedriveToken')) && !(await settings.value('pipedriveAccessToken'))) {
      extra.pipedriveToken = await prompts.password('Pipedrive API token:')
    }

    if (ask && !(await settings.value('pipedriveUrl'))) {
      const domain = (await prompts.input('Pipedrive company domain (acme for acme.pipedrive.com; empty for api.pipedrive.com):', {
        validate(v) {
          try {
            if (v.trim()) normalizePipedriveUrl(v)
            return true
          } catch (error) {
            return (error as Error).message
          }
        },
      })).trim()
      if (domain) extra.pipedriveUrl = domain
    }

    for (const [k, v] of Object.entries(extra)) if (v) typed[SETTINGS[k as SettingKey].flag] = v

    for (const [k, v] of Object.entries(extra)) if (SETTINGS[k as SettingKey].secret) registerSecret(v)
    return Object.fromEntries(Object.entries(extra).filter(([, v]) => v)) as Partial<Record<SettingKey, string>>
  }

  /** The instance becomes the profile's current one as soon as it exists (a later failure or Ctrl-C never loses it). */
  private async rememberInstance(state: SetupState, base: string): Promise<void> {
    const inst = state.instance!
    await this.store.updateProfile(this.profile, p => ({
      ...p, instance: {
        elementsUrl: base, id: inst.id, name: inst.name ?? undefined, token: state.instanceToken,
      },
    }))
  }

  /** The values a resume command repeats: the flags, what the wizard asked, generated credentials already in use. */
  private resumeValues(run: Run): Record<string, unknown> {
    const v: Record<string, unknown> = {...this.flags, ...run.typed}
    const {spec} = run
    if (spec) {
      Object.assign(v, {
        'callback-url': spec.callbackUrl, events: spec.events, name: spec.name, 'pipedrive-password': spec.password,
      })
      // an email from PDHOOKS_PIPEDRIVE_EMAIL comes from there again
      if (this.flags['pipedrive-email'] || !process.env.PDHOOKS_PIPEDRIVE_EMAIL) v['pipedrive-email'] = spec.email
    }

    // credentials generated for webhooks that exist now must be sent again, not new ones
    if (run.auth && run.state.webhooks.some(w => w.created)) {
      delete v['generate-auth']
      v['http-auth-user'] = run.auth.user
      v['http-auth-password'] = run.auth.password
    }

    return v
  }

  private resume(run: Run): Resume {
    const id = run.state.instance?.id ?? (run.pickedInstance ? Number(run.pickedInstance) : undefined)
    return resumeCommand(this.resumeValues(run), {
      events: run.events, instanceFlags: Object.keys(instanceCreateFlags), instanceId: id, json: this.jsonEnabled(), secretEnv: secretFlagEnv,
    })
  }

  /** What exists, as lines for people and as data for --json. */
  private doneSoFar(run: Run): {created: Record<string, unknown>; lines: string[]} {
    const {state} = run
    const inst = state.instance
    const lines: string[] = []
    if (inst) {
      lines.push(`Already done: instance ${inst.id} (${inst.created ? 'created by this run' : (inst.updated ? 'updated by this run' : 'existing')})${state.webhooks.length > 0 ? `, webhooks ${state.webhooks.map(w => `${w.id} (${w.event}, ${w.created ? 'created' : 'kept'})`).join(', ')}` : ''}.`)
    }

    const p = state.pending
    if (p) {
      const what = p.kind === 'instance' ? `instance "${p.name}"` : `webhook ${p.event} → ${p.identity.url}`
      if (p.outcome) {
        lines.push(`${what[0].toUpperCase()}${what.slice(1)} may exist: its create failed without a clear answer${p.outcome === 'not-found-yet' ? ' and it was not found yet' : ' and the lookup failed'}. Running setup again finds it (${p.kind === 'instance' ? 'by name' : 'by URL and event'}) and never makes a second one.`)
      } else {
        lines.push(`In flight when stopped (may or may not exist): ${what}.`)
      }
    }

    if (run.auth && state.webhooks.some(w => w.created)) {
      lines.push(`Basic auth sent by Pipedrive to the webhooks created (shown once): user ${run.auth.user}, password ${run.auth.password}. Set PDHOOKS_HTTP_AUTH_PASSWORD to it to resume.`)
    }

    return {
      created: {
        instance: inst ? {created: inst.created, id: inst.id, ...(inst.updated ? {updated: true} : {})} : null,
        webhooks: state.webhooks.map(w => ({created: w.created, id: w.id})),
        ...(p
          ? {
            pending: p.kind === 'instance'
              ? {kind: p.kind, name: p.name, outcome: p.outcome ?? 'in-flight'}
              : {
                event: p.event, kind: p.kind, outcome: p.outcome ?? 'in-flight', url: p.identity.url,
              },
          }
          : {}),
      },
      lines,
    }
  }

  private resumeLines(r: Resume): string[] {
    const lines = [`Resume with: ${r.command}`]
    if (r.variables.length > 0) lines.push(`It reads ${r.variables.map(v => `${v.name} (${v.for})`).join(', ')}: export ${r.variables.length > 1 ? 'them' : 'it'} first.`)
    return lines
  }

  /** What an interrupted setup did: the instance and webhooks so far, what was in flight, the resume command. */
  private interruptReport(run: Run): InterruptReport {
    const {created, lines} = this.doneSoFar(run)
    const r = this.resume(run)
    const inst = run.state.instance
    const made = run.state.webhooks.filter(w => w.created).length
    if (inst?.created) lines.push(`Or undo what this run created: pdhooks instance delete ${inst.id} --with-webhooks --yes`)
    return {
      details: {created, resume: r.command, resumeVariables: r.variables},
      lines: [...lines, ...this.resumeLines(r)],
      message: inst
        ? `instance ${inst.id} ${inst.created ? 'created' : (inst.updated ? 'updated' : 'in use')}, ${made} webhook(s) created`
        : 'no instance yet',
    }
  }

  /** Reports what exists and how to resume, or rolls back with --rollback. */
  private async failed(error: SetupError, clients: Parameters<typeof rollback>[0], run: Run): Promise<PdhooksError> {
    const {state, step} = error
    let rolledBack: RollbackResult | undefined
    const {created, lines} = this.doneSoFar(run)
    if (this.flags.rollback && hasSomethingToRollBack(state)) {
      this.logToStderr('Rolling back what this run created…')
      rolledBack = await rollback(clients, state)
      for (const w of rolledBack.webhooks) this.logToStderr(`  webhook ${w.id}: ${w.status}${w.found ? ' (found on the server: its create had failed without a clear answer)' : ''}${w.error ? ` (${w.error})` : ''}`)
      const i = rolledBack.instance
      if (i) this.logToStderr(`  instance ${i.id}: ${i.status}${i.found ? ' (found on the server: its create had failed without a clear answer)' : ''}${i.error ? ` (${i.error})` : ''}`)
      for (const u of rolledBack.undetermined) this.logToStderr(`  could not determine ${u}`)
      if (i?.status === 'deleted') await this.store.clearInstance(this.profile, i.id)
    } else {
      for (const l of lines) this.logToStderr(l)
    }

    const r = rolledBack ? undefined : this.resume(run)
    if (r) for (const l of this.resumeLines(r)) this.logToStderr(l)
    return new PdhooksError(error.message, {
      code: error.code,
      details: {
        report: {
          ...(error.details?.report as Record<string, unknown> | undefined),
          created,
          resume: r?.command ?? null,
          ...(r?.variables.length ? {resumeVariables: r.variables} : {}),
          rolledBack: rolledBack ?? null,
          step,
        },
      },
      exit: error.exit,
      hint: error.hint,
      status: error.status,
    })
  }

  private async pickInstance(ce: Awaited<ReturnType<typeof elementsClient>>): Promise<string | undefined> {
    const list = await ce.listInstances().catch(() => [])
    if (list.length === 0) return undefined
    const choice = await prompts.select<string>('Cloud Elements instance:', [
      {name: 'Create a new instance', value: ''},
      ...list.filter(i => i.element?.key === undefined || i.element.key === 'pipedrive').map(i => ({name: `${i.id} ${i.name ?? ''}`.trim(), value: String(i.id)})),
    ], '')
    return choice || undefined
  }
}
