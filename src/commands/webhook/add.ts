import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {callbackUrl} from '../../lib/callback-url.js'
import {secret} from '../../lib/cli/flags.js'
import {elementsBase, pipedriveClient} from '../../lib/clients.js'
import {usageError} from '../../lib/errors.js'
import {parseEvent} from '../../lib/events.js'
import {pipedriveFlags} from '../../lib/flags.js'
import {registerSecret} from '../../lib/mask.js'
import {checkTargetUrl} from '../../lib/urls.js'
import {addWebhook, viewWebhook, type WebhookView} from '../../lib/webhooks.js'

export interface WebhookAddResult {
  created: boolean
  generatedAuth?: {password: string; user: string}
  recovered?: boolean
  warnings: string[]
  webhook: WebhookView
}

export default class WebhookAdd extends BaseCommand<typeof WebhookAdd> {
  static args = {
    event: Args.string({description: "ACTION.OBJECT, e.g. '*.deal', 'change.deal', 'added.person', '*.*'", required: true}),
  }
  static description = `Register a Pipedrive webhook (idempotent).

The target is --url, or the callback URL of a Cloud Elements / Open Connectors instance (--instance ID, or the profile's current instance). Version 1.0 is used for v1 actions (added, updated, merged, deleted) and for Cloud Elements callback URLs, else 2.0. An identical webhook (same URL, action, object and version) is reported instead of created again.`
  static examples = [
    "<%= config.bin %> <%= command.id %> '*.deal' --url https://example.com/hook",
    '<%= config.bin %> <%= command.id %> change.person --url https://example.com/hook --generate-auth',
    "<%= config.bin %> <%= command.id %> '*.*' --instance 20931",
    '<%= config.bin %> <%= command.id %> updated.deal --url https://example.com/hook --version 1.0 --json',
  ]
  static flags = {
    'allow-duplicate': Flags.boolean({description: 'Create even when an identical webhook exists.'}),
    'elements-url': Flags.string({description: 'Cloud Elements / Open Connectors base for --instance (PDHOOKS_ELEMENTS_URL).'}),
    'generate-auth': Flags.boolean({description: 'Generate a random basic-auth user and password, register them and print them once.', exclusive: ['http-auth-password', 'http-auth-user']}),
    'http-auth-password': secret('http-auth-password', {description: 'Basic-auth password Pipedrive sends to the target.'}),
    'http-auth-user': Flags.string({description: 'Basic-auth user Pipedrive sends to the target.'}),
    instance: Flags.string({description: 'Target the callback URL of this Cloud Elements instance id.', exclusive: ['url']}),
    name: Flags.string({description: 'Webhook name (default "pdhooks <event>").'}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    url: Flags.string({description: 'Subscription URL that receives the deliveries.'}),
    'user-id': Flags.integer({description: 'Pipedrive user whose permissions gate the events (not a filter; use an admin for everything).'}),
    version: Flags.string({description: 'Webhook version (default: inferred).', options: ['1.0', '2.0']}),
  }

  async run(): Promise<WebhookAddResult> {
    const {args, flags} = this
    registerSecret(flags['http-auth-password'])
    this.checkHttpAuth()

    const url = await this.target()
    const event = parseEvent(args.event, {url, version: flags.version})
    for (const w of event.warnings) this.warn(w)
    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    const res = await addWebhook(client, {
      allowDuplicate: flags['allow-duplicate'],
      event,
      generateAuth: flags['generate-auth'],
      httpAuthPassword: flags['http-auth-password'],
      httpAuthUser: flags['http-auth-user'],
      name: flags.name,
      url,
      userId: flags['user-id'],
    })
    const view = viewWebhook(res.webhook)
    const label = `${view.event} (v${view.version}) → ${view.target}`
    if (res.created) {
      this.log(`Created webhook ${view.id}: ${label}${res.recovered ? ' (confirmed after the create call failed)' : ''}`)
    } else {
      this.log(`Webhook ${view.id} already exists: ${label}. Nothing to do.`)
    }

    if (res.generatedAuth) {
      this.log(`Basic auth for your receiver (shown once): user ${res.generatedAuth.user}, password ${res.generatedAuth.password}`)
    }

    return {
      created: res.created,
      ...(res.generatedAuth ? {generatedAuth: res.generatedAuth} : {}),
      ...(res.recovered ? {recovered: true} : {}),
      warnings: event.warnings,
      webhook: view,
    }
  }

  private async target(): Promise<string> {
    const {flags} = this
    if (flags.url) return checkTargetUrl(flags.url)
    const settings = this.settings()
    if (flags.instance) {
      if (!/^\d+$/.test(flags.instance)) throw usageError(`Invalid --instance "${flags.instance}": instance ids are numbers.`)
      return callbackUrl(await elementsBase(settings), flags.instance)
    }

    const current = await settings.currentInstance()
    if (current) {
      const base = flags['elements-url'] || !current.elementsUrl ? await elementsBase(settings) : current.elementsUrl
      return callbackUrl(base, current.id)
    }

    throw usageError('No target: give --url, or --instance ID for a Cloud Elements instance.', 'Or create one with "pdhooks instance create" (it becomes the current instance).', 'missing_value')
  }
}
