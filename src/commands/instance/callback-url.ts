import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../lib/cli/base-command.js'
import {instanceIdArg, settingFlag} from '../../lib/cli/flags.js'
import {elementsBase} from '../../lib/core/clients.js'
import {usageError} from '../../lib/core/errors.js'
import {callbackUrl, isInstanceId} from '../../lib/elements/callback-url.js'

export interface CallbackUrlResult {
  element: string
  encodedId: string
  instanceId: string
  url: string
}

export default class InstanceCallbackUrl extends BaseCommand<typeof InstanceCallbackUrl, CallbackUrlResult> {
  static args = {
    id: instanceIdArg({description: "Instance id (default: the profile's current instance)."}),
  }
  static description = `Print the Pipedrive webhook callback URL of a Cloud Elements / Open Connectors instance.

<base>/events/<element>/<base64(id)>: pure computation, no network and no credentials needed.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 20931',
    '<%= config.bin %> <%= command.id %> 20931 --elements-url sap-us2',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    element: Flags.string({default: 'pipedrive', description: 'Element key.'}),
    'elements-url': settingFlag('elementsUrl', {description: 'Platform base: URL, host or alias (PDHOOKS_ELEMENTS_URL).'}),
  }

  async run(): Promise<CallbackUrlResult> {
    const settings = this.settings()
    let {id} = this.args
    let base: string | undefined
    if (!id) {
      const current = await settings.currentInstance()
      if (!current) {
        throw usageError('No instance id given and the profile has no current instance.', 'Pass the id: pdhooks instance callback-url 20931.', 'missing_value')
      }

      id = String(current.id)
      // the id stored in the profile (the one given is checked as it is parsed)
      if (!isInstanceId(id)) throw usageError(`Invalid instance id "${id}": instance ids are numbers.`)
      if (!this.flags['elements-url'] && current.elementsUrl) base = current.elementsUrl
    }

    base ??= await elementsBase(settings)
    const url = callbackUrl(base, id, this.flags.element)
    this.log(url)
    return {
      element: this.flags.element, encodedId: Buffer.from(id).toString('base64'), instanceId: id, url,
    }
  }
}
