import * as Flags from '@oclif/core/flags'

import {BaseCommand, timeoutFlag} from '../../lib/cli/base-command.js'
import {elementsFlags, instanceCreateFlags} from '../../lib/cli/flags.js'
import {prompts} from '../../lib/cli/prompts.js'
import {elementsBase, elementsClient} from '../../lib/core/clients.js'
import {registerSecret} from '../../lib/core/mask.js'
import {
  buildInstanceBody, collectInstanceSpec, createInstance, type InstanceView, nameConflict, viewInstance,
} from '../../lib/elements/instances.js'

export interface InstanceCreateResult {
  instance: InstanceView
  next: null | string
  recovered?: boolean
}

export default class InstanceCreate extends BaseCommand<typeof InstanceCreate, InstanceCreateResult> {
  static description = `Create a Cloud Elements / SAP Open Connectors Pipedrive connector instance with events.

Sends the platform's documented body (element key pipedrive, pipedrive.email/password, event settings, tags, name). Polling builds event.poller.configuration with the documented URLs and each platform's date keys (updatedDateField… on Cloud Elements, updatedAtField… on SAP hosts). Prints the instance's Pipedrive webhook callback URL and the next command; the instance becomes the profile's current instance.

A name that an instance already has is a conflict (exit 5, naming its id) unless --allow-duplicate. A create that fails ambiguously (timeout, 429 or 5xx answer) is looked up before it is ever sent again.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --name crm-events --callback-url https://app.example.com/ce --pipedrive-email ops@example.com --pipedrive-password "$PW"',
    '<%= config.bin %> <%= command.id %> --name crm-poll --events polling --poll contacts,opportunities --poll-interval 5 --callback-url https://app.example.com/ce',
    '<%= config.bin %> <%= command.id %> --name quiet --events none --tag prod --config pipedrive.api.token=$PD_TOKEN --json',
  ]
  static flags = {
    'allow-duplicate': Flags.boolean({description: 'Create even when an instance with the same name exists.'}),
    ...instanceCreateFlags,
    ...elementsFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<InstanceCreateResult> {
    const {flags} = this
    const ask = prompts.interactive(this.jsonEnabled()) ? prompts : undefined
    // off a terminal, missing values are usage errors before any request
    const given = ask ? undefined : await collectInstanceSpec(flags)
    const settings = this.settings()
    const base = await elementsBase(settings)
    const client = await elementsClient(settings, {timeoutMs: flags.timeout * 1000, userAgent: this.userAgent})
    // on a terminal, a name given as a flag is checked before anything is asked
    const existing = await client.listInstances()
    const same = existing.filter(i => i.name === flags.name)
    if (flags.name !== undefined && same.length > 0 && !flags['allow-duplicate']) throw nameConflict(flags.name, same)
    const spec = given ?? await collectInstanceSpec(flags, ask)
    registerSecret(spec.password)
    const {instance, recovered} = await createInstance(client, buildInstanceBody(spec, base), {allowDuplicate: flags['allow-duplicate'], existing})
    registerSecret(instance.token)
    await this.store.updateProfile(this.profile, p => ({
      ...p, instance: {
        elementsUrl: base, id: instance.id, name: instance.name ?? spec.name, token: instance.token,
      },
    }))
    // the platform's answer may still show events off right after create: report what was asked
    const view = {...viewInstance(instance, base), events: spec.events}
    const next = view.events === 'webhook' ? `pdhooks webhook add '*.*' --instance ${view.id}` : null
    this.log(`Created instance ${view.id} "${view.name ?? spec.name}" (events: ${spec.events === 'none' ? 'off' : spec.events})${recovered ? ' (confirmed after the create call failed)' : ''}`)
    this.log(`Pipedrive webhook callback URL: ${view.callbackUrl}`)
    if (view.token) this.log(`Instance token: ${view.token} (stored in profile "${this.profile}")`)
    if (next) this.log(`Next: ${next}`)
    else if (spec.events === 'polling') this.log('Polling: the platform polls Pipedrive itself; no Pipedrive webhook is needed.')
    return {instance: view, next, ...(recovered ? {recovered} : {})}
  }
}
