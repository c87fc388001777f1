import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/base-command.js'
import {pipedriveClient} from '../../lib/clients.js'
import {ExitCode, PdhooksError, usageError} from '../../lib/errors.js'
import {splitEvent} from '../../lib/events.js'
import {pipedriveFlags} from '../../lib/flags.js'
import {style} from '../../lib/output.js'
import {
  type DeleteResult, deleteWebhooks, filterWebhooks, viewWebhook,
} from '../../lib/webhooks.js'

export interface WebhookDeleteResult {
  deleted: number
  results: DeleteResult[]
}

export default class WebhookDelete extends BaseCommand<typeof WebhookDelete> {
  static args = {
    ids: Args.string({description: 'Webhook ids to delete.'}),
  }
  static description = `Delete Pipedrive webhooks by id, or every webhook matching filters with --all.

Asks for confirmation on a terminal; elsewhere --yes is required. Requests are paced from Pipedrive's rate-limit headers. An id that does not exist is exit 4; with --all, a webhook deleted meanwhile is fine.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 123 456 --yes',
    '<%= config.bin %> <%= command.id %> --all --mine --yes',
    '<%= config.bin %> <%= command.id %> --all --instance 20931 --yes',
    "<%= config.bin %> <%= command.id %> --all --url example.com --event '*.deal' --yes --json",
  ]
  static flags = {
    all: Flags.boolean({description: 'Delete every webhook matching the filters.'}),
    concurrency: Flags.integer({
      default: 4, description: 'Requests in flight at once.', max: 16, min: 1,
    }),
    event: Flags.string({description: 'With --all: only webhooks matching ACTION.OBJECT.'}),
    instance: Flags.string({description: 'With --all: only webhooks aimed at this Cloud Elements instance.'}),
    mine: Flags.boolean({description: 'With --all: only webhooks pdhooks created (name starts with "pdhooks").'}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    unhealthy: Flags.boolean({description: 'With --all: only webhooks whose health is not ok.'}),
    url: Flags.string({description: 'With --all: only webhooks whose URL contains this text.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }
  static strict = false

  async run(): Promise<WebhookDeleteResult> {
    const {flags} = this
    const ids = this.positional
    const stray = ids.find(id => !/^\d+$/.test(id))
    if (stray) throw usageError(`Invalid webhook id "${stray}": ids are numbers.`)
    const filtered = Boolean(flags.url || flags.event || flags.instance || flags.mine || flags.unhealthy)
    if (ids.length > 0 && flags.all) throw usageError('Give webhook ids or --all, not both.')
    if (ids.length === 0 && !flags.all) {
      throw usageError('Nothing to delete: give webhook ids, or --all with filters.', filtered ? 'Filters need --all.' : 'See --help.', 'missing_value')
    }

    if (flags.event) splitEvent(flags.event)
    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    let targets: string[] = ids
    if (flags.all) {
      const matched = filterWebhooks(await client.listWebhooks(), flags)
      if (matched.length === 0) {
        this.log('No webhooks match: nothing to delete.')
        return {deleted: 0, results: []}
      }

      targets = matched.map(w => String(w.id))
      for (const w of matched.map(m => viewWebhook(m))) this.logToStderr(`  ${w.id}  ${w.event}  ${w.target}`)
      await this.confirmOrRefuse(`Delete ${matched.length} webhook(s)${filtered ? ' matching the filters' : ' (every webhook of the account)'}?`, flags.yes, `delete ${matched.length} webhook(s)`)
    } else {
      await this.confirmOrRefuse(`Delete webhook(s) ${ids.join(', ')}?`, flags.yes, `delete webhook(s) ${ids.join(', ')}`)
    }

    const results = await deleteWebhooks(client, targets, !flags.all, flags.concurrency)
    for (const r of results) {
      if (r.status === 'deleted') this.log(`${style.green('Deleted')} webhook ${r.id}`)
      else if (r.status === 'gone') this.log(`Webhook ${r.id} was already gone`)
      else this.logToStderr(`${style.red('Failed')} webhook ${r.id}: ${r.error}`)
    }

    const deleted = results.filter(r => r.status === 'deleted' || r.status === 'gone').length
    const failures = results.filter(r => r.exit)
    if (failures.length > 0) {
      const exit = failures.some(f => f.exit === ExitCode.notFound) && failures.every(f => f.exit === ExitCode.notFound)
        ? ExitCode.notFound
        : Math.max(...failures.map(f => f.exit ?? 1).filter(e => e !== ExitCode.notFound), 1)
      const err = new PdhooksError(`${failures.length} of ${results.length} webhook(s) not deleted: ${failures.map(f => `${f.id} (${f.status === 'not-found' ? 'not found' : f.error})`).join(', ')}.`, {
        code: exit === ExitCode.notFound ? 'not_found' : 'partial_failure',
        exit,
        status: exit === ExitCode.notFound ? 404 : null,
      })
      if (this.jsonEnabled()) {
        process.exitCode = exit
        return {deleted, results, error: {code: err.code, message: err.message, status: err.status}} as WebhookDeleteResult
      }

      throw err
    }

    return {deleted, results}
  }
}
