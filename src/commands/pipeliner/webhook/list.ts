import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../../lib/cli/base-command.js'
import {pipelinerFlags, wideFlag} from '../../../lib/cli/flags.js'
import {style} from '../../../lib/cli/output.js'
import {pipelinerClient} from '../../../lib/core/clients.js'
import {parsePipelinerEvent} from '../../../lib/pipeliner/events.js'
import {
  filterPipelinerWebhooks, live, type PipelinerWebhookView, viewPipelinerWebhook,
} from '../../../lib/pipeliner/webhooks.js'

export interface PipelinerWebhookListResult {
  /** Webhooks in the space (before --url / --event). */
  total: number
  webhooks: PipelinerWebhookView[]
}

/** `2019-01-01T00:00:00` / ISO → `2019-01-01 00:00`. */
function shortDate(value: null | string): string {
  if (!value) return '-'
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)/.exec(value)
  return m ? `${m[1]} ${m[2]}` : value
}

export default class PipelinerWebhookList extends BaseCommand<typeof PipelinerWebhookList, PipelinerWebhookListResult> {
  static description = `List Pipeliner CRM webhooks, following every page of the cursor.

Signature keys are never shown in full: SIGNED says whether deliveries are signed, and --json carries the key masked.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --url example.com',
    '<%= config.bin %> <%= command.id %> --event Opportunity.Update --json',
  ]
  static flags = {
    event: Flags.string({description: 'Only webhooks that fire for this event (*, Entity.* or Entity.Event).'}),
    ...pipelinerFlags,
    timeout: timeoutFlag,
    url: Flags.string({description: 'Only webhooks whose URL contains this text.'}),
    wide: wideFlag,
  }

  async run(): Promise<PipelinerWebhookListResult> {
    const {flags} = this
    const event = flags.event === undefined ? undefined : parsePipelinerEvent(flags.event)
    const client = await pipelinerClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    const all = live(await client.listAll())
    const views = filterPipelinerWebhooks(all, {event, url: flags.url}).map(w => viewPipelinerWebhook(w))
    if (views.length === 0) {
      this.log(all.length === 0 ? 'No Pipeliner webhooks.' : `No Pipeliner webhooks match (${all.length} in all).`)
    } else {
      this.printTable(views, [
        {get: v => v.id, header: 'ID'},
        {get: v => v.events.join(','), header: 'EVENTS', truncate: 'end'},
        {get: v => v.url, header: 'URL', truncate: 'middle'},
        {
          color: text => (text === 'yes' ? style.yellow(text) : text), drop: 2, get: v => (v.insecureSsl ? 'yes' : 'no'), header: 'INSECURE SSL',
        },
        {drop: 1, get: v => (v.signed ? 'yes' : 'no'), header: 'SIGNED'},
        {drop: 3, get: v => shortDate(v.created), header: 'CREATED'},
      ], {wide: flags.wide})
      this.noteIfCut()
    }

    return {total: all.length, webhooks: views}
  }
}
