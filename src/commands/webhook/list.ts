import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {pipedriveClient} from '../../lib/clients.js'
import {splitEvent} from '../../lib/events.js'
import {pipedriveFlags} from '../../lib/flags.js'
import {ago, style, table} from '../../lib/output.js'
import {
  filterWebhooks, parseDate, viewWebhook, type WebhookView,
} from '../../lib/webhooks.js'

export interface WebhookListResult {
  total: number
  webhooks: WebhookView[]
}

const HEALTH_STYLE: Record<string, (s: string) => string> = {
  'at-risk': style.red,
  failing: style.red,
  inactive: style.yellow,
  'never-delivered': style.dim,
  ok: style.green,
}

export default class WebhookList extends BaseCommand<typeof WebhookList> {
  static description = `List Pipedrive webhooks with their delivery health.

LAST STATUS is the HTTP status of the last delivery, or - when nothing answered (never delivered, or no HTTP answer: a timeout or a refused connection; --json shows 0 then). HEALTH is ok, failing (last status not 2xx), inactive, never-delivered, or at-risk (failing and older than 48 h: Pipedrive deletes a webhook after 3 days without a successful delivery). Cloud Elements targets are shown with their decoded instance id.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --unhealthy',
    "<%= config.bin %> <%= command.id %> --event '*.deal' --url example.com --json",
  ]
  static flags = {
    event: Flags.string({description: "Only webhooks matching ACTION.OBJECT ('*' wildcards, either vocabulary)."}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    unhealthy: Flags.boolean({description: 'Only webhooks whose health is not ok.'}),
    url: Flags.string({description: 'Only webhooks whose URL contains this text.'}),
  }

  async run(): Promise<WebhookListResult> {
    const {flags} = this
    if (flags.event) splitEvent(flags.event)
    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    const all = await client.listWebhooks()
    const now = Date.now()
    const views = filterWebhooks(all, {event: flags.event, unhealthy: flags.unhealthy, url: flags.url}, now).map(w => viewWebhook(w, now))
    if (views.length === 0) {
      this.log(all.length === 0 ? 'No webhooks.' : `No webhooks match (${all.length} in all).`)
    } else {
      this.log(table(views, [
        {get: v => v.id, header: 'ID'},
        {get: v => v.event, header: 'EVENT'},
        {get: v => v.version, header: 'VERSION'},
        {get: v => v.target, header: 'TARGET'},
        {get: v => v.userId, header: 'USER'},
        {get: v => (v.active ? 'yes' : 'no'), header: 'ACTIVE'},
        {get: v => (v.lastDelivery ? ago(parseDate(v.lastDelivery), now) : '-'), header: 'LAST DELIVERY'},
        // 0 is Pipedrive's "no HTTP answer" (timeout, connection refused): nothing answered
        {get: v => v.lastStatus || '-', header: 'LAST STATUS'},
        {get: v => (HEALTH_STYLE[v.health] ?? String)(v.health), header: 'HEALTH'},
      ]))
    }

    return {total: all.length, webhooks: views}
  }
}
