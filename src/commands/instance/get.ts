import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {elementsFlags, instanceIdArg} from '../../lib/cli/flags.js'
import {elementsBase, elementsClient} from '../../lib/core/clients.js'
import {type InstanceView, viewInstance} from '../../lib/elements/instances.js'

export interface InstanceGetResult {
  instance: InstanceView
}

export default class InstanceGet extends BaseCommand<typeof InstanceGet, InstanceGetResult> {
  static args = {id: instanceIdArg({description: 'Instance id.', required: true})}
  static description = 'Show one Cloud Elements / Open Connectors instance (secrets masked) and its Pipedrive webhook callback URL. An unknown id is exit 4.'
  static examples = ['<%= config.bin %> <%= command.id %> 20931', '<%= config.bin %> <%= command.id %> 20931 --json']
  static flags = {...elementsFlags, timeout: timeoutFlag}

  async run(): Promise<InstanceGetResult> {
    const {id} = this.args
    const settings = this.settings()
    const base = await elementsBase(settings)
    const client = await elementsClient(settings, {timeoutMs: this.flags.timeout * 1000, userAgent: this.userAgent})
    const v = viewInstance(await client.getInstance(id), base)
    this.log(`Instance ${v.id}: ${v.name ?? '(no name)'}`)
    this.log(`  element        ${v.element ?? '-'}`)
    this.log(`  events         ${v.events}${v.notificationUrl ? ` → ${v.notificationUrl}` : ''}`)
    this.log(`  callback URL   ${v.callbackUrl}`)
    this.log(`  tags           ${v.tags.join(', ') || '-'}`)
    this.log(`  valid          ${v.valid ?? '-'}${v.disabled ? ' (disabled)' : ''}`)
    this.log(`  token          ${v.token ?? '-'}`)
    for (const [k, val] of Object.entries(v.configuration)) {
      this.log(`  ${k.padEnd(40)} ${typeof val === 'string' ? val : JSON.stringify(val)}`)
    }

    return {instance: v}
  }
}
