import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../lib/base-command.js'
import {secret} from '../lib/cli/flags.js'
import {elementsBase, elementsClient, pipedriveClient} from '../lib/clients.js'
import {type SettingKey} from '../lib/config.js'
import {PdhooksError, usageError} from '../lib/errors.js'
import {parseEvent} from '../lib/events.js'
import {elementsFlags, instanceCreateFlags, pipedriveFlags} from '../lib/flags.js'
import {collectInstanceSpec, type EventsMode, type InstanceSpec} from '../lib/instances.js'
import {registerSecret} from '../lib/mask.js'
import {prompts} from '../lib/prompts.js'
import {
  resumeCommand, rollback, type RollbackResult, runSetup, SETUP_SECRET_FLAGS, SetupError, type SetupState,
} from '../lib/setup.js'
import {generateAuth} from '../lib/webhooks.js'

export interface SetupResult {
  callbackUrl: string
  generatedAuth?: {password: string; user: string}
  instance: {created: boolean; events: EventsMode; id: number; name: null | string}
  skipped?: string
  webhooks: SetupState['webhooks']
}

const COMMON_EVENTS = ['*.*', '*.deal', '*.person', '*.organization', '*.activity', '*.note', '*.product', '*.pipeline', '*.stage', '*.user']

export default class Setup extends BaseCommand<typeof Setup> {
  static description = `The whole documented workflow in one command: credentials → Cloud Elements instance → callback URL → Pipedrive webhooks → live check.

On a terminal it is a wizard (it asks for whatever the flags do not give, then for a final confirmation unless --yes); elsewhere every answer comes from flags and variables. Webhooks are idempotent: running setup again keeps what exists. Polling instances skip the webhook step (the platform polls). When a step fails, what already exists is printed with the exact command that resumes; --rollback deletes what this run created instead.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --name crm-events --callback-url https://app.example.com/ce --pipedrive-email ops@example.com --pipedrive-password "$PW" --event "*.deal" --event "*.person" --yes',
    '<%= config.bin %> <%= command.id %> --instance 20931 --event "*.*" --json',
    '<%= config.bin %> <%= command.id %> --name crm-poll --events polling --poll contacts --callback-url https://app.example.com/ce --rollback',
  ]
  static flags = {
    ...instanceCreateFlags,
    event: Flags.string({description: "Pipedrive webhook event ACTION.OBJECT (repeatable; default '*.*').", multiple: true}),
    'generate-auth': Flags.boolean({description: 'Generate basic-auth credentials for the webhooks, printed once.', exclusive: ['http-auth-user', 'http-auth-password']}),
    'http-auth-password': secret('http-auth-password', {description: 'Basic-auth password Pipedrive sends with each delivery.'}),
    'http-auth-user': Flags.string({description: 'Basic-auth user Pipedrive sends with each delivery.'}),
    instance: Flags.string({description: 'Reuse this instance instead of creating one.', exclusive: ['name']}),
    rollback: Flags.boolean({description: 'If a step fails, delete what this run created.'}),
    'user-id': Flags.integer({description: 'Pipedrive user whose permissions gate the events (use an admin for everything).'}),
    version: Flags.string({description: 'Webhook version (default: 1.0, the format Cloud Elements expects).', options: ['1.0', '2.0']}),
    yes: Flags.boolean({char: 'y', description: 'Skip the final confirmation.'}),
    ...elementsFlags,
    ...pipedriveFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<SetupResult> {
    const {flags} = this
    for (const f of SETUP_SECRET_FLAGS) registerSecret((flags as Record<string, unknown>)[f] as string | undefined)
    this.checkHttpAuth()
    if (flags.instance && !/^\d+$/.test(flags.instance)) throw usageError(`Invalid --instance "${flags.instance}": instance ids are numbers.`)
    const interactive = prompts.interactive(this.jsonEnabled())
    const extra = interactive ? await this.askCredentials() : {}
    const settings = this.settings(extra)
    const opts = {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    const base = await elementsBase(settings)
    const ce = await elementsClient(settings, opts)
    const pd = await pipedriveClient(settings, opts)

    let instanceId = flags.instance
    let spec: InstanceSpec | undefined
    if (!instanceId && interactive && !flags.name) instanceId = await this.pickInstance(ce)
    if (!instanceId) {
      if (interactive && !this.argv.some(a => a === '--events' || a.startsWith('--events='))) {
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
    if (interactive && !flags.event?.length && (spec?.events ?? 'webhook') === 'webhook') {
      events = await prompts.checkbox('Pipedrive events to send to the platform:', COMMON_EVENTS.map(e => ({checked: e === '*.*', value: e})))
      if (events.length === 0) events = ['*.*']
    }

    // validate every event before anything is created (callback URLs imply version 1.0)
    for (const e of events) parseEvent(e, {url: 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MQ==', version: flags.version})
    const auth = flags['generate-auth'] ? generateAuth() : undefined

    if (interactive && !flags.yes) {
      const what = instanceId ? `use instance ${instanceId}` : `create instance "${spec!.name}" (events: ${spec!.events})`
      const hooks = (spec?.events ?? 'webhook') === 'webhook' ? ` and register ${events.length} Pipedrive webhook(s) (${events.join(', ')})` : ''
      if (!(await prompts.confirm(`Set up: ${what}${hooks}?`, true))) throw usageError('Cancelled.', undefined, 'cancelled')
    }

    let state: SetupState
    try {
      state = await runSetup({
        base,
        ce,
        events,
        instanceId,
        log: line => this.progress(line),
        pd,
        spec,
        webhook: {
          httpAuthPassword: auth?.password ?? flags['http-auth-password'],
          httpAuthUser: auth?.user ?? flags['http-auth-user'],
          userId: flags['user-id'],
          version: flags.version,
        },
      })
    } catch (error) {
      if (!(error instanceof SetupError)) throw error
      throw await this.failed(error, {ce, pd}, events, base)
    }

    const inst = state.instance!
    await this.store.updateProfile(this.profile, p => ({
      ...p, instance: {
        elementsUrl: base, id: inst.id, name: inst.name ?? undefined, token: state.instanceToken,
      },
    }))
    if (interactive && Object.keys(extra).length > 0 && await prompts.confirm(`Save the credentials you typed in profile "${this.profile}"?`, true)) {
      await this.store.updateProfile(this.profile, p => ({...p, ...extra}))
    }

    this.log(`Instance ${inst.id}${inst.name ? ` "${inst.name}"` : ''} (${inst.created ? 'created' : 'existing'}, events: ${state.events})`)
    this.log(`Callback URL: ${state.callbackUrl}`)
    for (const w of state.webhooks) this.log(`Webhook ${w.id}: ${w.event} (v${w.version}) ${w.created ? 'created' : 'kept'}, ${w.active ? 'active' : 'INACTIVE'}`)
    if (state.skipped) this.log(state.skipped)
    if (auth) this.log(`Basic auth sent by Pipedrive (shown once): user ${auth.user}, password ${auth.password}`)
    return {
      callbackUrl: state.callbackUrl!,
      ...(auth ? {generatedAuth: auth} : {}),
      instance: {
        created: inst.created, events: state.events, id: inst.id, name: inst.name,
      },
      ...(state.skipped ? {skipped: state.skipped} : {}),
      webhooks: state.webhooks,
    }
  }

  /** On a terminal: the secrets that neither flags nor variables nor the profile give. */
  private async askCredentials(): Promise<Partial<Record<SettingKey, string>>> {
    const settings = this.settings()
    const extra: Partial<Record<SettingKey, string>> = {}
    if (!(await settings.value('userSecret'))) extra.userSecret = await prompts.password('Cloud Elements / Open Connectors user secret:')
    if (!(await settings.value('orgSecret'))) extra.orgSecret = await prompts.password('Cloud Elements / Open Connectors organization secret:')
    if (!(await settings.value('pipedriveToken')) && !(await settings.value('pipedriveAccessToken'))) {
      extra.pipedriveToken = await prompts.password('Pipedrive API token:')
    }

    for (const v of Object.values(extra)) registerSecret(v)
    return Object.fromEntries(Object.entries(extra).filter(([, v]) => v))
  }

  /** Reports what exists and how to resume, or rolls back with --rollback. */
  private async failed(error: SetupError, clients: Parameters<typeof rollback>[0], events: string[], base: string): Promise<PdhooksError> {
    const {state, step} = error
    const inst = state.instance
    const created = {instance: inst ? {created: inst.created, id: inst.id} : null, webhooks: state.webhooks.map(w => ({created: w.created, id: w.id}))}
    let rolledBack: RollbackResult | undefined
    if (this.flags.rollback && (inst?.created || state.webhooks.some(w => w.created))) {
      this.logToStderr('Rolling back what this run created…')
      rolledBack = await rollback(clients, state)
      for (const w of rolledBack.webhooks) this.logToStderr(`  webhook ${w.id}: ${w.status}${w.error ? ` (${w.error})` : ''}`)
      if (rolledBack.instance) this.logToStderr(`  instance ${rolledBack.instance.id}: ${rolledBack.instance.status}${rolledBack.instance.error ? ` (${rolledBack.instance.error})` : ''}`)
      if (rolledBack.instance?.status === 'deleted') await this.store.clearInstance(this.profile, rolledBack.instance.id)
    } else if (inst) {
      this.logToStderr(`Already done: instance ${inst.id} (${inst.created ? 'created by this run' : 'existing'})${state.webhooks.length > 0 ? `, webhooks ${state.webhooks.map(w => w.id).join(', ')}` : ''}.`)
      if (inst.created) {
        await this.store.updateProfile(this.profile, p => ({
          ...p, instance: {
            elementsUrl: base, id: inst.id, name: inst.name ?? undefined, token: state.instanceToken,
          },
        }))
      }
    }

    const resume = rolledBack ? undefined : resumeCommand(this.flags as Record<string, unknown>, {events, instanceId: inst?.id, json: this.jsonEnabled()})
    if (resume) this.logToStderr(`Resume with: ${resume}`)
    return new PdhooksError(error.message, {
      code: error.code,
      details: {
        report: {
          created, resume: resume ?? null, rolledBack: rolledBack ?? null, step,
        },
      },
      exit: error.exit,
      hint: error.hint,
      status: error.status,
    })
  }

  /** The exact command that resumes: the same flags, with --instance once the instance exists (secrets elided). */

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
