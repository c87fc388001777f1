import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {pipedriveFlags, secret} from '../../lib/cli/flags.js'
import {style} from '../../lib/cli/output.js'
import {pipedriveClient} from '../../lib/core/clients.js'
import {usageError} from '../../lib/core/errors.js'
import {printable} from '../../lib/core/text.js'
import {safeUrl} from '../../lib/workflows/doctor.js'
import {
  checkMigrationQuota, describeItem, type MigrateItem, type MigrateResult, migrateWebhooks, RECEIVER_CHANGES, selectMigrations,
} from '../../lib/workflows/migrate.js'

export interface WebhookMigrateResult {
  dryRun: boolean
  /** Webhooks now on v2 (created, or merged into an identical v2 webhook). */
  migrated: number
  /** What the receiver must change for v2 deliveries. */
  receiverChanges: string[]
  results: MigrateResult[]
}

export default class WebhookMigrate extends BaseCommand<typeof WebhookMigrate, WebhookMigrateResult> {
  static args = {
    ids: Args.string({description: 'Ids of the v1 webhooks to migrate.'}),
  }
  static description = `Move Pipedrive webhooks from v1 to v2.

Each webhook is replaced (Pipedrive has no update call): the v2 webhook first, with the same URL, user, name and basic auth and the action mapped (added → create, updated and merged → change, deleted → delete), then the v1 one is deleted, one webhook after the other, so no event is lost. One free place in the 40-webhook quota is needed, and checked first. Webhooks aimed at a Cloud Elements / Open Connectors callback URL (the connector expects v1), and webhooks an apply stack owns (named "pdhooks:<stack> …": change the stack's file instead), are refused unless --force; with --all they are skipped. A create that fails ambiguously is looked up before anything else (never a duplicate). One webhook failing does not stop the others; each result is printed as it completes. Prints what the receiver must change for v2 deliveries.

Asks for confirmation on a terminal, naming each webhook; elsewhere --yes is required. Exit codes: 0 all migrated (or nothing to do); 2 a named webhook cannot be migrated (nothing changed); 4 a named id does not exist (nothing changed); 5 quota full (nothing changed); otherwise the worst exit of the webhooks that failed (e.g. 6), including a v1 webhook that could not be deleted after its v2 replacement was created (both then deliver: the message says which to delete); 130 / 143 interrupted.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 123 --dry-run',
    '<%= config.bin %> <%= command.id %> 123 456 --yes',
    '<%= config.bin %> <%= command.id %> --all --yes --json',
  ]
  static flags = {
    all: Flags.boolean({description: 'Migrate every v1 webhook (those that cannot move are skipped, with why).'}),
    'dry-run': Flags.boolean({description: 'Print what would be done, change nothing.'}),
    force: Flags.boolean({description: 'Also migrate webhooks aimed at a Cloud Elements / Open Connectors callback URL.'}),
    'http-auth-password': secret('http-auth-password', {description: 'Basic-auth password for webhooks whose password Pipedrive does not show.'}),
    ...pipedriveFlags,
    timeout: timeoutFlag,
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }
  static strict = false

  async run(): Promise<WebhookMigrateResult> {
    const {flags} = this
    const ids = [...new Set(this.positional)]
    const stray = ids.find(id => !/^\d+$/.test(id))
    if (stray) throw usageError(`Invalid webhook id "${stray}": ids are numbers.`)
    if (ids.length > 0 && flags.all) throw usageError('Give webhook ids or --all, not both.')
    if (ids.length === 0 && !flags.all) throw usageError('Nothing to migrate: give webhook ids, or --all.', 'See the v1 webhooks with "pdhooks doctor" or "pdhooks webhook list".', 'missing_value')
    const client = await pipedriveClient(this.settings(), {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    const hooks = await client.listWebhooks()
    const sel = selectMigrations(hooks, {
      all: flags.all, force: flags.force, ids, password: flags['http-auth-password'],
    })
    const skipped: MigrateResult[] = sel.skipped.map(s => ({
      from: `${s.webhook.event_action}.${s.webhook.event_object} (v${s.webhook.version ?? '1.0'})`, id: s.id, reason: s.reason, status: 'skipped', to: '-', url: safeUrl(s.webhook.subscription_url),
    }))
    for (const s of skipped) this.logToStderr(`Skipped webhook ${s.id} ${s.from}: ${printable(s.reason ?? '')}`)
    const result = (results: MigrateResult[], dryRun: boolean): WebhookMigrateResult => ({
      dryRun, migrated: results.filter(r => r.status === 'migrated' || r.status === 'merged').length, receiverChanges: RECEIVER_CHANGES, results: [...results, ...skipped],
    })
    if (sel.items.length === 0) {
      this.log('Nothing to migrate.')
      return result([], Boolean(flags['dry-run']))
    }

    const line = (i: MigrateItem) => {
      const d = describeItem(i)
      return `${d.id}  ${d.from} → ${d.to}  ${d.url}${i.webhook.name ? `  "${printable(i.webhook.name)}"` : ''}`
    }

    checkMigrationQuota(hooks, sel.items)
    if (flags['dry-run']) {
      this.log(`Would migrate ${sel.items.length} webhook(s) (the v2 webhook first, then the v1 one deleted):`)
      for (const i of sel.items) this.log(`  ${line(i)}`)
      this.printReceiverChanges()
      return result(sel.items.map(i => ({...describeItem(i), status: 'planned'})), true)
    }

    if (!flags.yes) for (const i of sel.items) this.logToStderr(`  ${line(i)}`)
    await this.confirmOrRefuse(
      sel.items.length === 1 ? `Migrate webhook ${line(sel.items[0]).replaceAll(/ {2}/g, ' ')} to v2?` : `Migrate these ${sel.items.length} webhook(s) to v2?`,
      flags.yes,
      `migrate ${sel.items.length} webhook(s)`,
    )

    const done: MigrateResult[] = []
    let current: MigrateItem | undefined
    const stop = this.whenInterrupted(() => {
      const left = sel.items.filter(i => i !== current && !done.some(r => r.id === i.webhook.id))
      const rest = [...(current ? [current] : []), ...left].map(i => i.webhook.id)
      return {
        details: {inFlight: current ? [current.webhook.id] : [], notStarted: left.map(i => i.webhook.id), results: done},
        lines: [
          ...(current ? [`In flight when stopped: ${current.webhook.id} (its v2 webhook may exist; run the command below: it is looked up, never duplicated).`] : []),
          ...(left.length > 0 ? [`Not started: ${left.map(i => i.webhook.id).join(', ')}.`] : []),
          ...(rest.length > 0 ? [`To finish: pdhooks webhook migrate ${rest.join(' ')} --yes`] : []),
        ],
        message: `migrated ${done.filter(r => r.status === 'migrated' || r.status === 'merged').length} of ${sel.items.length} webhook(s)`,
      }
    })
    const results = await migrateWebhooks(client, sel.items, hooks, {
      onResult: r => {
        current = undefined
        done.push(r)
        if (r.status === 'migrated') this.log(`${style.green('Migrated')} webhook ${r.id} ${r.from} → v2 webhook ${r.newId} ${r.to}`)
        else if (r.status === 'merged') this.log(`${style.green('Migrated')} webhook ${r.id} ${r.from} → existing v2 webhook ${r.newId} ${r.to} (deleted the v1 one)`)
        else this.logToStderr(`${style.red(r.status === 'both-active' ? 'Half done' : 'Failed')} webhook ${r.id} ${r.from}: ${r.error}`)
      },
      onStart(i) {
        current = i
      },
      signal: stop.signal,
    })
    stop.throwIfInterrupted()
    this.printReceiverChanges()
    const out = result(results, false)
    const failures = results.filter(r => r.exit)
    if (failures.length > 0) {
      const both = failures.filter(f => f.status === 'both-active')
      throw this.partialFailure(out, failures, {
        hint: both.length > 0 ? `Delete the old one(s) with "pdhooks webhook delete ${both.map(f => f.id).join(' ')}".` : `Once the cause is fixed: pdhooks webhook migrate ${failures.map(f => f.id).join(' ')} --yes`,
        message: `${failures.length} of ${results.length} webhook(s) not migrated: ${failures.map(f => `${f.id} (${f.status === 'both-active' ? `v2 webhook ${f.newId} created, v1 not deleted: both deliver` : f.error})`).join(', ')}.`,
      })
    }

    return out
  }

  private printReceiverChanges(): void {
    this.log('')
    this.log(style.bold('What the receiver must change for v2 deliveries:'))
    for (const l of RECEIVER_CHANGES) this.log(`  - ${l}`)
  }
}
