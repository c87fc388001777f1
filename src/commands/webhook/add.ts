import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {
  instanceIdFlag, pipedriveFlags, secret, settingFlag,
} from '../../lib/cli/flags.js'
import {elementsBase, pipedriveClient} from '../../lib/core/clients.js'
import {usageError} from '../../lib/core/errors.js'
import {shellQuote} from '../../lib/core/shell.js'
import {checkTargetUrl} from '../../lib/core/urls.js'
import {callbackUrl} from '../../lib/elements/callback-url.js'
import {checkInstanceTarget} from '../../lib/elements/instances.js'
import {parseEvent, targetOf} from '../../lib/pipedrive/events.js'
import {
  addWebhook, type DeleteResult, viewWebhook, type WebhookView,
} from '../../lib/pipedrive/webhooks.js'

export interface WebhookAddResult {
  created: boolean
  generatedAuth?: {password: string; user: string}
  /** What to run next (check the deliveries). */
  next: string
  recovered?: boolean
  /** With --replace: the old webhooks, deleted after the new one was created. */
  replaced?: DeleteResult[]
  warnings: string[]
  webhook: WebhookView
}

export default class WebhookAdd extends BaseCommand<typeof WebhookAdd, WebhookAddResult> {
  static args = {
    event: Args.string({description: "ACTION.OBJECT, e.g. '*.deal', 'change.deal', 'added.person', '*.*'", required: true}),
  }
  static description = `Register a Pipedrive webhook (idempotent).

The target is --url, or the callback URL of a Cloud Elements / Open Connectors instance (--instance ID, or the profile's current instance; it is checked to exist when Cloud Elements credentials are available). Version 1.0 is used for v1 actions (added, updated, merged, deleted) and for Cloud Elements callback URLs, else 2.0.

An identical webhook (same URL, action, object and version, same user id and basic auth) is reported instead of created again. One with the same URL, action, object and version but another user id or basic auth is a conflict (exit 5) naming the differences: --replace creates the new webhook first, then deletes the old one (Pipedrive has no update call). A create that fails ambiguously (timeout, 429 or 5xx answer) is looked up before it is ever sent again.`
  static examples = [
    "<%= config.bin %> <%= command.id %> '*.deal' --url https://example.com/hook",
    '<%= config.bin %> <%= command.id %> change.person --url https://example.com/hook --generate-auth',
    "<%= config.bin %> <%= command.id %> '*.*' --instance 20931",
    '<%= config.bin %> <%= command.id %> change.person --url https://example.com/hook --http-auth-user alice --http-auth-password "$PW" --replace',
    '<%= config.bin %> <%= command.id %> updated.deal --url https://example.com/hook --version 1.0 --json',
  ]
  static flags = {
    'allow-duplicate': Flags.boolean({description: 'Create even when an identical webhook exists.', exclusive: ['replace']}),
    'elements-url': settingFlag('elementsUrl', {description: 'Cloud Elements / Open Connectors base for --instance (PDHOOKS_ELEMENTS_URL).'}),
    'generate-auth': Flags.boolean({description: 'Generate a random basic-auth user and password, register them and print them once.', exclusive: ['http-auth-password', 'http-auth-user']}),
    'http-auth-password': secret('http-auth-password', {description: 'Basic-auth password Pipedrive sends to the target.'}),
    'http-auth-user': Flags.string({description: 'Basic-auth user Pipedrive sends to the target.'}),
    instance: instanceIdFlag({description: 'Target the callback URL of this Cloud Elements instance id.', exclusive: ['url']}),
    name: Flags.string({description: 'Webhook name (default "pdhooks <event>").'}),
    replace: Flags.boolean({description: 'Replace a webhook of the same URL, event and version whose user id or basic auth differ (new first, then old).'}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    url: Flags.string({description: 'Subscription URL that receives the deliveries.'}),
    'user-id': Flags.integer({description: 'Pipedrive user whose permissions gate the events (not a filter; use an admin for everything).'}),
    version: Flags.string({description: 'Webhook version (default: inferred).', options: ['1.0', '2.0']}),
  }

  async run(): Promise<WebhookAddResult> {
    const {args, flags} = this
    this.checkHttpAuth()

    const {base, instance, url} = await this.target()
    const event = parseEvent(args.event, {target: instance ? 'elements' : targetOf(url), version: flags.version})
    for (const w of event.warnings) this.warn(w)
    const opts = {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent}
    // missing Pipedrive credentials are exit 3 before any request
    const client = await pipedriveClient(this.settings(), opts)
    const targetWarnings = instance && base ? await checkInstanceTarget(this.settings(), instance, base, opts) : []
    for (const w of targetWarnings) this.warn(w)
    const res = await addWebhook(client, {
      allowDuplicate: flags['allow-duplicate'],
      event,
      generateAuth: flags['generate-auth'],
      httpAuthPassword: flags['http-auth-password'],
      httpAuthUser: flags['http-auth-user'],
      name: flags.name,
      replace: flags.replace,
      url,
      userId: flags['user-id'],
    })
    const warnings = [...event.warnings, ...targetWarnings, ...res.warnings]
    for (const w of res.warnings) this.warn(w)
    const view = viewWebhook(res.webhook)
    const label = `${view.event} (v${view.version}) → ${view.target}`
    if (res.created) {
      this.log(`Created webhook ${view.id}: ${label}${res.recovered ? ' (confirmed after the create call failed)' : ''}`)
    } else {
      this.log(`Webhook ${view.id} already exists: ${label}. Nothing to do.`)
    }

    for (const r of res.replaced ?? []) this.log(`Replaced webhook ${r.id}${r.status === 'gone' ? ' (it was already gone)' : ' (deleted)'}`)
    if (res.generatedAuth) {
      this.log(`Basic auth for your receiver (shown once): user ${res.generatedAuth.user}, password ${res.generatedAuth.password}`)
    }

    const next = `pdhooks webhook list --url ${shellQuote(url)}`
    this.log(`Next: change ${view.event.endsWith('.*') ? 'a record' : `a ${res.webhook.event_object}`} in Pipedrive, then check its LAST STATUS and HEALTH with: ${next}`)
    return {
      created: res.created,
      ...(res.generatedAuth ? {generatedAuth: res.generatedAuth} : {}),
      next,
      ...(res.recovered ? {recovered: true} : {}),
      ...(res.replaced ? {replaced: res.replaced} : {}),
      warnings,
      webhook: view,
    }
  }

  /** The subscription URL (no network), and the instance it aims at, if any. */
  private async target(): Promise<{base?: string; instance?: string; url: string}> {
    const {flags} = this
    if (flags.url) return {url: checkTargetUrl(flags.url)}
    const settings = this.settings()
    if (flags.instance) {
      const base = await elementsBase(settings)
      return {base, instance: flags.instance, url: callbackUrl(base, flags.instance)}
    }

    const current = await settings.currentInstance()
    if (current) {
      const base = flags['elements-url'] || !current.elementsUrl ? await elementsBase(settings) : current.elementsUrl
      return {base, instance: String(current.id), url: callbackUrl(base, current.id)}
    }

    throw usageError('No target: give --url, or --instance ID for a Cloud Elements instance.', 'Or create one with "pdhooks instance create" (it becomes the current instance).', 'missing_value')
  }
}
