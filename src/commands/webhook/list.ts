import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {pipedriveFlags, wideFlag} from '../../lib/cli/flags.js'
import {ago, style} from '../../lib/cli/output.js'
import {pipedriveClient} from '../../lib/core/clients.js'
import {splitEvent} from '../../lib/pipedrive/events.js'
import {
  filterWebhooks, parseDate, viewWebhook, type WebhookView,
} from '../../lib/pipedrive/webhooks.js'

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

export default class WebhookList extends BaseCommand<typeof WebhookList, WebhookListResult> {
  static description = `List Pipedrive webhooks with their delivery health.

LAST STATUS is the HTTP status of the last delivery, or - when nothing answered (never delivered, or no HTTP answer: a timeout or a refused connection; --json shows 0 then). HEALTH is ok, failing (last status not 2xx), inactive, never-delivered, or at-risk (failing and older than 48 h: Pipedrive deletes a webhook after 3 days without a successful delivery). Cloud Elements targets are shown with their decoded instance id.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --unhealthy',
    "<%= config.bin %> <%= command.id %> --event '*.deal' --url example.com --json",
    '<%= config.bin %> <%= command.id %> --wide   # every column, nothing cut',
  ]
  static flags = {
    event: Flags.string({description: "Only webhooks matching ACTION.OBJECT ('*' wildcards, either vocabulary)."}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    unhealthy: Flags.boolean({description: 'Only webhooks whose health is not ok.'}),
    url: Flags.string({description: 'Only webhooks whose URL contains this text.'}),
    wide: wideFlag,
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
      this.printTable(views, [
        {get: v => v.id, header: 'ID'},
        {get: v => v.event, header: 'EVENT'},
        {drop: 3, get: v => v.version, header: 'VERSION'},
        {get: v => v.target, header: 'TARGET', truncate: 'middle'},
        {drop: 5, get: v => v.userId, header: 'USER'},
        {drop: 4, get: v => (v.active ? 'yes' : 'no'), header: 'ACTIVE'},
        {drop: 2, get: v => (v.lastDelivery ? ago(parseDate(v.lastDelivery), now) : '-'), header: 'LAST DELIVERY'},
        // 0 is Pipedrive's "no HTTP answer" (timeout, connection refused): nothing answered
        {drop: 1, get: v => v.lastStatus || '-', header: 'LAST STATUS'},
        {color: (text, v) => (HEALTH_STYLE[v.health] ?? String)(text), get: v => v.health, header: 'HEALTH'},
      ], {wide: flags.wide})
      this.noteIfCut()
    }

    return {total: all.length, webhooks: views}
  }
}
