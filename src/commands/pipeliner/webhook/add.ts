import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../../lib/cli/base-command.js'
import {pipelinerFlags, pipelinerOptionFlags, secret} from '../../../lib/cli/flags.js'
import {pipelinerClient} from '../../../lib/core/clients.js'
import {checkTargetUrl} from '../../../lib/core/urls.js'
import {type DeleteResult} from '../../../lib/pipedrive/webhooks.js'
import {eventTable, parsePipelinerEvents} from '../../../lib/pipeliner/events.js'
import {
  addPipelinerWebhook, buildOptions, checkSignature, type PipelinerWebhookView, viewPipelinerWebhook,
} from '../../../lib/pipeliner/webhooks.js'

export interface PipelinerWebhookAddResult {
  created: boolean
  /** The signature key made by --sign, shown once (only when the webhook was created). */
  generatedSignature?: string
  recovered?: boolean
  /** With --replace: the old webhooks, deleted after the new one was created. */
  replaced?: DeleteResult[]
  warnings: string[]
  webhook: PipelinerWebhookView
}

export default class PipelinerWebhookAdd extends BaseCommand<typeof PipelinerWebhookAdd, PipelinerWebhookAddResult> {
  static description = `Register a Pipeliner CRM webhook (idempotent).

Sends POST /entities/Webhooks with {url, events, insecure_ssl, signature?, options?}. A webhook with the same URL, the same set of events and the same settings is reported instead of created again ("created": false). One whose insecure_ssl, signature or options differ is a conflict (exit 5) naming the differences: --replace creates the new webhook first, then deletes the old one. A create that fails ambiguously (timeout, 429 or 5xx answer) is looked up before it is ever sent again.

Events are *, Entity.* or Entity.Event (any case; shown in Pipeliner's spelling):
${eventTable()}

Options: --on-field-change, --filter/--filter-op, --expand, --load-only set options.entity.<Entity>; "related_entity:" as the entity of --expand/--load-only sets options.related_entity. --options-file gives a whole options object; the flags are merged over it (flags win; lists given by flags replace the file's).`
  static examples = [
    "<%= config.bin %> <%= command.id %> --event Account.Create --event 'Opportunity.*' --url https://example.com/pl",
    '<%= config.bin %> <%= command.id %> --event Opportunity.Update --url https://example.com/pl --sign --on-field-change Opportunity:value,closing_date',
    "<%= config.bin %> <%= command.id %> --event 'Opportunity.*' --url https://example.com/pl --filter Opportunity.status=1 --filter-op Opportunity.status=eq",
    '<%= config.bin %> <%= command.id %> --event Contact.Update --url https://example.com/pl --expand Contact:primary_account --load-only Contact:id,email1 --skip-key my-integration',
    "<%= config.bin %> <%= command.id %> --event 'CustomEntity.*' --custom-entity Invoice --url https://example.com/pl --chunk-size 20 --chunk-delay 5",
    "<%= config.bin %> <%= command.id %> --event '*' --url https://example.com/pl --options-file options.json --signature 01234567-abcd-dcba-ffff-000000000000 --json",
  ]
  static flags = {
    event: Flags.string({description: 'Event: *, Entity.* or Entity.Event, e.g. Account.Create (repeatable, or comma-separated).', multiple: true, required: true}),
    'insecure-ssl': Flags.boolean({default: false, description: 'Pipeliner does not validate the TLS certificate of --url when delivering (not recommended).'}),
    replace: Flags.boolean({description: 'Replace a webhook with the same URL and events whose insecure_ssl, signature or options differ (new first, then old).'}),
    sign: Flags.boolean({exclusive: ['signature'], description: 'Generate a UUID signature key, register it and print it once (deliveries carry WebHook-Signature). Not with --signature.'}),
    signature: secret('signature', {description: 'Signature key (a UUID): deliveries carry WebHook-Signature = HMAC-SHA256(key, body).'}),
    url: Flags.string({description: 'URL that receives the deliveries.', required: true}),
    ...pipelinerOptionFlags,
    ...pipelinerFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<PipelinerWebhookAddResult> {
    const {flags} = this
    const url = checkTargetUrl(flags.url)
    const signature = flags.signature === undefined ? undefined : checkSignature(flags.signature)
    const parsed = parsePipelinerEvents(flags.event)
    const built = buildOptions({
      chunkDelay: flags['chunk-delay'],
      chunkSize: flags['chunk-size'],
      customEntity: flags['custom-entity'],
      expand: flags.expand,
      filter: flags.filter,
      filterOp: flags['filter-op'],
      loadOnly: flags['load-only'],
      onFieldChange: flags['on-field-change'],
      optionsFile: flags['options-file'],
      skipKey: flags['skip-key'],
    }, parsed.events)
    const warnings = [...parsed.warnings, ...built.warnings]
    if (flags['insecure-ssl']) warnings.push(`--insecure-ssl: Pipeliner will not validate the TLS certificate of ${new URL(url).host} when delivering (not recommended).`)
    for (const w of warnings) this.warn(w)
    const client = await pipelinerClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    const res = await addPipelinerWebhook(client, {
      events: parsed.events,
      insecureSsl: flags['insecure-ssl'],
      options: built.options,
      replace: flags.replace,
      sign: flags.sign,
      signature,
      url,
    })
    for (const w of res.warnings) {
      warnings.push(w)
      this.warn(w)
    }

    const view = viewPipelinerWebhook(res.webhook)
    const label = `${view.events.join(', ')} → ${view.url}`
    if (res.created) {
      this.log(`Created Pipeliner webhook ${view.id}: ${label}${res.recovered ? ' (confirmed after the create call failed)' : ''}`)
    } else {
      this.log(`Pipeliner webhook ${view.id} already exists: ${label}. Nothing to do.`)
    }

    for (const r of res.replaced ?? []) this.log(`Replaced Pipeliner webhook ${r.id}${r.status === 'gone' ? ' (it was already gone)' : ' (deleted)'}`)
    if (res.generatedSignature) {
      this.log(`Signature key for your receiver (shown once; e.g. pdhooks listen --pipeliner-key KEY): ${res.generatedSignature}`)
    }

    return {
      created: res.created,
      ...(res.generatedSignature ? {generatedSignature: res.generatedSignature} : {}),
      ...(res.recovered ? {recovered: true} : {}),
      ...(res.replaced ? {replaced: res.replaced} : {}),
      warnings,
      webhook: view,
    }
  }
}
