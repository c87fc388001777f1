import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../../lib/base-command.js'
import {pipelinerClient} from '../../../lib/clients.js'
import {ExitCode, PdhooksError, usageError} from '../../../lib/errors.js'
import {style} from '../../../lib/output.js'
import {
  deletePipelinerWebhooks, filterPipelinerWebhooks, isUuid, pipelinerFlags, viewPipelinerWebhook,
} from '../../../lib/pipeliner-webhooks.js'
import {type DeleteResult} from '../../../lib/webhooks.js'

export interface PipelinerWebhookDeleteResult {
  deleted: number
  error?: {code: string; message: string; status: null | number}
  results: DeleteResult[]
}

export default class PipelinerWebhookDelete extends BaseCommand<typeof PipelinerWebhookDelete> {
  static args = {
    ids: Args.string({description: 'Webhook ids (UUIDs) to delete.'}),
  }
  static description = `Delete Pipeliner CRM webhooks by id, or every webhook (optionally only those whose URL contains --url) with --all.

One id is deleted with DELETE /entities/Webhooks/{id}, several with POST /entities/Webhooks/batch-delete. Asks for confirmation on a terminal; elsewhere --yes is required. An id that does not exist is exit 4 (the others are still deleted); with --all, a webhook deleted meanwhile is fine.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 5e1f7f4c-2b8a-4f7e-9a51-0c7c1e6f2d10 --yes',
    '<%= config.bin %> <%= command.id %> 5e1f7f4c-2b8a-4f7e-9a51-0c7c1e6f2d10 0b9d2c55-6a43-4c1e-8f3e-2a7d9b1c4e21 --yes --json',
    '<%= config.bin %> <%= command.id %> --all --url example.com --yes',
  ]
  static flags = {
    all: Flags.boolean({description: 'Delete every webhook (only those matching --url when given).'}),
    ...pipelinerFlags,
    timeout: timeoutFlag,
    url: Flags.string({description: 'With --all: only webhooks whose URL contains this text.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }
  static strict = false

  async run(): Promise<PipelinerWebhookDeleteResult> {
    const {flags} = this
    const ids = [...new Set(this.positional.map(id => id.trim()))]
    const stray = ids.find(id => !isUuid(id))
    if (stray) throw usageError(`Invalid Pipeliner webhook id "${stray}": ids are UUIDs.`, 'See "pdhooks pipeliner webhook list".')
    if (ids.length > 0 && flags.all) throw usageError('Give webhook ids or --all, not both.')
    if (ids.length === 0 && !flags.all) {
      throw usageError('Nothing to delete: give webhook ids, or --all.', flags.url ? '--url needs --all.' : 'See --help.', 'missing_value')
    }

    if (flags.url !== undefined && !flags.all) throw usageError('--url needs --all.')
    const client = await pipelinerClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    let targets = ids
    if (flags.all) {
      const matched = filterPipelinerWebhooks(await client.listAll(), {url: flags.url})
      if (matched.length === 0) {
        this.log('No Pipeliner webhooks match: nothing to delete.')
        return {deleted: 0, results: []}
      }

      targets = matched.map(w => String(w.id))
      for (const w of matched.map(m => viewPipelinerWebhook(m))) this.logToStderr(`  ${w.id}  ${w.events.join(',')}  ${w.url}`)
      await this.confirmOrRefuse(
        `Delete ${matched.length} Pipeliner webhook(s)${flags.url ? ` whose URL contains "${flags.url}"` : ' (every webhook of the space)'}?`,
        flags.yes,
        `delete ${matched.length} Pipeliner webhook(s)`,
      )
    } else {
      await this.confirmOrRefuse(`Delete Pipeliner webhook(s) ${ids.join(', ')}?`, flags.yes, `delete Pipeliner webhook(s) ${ids.join(', ')}`)
    }

    const results = await deletePipelinerWebhooks(client, targets, !flags.all)
    for (const r of results) {
      if (r.status === 'deleted') this.log(`${style.green('Deleted')} Pipeliner webhook ${r.id}`)
      else if (r.status === 'gone') this.log(`Pipeliner webhook ${r.id} was already gone`)
      else this.logToStderr(`${style.red('Failed')} Pipeliner webhook ${r.id}: ${r.error}`)
    }

    const deleted = results.filter(r => r.status === 'deleted' || r.status === 'gone').length
    const failures = results.filter(r => r.exit)
    if (failures.length > 0) {
      const exit = failures.every(f => f.exit === ExitCode.notFound)
        ? ExitCode.notFound
        : Math.max(...failures.map(f => f.exit ?? 1).filter(e => e !== ExitCode.notFound), 1)
      const err = new PdhooksError(`${failures.length} of ${results.length} Pipeliner webhook(s) not deleted: ${failures.map(f => `${f.id} (${f.status === 'not-found' ? 'not found' : f.error})`).join(', ')}.`, {
        code: exit === ExitCode.notFound ? 'not_found' : 'partial_failure',
        exit,
        status: exit === ExitCode.notFound ? 404 : null,
      })
      if (this.jsonEnabled()) {
        process.exitCode = exit
        return {deleted, error: {code: err.code, message: err.message, status: err.status}, results}
      }

      throw err
    }

    return {deleted, results}
  }
}
